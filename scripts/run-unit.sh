#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run-unit.sh BIN... - run Check unit test binaries; exit 1 if any fails.
fail=0
for t in "$@"; do
	echo "== unit: ${t##*/}"
	CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-20} "$t" || fail=1
done
exit $fail
