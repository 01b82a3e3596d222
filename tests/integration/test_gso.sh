#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_gso.sh - windows leave as UDP GSO sends (session.gso, default on):
# windowed transfers stay byte-exact, octet and netascii, with a short
# last block, a train cut at the 64 KiB limit (windowsize 64) and over
# IPv6, and the gso_sends counter proves GSO was used; lock-step
# transfers never use it; in single port mode the segment size rides
# with the source address; with `session.gso = false` the same
# transfers go as plain datagrams (gso_sends stays 0). The kernel's
# refusal path (EIO/EINVAL: plain resend) cannot be forced on loopback,
# whose MTU takes any segment size. Runs on both passes (io_uring and
# epoll: PT_IO_URING=false).
set -u
. "$TOP/tests/integration/lib.sh"

STAT=$BUILD/ptftpd-stat
command -v python3 >/dev/null || pt_fail "python3 missing (scripts/deps.sh check)"
# Not a multiple of any blksize used: a short last block ends a train.
pt_mkfile w.bin $((3 * 1024 * 1024 + 777))
# An exact multiple of 1468: the last block is a bare header.
pt_mkfile even.bin $((1468 * 300))
# Text with LF and CR for netascii (a buffer body, not the mapping).
perl -e 'srand(7); for (1..40000) { print join("", map { chr(32 + int(rand(90))) } 1..int(rand(60))), (rand() < 0.1 ? "\r" : ""), "\n" }' \
    >"$ROOT/t.txt" || pt_fail "text file"
chmod 644 "$ROOT/t.txt"
pt_netascii "$ROOT/t.txt" "$T/t.na"

# gso_sends and tx_pkts from the stats segment: "gso tx".
counters() {
	"$STAT" -s "$T/ptftpd.stats" -j >"$T/stat.json" ||
	    pt_fail "ptftpd-stat -j"
	python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["totals"]
print(t["gso_sends"], t["tx_pkts"])' "$T/stat.json"
}

transfers() {
	pt_step "windowsize 16, blksize 1468, 4 at once"
	pt_tftpc -b 1468 -w 16 -t -n 4 -c 4 -e "$ROOT/w.bin" w.bin ||
	    pt_fail "windowsize 16"
	pt_step "windowsize 64 (two trains a window), blksize 1468, IPv6"
	pt_tftpc -H ::1 -b 1468 -w 64 -e "$ROOT/w.bin" w.bin ||
	    pt_fail "windowsize 64 over IPv6"
	pt_step "windowsize 7, blksize 512, last block empty"
	pt_tftpc -b 512,1468 -w 7 -c 2 -e "$ROOT/even.bin" even.bin ||
	    pt_fail "windowsize 7, exact multiple"
	pt_step "netascii, windowsize 8, blksize 1024"
	pt_tftpc -m netascii -b 1024 -w 8 -e "$T/t.na" t.txt ||
	    pt_fail "netascii windowed"
}

pt_start "workers = 1;"
transfers
read -r G0 P0 < <(counters)
pt_step "lock-step: no GSO send"
pt_tftpc -b 1468 -e "$ROOT/w.bin" w.bin || pt_fail "lock-step"
read -r G1 P1 < <(counters)
echo "   gso_sends $G0 after the windowed transfers, $G1 after lock-step;" \
    "tx_pkts $P0 -> $P1"
[ "$G0" -gt 0 ] || pt_fail "no GSO send for windowed transfers"
[ "$G1" -eq "$G0" ] || pt_fail "a lock-step transfer used GSO ($G0 -> $G1)"
# The lock-step transfer is 2144 DATA packets plus the OACK: every
# datagram of a train counted, not one per train.
[ $((P1 - P0)) -ge 2144 ] || pt_fail "tx_pkts of lock-step: $((P1 - P0))"
pt_stop

pt_step "single port mode"
pt_start "workers = 1;" "single_port = true;"
pt_tftpc -b 1468 -w 16 -n 2 -c 2 -e "$ROOT/w.bin" w.bin ||
    pt_fail "single port windowed"
pt_tftpc -H ::1 -b 1468 -w 32 -e "$ROOT/w.bin" w.bin ||
    pt_fail "single port windowed over IPv6"
read -r G P < <(counters)
echo "   gso_sends $G"
[ "$G" -gt 0 ] || pt_fail "no GSO send in single port mode"
pt_stop

pt_step "session.gso = false"
pt_start "workers = 1;" \
    "session = { timeout_ms = 500; timeout_max_ms = 2000; gso = false; };"
transfers
read -r G P < <(counters)
echo "   gso_sends $G, tx_pkts $P"
[ "$G" -eq 0 ] || pt_fail "gso = false, yet $G GSO sends"
pt_stop
echo "PASS gso"
