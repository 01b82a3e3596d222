#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# long-functions.sh - the size rule of issue 15 as a listing: every
# top-level C function longer than MAX lines (default 80) and every file
# longer than FMAX lines (default 900), so that each can be checked for
# the comment (or first-paragraph sentence) that says why. It reads the K&R layout this project uses
# (the function's name at the start of a line, its braces in column 0)
# and nothing else: it judges nothing and always exits 0.
#
#   scripts/long-functions.sh [FILE...]        default src/*.c src/modules/*.c
#   MAX=60 FMAX=700 scripts/long-functions.sh
#
# Output: "function FILE:LINE NAME LINES" and "file FILE LINES", longest
# first.
set -u
cd "$(dirname "$0")/.." || exit 1
MAX=${MAX:-80}
FMAX=${FMAX:-900}
[ $# -gt 0 ] || set -- src/*.c src/modules/*.c

awk -v max="$MAX" '
/^[A-Za-z_].*\(/ { sig = $0; sigline = FNR }
/^\{/ {
	start = FNR
	name = sig
	sub(/\(.*/, "", name)
	n = split(name, a, /[ *]+/)
	name = a[n]
}
/^\}/ {
	if (start && FNR - start + 1 > max)
		printf "function %s:%d %s %d\n", FILENAME, sigline, name,
		    FNR - start + 1
	start = 0
}' "$@" | sort -k4 -rn
wc -l "$@" | awk -v max="$FMAX" '$2 != "total" && $1 > max {
	printf "file %s %d\n", $2, $1 }' | sort -k3 -rn
exit 0
