#!/usr/bin/env bash
# Installs what `make test` needs and a fresh machine lacks: Chromium for the browser tests,
# from Debian's packages. Safe to run again: it installs only what is missing.
set -euo pipefail

have_chromium() {
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
		command -v google-chrome >/dev/null 2>&1
}

if have_chromium; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "install-test-deps: Chromium is missing and I am not root; install the 'chromium' package." >&2
		exit 1
	fi
else
	SUDO=
fi

echo "install-test-deps: installing Chromium (Debian package 'chromium') for the browser tests"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
have_chromium
