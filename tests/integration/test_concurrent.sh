#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_concurrent.sh - 4 workers serve 300 transfers, 100 at a time from
# one client address, of mixed sizes, block sizes and window sizes, every
# one byte-exact, with one log line each. Proves that sessions do not share
# state (buffers, windows, block counters) and that reuseport spreads the
# load without losing requests.
set -u
. "$TOP/tests/integration/lib.sh"

FILES=""
for s in 0 1 512 513 4096 65536 102400 300001 1048576; do
	pt_mkfile "c$s" "$s"
	FILES="$FILES c$s"
done

pt_start "workers = 4;" \
    "session = { timeout_ms = 1000; max_per_client = 256; };"

pt_step "300 transfers at concurrency 100 over IPv4"
# 9 files x 4 blksizes x 5 windowsizes: every combination at least once
# once 180 < 300 transfers have run (see tftpc's usage comment).
pt_tftpc -n 100 -c 300 -b 0,512,1468,8192 -w 0,1,4,8,16 -t -E "$ROOT" \
    --max-seconds 90 $FILES || pt_fail "concurrent IPv4"
[ "$(pt_summary ok)" -eq 300 ] || pt_fail "not 300 ok"

pt_step "100 more over IPv6 at concurrency 50"
pt_tftpc -H ::1 -n 50 -c 100 -b 1432,1468 -w 0,4 -E "$ROOT" \
    --max-seconds 60 $FILES || pt_fail "concurrent IPv6"

pt_step "one result=ok log line per transfer"
for i in $(seq 1 50); do
	[ "$(grep -c 'result=ok' "$PT_LOG")" -ge 400 ] && break
	sleep 0.1
done
n=$(grep -c 'result=ok' "$PT_LOG")
[ "$n" -eq 400 ] || pt_fail "expected 400 result=ok lines, got $n"
workers=$(grep -o ' w[0-9]* peer=' "$PT_LOG" | sort -u | wc -l)
echo "transfers served by $workers workers"
[ "$workers" -ge 2 ] || pt_fail "all transfers went to one worker"

pt_stop
echo "PASS concurrent"
