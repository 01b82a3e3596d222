#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_loadgen.sh - the benchmark's load generator (tests/bench/loadgen.c)
# is a correct, verifying client: against the real daemon it completes
# concurrent transfers with options, with windows and injected loss (gap
# recovery and resends), one transfer past the 16-bit block counter
# (> 32 MiB at blksize 512), lock-step RFC 1350, IPv6, slow ACKs and the
# --duration mode; and it reports failure (exit 1) when the expected file
# differs from what the server sends, is shorter, or the file is missing.
# Every case runs with both I/O backends (--io epoll, --io uring); the
# uring round is skipped, saying so, where the kernel or sandbox has no
# usable io_uring (loadgen then falls back to epoll). With
# --first-data-latency the kernel-timestamp percentiles are there, and
# no later than the app's (a reply cannot be seen before it arrived).
# `make bench` numbers are only as good as this.
set -u
. "$TOP/tests/integration/lib.sh"

LOADGEN=$BUILD/loadgen
LG_OUT=$T/loadgen.out
LG_IO=epoll
LG_URING_OK=""

# $BUILD/loadgen, built if missing or older than its source.
lg_need() {
	local src=$TOP/tests/bench/loadgen.c
	if [ -x "$LOADGEN" ] && [ ! "$src" -nt "$LOADGEN" ]; then
		return 0
	fi
	(cd "$TOP" && make -s "BUILD=${BUILD#"$TOP"/}" "$LOADGEN") \
	    >/dev/null 2>&1 && [ -x "$LOADGEN" ] && return 0
	(cd "$TOP" && make -s "BUILD=${BUILD#"$TOP"/}" "$BUILD/obj/tftp.o" \
	    "$BUILD/obj/num.o" &&
	    ${CC:-cc} -std=gnu11 -g -O2 -D_GNU_SOURCE -Iinclude -Wall -Wextra \
	    -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	    -Wformat=2 -Wvla -o "$LOADGEN" "$src" "$BUILD/obj/tftp.o" "$BUILD/obj/num.o" \
	    $(pkg-config --libs liburing 2>/dev/null || echo -luring)) ||
	    pt_fail "cannot build $LOADGEN"
}

# loadgen against the daemon with backend $LG_IO; returns its status,
# output in $LG_OUT.
lg() {
	local rc
	timeout -k 2 60 "$LOADGEN" -P "$PT_PORT" --max-seconds 40 \
	    --io "$LG_IO" "$@" >"$LG_OUT" 2>"$T/loadgen.err"
	rc=$?
	sed 's/^/    /' "$LG_OUT"
	head -n 3 "$T/loadgen.err" | sed 's/^/    stderr: /'
	if [ "$LG_IO" = uring ] && [ -n "$LG_URING_OK" ] &&
	    grep -q "io_uring unavailable" "$T/loadgen.err"; then
		pt_fail "--io uring fell back to epoll after all"
	fi
	return $rc
}

# Value of key=V in loadgen's summary line.
lg_val() {
	tr ' ' '\n' <"$LG_OUT" | sed -n "s/^$1=//p" | tail -n 1
}

lg_expect() {		# KEY VALUE WHAT
	[ "$(lg_val "$1")" = "$2" ] ||
	    pt_fail "$3: $1=$(lg_val "$1"), expected $2"
}

# A value of the summary line is a decimal number (e.g. 0.123).
lg_number() {		# KEY WHAT
	lg_val "$1" | grep -Eq '^[0-9]+(\.[0-9]+)?$' ||
	    pt_fail "$2: $1=\"$(lg_val "$1")\" is not a number"
}

# lg_le A B WHAT: value of key A <= value of key B.
lg_le() {
	awk -v a="$(lg_val "$1")" -v b="$(lg_val "$2")" \
	    'BEGIN { exit !(a + 0 <= b + 0) }' ||
	    pt_fail "$3: $1=$(lg_val "$1") > $2=$(lg_val "$2")"
}

lg_need
pt_mkfile f64k 65536
pt_mkfile f256k 262144
pt_mkfile f1k 1024
# 34,000,000 bytes = 66,407 blocks of 512: the block number wraps once.
pt_mkfile big 34000000

pt_start "session = { timeout_ms = 300; timeout_max_ms = 1000; max_per_client = 1000; };"

# Every case, with backend $LG_IO.
lg_cases() {
pt_step "[$LG_IO] 200 transfers, 32 at a time, blksize 1468 + tsize"
lg -c 32 -n 200 -b 1468 -e "$ROOT/f64k" f64k || pt_fail "S1-like run"
lg_expect ok 200 "S1-like run"
lg_expect bytes $((200 * 65536)) "S1-like run"

pt_step "[$LG_IO] rollover: 34 MB at blksize 512, windowsize 16 (66,407 blocks)"
lg -n 1 -b 512 -w 16 -e "$ROOT/big" big || pt_fail "rollover"
lg_expect ok 1 "rollover"
lg_expect bytes 34000000 "rollover"

pt_step "[$LG_IO] windows with 2% DATA loss: gap ACKs and resends"
lg -c 8 -n 16 -b 1468 -w 16 --drop-data-pct 2 --timeout-ms 200 \
    --retries 10 -e "$ROOT/f256k" f256k || pt_fail "windowed, lossy"
lg_expect ok 16 "windowed, lossy"
[ "$(lg_val rexmit_seen)" -gt 0 ] || [ "$(lg_val timeouts)" -gt 0 ] ||
    echo "    (no loss recovery was needed: the drops hit no window end)"

pt_step "[$LG_IO] lock-step RFC 1350 (no options) with 2% loss, over IPv6"
lg -H ::1 -c 8 -n 8 --plain --drop-data-pct 2 --timeout-ms 200 \
    --retries 10 -e "$ROOT/f64k" f64k || pt_fail "plain, lossy, IPv6"
lg_expect ok 8 "plain, lossy, IPv6"

pt_step "[$LG_IO] slow ACKs (30 ms) hold 100 sessions; first-reply latency"
lg -c 100 -n 100 --plain --slow-ack-ms 30 --first-data-latency \
    -e "$ROOT/f1k" f1k || pt_fail "slow ACKs"
lg_expect ok 100 "slow ACKs"
lg_expect peak_active 100 "slow ACKs"
lg_expect lat first "slow ACKs"

pt_step "[$LG_IO] first-reply latency from kernel receive timestamps"
lg -c 50 -n 200 --plain --first-data-latency -e "$ROOT/f1k" f1k ||
    pt_fail "first-data-latency"
lg_expect ok 200 "first-data-latency"
lg_expect lat first "first-data-latency"
lg_number p50_ms "first-data-latency"
lg_number p99_ms "first-data-latency"
lg_number kp50_ms "first-data-latency"
lg_number kp99_ms "first-data-latency"
lg_expect kts_missing 0 "first-data-latency"
lg_le kp50_ms p50_ms "first-data-latency"
lg_le kp99_ms p99_ms "first-data-latency"

pt_step "[$LG_IO] --duration: starts stop after 1 s, all started transfers verified"
lg -c 16 -n 1000000 --duration 1 -e "$ROOT/f1k" f1k || pt_fail "duration"
[ "$(lg_val ok)" -gt 0 ] && [ "$(lg_val ok)" = "$(lg_val transfers)" ] ||
    pt_fail "duration: not every started transfer completed"

pt_step "[$LG_IO] a corrupted expected file makes every transfer fail"
cp "$ROOT/f64k" "$T/bad64k"
printf '\x5a' | dd of="$T/bad64k" bs=1 seek=40000 conv=notrunc 2>/dev/null
cmp -s "$ROOT/f64k" "$T/bad64k" &&
    printf '\xa5' | dd of="$T/bad64k" bs=1 seek=40000 conv=notrunc 2>/dev/null
if lg -c 4 -n 8 -e "$T/bad64k" f64k; then
	pt_fail "corrupted expected file: loadgen exited 0"
fi
lg_expect ok 0 "corrupted"
lg_expect mismatch 8 "corrupted"
grep -q "content differs at offset 40000" "$T/loadgen.err" ||
    pt_fail "corrupted: no offset 40000 in the reason"

pt_step "[$LG_IO] a shorter expected file fails too (more data than expected)"
head -c 65000 "$ROOT/f64k" >"$T/short64k"
if lg -n 2 --no-tsize -e "$T/short64k" f64k; then
	pt_fail "short expected file: loadgen exited 0"
fi
lg_expect mismatch 2 "short"

pt_step "[$LG_IO] tsize that disagrees with the expected size fails"
if lg -n 1 -e "$T/short64k" f64k; then
	pt_fail "tsize mismatch: loadgen exited 0"
fi
lg_expect mismatch 1 "tsize"

pt_step "[$LG_IO] a missing file: ERROR counted, exit 1"
if lg -n 3 -e "$ROOT/f1k" no-such-file; then
	pt_fail "missing file: loadgen exited 0"
fi
lg_expect errors 3 "missing file"

pt_step "[$LG_IO] no kernel-latency fields without --first-data-latency"
lg -n 1 -e "$ROOT/f1k" f1k || pt_fail "plain run"
[ -z "$(lg_val kp50_ms)" ] && [ -z "$(lg_val kts_missing)" ] ||
    pt_fail "kp50_ms/kts_missing printed without --first-data-latency"
}

LG_IO=epoll
lg_cases
grep -q "io_uring" "$T/loadgen.err" &&
    pt_fail "--io epoll mentions io_uring: $(head -n 1 "$T/loadgen.err")"

# io_uring: the real thing, or skipped where loadgen falls back to epoll.
LG_IO=uring
lg -n 1 -e "$ROOT/f1k" f1k || pt_fail "uring probe run"
if grep -q "io_uring unavailable" "$T/loadgen.err"; then
	pt_step "io_uring backend SKIPPED: $(head -n 1 "$T/loadgen.err")"
else
	LG_URING_OK=1
	lg_cases
fi

pt_stop
