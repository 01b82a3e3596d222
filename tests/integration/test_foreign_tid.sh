#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_foreign_tid.sh - RFC 1350 transfer IDs: a packet sent to a
# transfer's port from another port gets ERROR 5 (unknown transfer ID) and
# the transfer goes on to completion, byte-exact, in lock-step and with
# windows, over IPv4 and IPv6.
set -u
. "$TOP/tests/integration/lib.sh"

pt_mkfile ft 300000

pt_start

pt_step "lock-step, IPv4"
pt_tftpc --foreign-tid -e "$ROOT/ft" ft || pt_fail "IPv4 lock-step"
pt_step "blksize 1468, windowsize 4, IPv4, 4 at once"
pt_tftpc --foreign-tid -b 1468 -w 4 -c 4 -n 4 -e "$ROOT/ft" ft ||
    pt_fail "IPv4 windowsize 4"
pt_step "IPv6"
pt_tftpc -H ::1 --foreign-tid -b 1468 -e "$ROOT/ft" ft || pt_fail "IPv6"
pt_wait_log 'file="ft".* result=ok' || pt_fail "no result=ok logged"

pt_stop
echo "PASS foreign_tid"
