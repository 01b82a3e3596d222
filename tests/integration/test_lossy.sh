#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_lossy.sh - deterministic loss (tftpc drops 10% of the DATA it
# receives and of some ACKs it would send, seeded) and duplicated ACKs, in
# lock-step and with windowsize 8: every transfer completes byte-exact, the
# server really retransmitted (rexmit > 0 in its log), and duplicate ACKs
# did not make it resend (no Sorcerer's Apprentice: tftpc would see far more
# duplicate DATA than it dropped).
set -u
. "$TOP/tests/integration/lib.sh"

pt_mkfile l100k 102400
pt_mkfile l300k 300000
pt_mkfile l1 1

pt_start "session = { timeout_ms = 100; timeout_max_ms = 800; retries = 8; };"

LOSS="--drop-data-rate 10 --dup-rate 10 --drop-ack 0,1,2,7,64 --seed 42"
# The client's own timer is long: recovery is the server's job here.
CLIENT="--timeout-ms 1500 --retries 8 --max-seconds 90"

pt_step "lock-step, blksize 512 and 1468, 10% DATA loss + duplicate ACKs"
pt_tftpc $LOSS $CLIENT -b 0,1468 -t -c 12 -n 12 -E "$ROOT" l100k l300k l1 ||
    pt_fail "lossy lock-step"
# Each dropped ACK costs one resend seen twice (at most 5 per transfer);
# a server that answered the ~10% duplicate ACKs (a few hundred) would
# show up here as hundreds of duplicate DATA.
n=$(pt_summary rexmit_seen)
echo "duplicate DATA seen in lock-step: $n"
[ "$n" -le 120 ] || pt_fail "lock-step: $n duplicate DATA (Sorcerer's Apprentice?)"
pt_wait_log 'dupack=[1-9]' || pt_fail "the server never saw a duplicate ACK"

pt_step "windowsize 8, same loss"
pt_tftpc $LOSS $CLIENT -b 512,1468 -w 8 -c 12 -n 12 -E "$ROOT" \
    l100k l300k l1 || pt_fail "lossy windowsize 8"

pt_step "windowsize 8, IPv6, other seed"
pt_tftpc -H ::1 --drop-data-rate 10 --dup-rate 20 --seed 7 $CLIENT \
    -b 1468 -w 8 -c 6 -n 6 -E "$ROOT" l300k || pt_fail "lossy IPv6"

pt_step "the server counted retransmissions"
pt_wait_log 'rexmit=[1-9]' || pt_fail "no rexmit > 0 in the log"
n=$(grep -c 'result=ok' "$PT_LOG")
[ "$n" -ge 30 ] || pt_fail "only $n result=ok lines for 30 transfers"
grep -Eo 'rexmit=[0-9]+' "$PT_LOG" | sort | uniq -c | sort -rn | head -5

pt_stop
echo "PASS lossy"
