#!/bin/sh
# deps.sh: install the Debian packages poolpair builds and tests with, when missing.
# Idempotent and quiet when there is nothing to do.  Needs root (or sudo) only
# when something is missing.
# "deps.sh bench" also installs what the benchmarks use (plots, and the
# rsync-over-ssh pipeline they compare against).
set -eu

PKGS="build-essential pkg-config clang libssl-dev libsqlite3-dev libzstd-dev \
libevent-dev libjansson-dev libinih-dev libcmocka-dev sqlite3 openssl \
python3 coreutils time"
if [ "${1:-}" = bench ]; then
	PKGS="$PKGS gnuplot-nox rsync openssh-server openssh-client procps"
fi

missing=""
for p in $PKGS; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
