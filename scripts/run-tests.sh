#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# run-tests.sh BIN... - what `make check` runs: unit binaries, then the
# integration and interop suite. Prints a final "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1
upass=0 ufail=0
for t in "$@"; do
	echo "== unit: ${t##*/}"
	if CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-20} "$t"; then
		upass=$((upass + 1))
	else
		ufail=$((ufail + 1))
	fi
done
echo "unit binaries: $upass passed, $ufail failed"
scripts/run-integration.sh
irc=$?
[ "$ufail" -eq 0 ] && [ "$irc" -eq 0 ]
