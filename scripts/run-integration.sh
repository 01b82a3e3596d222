#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# run-integration.sh - run every tests/integration/test_*.sh, each with a
# time limit, and print "N passed, N failed, N skipped" as its last line.
# A test that exits 77 (pt_skip in lib.sh) could not run here: it prints
# "SKIP reason" and is counted apart, neither passed nor failed.
# BUILD names the build dir.
# TESTS="a b" runs only those (names without test_ and .sh).
# Without TESTS, the tests of the transfer socket path run a second time
# with `io_uring = false` (PT_IO_URING, read by lib.sh), as "epoll:name":
# the first pass uses io_uring wherever the kernel has it.
set -u
cd "$(dirname "$0")/.." || exit 1
export BUILD=${BUILD:-build}
export TOP=$PWD
pass=0 failn=0 skipn=0 failed=""
EPOLL_TESTS="basic concurrent foreign_tid lossy stall truncate adversarial interop gso"
list=""
if [ -n "${TESTS:-}" ]; then
	for n in $TESTS; do list="$list tests/integration/test_$n.sh"; done
else
	list=$(ls tests/integration/test_*.sh 2>/dev/null)
	for n in $EPOLL_TESTS; do list="$list epoll:tests/integration/test_$n.sh"; done
fi
for t in $list; do
	uring=""
	case $t in
	epoll:*) t=${t#epoll:}; uring=false ;;
	esac
	name=${t##*/test_}; name=${name%.sh}
	[ -n "$uring" ] && name=epoll:$name
	start=$(date +%s)
	log=$BUILD/itest-${name/:/-}.log
	mkdir -p "$BUILD"
	PT_IO_URING=$uring timeout -k 5 "${ITEST_TIMEOUT:-180}" bash "$t" >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok   $name ($(( $(date +%s) - start ))s)"
	elif [ "$rc" -eq 77 ]; then
		skipn=$((skipn + 1))
		why=$(sed -n 's/^SKIP //p' "$log" | tail -n 1)
		echo "SKIP $name: ${why:-no reason given}"
	else
		failn=$((failn + 1)); failed="$failed $name"
		echo "FAIL $name ($(( $(date +%s) - start ))s), log follows:"
		tail -n 40 "$log" | sed 's/^/    /'
	fi
done
[ -z "$failed" ] || echo "integration: failed:$failed"
echo "integration: $pass passed, $failn failed, $skipn skipped"
[ "$failn" -eq 0 ]
