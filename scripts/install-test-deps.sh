#!/usr/bin/env bash
# Installs what `make test` needs and a fresh machine lacks: Chromium for the browser tests,
# PostgreSQL for the PostgreSQL store, and Apache with mod_auth_openidc for the end-to-end test of an Apache-protected application,
# from Debian's packages; oauth2-proxy for the end-to-end test of a proxied application, built
# with `go install` into a cache folder, and axe-core (the accessibility checker the browser
# tests run in every page) from npm into the same cache (the Makefile tells the tests where).
# Safe to run again: it installs only what is missing.
set -euo pipefail

# The oauth2-proxy the test runs; its binary lives outside the repository, in the user's cache.
OAUTH2_PROXY_MODULE=github.com/oauth2-proxy/oauth2-proxy/v7
OAUTH2_PROXY_VERSION=v7.15.6
TOOLS_BIN="${TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/hmisauth-test-tools/bin}"

# The axe-core the browser tests load into each page, beside TOOLS_BIN: the tests read
# $AXE_DIR/node_modules/axe-core/axe.min.js (the Makefile's HMISAUTH_AXE).
AXE_CORE_VERSION=4.14.1
AXE_DIR="$(dirname "$TOOLS_BIN")/axe"

have_chromium() {
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
		command -v google-chrome >/dev/null 2>&1
}

# apt_install installs Debian packages, as root or through sudo; the package lists are
# brought up to date once per run, before the first install.
apt_updated=
apt_install() {
	local sudo=
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			sudo=sudo
		else
			echo "install-test-deps: I am not root and there is no sudo; install the Debian packages: $*" >&2
			exit 1
		fi
	fi
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$apt_updated" ]; then
		$sudo apt-get update -qq
		apt_updated=1
	fi
	$sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_chromium() {
	if have_chromium; then
		return 0
	fi
	echo "install-test-deps: installing Chromium (Debian package 'chromium') for the browser tests"
	apt_install chromium fonts-dejavu-core
	have_chromium
}

# Where web/apache_oidc_test.go looks for Apache and its modules: Debian's own paths.
APACHE2=/usr/sbin/apache2
APACHE2_MODULES=/usr/lib/apache2/modules

# install_apache installs the Apache web server and mod_auth_openidc, each only when missing.
# Debian's apache2-bin is the server and its modules without the system service: the test
# starts its own Apache with its own configuration, and the full apache2 package would also
# set up (and, where nothing forbids it, start) a system-wide Apache on port 80.
install_apache() {
	local want=()
	[ -x "$APACHE2" ] && [ -f "$APACHE2_MODULES/mod_proxy_http.so" ] || want+=(apache2-bin)
	[ -f "$APACHE2_MODULES/mod_auth_openidc.so" ] || want+=(libapache2-mod-auth-openidc)
	if [ ${#want[@]} -eq 0 ]; then
		return 0
	fi
	echo "install-test-deps: installing Apache with mod_auth_openidc (Debian packages: ${want[*]}) for the Apache test"
	apt_install "${want[@]}"
	[ -x "$APACHE2" ] && [ -f "$APACHE2_MODULES/mod_auth_openidc.so" ]
}

# install_oauth2_proxy builds the pinned version unless that version is already in the cache.
# It builds into a fresh folder and moves the binary in, so an interrupted build never leaves
# a half-written program where the test looks.
install_oauth2_proxy() {
	local bin="$TOOLS_BIN/oauth2-proxy"
	# `go install` leaves the program's own --version "undefined"; the build information in
	# the binary names the module version it was built from.
	if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null |
		grep -qE "^[[:space:]]+mod[[:space:]]+$OAUTH2_PROXY_MODULE[[:space:]]+$OAUTH2_PROXY_VERSION[[:space:]]"; then
		return 0
	fi
	echo "install-test-deps: installing oauth2-proxy $OAUTH2_PROXY_VERSION into $TOOLS_BIN (go install; takes a few minutes)"
	mkdir -p "$TOOLS_BIN"
	tmp=$(mktemp -d "$TOOLS_BIN/.install.XXXXXX")
	trap 'rm -rf "${tmp:-}" "${axe_tmp:-}"' EXIT
	# Outside the repository and with no GOFLAGS of ours, so nothing of this project (go.mod,
	# go.work, -mod=…) plays a part in the build.
	(cd "$tmp" && GOBIN="$tmp" GOWORK=off GOFLAGS= go install "$OAUTH2_PROXY_MODULE@$OAUTH2_PROXY_VERSION")
	mv -f "$tmp/oauth2-proxy" "$bin"
	echo "install-test-deps: installed $bin"
}

# install_axe installs the pinned axe-core with npm unless that version is already there,
# first installing Debian's npm (which brings Node.js) when npm is missing. Like oauth2-proxy it
# is installed into a fresh folder that then takes the old one's place, so the tests never read
# a half-installed copy.
axe_tmp=
install_axe() {
	local pkg="$AXE_DIR/node_modules/axe-core"
	if [ -f "$pkg/axe.min.js" ] && [ -f "$pkg/package.json" ] &&
		grep -qE "\"version\"[[:space:]]*:[[:space:]]*\"$AXE_CORE_VERSION\"" "$pkg/package.json"; then
		return 0
	fi
	if ! command -v npm >/dev/null 2>&1; then
		echo "install-test-deps: installing npm (Debian package 'npm') to install axe-core"
		apt_install npm
	fi
	echo "install-test-deps: installing axe-core $AXE_CORE_VERSION into $AXE_DIR (npm)"
	mkdir -p "$(dirname "$AXE_DIR")"
	axe_tmp=$(mktemp -d "$(dirname "$AXE_DIR")/.axe.XXXXXX")
	chmod 755 "$axe_tmp" # mktemp makes it private; the installed folder is readable like bin/
	trap 'rm -rf "${tmp:-}" "${axe_tmp:-}"' EXIT
	npm install --prefix "$axe_tmp" --no-audit --no-fund --loglevel=error "axe-core@$AXE_CORE_VERSION" >/dev/null
	[ -f "$axe_tmp/node_modules/axe-core/axe.min.js" ]
	rm -rf "$AXE_DIR"
	mv "$axe_tmp" "$AXE_DIR"
	axe_tmp=
	echo "install-test-deps: installed $AXE_DIR/node_modules/axe-core/axe.min.js"
}

# pg_bin is the folder of the newest installed PostgreSQL server's programs (initdb,
# pg_ctl), Debian's layout; empty when none is installed.
pg_bin() {
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# install_postgresql installs Debian's PostgreSQL server when missing; scripts/with-postgres.sh
# starts a throwaway one for the tests (the package's own cluster, if it starts one, is unused).
install_postgresql() {
	if [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ]; then
		return 0
	fi
	echo "install-test-deps: installing PostgreSQL (Debian package 'postgresql') for the PostgreSQL store's tests"
	apt_install postgresql
	[ -x "$(pg_bin)/initdb" ]
}

install_chromium
install_apache
install_postgresql
install_oauth2_proxy
install_axe
