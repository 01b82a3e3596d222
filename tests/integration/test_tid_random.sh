#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_tid_random.sh - the server's transfer ID (its port) cannot be
# guessed from the last one (RFC 1350: TIDs should be random), with the
# socket pool (io_uring) and without it (epoll), with kernel-chosen ports
# and with a port range (issue 13).
#
# 100 transfers in a row, each from a new client port on 127.0.0.1 and
# ACKed to the end, one worker, socket_pool = 32 (so the pool fills after
# 32 transfers and then hands out its sockets). Asserted properties, not
# speeds:
#   - at least 20 distinct server ports among the 100;
#   - at most 30 of the 99 steps are guessed by a predictor that tries
#     the last port +-2, the last 3 ports, and the port that followed the
#     last port the time before. A pool that hands out its sockets in
#     turn (before: 2 ports, alternating), or ports taken in order from a
#     range (before: 47201, 47202, ...), is guessed at nearly every step.
# Random choice among 32 sockets is guessed with p ~ 4/32 a step: about
# 12 of 99 expected, more than 30 with p < 1e-5. Fresh kernel ports:
# about none.
# Raw UDP from python3; loopback only; bounded.
set -u
. "$TOP/tests/integration/lib.sh"

command -v python3 >/dev/null || pt_fail "python3 missing (scripts/deps.sh check)"
head -c 100 /dev/urandom >"$ROOT/small.bin"
chmod 644 "$ROOT/small.bin"

tids() {
	timeout 60 python3 - "$PT_PORT" "$ROOT/small.bin" "$1" <<'EOF'
import socket, struct, sys

port, want, what = int(sys.argv[1]), open(sys.argv[2], "rb").read(), sys.argv[3]
srv = ("127.0.0.1", port)
ports = []
for i in range(100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(3.0)
    s.sendto(b"\0\1small.bin\0octet\0", srv)
    data, frm = s.recvfrom(1024)
    assert data[:4] == b"\0\3\0\1" and data[4:] == want, data[:4]
    s.sendto(struct.pack("!HH", 4, 1), frm)
    ports.append(frm[1])
    s.close()
hits = 0
for i in range(1, len(ports)):
    last = ports[i - 1]
    guess = set(range(last - 2, last + 3)) | set(ports[max(0, i - 3):i])
    for j in range(i - 2, -1, -1):
        if ports[j] == last:
            guess.add(ports[j + 1])
            break
    hits += ports[i] in guess
print("   %s: ports %s" % (what, " ".join(map(str, ports))))
print("   %s: %d distinct of 100, %d of 99 steps guessed"
      % (what, len(set(ports)), hits))
assert len(set(ports)) >= 20, "too few distinct server ports"
assert hits <= 30, "the next server port follows from the last"
EOF
}

pt_step "kernel-chosen ports"
pt_start "workers = 1;" \
    'session = { timeout_ms = 500; timeout_max_ms = 2000; socket_pool = 32; };'
grep -q 'transfers on io_uring' "$PT_LOG" && MODE="pool (io_uring)" ||
    MODE="no pool (epoll)"
tids "$MODE" || pt_fail "$MODE: predictable transfer IDs"
pt_stop

pt_step "a port range of 200"
pt_start "workers = 1;" \
    'session = { timeout_ms = 500; timeout_max_ms = 2000; socket_pool = 32;
            port_min = 47201; port_max = 47400; };'
tids "$MODE, range" || pt_fail "$MODE, port range: predictable transfer IDs"
pt_stop
echo "PASS tid_random"
