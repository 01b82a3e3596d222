#!/bin/bash
# run-integration.sh - run every tests/integration/test_*.sh, each with a
# time limit, and print "N passed, N failed". BUILD names the build dir.
# TESTS="a b" runs only those (names without test_ and .sh).
set -u
cd "$(dirname "$0")/.." || exit 1
export BUILD=${BUILD:-build}
export TOP=$PWD
pass=0 failn=0 failed=""
list=""
if [ -n "${TESTS:-}" ]; then
	for n in $TESTS; do list="$list tests/integration/test_$n.sh"; done
else
	list=$(ls tests/integration/test_*.sh 2>/dev/null)
fi
for t in $list; do
	name=${t##*/test_}; name=${name%.sh}
	start=$(date +%s)
	log=$BUILD/itest-$name.log
	mkdir -p "$BUILD"
	if timeout -k 5 "${ITEST_TIMEOUT:-180}" bash "$t" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $name ($(( $(date +%s) - start ))s)"
	else
		failn=$((failn + 1)); failed="$failed $name"
		echo "FAIL $name ($(( $(date +%s) - start ))s), log follows:"
		tail -n 40 "$log" | sed 's/^/    /'
	fi
done
echo "integration: $pass passed, $failn failed"
[ "$failn" -eq 0 ]
