#!/bin/sh
# Install the Debian 12 packages the build and the tests need, and nothing when all
# are present. Called by `make run` and `make check`; safe to run by hand.
set -eu

pkgs="build-essential pkg-config libwebsockets-dev libcurl4-openssl-dev libsqlite3-dev
libsodium-dev libcjson-dev libncurses-dev libcmocka-dev libssl-dev libev-dev libwebsockets-evlib-ev
tmux sqlite3 jq openssl
curl cppcheck mosquitto mosquitto-clients libmosquitto-dev strace
libhiredis-dev redis-server"

missing=""
for p in $pkgs; do
	# dpkg-query prints "install ok installed" only for a fully installed package.
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "install-deps: need root to install:$missing" >&2
	echo "install-deps: run as root: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
