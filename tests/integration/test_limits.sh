#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_limits.sh - admission limits end to end, with one worker so that the
# per-worker figures are exact: session.max_per_client refuses the third
# concurrent transfer of an address with ERROR 0 "Too many transfers..."
# while other addresses are served; limits.per_client raises the cap for a
# block; limits.rate_per_client / burst_per_client let a burst of about
# `burst` through, refuse the rest with ERROR 0 "Rate limited...", and
# serve again a second later, each address with its own bucket; the
# global bucket caps all addresses together; and the default limits let a
# rack's worth of requests (200 at once from one address) through.
# Other clients are other loopback addresses (127.0.0.2, 127.0.0.3).
set -u
. "$TOP/tests/integration/lib.sh"

PY=$PT_PYTHON

# tc.py SRC HOST PORT MODE NAME N [SECS]: N RRQs (octet, no options) at
# once from N sockets bound to SRC; one line per first answer: "ok" (a
# DATA), "error CODE MSG" or "timeout". MODE "burst" closes each admitted
# transfer at once with ERROR 0; MODE "hold" keeps them open without ACKing
# for SECS (the server keeps them until it gives up), then exits.
TC=$T/tc.py
cat >"$TC" <<'EOF'
import socket, struct, sys, select, time
src, host, port, mode, name, n = sys.argv[1:7]
secs = float(sys.argv[7]) if len(sys.argv) > 7 else 0
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
ss = []
for i in range(int(n)):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 0))
    ss.append(s)
rrq = struct.pack('!H', 1) + name.encode() + b'\0octet\0'
for s in ss:
    s.sendto(rrq, (host, int(port)))
left, deadline = set(ss), time.time() + 2
while left and time.time() < deadline:
    for s in select.select(list(left), [], [], deadline - time.time())[0]:
        p, a = s.recvfrom(70000)
        op, c = struct.unpack('!HH', p[:4])
        if op == 5:
            print('error %d %s' % (c, p[4:].split(b'\0')[0].decode()))
        else:
            print('ok')
            if mode == 'burst':
                s.sendto(struct.pack('!HH', 5, 0) + b'done\0', a)
        left.discard(s)
for s in left:
    print('timeout')
sys.stdout.flush()
if mode == 'hold':
    time.sleep(secs)
EOF

# tc SRC MODE NAME N [SECS] (IPv6 if SRC is).
tc() {
	local host=127.0.0.1
	case $1 in *:*) host=::1 ;; esac
	timeout -k 1 20 "$PY" "$TC" "$1" "$host" "$PT_PORT" "$2" "$3" "$4" \
	    ${5:+"$5"}
}

# count PATTERN FILE: lines of FILE that start with PATTERN.
count() {
	grep -c "^$1" "$2"
}

# hold SRC N OUT: N transfers from SRC held open in the background for 8 s;
# waits until all N have their first answer (in OUT).
hold() {
	local i
	tc "$1" hold f "$2" 8 >"$3" 2>&1 &
	pt_track $!
	for i in $(seq 1 50); do
		[ "$(wc -l <"$3")" -ge "$2" ] && return 0
		sleep 0.1
	done
	pt_fail "hold $1 x$2: $(cat "$3")"
}

pt_mkfile f 20000

# --- max_per_client and its per-CIDR override --------------------------------
# The server keeps an unACKed transfer for about 5 s (first_retries); the
# drain at the end does not wait for them.
pt_start "workers = 1;" "shutdown_timeout = 1;" \
    'session = { timeout_ms = 500; timeout_max_ms = 1000; retries = 5;
            first_retries = 5; max_per_client = 2; };' \
    'limits = { rate_per_client = 0;
        per_client = ( { client = "127.0.0.4/31"; max = 4; } ); };'

pt_step "max_per_client = 2: the third transfer of 127.0.0.2 is refused"
hold 127.0.0.2 2 "$T/held2"
[ "$(count ok "$T/held2")" = 2 ] || pt_fail "127.0.0.2 held: $(cat "$T/held2")"
tc 127.0.0.2 burst f 1 >"$T/third"
grep -q '^error 0 Too many transfers' "$T/third" ||
    pt_fail "third transfer of 127.0.0.2: $(cat "$T/third")"
echo "ok   127.0.0.2 third: $(cat "$T/third")"
tc 127.0.0.3 burst f 2 >"$T/other"
[ "$(count ok "$T/other")" = 2 ] ||
    pt_fail "127.0.0.3 refused while 127.0.0.2 was busy: $(cat "$T/other")"
echo "ok   127.0.0.3 served meanwhile"
pt_tftpc -e "$ROOT/f" f || pt_fail "tftpc from 127.0.0.1 refused"
pt_tftpc -H ::1 -e "$ROOT/f" f || pt_fail "tftpc from ::1 refused"

pt_step "limits.per_client: 127.0.0.4/31 may run 4"
hold 127.0.0.5 4 "$T/held5"
[ "$(count ok "$T/held5")" = 4 ] ||
    pt_fail "127.0.0.5 (cap 4) held: $(cat "$T/held5")"
tc 127.0.0.5 burst f 1 >"$T/fifth"
grep -q '^error 0 Too many transfers' "$T/fifth" ||
    pt_fail "fifth transfer of 127.0.0.5: $(cat "$T/fifth")"
echo "ok   127.0.0.5: 4 held, fifth: $(cat "$T/fifth")"
tc 127.0.0.6 hold f 3 1 >"$T/held6"
[ "$(count ok "$T/held6")" = 2 ] && [ "$(count 'error 0' "$T/held6")" = 1 ] ||
    pt_fail "127.0.0.6 is outside the /31, cap 2: $(tr '\n' ';' <"$T/held6")"
echo "ok   127.0.0.6 (outside the block) keeps the cap of 2"
pt_stop

# --- rate_per_client ---------------------------------------------------------
pt_step "rate_per_client = 5, burst 5: a burst of 20 gets about 5"
pt_start "workers = 1;" \
    'limits = { rate_per_client = 5; burst_per_client = 5; };'
tc 127.0.0.2 burst f 20 >"$T/burst1"
ok1=$(count ok "$T/burst1") lim1=$(count 'error 0 Rate limited' "$T/burst1")
echo "    burst 1: $ok1 served, $lim1 rate limited"
[ "$ok1" -ge 5 ] && [ "$ok1" -le 7 ] && [ $((ok1 + lim1)) = 20 ] ||
    pt_fail "burst of 20: $(sort "$T/burst1" | uniq -c | tr '\n' ';')"
tc 127.0.0.3 burst f 4 >"$T/other"
[ "$(count ok "$T/other")" = 4 ] ||
    pt_fail "127.0.0.3 has its own bucket: $(cat "$T/other")"
echo "ok   127.0.0.3 has its own bucket"
sleep 1.1
tc 127.0.0.2 burst f 20 >"$T/burst2"
ok2=$(count ok "$T/burst2")
echo "    after 1 s: $ok2 served"
[ "$ok2" -ge 4 ] && [ "$ok2" -le 7 ] ||
    pt_fail "after 1 s: $(sort "$T/burst2" | uniq -c | tr '\n' ';')"
echo "ok   rate limit: $ok1 of 20, then $ok2 a second later"
pt_stop

pt_step "rate_global = 5, burst 5: all addresses together"
pt_start "workers = 1;" \
    'limits = { rate_per_client = 0; rate_global = 5; burst_global = 5; };'
sleep 1.1			# the start-up probes took tokens too
tc 127.0.0.2 burst f 6 >"$T/g1"
tc 127.0.0.3 burst f 6 >"$T/g2"
okg=$(($(count ok "$T/g1") + $(count ok "$T/g2")))
[ "$okg" -ge 5 ] && [ "$okg" -le 7 ] ||
    pt_fail "global: $okg served: $(cat "$T/g1" "$T/g2" | sort | uniq -c | tr '\n' ';')"
grep -q '^error 0 Rate limited' "$T/g2" ||
    pt_fail "127.0.0.3 not limited by the global bucket: $(cat "$T/g2")"
echo "ok   global bucket: $okg of 12 served"
pt_stop

pt_step "default limits: a rack booting behind one address is not slowed"
pt_start "workers = 1;" 'limits = { };'
tc 127.0.0.2 burst f 200 >"$T/rack"
[ "$(count ok "$T/rack")" = 200 ] ||
    pt_fail "200 at once: $(sort "$T/rack" | uniq -c | tr '\n' ';')"
echo "ok   200 requests at once from one address, all served"
pt_stop
echo "limits: all passed"
