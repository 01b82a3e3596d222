#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_uploads.sh - WRQ end to end, on routes with a write group: tftp-hpa
# (binary and netascii), curl and atftp (windowsize 8) uploads arrive byte
# for byte with the configured mode; overwrite = false refuses an existing
# name (ERROR 6), create = false a new one (ERROR 2), a name outside any
# write route gets ERROR 2 "Uploads are disabled"; a tsize over max_bytes
# is refused with ERROR 3 before any data; an upload killed halfway leaves
# nothing at all in the directory once its session has timed out; and a
# reader during an overwrite sees the old or the new file, never a mix.
set -u
. "$TOP/tests/integration/lib.sh"

PY=$PT_PYTHON

# wrq.py HOST PORT NAME TSIZE: a WRQ (octet) with tsize TSIZE; prints the
# first answer, "error CODE MSG" or "ack" (then sends ERROR 0 and stops),
# or "timeout".
WRQ=$T/wrq.py
cat >"$WRQ" <<'EOF'
import socket, struct, sys, select
host, port, name, tsize = sys.argv[1:5]
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.sendto(struct.pack('!H', 2) + name.encode() + b'\0octet\0tsize\0' +
         tsize.encode() + b'\0', (host, int(port)))
if not select.select([s], [], [], 2)[0]:
    print('timeout'); sys.exit(0)
p, a = s.recvfrom(70000)
op, n = struct.unpack('!HH', p[:4])
if op == 5:
    print('error %d %s' % (n, p[4:].split(b'\0')[0].decode('latin-1')))
else:
    s.sendto(struct.pack('!HH', 5, 0) + b'stop\0', a)
    print('ack')
EOF

UP=$ROOT/uploads		# create, no overwrite, mode 0640
REP=$ROOT/replace		# overwrite only
LIVE=$ROOT/live			# create and overwrite, for the reader race
mkdir -m 755 "$UP" "$REP" "$LIVE"
# Workers run as nobody: the directories they write must be theirs.
chown nobody "$UP" "$REP" "$LIVE" 2>/dev/null || chmod 777 "$UP" "$REP" "$LIVE"
MAX=1500000

# Short timers: the killed upload's session ends about 2 s after the kill.
pt_start 'session = { timeout_ms = 200; timeout_max_ms = 400; retries = 4;
            first_retries = 2; };' \
    "routes = (
  { prefix = \"uploads/\"; write = { create = true; overwrite = false;
      max_bytes = $MAX; mode = 0640; }; },
  { prefix = \"replace/\"; write = { create = false; overwrite = true;
      max_bytes = $MAX; mode = 0600; }; },
  { prefix = \"live/\"; write = { create = true; overwrite = true;
      max_bytes = 4000000; mode = 0644; }; }
);"
P=$PT_PORT

head -c 300000 /dev/urandom >"$T/a.bin"
head -c 70000 /dev/urandom >"$T/b.bin"
head -c $((MAX + 1)) /dev/urandom >"$T/over.bin"
head -c $MAX /dev/urandom >"$T/max.bin"

# run WHAT CMD...: a client with a time limit; its output in $T/client.log.
run() {
	local what=$1 rc
	shift
	timeout -k 2 30 "$@" >"$T/client.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] || { sed 's/^/    /' "$T/client.log"; pt_fail "$what: exit $rc"; }
	# tftp-hpa exits 0 on an ERROR from the server
	grep -qi '^error\|Error code' "$T/client.log" &&
	    { sed 's/^/    /' "$T/client.log"; pt_fail "$what: $(head -1 "$T/client.log")"; }
	return 0
}

# uploaded WHAT SRC PATH MODE: PATH is SRC byte for byte, with mode MODE.
uploaded() {
	[ -f "$3" ] || pt_fail "$1: $3 missing"
	pt_cmp "$2" "$3" "$1"
	[ "$(stat -c %a "$3")" = "$4" ] ||
	    pt_fail "$1: mode $(stat -c %a "$3"), want $4"
	echo "ok   $1"
}

# wrq WHAT WANT NAME TSIZE [HOST]: the first answer to a WRQ.
wrq() {
	local got
	got=$(timeout 10 "$PY" "$WRQ" "${5:-127.0.0.1}" "$P" "$3" "$4")
	case $got in
	"$2"*) echo "ok   $1: $got" ;;
	*) pt_fail "$1: want \"$2...\", got \"$got\"" ;;
	esac
}

pt_step "tftp-hpa, curl, atftp uploads, byte-exact, mode 0640"
run "tftp-hpa put" tftp -m binary 127.0.0.1 "$P" -c put "$T/a.bin" uploads/hpa.bin
uploaded "tftp-hpa put" "$T/a.bin" "$UP/hpa.bin" 640
run "tftp-hpa -6 put" tftp -6 -m binary ::1 "$P" -c put "$T/b.bin" uploads/hpa6.bin
uploaded "tftp-hpa -6 put" "$T/b.bin" "$UP/hpa6.bin" 640
run "curl -T" curl -sS -T "$T/a.bin" "tftp://127.0.0.1:$P/uploads/curl.bin"
uploaded "curl -T" "$T/a.bin" "$UP/curl.bin" 640
run "curl -T [::1] blksize 1468" curl -sS --tftp-blksize 1468 -T "$T/b.bin" \
    "tftp://[::1]:$P/uploads/curl6.bin"
uploaded "curl -T [::1]" "$T/b.bin" "$UP/curl6.bin" 640
run "curl -T exactly max_bytes" curl -sS --tftp-blksize 1468 -T "$T/max.bin" \
    "tftp://127.0.0.1:$P/uploads/max.bin"
uploaded "curl -T exactly max_bytes" "$T/max.bin" "$UP/max.bin" 640
run "atftp windowsize 8" atftp --option "windowsize 8" --option "blksize 1024" \
    -p -l "$T/a.bin" -r uploads/atftp-w8.bin 127.0.0.1 "$P"
uploaded "atftp windowsize 8" "$T/a.bin" "$UP/atftp-w8.bin" 640
pt_wait_log 'op=WRQ file="uploads/atftp-w8.bin".* windowsize=8 .*result=ok' 3 ||
    pt_fail "atftp: no windowsize=8 result=ok WRQ in the log"

pt_step "netascii (tftp-hpa -m ascii): CR LF on the wire, LF on disk"
printf 'line one\nline two\n\nbare\rcr\ntabs\tand spaces  \nend\n' >"$T/text"
run "tftp-hpa ascii put" tftp -m ascii 127.0.0.1 "$P" -c put "$T/text" uploads/text.cfg
uploaded "tftp-hpa ascii put" "$T/text" "$UP/text.cfg" 640
pt_wait_log 'op=WRQ file="uploads/text.cfg" mode=netascii .*result=ok' 3 ||
    pt_fail "netascii upload not logged as mode=netascii"

pt_step "policy: overwrite, create, outside the routes"
wrq "overwrite = false: ERROR 6" "error 6" uploads/hpa.bin 10
timeout 20 tftp -m binary 127.0.0.1 "$P" -c put "$T/b.bin" uploads/hpa.bin \
    >"$T/client.log" 2>&1
grep -q "Error code 6" "$T/client.log" ||
    pt_fail "tftp-hpa overwrite: $(cat "$T/client.log")"
uploaded "existing file untouched" "$T/a.bin" "$UP/hpa.bin" 640
wrq "create = false: ERROR 2" "error 2" replace/new.bin 10
[ ! -e "$REP/new.bin" ] || pt_fail "replace/new.bin was created"
cp "$T/b.bin" "$REP/cfg.bin" && chmod 644 "$REP/cfg.bin"
run "overwrite = true, create = false" curl -sS -T "$T/a.bin" \
    "tftp://127.0.0.1:$P/replace/cfg.bin"
uploaded "replaced" "$T/a.bin" "$REP/cfg.bin" 600
wrq "outside the write routes" "error 2 Uploads are disabled" elsewhere.bin 10
wrq "outside the write routes, IPv6" "error 2 Uploads are disabled" \
    uploads-not/x 10 ::1
pt_tftpc --wrq -x 2 a.bin || pt_fail "tftpc --wrq: not ERROR 2"
wrq "no such directory" "error 1" uploads/nodir/x.bin 10

pt_step "tsize over max_bytes: ERROR 3 before any data"
wrq "tsize max_bytes + 1" "error 3" uploads/over.bin $((MAX + 1))
wrq "tsize max_bytes" "ack" uploads/ok-size.bin $MAX
timeout 20 curl -sS -T "$T/over.bin" "tftp://127.0.0.1:$P/uploads/over.bin" \
    >"$T/client.log" 2>&1 && pt_fail "curl: an upload over max_bytes succeeded"
pt_wait_log 'op=WRQ file="uploads/over.bin".*bytes=0 ' 3 ||
    pt_fail "over max_bytes: no WRQ with bytes=0 in the log"
# without tsize the limit holds as the data comes
timeout 20 curl -sS --tftp-no-options -T "$T/over.bin" \
    "tftp://127.0.0.1:$P/uploads/over2.bin" >"$T/client.log" 2>&1 &&
    pt_fail "curl without tsize: an upload over max_bytes succeeded"
echo "ok   over max_bytes without tsize refused"

pt_step "an upload killed halfway leaves nothing behind"
mkfifo "$T/fifo"
# No options: curl would ask for its timeout of 6 s, which the server
# honours (RFC 2349), and the session would outlive the test.
curl -sS --tftp-no-options -T - "tftp://127.0.0.1:$P/uploads/killed.bin" <"$T/fifo" \
    >/dev/null 2>&1 &
cpid=$!
pt_track "$cpid"
# 200000 bytes, then a writer that never ends: curl sends 390 whole blocks
# and waits for the rest of the 391st.
(head -c 200000 /dev/urandom; exec sleep 30) >"$T/fifo" &
fpid=$!
pt_track "$fpid"
# Kill curl once it has read them (rchar: what it read from the pipe, plus
# a little) and the worker has written some of them to its upload file
# (an fd of a worker open on a file in uploads/, unnamed or hidden).
curl_read() {
	local r
	r=$(awk '/^rchar/ {print $2}' "/proc/$cpid/io" 2>/dev/null)
	[ "${r:-0}" -ge 200000 ]
}
upload_written() {
	local w f
	for w in $(pgrep -P "$PT_PID"); do
		for f in /proc/"$w"/fd/*; do
			case $(readlink "$f" 2>/dev/null) in
			"$UP"/*)
				[ "$(stat -L -c %s "$f" 2>/dev/null || echo 0)" -gt 0 ] &&
				    return 0 ;;
			esac
		done
	done
	return 1
}
pt_wait_for 10 curl_read || pt_fail "curl did not read the 200000 bytes"
pt_wait_for 10 upload_written || pt_fail "no upload file got any bytes"
kill -KILL "$cpid" "$fpid" 2>/dev/null
wait "$cpid" "$fpid" 2>/dev/null
pt_wait_log 'op=WRQ file="uploads/killed.bin".*result=' 8 ||
    pt_fail "the killed upload's session did not end"
line=$(grep 'op=WRQ file="uploads/killed.bin"' "$PT_LOG" | tail -1)
echo "    $line"
case $line in
*result=ok*) pt_fail "killed upload logged as ok" ;;
esac
bytes=$(echo "$line" | sed -n 's/.* bytes=\([0-9]*\).*/\1/p')
[ "${bytes:-0}" -gt 0 ] && [ "$bytes" -le 200000 ] ||
    pt_fail "the killed upload was not halfway: $bytes bytes"
left=$(ls -A "$UP" | grep -v -x -e hpa.bin -e hpa6.bin -e curl.bin \
    -e curl6.bin -e atftp-w8.bin -e text.cfg -e max.bin -e ok-size.bin)
[ -z "$left" ] || pt_fail "left in uploads/: $left"
echo "ok   nothing left after a killed upload ($bytes bytes received)"

pt_step "a reader during an overwrite sees the old or the new file"
head -c 1000000 /dev/urandom >"$T/old.bin"
head -c 1300000 /dev/urandom >"$T/new.bin"
cp "$T/old.bin" "$LIVE/v.bin" && chmod 644 "$LIVE/v.bin"
# The new version trickles in for about 1.5 s (perl: 100 KB every 0.1 s).
perl -e 'open(F, "<", $ARGV[0]) or die; binmode F; $| = 1;
    while (read(F, $b, 100000)) { print $b; select(undef, undef, undef, 0.1) }' \
    "$T/new.bin" | curl -sS --tftp-blksize 1468 -T - \
    "tftp://127.0.0.1:$P/live/v.bin" >"$T/up.log" 2>&1 &
upid=$!
pt_track "$upid"
# Read until the upload is over and three reads saw the new file: how
# many reads fit in the upload depends on the machine (60 fast reads can
# all be over before it ends), and a worker trusts its lookup of the name
# for cache_valid_ms (1 s) after the rename. Bounded in count and time.
nold=0 nnew=0
deadline=$((SECONDS + 60))
for i in $(seq 1 2000); do
	[ $SECONDS -lt $deadline ] ||
	    pt_fail "after 60 s and $i reads: $nold old, $nnew new"
	rm -f "$T/r.bin"
	timeout 10 curl -sS --tftp-blksize 1468 -o "$T/r.bin" \
	    "tftp://127.0.0.1:$P/live/v.bin" || pt_fail "read $i failed"
	if cmp -s "$T/r.bin" "$T/old.bin"; then
		nold=$((nold + 1))
	elif cmp -s "$T/r.bin" "$T/new.bin"; then
		nnew=$((nnew + 1))
	else
		pt_fail "read $i: $(stat -c %s "$T/r.bin") bytes, neither old nor new"
	fi
	# a few more reads once the upload is over
	if ! kill -0 "$upid" 2>/dev/null && [ $nnew -ge 3 ]; then
		break
	fi
done
wait "$upid" || pt_fail "the overwriting upload failed: $(cat "$T/up.log")"
uploaded "overwritten" "$T/new.bin" "$LIVE/v.bin" 644
[ $nold -ge 1 ] || pt_fail "no read saw the old file during the upload"
[ $nnew -ge 1 ] || pt_fail "no read saw the new file"
echo "ok   $nold reads saw the old file, $nnew the new one, none a mix"
left=$(ls -A "$LIVE")
[ "$left" = v.bin ] || pt_fail "left in live/: $left"

pt_stop
echo "uploads: all passed"
