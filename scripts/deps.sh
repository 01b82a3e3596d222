#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# deps.sh - install the Debian packages ptftpd needs that are missing.
#   scripts/deps.sh build   compiler, pkg-config, libjemalloc-dev, libconfig-dev,
#                           libseccomp-dev, liburing-dev
#   scripts/deps.sh check   the above plus Check, the interop clients and
#                           clang + libclang-rt-dev (libFuzzer; the unversioned
#                           name follows the default clang, no LLVM pin)
#                           and nftables (test_netloss: loss on a private loopback)
#   scripts/deps.sh bench   the build packages (tests/bench/loadgen.c too)
# Does nothing (and needs no network) when everything is present.
set -eu

profile=${1:-build}
pkgs="gcc make pkg-config libjemalloc-dev libconfig-dev libseccomp-dev liburing-dev"
case $profile in
check)
	pkgs="$pkgs check tftp-hpa atftp busybox curl procps iproute2 nftables python3 gdb clang libclang-rt-dev"
	;;
esac

missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps.sh: not root and no sudo; install:$missing" >&2
		exit 1
	fi
else
	SUDO=""
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
	$SUDO apt-get update -q >/dev/null
	$SUDO apt-get install -y -q --no-install-recommends $missing
fi
