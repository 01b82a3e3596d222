#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# deb-build.sh - `make deb`: the Debian package of this source tree. It
# owns the scratch tree $BUILD/deb/src (the files git knows, tracked or
# new, never the build directories), the copy of scripts/debian/ into it
# as debian/ (the top level of the repository stays as it is), the
# `dpkg-buildpackage -b` run there, and lintian on the result when lintian
# is installed (fails on an error or warning; every tag left is explained
# in debian/ptftpd.lintian-overrides). It installs nothing: missing
# Build-Depends make dpkg-buildpackage stop and name them; install them
# with
#   apt-get satisfy "$(scripts/deb-build.sh --build-depends)"
# The package is tested installed by scripts/deb-test.sh (make deb-test).
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD

if [ "${1:-}" = "--build-depends" ]; then
	# The Build-Depends field of scripts/debian/control on one line.
	awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, ""); }
	    on && /^[^ \t]/ && !/^Build-Depends:/ { on = 0 }
	    on { printf "%s", $0 }' scripts/debian/control |
	    tr -s ' \t' ' ' | sed 's/^ //; s/,$//; s/, *$//'
	echo
	exit 0
fi

BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
OUT=$BUILD/deb
rm -rf "$OUT"
mkdir -p "$OUT/src"
if git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$TOP" ls-files -z -c -o --exclude-standard |
	    (cd "$TOP" && tar --null -T - -cf -) | tar -xf - -C "$OUT/src"
else
	tar -cf - --exclude=./build --exclude=./build-san --exclude=./peers \
	    --exclude=./debian . | tar -xf - -C "$OUT/src"
fi
rm -rf "$OUT/src/debian"
cp -R scripts/debian "$OUT/src/debian"
# Our BUILD (and the outer make's settings) must not reach the package build.
(cd "$OUT/src" && env -u BUILD -u SANITIZE -u WERROR -u MAKEFLAGS -u MFLAGS \
    -u MAKELEVEL dpkg-buildpackage -b -us -uc) >"$OUT/build.log" 2>&1 || {
	tail -n 30 "$OUT/build.log" >&2
	echo "deb-build: dpkg-buildpackage failed (log: $OUT/build.log)" >&2
	exit 1
}
deb=$(ls "$OUT"/ptftpd_*.deb)
echo "deb-build: $deb"
if command -v lintian >/dev/null 2>&1; then
	# --fail-on: errors and warnings fail; info tags are shown too.
	if lintian --display-info --fail-on error,warning "$deb" \
	    >"$OUT/lintian.log" 2>&1; then
		echo "deb-build: lintian clean ($(grep -c '^[EWIPX]: ' "$OUT/lintian.log") tags shown, info ones included; overrides: debian/ptftpd.lintian-overrides)"
		sed 's/^/    /' "$OUT/lintian.log"
	else
		sed 's/^/    /' "$OUT/lintian.log" >&2
		echo "deb-build: lintian failed" >&2
		exit 1
	fi
else
	echo "deb-build: lintian not installed, not run"
fi
