#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_stall.sh - clients that stop answering cost the server a bounded
# number of resends and a bounded time (timeout_ms 200, timeout_max_ms 400,
# retries 3), after which it gives up and logs result=timeout; meanwhile
# other clients are served. A client that never ACKs the
# first packet (OACK or DATA 1) sees it at most 4 times (first_retries 3).
# A client that answered before it stopped also gets the adaptive timer's
# early resends (session.rto_min_ms, default 100): at most
# log2(timeout_max_ms / rto_min_ms) = 2 more, and no later give-up.
set -u
. "$TOP/tests/integration/lib.sh"

pt_mkfile s100k 102400
pt_mkfile s1st 102400
pt_mkfile s1st-opt 102400
pt_mkfile win 102400
pt_mkfile other 300000

pt_start "session = { timeout_ms = 200; timeout_max_ms = 400; retries = 3; first_retries = 3; };"

pt_step "stop after 3 DATA: at most 3 + 2 resends, then silence"
timeout 30 "$TFTPC" -P "$PT_PORT" -v --stop-after 3 --quiet-ms 1500 \
    --max-rexmit 5 s100k >"$T/stall.out" 2>&1 &
stall_pid=$!
pt_track "$stall_pid"

pt_step "another client is served while that one stalls"
# Once the stalled transfer is open (the gauge of active transfers).
pt_wait_for 10 pt_stat_ge sess_active 1 ||
    pt_fail "the stalled transfer never showed up as active"
pt_tftpc -b 1468 -t -e "$ROOT/other" other || pt_fail "other client"

pt_step "the server gives up after its resends and logs result=timeout"
pt_wait_log 'file="s100k".* result=timeout' 30 ||
    pt_fail "no result=timeout for the stalled transfer within 30 s"
# Not before its timers ran out: 200 + 400 + 400 + 400 ms of waiting (a
# lower bound, with slack for the loop clock; never an upper one).
ms=$(sed -n 's/.*file="s100k".* result=timeout .*ms=\([0-9]*\) .*/\1/p' \
    "$PT_LOG" | tail -n 1)
echo "    gave up after ms=$ms"
[ -n "$ms" ] && [ "$ms" -ge 1300 ] ||
    pt_fail "gave up after ${ms:-?} ms, before its resends were spent"
wait "$stall_pid"
rc=$?
sed 's/^/    /' "$T/stall.out"
[ $rc -eq 0 ] || pt_fail "stalled client saw more than 5 resends or none"
n=$(sed -n 's/.*rexmit_seen=\([0-9]*\).*/\1/p' "$T/stall.out" | tail -n 1)
[ "${n:-0}" -ge 1 ] || pt_fail "the server never resent to the stalled client"

pt_step "first packet never ACKed: seen at most 4 times (DATA 1, OACK)"
pt_tftpc -v --stop-after 0 --quiet-ms 1500 --max-rexmit 3 s1st ||
    pt_fail "DATA 1 sent more than 4 times"
[ "$(pt_summary rexmit_seen)" -ge 1 ] || pt_fail "DATA 1 never resent"
pt_tftpc -v -b 1468 -t --stop-after 0 --quiet-ms 1500 --max-rexmit 3 \
    s1st-opt || pt_fail "OACK sent more than 4 times"
[ "$(pt_summary rexmit_seen)" -ge 1 ] || pt_fail "OACK never resent"

pt_step "windowsize 4, stop after 5: bounded window resends"
pt_tftpc -v -w 4 --stop-after 5 --quiet-ms 1500 --max-rexmit 20 win ||
    pt_fail "window resends not bounded by (retries + 2) x windowsize"

pt_wait_log 'file="s1st".* result=timeout' 3 || pt_fail "s1st not logged"
pt_wait_log 'file="s1st-opt".* result=timeout' 3 ||
    pt_fail "s1st-opt not logged"
pt_wait_log 'file="win".* result=timeout' 3 || pt_fail "win not logged"
grep 'result=timeout' "$PT_LOG" | sed 's/^/    /'

pt_stop
echo "PASS stall"
