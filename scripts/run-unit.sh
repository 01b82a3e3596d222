#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# run-unit.sh BIN... - run Check unit test binaries and count their tests.
# Check has no skip state: a test that cannot run here calls CK_SKIP
# (tests/unit/skip.h), which prints "SKIP test: reason" and appends that
# line to $PT_SKIP_FILE; those are counted as skipped, not passed. Counts
# come from Check's "Checks: N, Failures: F, Errors: E" line; a binary
# that fails without one (crash, link or start-up error) counts as one
# failure. Last line: "unit: N passed, N failed, N skipped"; exit 1 if
# anything failed.
set -u
pass=0 failn=0 skipn=0 failed=""
tmp=$(mktemp -d /tmp/ptftpd-unit.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
for t in "$@"; do
	name=${t##*/}
	echo "== unit: $name"
	: >"$tmp/skips"
	PT_SKIP_FILE=$tmp/skips CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-20} \
	    "$t" >"$tmp/out" 2>&1
	rc=$?
	cat "$tmp/out"
	line=$(sed -n 's/.*Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' \
	    "$tmp/out" | tail -n 1)
	s=$(grep -c '^SKIP ' "$tmp/skips")
	if [ -z "$line" ]; then
		failn=$((failn + 1)); failed="$failed $name"
		echo "FAIL $name: exit $rc, no Check summary"
		continue
	fi
	read -r n fl er <<<"$line"
	f=$((fl + er))
	# A skipped test returned early, so Check counted it as passed.
	p=$((n - f - s))
	[ "$p" -ge 0 ] || p=0
	pass=$((pass + p)); failn=$((failn + f)); skipn=$((skipn + s))
	if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
		[ "$f" -gt 0 ] || failn=$((failn + 1))
		failed="$failed $name"
	fi
done
[ -z "$failed" ] || echo "unit: failed:$failed"
echo "unit: $pass passed, $failn failed, $skipn skipped"
[ "$failn" -eq 0 ]
