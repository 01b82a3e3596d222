#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# promtool.sh - print the path of a promtool binary, for the tests that
# check ptftpd's Prometheus text with `promtool check metrics`. It is the
# one on PATH if there is one; else Debian's prometheus package is fetched
# once with `apt-get download` (never installed: no daemon, no user) and
# only usr/bin/promtool is unpacked, into peers/prometheus/ (git-ignored,
# like the bench's peers). Exit 0 with the path on stdout, or 1 with the
# reason on stdout (the caller prints "SKIP: <reason>").
# Does nothing else: it never runs promtool.
set -u
cd "$(dirname "$0")/.." || exit 1

if p=$(command -v promtool 2>/dev/null) && [ -n "$p" ]; then
	echo "$p"
	exit 0
fi
DIR=$PWD/peers/prometheus
BIN=$DIR/usr/bin/promtool
if [ -x "$BIN" ]; then
	echo "$BIN"
	exit 0
fi
command -v apt-get >/dev/null 2>&1 || { echo "no promtool and no apt-get"; exit 1; }
command -v dpkg-deb >/dev/null 2>&1 || { echo "no promtool and no dpkg-deb"; exit 1; }
mkdir -p "$DIR/deb" || { echo "cannot create $DIR"; exit 1; }
# A lock: two tests (or two make checks) may ask at once.
exec 9>"$DIR/.lock"
flock 9 2>/dev/null || true
if [ ! -x "$BIN" ]; then
	rm -f "$DIR"/deb/prometheus_*.deb
	if ! (cd "$DIR/deb" && timeout 300 apt-get download -q prometheus) \
	    >"$DIR/deb/download.log" 2>&1; then
		echo "no promtool: apt-get download prometheus failed" \
		    "(see $DIR/deb/download.log)"
		exit 1
	fi
	deb=$(ls "$DIR"/deb/prometheus_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { echo "no promtool: no prometheus .deb fetched"; exit 1; }
	# Only the one binary: the package's data tarball, one member.
	if ! dpkg-deb --fsys-tarfile "$deb" |
	    tar -x -C "$DIR" ./usr/bin/promtool 2>"$DIR/deb/extract.log"; then
		echo "no promtool: cannot extract usr/bin/promtool from $deb"
		exit 1
	fi
	rm -f "$deb"
fi
[ -x "$BIN" ] || { echo "no promtool: $BIN missing after extraction"; exit 1; }
echo "$BIN"
