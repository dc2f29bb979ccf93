#!/usr/bin/env bash
# Runs every Go fuzz target in the module briefly (FUZZTIME each, default 5s), so each
# parser of outside input (forms, tokens, PHC strings, config) meets random input on every
# `make test`. Targets are found by name, so a new Fuzz function is picked up by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-5s}"

grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' . | sort | while read -r file; do
	dir="./$(dirname "${file#./}")"
	grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //' | while read -r target; do
		echo "fuzz: $dir $target ($fuzztime)"
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$dir"
	done
done
