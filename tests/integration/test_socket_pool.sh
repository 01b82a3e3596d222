#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_socket_pool.sh - session.socket_pool (transfers on io_uring): the
# socket of an ended read transfer serves the next client, a late packet
# of its last client is dropped without an ERROR while a stranger still
# gets ERROR 5, the client of its last transfer never gets it back for its
# next one (no pair of TIDs twice in a row), and idle pooled sockets are
# closed after 10 s, and with a port range the pool leaves ports for the
# other workers. Raw UDP from python3 on 127.0.0.1, one worker.
# Where io_uring is unavailable (or PT_IO_URING=false) the worker runs on
# epoll without a pool: the test says SKIPPED and passes.
set -u
. "$TOP/tests/integration/lib.sh"

STAT=$BUILD/ptftpd-stat
command -v python3 >/dev/null || pt_fail "python3 missing (scripts/deps.sh check)"
head -c 100 /dev/urandom >"$ROOT/small.bin"

pt_start "workers = 1;" \
    "session = { timeout_ms = 300; timeout_max_ms = 600; socket_pool = 4; };"
if ! grep -q 'transfers on io_uring' "$PT_LOG"; then
	grep 'io_uring' "$PT_LOG" | tail -n 1
	pt_stop
	echo "SKIPPED socket_pool: the worker is not on io_uring"
	exit 0
fi
W=$(pgrep -P "$PT_PID" | head -n 1)
FD0=$(ls "/proc/$W/fd" | wc -l)

pt_step "reuse, late packets, strangers, no TID pair twice"
timeout 30 python3 - "$PT_PORT" "$ROOT/small.bin" <<'EOF' || pt_fail "pool checks"
import socket, struct, sys, time

port = int(sys.argv[1])
want = open(sys.argv[2], "rb").read()
srv = ("127.0.0.1", port)

def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(2.0)
    return s

def rrq(s):
    s.sendto(b"\0\1small.bin\0octet\0", srv)
    data, frm = s.recvfrom(1024)
    op, blk = struct.unpack("!HH", data[:4])
    assert op == 3 and blk == 1, ("not DATA 1", data[:4])
    assert data[4:] == want, "DATA 1 is not the file"
    return frm

def ack(s, to):
    s.sendto(struct.pack("!HH", 4, 1), to)

def quiet(s, secs):
    s.settimeout(secs)
    try:
        data, frm = s.recvfrom(1024)
    except socket.timeout:
        return True
    print("unexpected packet", data[:4], "from", frm)
    return False

a, b, c = sock(), sock(), sock()
ta = rrq(a)
ack(a, ta)                      # a's transfer ends: its socket is pooled
tb = None
for _ in range(50):             # the ACK is handled in the worker's turn
    tb = rrq(b)
    if tb == ta:
        break
    ack(b, tb)
    b = sock()
assert tb == ta, "the ended transfer's socket was not reused: %s %s" % (ta, tb)
print("reused transfer port", ta[1])
ack(a, tb)                      # a late ACK of a's transfer: dropped
assert quiet(a, 0.5), "the last client's late packet was answered"
ack(c, tb)                      # a stranger: ERROR 5, b goes on
data, frm = c.recvfrom(1024)
assert struct.unpack("!HH", data[:4]) == (5, 5), ("no ERROR 5", data[:4])
ack(b, tb)                      # b's transfer ends: pooled, last peer b
time.sleep(0.3)
# The server resent DATA 1 while b stayed quiet above: drain it, so the
# DATA 1 read next is the new transfer's.
b.settimeout(0.2)
try:
    while True:
        b.recvfrom(1024)
except socket.timeout:
    pass
b.settimeout(2.0)
# b again from the same port: never the port its last transfer used.
tb2 = rrq(b)
assert tb2 != tb, "the same pair of TIDs twice in a row"
ack(b, tb2)
print("ok: reuse, late packet dropped, ERROR 5 to a stranger, new pair")
EOF

pt_step "counters: late_pkts and foreign_tid"
"$STAT" -s "$T/ptftpd.stats" -j >"$T/stat.json" || pt_fail "ptftpd-stat -j"
python3 - "$T/stat.json" <<'EOF' || pt_fail "counters"
import json, sys
t = json.load(open(sys.argv[1]))
t = t["totals"]
assert t["late_pkts"] >= 1, t["late_pkts"]
assert t["foreign_tid"] >= 1, t["foreign_tid"]
print("late_pkts", t["late_pkts"], "foreign_tid", t["foreign_tid"])
EOF

pt_step "idle pooled sockets close after 10 s"
FD1=$(ls "/proc/$W/fd" | wc -l)
echo "   worker fds: $FD0 at start, $FD1 with the pool"
[ "$FD1" -gt "$FD0" ] || pt_fail "no pooled socket held ($FD1 fds, $FD0 at start)"
[ "$FD1" -le $((FD0 + 4)) ] || pt_fail "more than socket_pool sockets held: $FD1"
for i in $(seq 1 30); do
	[ "$(ls "/proc/$W/fd" | wc -l)" -eq "$FD0" ] && break
	sleep 0.5
done
FD2=$(ls "/proc/$W/fd" | wc -l)
echo "   after ${i} x 0.5 s more: $FD2"
[ "$FD2" -eq "$FD0" ] || pt_fail "pooled sockets not closed when idle ($FD2)"

pt_stop

# A port range of 8 and 2 workers: each keeps at most 8 / (2 x 2) = 2 idle
# sockets, so the ports the other worker needs stay free. 40 transfers, 4
# at a time, from ports the kernel spreads over both workers: none may be
# refused for want of a port.
pt_step "port range: the pool leaves ports for the other worker"
pt_mkfile range.bin 20000
read -r PMIN PMAX <<<"$(pt_port_range 8)"
echo "   transfer ports $PMIN-$PMAX"
pt_start "workers = 2;" \
    "session = { timeout_ms = 300; timeout_max_ms = 600; port_min = $PMIN; port_max = $PMAX; };"
socks() { ls -l "/proc/$1/fd" | grep -c ' socket:\['; }
declare -A SOCK0
for w in $(pgrep -P "$PT_PID"); do SOCK0[$w]=$(socks "$w"); done
pt_tftpc -n 4 -c 100 -e "$ROOT/range.bin" range.bin ||
    pt_fail "transfers refused or failed with an 8-port range"
tail -n 1 "$PT_OUT" | sed "s/^/    /"
for w in $(pgrep -P "$PT_PID"); do
	n=$(socks "$w")
	echo "   worker $w: $n sockets, ${SOCK0[$w]} at start"
	[ "$n" -le $((SOCK0[$w] + 2)) ] ||
	    pt_fail "worker $w keeps $((n - SOCK0[$w])) idle sockets of 8 ports"
done
pt_stop
echo "PASS socket_pool"
