#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_refusals.sh - refused requests are answered and logged (issue 13,
# issue 14 item 5), and a flood cannot fill the disk.
#
#   1. one log line per refused request, with the transfer line's fields
#      and result=refused reason=...: notfound, acl (answered and silent),
#      access (an upload where none is allowed), rate, limit, badreq (mail
#      mode, a malformed request), toolong
#   2. requests longer than the receive buffer (a 2,000- and a 4,200-byte
#      name, an option value of 1,000 digits) get ERROR 4 at the first try
#      and are counted (req_toolong); in single port mode too, where the
#      buffer is larger; a client's ERROR longer than the buffer (600
#      bytes on io_uring) still ends its transfer
#   3. a flood of 10 x log.refusals_per_second malformed requests in well
#      under a second: every one answered, at most ~N lines (two windows
#      at worst) plus "result=refused suppressed=K", lines + K = the flood
#      exactly, log_suppressed counted, and the daemon keeps serving
#   4. a port range of 2 held by 2 transfers: 20 more requests fail for
#      want of a port, counted (refused_resource) and logged at most once
#      a second with "suppressed=K"
# Raw UDP from python3 on 127.0.0.0/8; one worker, so the per-worker
# rate is exact. Every wait is bounded and waits for a condition.
set -u
. "$TOP/tests/integration/lib.sh"

STAT=$BUILD/ptftpd-stat
N=10				# log.refusals_per_second here
command -v python3 >/dev/null || pt_fail "python3 missing (scripts/deps.sh check)"
pt_mkfile f 3000
mkdir -m 755 "$ROOT/secret"
pt_mkfile secret/s 100

# The raw client: "py CMD ARGS" (see the commands below).
cat >"$T/raw.py" <<'EOF'
import socket, struct, sys, time

port = int(sys.argv[2])

def sock(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(3.0)
    return s

def req(op, name, mode=b"octet", opts=b""):
    return struct.pack("!H", op) + name + b"\0" + mode + b"\0" + opts

def first(s, pkt, srv):
    """Send pkt once; the first answer as (opcode, code or block, from)."""
    s.sendto(pkt, srv)
    data, frm = s.recvfrom(70000)
    op, x = struct.unpack("!HH", data[:4])
    return op, x, data[4:], frm

cmd = sys.argv[1]
srv = ("127.0.0.1", port)
if cmd == "expect":             # expect SRC OP NAME CODE [MODE]: ERROR CODE
    src, op, name, code = sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
    mode = sys.argv[7].encode() if len(sys.argv) > 7 else b"octet"
    s = sock(src)
    o, x, rest, _ = first(s, req(op, name.encode(), mode), srv)
    assert (o, x) == (5, code), ("expected ERROR", code, "got", o, x, rest)
    print("ok  ", src, name, "-> ERROR", x, rest.rstrip(b"\0").decode())
elif cmd == "burst":            # burst SRC COUNT CODE: all get ERROR CODE
    s = [sock(sys.argv[3]) for _ in range(int(sys.argv[4]))]
    for k in s:
        k.sendto(req(1, b"f"), srv)
    for k in s:
        data, frm = k.recvfrom(2000)
        assert data[:4] == struct.pack("!HH", 5, int(sys.argv[5])), data
    print("ok  ", len(s), "requests -> ERROR", sys.argv[5])
elif cmd == "silent":           # silent SRC NAME: no answer at all
    s = sock(sys.argv[3])
    s.settimeout(1.0)
    s.sendto(req(1, sys.argv[4].encode()), srv)
    try:
        data, frm = s.recvfrom(2000)
        sys.exit("answered: %r" % data[:4])
    except socket.timeout:
        print("ok   no answer to", sys.argv[4])
elif cmd == "malformed":        # malformed SRC: an RRQ with no mode
    s = sock(sys.argv[3])
    o, x, rest, _ = first(s, b"\0\1f", srv)
    assert (o, x) == (5, 4), ("malformed", o, x)
    print("ok   malformed -> ERROR 4")
elif cmd == "rate":             # rate SRC COUNT: some get "Rate limited"
    s = [sock(sys.argv[3]) for _ in range(int(sys.argv[4]))]
    for k in s:
        k.sendto(req(1, b"nope"), srv)
    limited = 0
    for k in s:
        data, frm = k.recvfrom(2000)
        if data[:4] == b"\0\5\0\0" and b"Rate limited" in data:
            limited += 1
    assert limited > 0, "no request was rate limited"
    print("ok  ", limited, "rate limited")
elif cmd == "hold":             # hold SRC COUNT: start transfers, never ACK
    s = [sock(sys.argv[3]) for _ in range(int(sys.argv[4]))]
    got = []
    for k in s:
        o, x, rest, _ = first(k, req(1, b"f"), srv)
        got.append((o, x))
    print("held", got)
    assert all(g == (3, 1) for g in got), got
elif cmd == "long":             # long SRC: three requests too long to read
    for what, pkt in (
            ("2000-byte name", req(1, b"a" * 2000)),
            ("4200-byte name", req(1, b"b" * 4200)),
            ("1000-digit option", req(1, b"pxelinux.cfg/01-aa-bb-cc-dd-ee-ff",
                                      b"octet",
                                      b"tsize\0" + b"9" * 1000 + b"\0"))):
        s = sock(sys.argv[3])
        o, x, rest, _ = first(s, pkt, srv)
        print("   ", what, "(%d bytes) ->" % len(pkt), o, x,
              rest.rstrip(b"\0").decode(errors="replace"))
        if sys.argv[4] == "error4" or len(pkt) > 1500:
            assert (o, x) == (5, 4), (what, o, x)
        else:                   # single port: read whole, answered
            assert o in (3, 5, 6) and (o, x) != (5, 4), (what, o, x)
elif cmd == "longerr":          # longerr SRC: end a transfer with a long ERROR
    s = sock(sys.argv[3])
    o, x, rest, tid = first(s, req(1, b"f"), srv)
    assert (o, x) == (3, 1), ("no DATA 1", o, x)
    s.sendto(b"\0\5\0\0" + b"m" * 2000 + b"\0", tid)
    print(s.getsockname()[1])
elif cmd == "flood":            # flood SRC COUNT: malformed, count answers
    n = int(sys.argv[4])
    s = sock(sys.argv[3])
    s.settimeout(2.0)
    t0 = time.monotonic()
    for i in range(n):
        s.sendto(b"\0\1junk%d" % i, srv)
    sent_s = time.monotonic() - t0
    got = 0
    try:
        while got < n:
            data, frm = s.recvfrom(2000)
            if data[:4] == b"\0\5\0\4":
                got += 1
    except socket.timeout:
        pass
    print("flood: %d sent in %.3f s, %d answered ERROR 4" % (n, sent_s, got))
    assert got == n, "not every request of the flood was answered"
else:
    sys.exit("unknown command " + cmd)
EOF
py() { timeout 30 python3 "$T/raw.py" "$1" "$PT_PORT" "${@:2}"; }

# Lines of the daemon log written since byte offset $1.
since() { tail -c +$(($1 + 1)) "$PT_LOG"; }
logsize() { stat -c %s "$PT_LOG"; }
# tally SECS N LINE_ERE HELD_ERE: waits up to SECS until the lines since
# $O matching LINE_ERE plus the counts K of the lines ending in HELD_ERE K
# reach N; the two in $lines and $held.
tally() {
	local i
	for i in $(seq 1 $(($1 * 10))); do
		lines=$(since "$O" | grep -Ec -- "$3")
		held=$(since "$O" | grep -E -- "$4[0-9]+\$" |
		    sed 's/.*suppressed=\([0-9]*\)$/\1/' |
		    awk '{ s += $1 } END { print s + 0 }')
		[ $((lines + held)) -ge "$2" ] && return 0
		sleep 0.1
	done
	return 0
}

counter() {
	"$STAT" -s "$T/ptftpd.stats" -j |
	    python3 -c "import json,sys; print(json.load(sys.stdin)['totals']['$1'])"
}

pt_start "workers = 1;" "shutdown_timeout = 1;" \
    'log = { target = "stderr"; level = "info"; refusals_per_second = 1000; };' \
    'session = { timeout_ms = 500; timeout_max_ms = 2000; max_per_client = 2;
            first_retries = 5; };' \
    'limits = { rate_per_client = 2; burst_per_client = 10;
        per_client = ( { client = "127.0.0.1/32"; max = 100; } ); };' \
    'routes = ( { prefix = "secret/";
        acl = ( { deny = "127.0.0.7"; }, { allow = "0.0.0.0/0"; } ); } );'

pt_step "1. a log line per refused request, with its reason"
O=$(logsize)
py expect 127.0.0.2 1 no/such/file 1 || pt_fail "not found"
py expect 127.0.0.7 1 secret/s 2 || pt_fail "acl"
py expect 127.0.0.3 2 up 2 || pt_fail "upload"
py expect 127.0.0.4 1 f 4 mail || pt_fail "mail mode"
py malformed 127.0.0.4 || pt_fail "malformed"
py long 127.0.0.4 error4 || pt_fail "long requests"
py rate 127.0.0.5 14 || pt_fail "rate"
py hold 127.0.0.6 2 || pt_fail "hold 2"
py expect 127.0.0.6 1 f 0 || pt_fail "max_per_client"
pt_wait_log 'peer=127\.0\.0\.6:[0-9]+ op=RRQ file="f" .*reason=limit' ||
    pt_fail "no refusal line for the per-client limit"
since "$O" | grep 'result=refused' | sed 's/^.* w0 /    /'
chk() {
	since "$O" | grep -Eq -- "$1" || pt_fail "no refusal line like: $1"
}
chk 'peer=127\.0\.0\.2:[0-9]+ op=RRQ file="no/such/file" mode=octet opts=- result=refused reason=notfound error=1$'
chk 'peer=127\.0\.0\.7:[0-9]+ op=RRQ file="secret/s" .*result=refused reason=acl error=2$'
chk 'peer=127\.0\.0\.3:[0-9]+ op=WRQ file="up" .*result=refused reason=access error=2$'
chk 'peer=127\.0\.0\.4:[0-9]+ op=RRQ file="f" mode=mail .*reason=badreq error=4$'
chk 'peer=127\.0\.0\.4:[0-9]+ op=RRQ file="f" mode=- opts=- result=refused reason=badreq error=4$'
chk 'peer=127\.0\.0\.4:[0-9]+ op=RRQ file="aaaaaaaaaa.*" mode=- opts=- result=refused reason=toolong error=4$'
chk 'peer=127\.0\.0\.5:[0-9]+ op=RRQ file="nope" .*result=refused reason=rate error=0$'
chk 'peer=127\.0\.0\.5:[0-9]+ op=RRQ file="nope" .*result=refused reason=notfound error=1$'
P=$(py longerr 127.0.0.11) || pt_fail "long ERROR"
pt_wait_log "peer=127\\.0\\.0\\.11:$P op=RRQ file=\"f\" .*result=aborted error=0 " ||
    pt_fail "a client's ERROR longer than the buffer did not end its transfer"
echo "   a 2,000-byte ERROR from the client ends its transfer (aborted)"
[ "$(since "$O" | grep -c 'reason=toolong')" = 3 ] ||
    pt_fail "expected 3 toolong lines"
[ "$(counter req_toolong)" = 3 ] || pt_fail "req_toolong is not 3"
echo "   req_toolong = 3"

pt_step "   acl_action = silent: logged, not answered"
pt_stop
pt_start "workers = 1;" "acl_action = \"silent\";" \
    'routes = ( { prefix = "secret/";
        acl = ( { deny = "127.0.0.7"; }, { allow = "0.0.0.0/0"; } ); } );'
py silent 127.0.0.7 secret/s || pt_fail "silent acl answered"
pt_wait_log 'peer=127\.0\.0\.7:[0-9]+ op=RRQ file="secret/s" .*result=refused reason=acl error=none$' ||
    pt_fail "silent acl refusal not logged"
pt_stop

pt_step "2. long requests in single port mode"
pt_start "workers = 1;" "shutdown_timeout = 1;" "single_port = true;"
py long 127.0.0.4 served || pt_fail "long requests (single port)"
P=$(py longerr 127.0.0.11) || pt_fail "long ERROR (single port)"
pt_wait_log "peer=127\\.0\\.0\\.11:$P op=RRQ file=\"f\" .*result=aborted error=0 " ||
    pt_fail "single port: a client's long ERROR did not end its transfer"
[ "$(counter req_toolong)" = 2 ] || pt_fail "req_toolong is not 2"
pt_tftpc -e "$ROOT/f" f || pt_fail "single port: a normal transfer"
pt_stop

pt_step "3. a flood of $((N * 10)) bad requests in a second"
pt_start "workers = 1;" "shutdown_timeout = 1;" \
    "log = { target = \"stderr\"; level = \"info\"; refusals_per_second = $N; };"
O=$(logsize)
py flood 127.0.0.8 $((N * 10)) || pt_fail "flood"
pt_wait_log 'result=refused suppressed=' 10 ||
    pt_fail "no suppressed line after the flood"
# Wait until the last window's count is out too: every refusal is then
# either a line or counted in a suppressed line.
tally 5 $((N * 10)) 'peer=127\.0\.0\.8:.*result=refused' \
    'result=refused suppressed='
echo "   $lines refusal lines, $held suppressed"
[ $((lines + held)) = $((N * 10)) ] ||
    pt_fail "lines ($lines) + suppressed ($held) != $((N * 10))"
[ "$lines" -le $((2 * N)) ] ||
    pt_fail "$lines refusal lines for a limit of $N a second"
[ "$(counter log_suppressed)" = "$held" ] ||
    pt_fail "log_suppressed is not $held"
pt_tftpc -e "$ROOT/f" f || pt_fail "not serving after the flood"
pt_tftpc -H ::1 -e "$ROOT/f" f || pt_fail "not serving ::1 after the flood"
pt_stop

pt_step "4. no port left: counted, logged once a second"
pt_start "workers = 1;" "shutdown_timeout = 1;" \
    'session = { timeout_ms = 500; timeout_max_ms = 2000; first_retries = 5;
            port_min = 47101; port_max = 47102; };'
# The start-up probes ended long ago (a refusal from the listen port); the
# pool (io_uring) keeps at most 2 / (2 x 1) = 1 idle socket.
O=$(logsize)
py hold 127.0.0.6 2 || pt_fail "hold the 2 ports"
R0=$(counter refused_resource)
py burst 127.0.0.9 20 0 || pt_fail "20 requests with no port left"
R1=$(counter refused_resource)
[ $((R1 - R0)) = 20 ] || pt_fail "refused_resource went $R0 -> $R1, not +20"
pt_wait_log 'transfer socket: .*suppressed=' 10 ||
    pt_fail "no suppressed count for the exhausted ports"
# Every failure is a line of its own or counted in a suppressed=K.
tally 3 20 'transfer socket: .*in use$' 'transfer socket: .*suppressed='
since "$O" | grep 'transfer socket: ' | sed 's/^.* w0 /    /'
[ $((lines + held)) = 20 ] ||
    pt_fail "$lines lines + $held suppressed != 20 failures"
[ "$lines" -le 5 ] || pt_fail "$lines exhaustion lines for 20 failures"
pt_stop
echo "PASS refusals"
