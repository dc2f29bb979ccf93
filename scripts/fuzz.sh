#!/usr/bin/env bash
# Runs every Go fuzz target in the module briefly (FUZZTIME each, default 5s), so each
# parser of outside input (forms, tokens, PHC strings, config) meets random input on every
# `make test`. Targets are found by name, so a new Fuzz function is picked up by itself.
#
# Go 1.26's fuzz coordinator can fail a target with a bare "context deadline exceeded" as the
# -fuzztime window closes, having found nothing (golang/go#75804, fixed in Go 1.27). A real
# finding always says "Failing input written to testdata/fuzz/…". So a failure with that bare
# message and no written input is checked by replaying the target's corpus (deterministic); it
# fails the run only if the replay does. Every other failure fails the run at once.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-5s}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' . | sort | while read -r file; do
	dir="./$(dirname "${file#./}")"
	grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //' | while read -r target; do
		echo "fuzz: $dir $target ($fuzztime)"
		if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$dir" >"$log" 2>&1; then
			cat "$log"
			continue
		fi
		cat "$log"
		if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
			echo "fuzz: $target stopped on the Go fuzztime race (golang/go#75804) having found nothing; replaying its corpus"
			go test -count=1 -run="^${target}\$" "$dir"
			continue
		fi
		exit 1
	done
done
