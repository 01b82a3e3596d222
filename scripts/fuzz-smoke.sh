#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# fuzz-smoke.sh - build every tests/fuzz/fuzz_*.c with clang's libFuzzer
# under ASan and UBSan into $BUILD/fuzz/, run each for FUZZ_SECONDS on a
# temporary copy of its seed corpus, and print per harness the number of
# executions and "0 crashes". Exits 1 if any harness fails to build or
# finds a crash, a leak, a timeout or an out-of-memory (the input is kept
# in $BUILD/fuzz/artifacts/).
#
# A harness names what it links in comment lines at its top:
#   // LINK: tftp sess     the src/<name>.c modules it needs
#   // PKG: libconfig      pkg-config packages for their flags and libraries
#
# Environment: FUZZ_SECONDS (default 20), BUILD (default build),
# CLANG (default clang), FUZZ="tftp conf" to run only those harnesses.
set -u
cd "$(dirname "$0")/.." || exit 1

SECS=${FUZZ_SECONDS:-20}
BUILD=${BUILD:-build}
CLANG=${CLANG:-clang}
OUT=$BUILD/fuzz
CFLAGS_FUZZ="-g -O1 -fsanitize=fuzzer,address,undefined \
-fno-sanitize-recover=undefined -D_GNU_SOURCE -Iinclude -std=gnu11"

case $SECS in
'' | *[!0-9]*) echo "fuzz-smoke: FUZZ_SECONDS must be a number" >&2; exit 2 ;;
esac
command -v "$CLANG" >/dev/null 2>&1 || {
	echo "fuzz-smoke: $CLANG not found (apt-get install clang)" >&2
	exit 2
}
mkdir -p "$OUT/artifacts" || exit 1
TMP=$(mktemp -d /tmp/fuzz-smoke.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT

# Words after "// KEY:" in the first 30 lines of file $1.
header_words() {
	head -n 30 "$1" | sed -n "s|^// $2:[[:space:]]*||p" | tr '\n' ' '
}

# Builds harness $1 (path) into $OUT; returns non-zero on failure.
build_one() {
	local src=$1 name mods pkgs m srcs="" pc="" pl=""
	name=$(basename "$src" .c)
	if ! grep -q '^// LINK:' <(head -n 30 "$src"); then
		echo "$name: no '// LINK: module...' line at its top" >&2
		return 1
	fi
	mods=$(header_words "$src" LINK)
	pkgs=$(header_words "$src" PKG)
	for m in $mods; do
		[ -f "src/$m.c" ] || {
			echo "$name: LINK names src/$m.c, which does not exist" >&2
			return 1
		}
		srcs="$srcs src/$m.c"
	done
	if [ -n "${pkgs// /}" ]; then
		# shellcheck disable=SC2086
		pc=$(pkg-config --cflags $pkgs) && pl=$(pkg-config --libs $pkgs) ||
		    { echo "$name: pkg-config $pkgs failed" >&2; return 1; }
	fi
	# shellcheck disable=SC2086
	"$CLANG" $CFLAGS_FUZZ $pc -o "$OUT/$name" "$src" $srcs $pl
}

# Runs $OUT/$1 for SECS seconds; prints the summary line.
run_one() {
	local name=$1 short=${1#fuzz_} corpus log execs rc
	corpus=$TMP/corpus-$short
	mkdir -p "$corpus"
	if [ -d "tests/fuzz/corpus/$short" ]; then
		cp -R "tests/fuzz/corpus/$short/." "$corpus/"
	fi
	log=$OUT/$name.log
	# UBSan findings abort (no recovery); leaks count as crashes, except
	# the libraries' own listed in tests/fuzz/lsan.supp.
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=detect_leaks=1 \
	LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0 \
	    timeout -k 10 $((SECS + 120)) "$OUT/$name" \
	    -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$name-" \
	    "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
		printf '%-12s %10s executions in %ss, 0 crashes\n' \
		    "$short" "$execs" "$SECS"
		return 0
	fi
	printf '%-12s FAILED (exit %s) after %s executions; log %s\n' \
	    "$short" "$rc" "${execs:-?}" "$log"
	grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' \
	    "$log" | head -n 8 | sed 's/^/    /'
	grep -E '^[^ ]*runtime error' "$log" | head -n 3 | sed 's/^/    /'
	return 1
}

list=""
if [ -n "${FUZZ:-}" ]; then
	for n in $FUZZ; do list="$list tests/fuzz/fuzz_${n#fuzz_}.c"; done
else
	list=$(ls tests/fuzz/fuzz_*.c 2>/dev/null)
fi
[ -n "$list" ] || { echo "fuzz-smoke: no tests/fuzz/fuzz_*.c" >&2; exit 2; }

pass=0 failn=0
for src in $list; do
	name=$(basename "$src" .c)
	if [ ! -f "$src" ]; then
		echo "${name#fuzz_}: $src does not exist" >&2
		failn=$((failn + 1))
	elif ! build_one "$src"; then
		printf '%-12s FAILED to build\n' "${name#fuzz_}"
		failn=$((failn + 1))
	elif run_one "$name"; then
		pass=$((pass + 1))
	else
		failn=$((failn + 1))
	fi
done
echo "fuzz-smoke: $pass passed, $failn failed"
[ "$failn" -eq 0 ]
