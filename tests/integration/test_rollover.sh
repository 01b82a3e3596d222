#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_rollover.sh - a 40 MiB file at blksize 512 is 81921 blocks: the
# block number wraps 65535 -> 0 and the transfer stays byte-exact, in
# lock-step, with windowsize 16 (window edges on the wrap) and windowsize 7
# (a window that straddles it), and with tsize above 32 MiB.
set -u
. "$TOP/tests/integration/lib.sh"

pt_mkfile big $((40 * 1024 * 1024))

pt_start

pt_step "lock-step, blksize 512, tsize"
pt_tftpc -v -b 512 -t -e "$ROOT/big" big || pt_fail "lock-step rollover"
pt_step "no options at all (plain RFC 1350 client)"
pt_tftpc -v -e "$ROOT/big" big || pt_fail "rollover without options"
pt_step "windowsize 16 and 7"
pt_tftpc -v -b 512 -w 16,7 -c 2 -n 2 -e "$ROOT/big" big ||
    pt_fail "windowed rollover"
pt_wait_log 'file="big".*windowsize=7 .*result=ok bytes=41943040 ' ||
    pt_fail "log line of the windowsize 7 transfer"

pt_stop
echo "PASS rollover"
