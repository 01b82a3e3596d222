#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# run-tests.sh BIN... - what `make check` runs: the unit binaries (each
# Check test counted, scripts/run-unit.sh), then the integration and
# interop suite (each script counted, scripts/run-integration.sh). Skipped
# tests (SKIP reason) are counted apart. The last line is the total:
# "N passed, N failed, N skipped"; exit 1 if anything failed.
set -u
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp /tmp/ptftpd-check.XXXXXX) || exit 1
trap 'rm -f "$tmp"' EXIT
scripts/run-unit.sh "$@" | tee "$tmp"
urc=${PIPESTATUS[0]}
scripts/run-integration.sh | tee -a "$tmp"
irc=${PIPESTATUS[0]}
# Sum the two "...: N passed, N failed, N skipped" lines.
sed -n 's/^\(unit\|integration\): \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\2 \3 \4/p' \
    "$tmp" | awk -v urc="$urc" -v irc="$irc" '
	{ p += $1; f += $2; s += $3; n++ }
	END {
		# a runner that died before its summary is one failure
		if (n < 2 || (f == 0 && (urc != 0 || irc != 0))) f++
		printf "%d passed, %d failed, %d skipped\n", p, f, s
	}'
[ "$urc" -eq 0 ] && [ "$irc" -eq 0 ]
