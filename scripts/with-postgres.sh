#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server on loopback: initdb into a temporary folder
# (as the postgres user when run as root, since PostgreSQL refuses to run as root), fsync off
# for speed, then the command with HMISAUTH_TEST_POSTGRES set to the server's URL; the server
# and its folder are removed when the command ends, however it ends. Tests make their own
# databases on it (store/postgres/pgtest). PG_DURABLE=1 keeps PostgreSQL's durable defaults
# (fsync, synchronous commit), for benchmarks whose figures should hold in production.
#
#   scripts/with-postgres.sh go test ./store/postgres/
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
	if command -v initdb >/dev/null 2>&1; then
		bin=$(dirname "$(command -v initdb)")
	else
		echo "with-postgres: PostgreSQL is not installed (scripts/install-test-deps.sh installs it)" >&2
		exit 1
	fi
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/hmisauth-pg.XXXXXX")
as=()
if [ "$(id -u)" -eq 0 ]; then
	chown postgres: "$dir"
	as=(runuser -u postgres --)
fi

stop() {
	"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap stop EXIT

"${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
	"${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
	cat "$dir/initdb.log" >&2
	exit 1
}

speed="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
if [ -n "${PG_DURABLE:-}" ]; then
	speed=""
fi

# A free port: try a few at random rather than race another run for a fixed one.
started=
for _ in 1 2 3 4 5 6 7 8; do
	port=$((20000 + RANDOM % 20000))
	if "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o \
		"-p $port -k $dir -c listen_addresses=127.0.0.1 $speed -c max_connections=400 -c shared_buffers=256MB" \
		start >/dev/null; then
		started=1
		break
	fi
done
if [ -z "$started" ]; then
	echo "with-postgres: PostgreSQL did not start:" >&2
	tail -n 20 "$dir/server.log" >&2
	exit 1
fi

export HMISAUTH_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
"$@"
