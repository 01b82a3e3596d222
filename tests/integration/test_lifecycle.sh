#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_lifecycle.sh - the supervisor's life cycle, end to end: a killed
# worker is replaced without disturbing the others' transfers, a crash loop
# is throttled, a reload (good or broken) never breaks a transfer in
# flight, SIGTERM drains, a second SIGTERM and SIGINT stop at once, twenty
# reloads under load leak nothing, and workers do not outlive a killed
# supervisor. Every wait is bounded; every server is stopped by pid.
set -u
. "$TOP/tests/integration/lib.sh"

PYTHON=$PT_PYTHON

# A paced client: one ACK per DATA after DELAY_MS, so a transfer lasts as
# long as the test needs, whatever the machine's speed. It writes the
# server's transfer port (its TID) to OUT.tid as soon as it is known, the
# content to OUT, and "blksize=N bytes=N" on stdout. STALL>=0: after that
# many DATA packets stop ACKing and sleep (a stalled client; kill it).
SLOW=$T/slowget.py
cat >"$SLOW" <<'EOF'
import socket, struct, sys, time
host, port, name, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ask, delay = int(sys.argv[5]), float(sys.argv[6]) / 1000.0
stall = int(sys.argv[7]) if len(sys.argv) > 7 else -1
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.settimeout(1.0)
req = b"\0\1" + name.encode() + b"\0octet\0"
if ask:
    req += b"blksize\0" + str(ask).encode() + b"\0"
srv, tid, last = (host, port), None, req
bs, want, nblk, data, tries = 512, 1, 0, bytearray(), 0
end = time.monotonic() + 60
s.sendto(req, srv)
while time.monotonic() < end:
    try:
        pkt, addr = s.recvfrom(70000)
    except socket.timeout:
        tries += 1
        if tries > 8:
            sys.exit("slowget: timeout")
        s.sendto(last, tid or srv)
        continue
    if tid is None:
        tid = addr
        with open(out + ".tid", "w") as f:
            f.write("%d\n" % addr[1])
    elif addr[:2] != tid[:2]:
        continue
    tries = 0
    op = struct.unpack("!H", pkt[:2])[0]
    if op == 5:
        sys.exit("slowget: ERROR %d %r" % (struct.unpack("!H", pkt[2:4])[0],
                 pkt[4:-1]))
    if op == 6:
        o = pkt[2:].split(b"\0")
        opts = dict(zip(o[0::2], o[1::2]))
        bs = int(opts.get(b"blksize", b"512"))
        last = b"\0\4\0\0"
        s.sendto(last, tid)
        continue
    if op != 3:
        continue
    blk = struct.unpack("!H", pkt[2:4])[0]
    if blk != want & 0xffff:
        s.sendto(last, tid)        # duplicate: re-ACK, never advance
        continue
    data += pkt[4:]
    want += 1
    nblk += 1
    if nblk == stall:
        time.sleep(120)            # stalled client: the test kills us
        sys.exit(1)
    time.sleep(delay)
    last = b"\0\4" + pkt[2:4]
    s.sendto(last, tid)
    if len(pkt) - 4 < bs:
        with open(out, "wb") as f:
            f.write(data)
        print("blksize=%d bytes=%d" % (bs, len(data)))
        sys.exit(0)
sys.exit("slowget: too slow")
EOF

# --- helpers ---------------------------------------------------------------

# Workers of ours (pids in $1) holding a transfer socket: a UDP socket on
# another port than the service port.
lc_serving() {
	local w p
	for p in $(ss -uanpH 2>/dev/null |
	    awk -v port="$PT_PORT" '$4 !~ ":" port "$"' |
	    grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
		for w in $1; do
			[ "$w" = "$p" ] && echo "$p"
		done
	done
}

# Pid of the process whose UDP socket has local port $1.
lc_port_pid() {
	ss -uanpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' |
	    head -n 1 | cut -d= -f2
}

# lc_slow FILE OUT BLKSIZE DELAY_MS [STALL]: paced fetch in the background,
# pid in LC_SLOW; then waits (bounded) until it knows the server's TID and
# sets LC_TID and LC_SERVER (the worker serving it).
lc_slow() {
	local i
	rm -f "$2" "$2.tid"
	"$PYTHON" "$SLOW" 127.0.0.1 "$PT_PORT" "$@" >"$2.log" 2>&1 &
	LC_SLOW=$!
	pt_track "$LC_SLOW"
	pt_wait_for 5 test -s "$2.tid"
	LC_TID=$(cat "$2.tid" 2>/dev/null)
	[ -n "$LC_TID" ] || pt_fail "paced client got no answer"
	LC_SERVER=$(lc_port_pid "$LC_TID")
	[ -n "$LC_SERVER" ] || pt_fail "no process holds transfer port $LC_TID"
}

# pt_start picks a random port; a forced one for "start again on the same
# port" (the supervisor-death case).
LC_PORT=""
pt_random_port() {
	if [ -n "$LC_PORT" ]; then
		echo "$LC_PORT"
	else
		echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000))
	fi
}

T0=$(date +%s.%N)
lc_elapsed() {
	awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $T0}"
}

pt_mkfile big 41943040
pt_mkfile f 1048576
for i in 1 2 3 4 5 6 7 8; do
	pt_mkfile "s$i" $((i * 700 + 13))
done
SMALL="s1 s2 s3 s4 s5 s6 s7 s8"
ROOT2=$T/root2
mkdir -m 755 "$ROOT2"
head -c 1048576 /dev/urandom >"$ROOT2/f"
head -c 30000 /dev/urandom >"$ROOT2/g"
head -c 30000 /dev/urandom >"$ROOT/g"
chmod 644 "$ROOT2/f" "$ROOT2/g" "$ROOT/g"
cmp -s "$ROOT/f" "$ROOT2/f" && pt_fail "the two roots must differ"

# --- 1. respawn ------------------------------------------------------------
pt_step "respawn: kill -9 one worker of four during another's transfer"
pt_mark
# Debug level: the supervisor logs each fork with its time.
pt_start "workers = 4;" 'log = { target = "stderr"; level = "debug"; };'
old=$(pt_workers)
[ "$(pt_count $old)" = 4 ] || pt_fail "expected 4 workers, got: $old"
timeout -k 2 60 "$TFTPC" -P "$PT_PORT" -b 512 -e "$ROOT/big" \
    -o "$T/big.out" big >"$T/big.log" 2>&1 &
bigpid=$!
pt_track "$bigpid"
server=""
for i in $(seq 1 100); do
	server=$(lc_serving "$old" | head -n 1)
	[ -n "$server" ] && break
	sleep 0.02
done
[ -n "$server" ] || pt_fail "no worker holds the 40 MiB transfer"
victim=""
for w in $old; do
	[ "$w" != "$server" ] && victim=$w && break
done
kill -0 "$bigpid" 2>/dev/null ||
    pt_fail "the 40 MiB transfer ended before the kill: cannot test"
echo "   transfer on worker $server, killing worker $victim"
kill -KILL "$victim"
new=""
# A replacement: 4 workers again, the victim not among them (bounded;
# how soon is the back-off's business, checked in the crash loop below).
lc_replaced() {
	new=$(pt_workers)
	case " $new " in *" $victim "*) return 1 ;; esac
	[ "$(pt_count $new)" = 4 ]
}
pt_wait_for 10 lc_replaced
case " $new " in *" $victim "*) pt_fail "killed worker $victim still listed" ;; esac
[ "$(pt_count $new)" = 4 ] || pt_fail "no replacement worker (workers: $new)"
repl=""
for w in $new; do
	case " $old " in *" $w "*) ;; *) repl=$w ;; esac
done
pt_log_since | grep -q "started, pid $repl\$" ||
    pt_fail "no fork of worker $repl logged"
echo "   worker $victim replaced by $repl"
case " $new " in *" $server "*) ;; *) pt_fail "serving worker $server gone" ;; esac
pt_wait_log_since "worker [0-9]+ \(pid $victim\) killed by signal 9" 2 ||
    pt_fail "supervisor did not log the signal of worker $victim"
pt_wait_child "$bigpid" 30 || pt_fail "40 MiB transfer did not finish"
[ "$PT_RC" = 0 ] || { cat "$T/big.log"; pt_fail "40 MiB transfer failed"; }
pt_cmp "$ROOT/big" "$T/big.out" "40 MiB transfer across a respawn"
pt_tftpc -n 8 -c 48 -E "$ROOT" $SMALL || pt_fail "fetches after respawn"
[ "$(pt_summary ok)" = 48 ] || pt_fail "not all 48 fetches after respawn"
pt_stop

# --- 2. crash loop ---------------------------------------------------------
pt_step "crash loop: kill -9 the only worker six times"
pt_mark
pt_start "workers = 1;" 'log = { target = "stderr"; level = "debug"; };'
w=$(pt_workers)
for k in 1 2 3 4 5 6; do
	[ "$(pt_count $w)" = 1 ] || pt_fail "kill $k: workers: '$w'"
	kill -KILL "$w"
	prev=$w
	[ "$k" = 6 ] && break
	# Back-off before respawn k: 100 ms doubling (1.6 s for the 5th).
	lc_respawned() {
		w=$(pt_workers)
		[ -n "$w" ] && [ "$w" != "$prev" ]
	}
	pt_wait_for 20 lc_respawned || pt_fail "no respawn after kill $k"
done
# The 6th kill: the supervisor logs the next back-off when it reaps it.
pt_wait_log_since 'worker 0 crashing repeatedly, respawn in 3200 ms' 10 ||
    pt_fail "no back-off doubling to 3200 ms logged"
# Counted up to that line: a later fork is the one after the back-off.
upto=$(pt_log_since | sed -n '1,/respawn in 3200 ms/p')
forks=$(grep -c 'worker 0 (generation 1) started, pid' <<<"$upto")
kills=$(grep -c 'killed by signal 9' <<<"$upto")
echo "   forks $forks, kills $kills"
[ "$kills" = 6 ] || pt_fail "expected 6 logged kills, got $kills"
# 1 at start + 5 respawns; the 6th waits for the back-off.
[ "$forks" = 6 ] || pt_fail "expected 6 forks for 6 kills, got $forks"
# The slot is not given up: the worker comes back, and not before the
# 3.2 s back-off (a lower bound, on the supervisor's own time stamps).
pt_wait_for 20 lc_respawned || pt_fail "worker not respawned after back-off"
log_ms() {
	local stamp
	stamp=$(sed -n 's/^\([0-9-]*T[0-9:.]*\) .*/\1/p' | tail -n 1)
	[ -n "$stamp" ] && date -d "${stamp/T/ }" +%s%3N
}
t_backoff=$(pt_log_since | grep 'respawn in 3200 ms' | log_ms)
t_fork=$(pt_log_since | grep "started, pid $w\$" | log_ms)
[ -n "$t_backoff" ] && [ -n "$t_fork" ] ||
    pt_fail "cannot find the back-off and the respawn in the log"
echo "   respawned $((t_fork - t_backoff)) ms after the 3200 ms back-off began"
[ $((t_fork - t_backoff)) -ge 3100 ] ||
    pt_fail "respawned during the 3.2 s back-off"
pt_tftpc -e "$ROOT/s1" s1 || pt_fail "fetch after the crash loop"
pt_stop

# --- 3 and 4. reloads --------------------------------------------------------
pt_step "reload with a broken config keeps the old one"
pt_mark
pt_notify_listen "$T/notify.sock" "$T/notify.log"
notifypid=$PT_NOTIFY_PID
export NOTIFY_SOCKET=$T/notify.sock
pt_start "workers = 2;" \
    'session = { timeout_ms = 500; timeout_max_ms = 2000; blksize_max = 1468; };'
unset NOTIFY_SOCKET
gen1=$(pt_workers)
cp "$PT_CONF" "$T/good.conf"
badline=$(($(wc -l <"$PT_CONF") + 1))
echo 'session = { blksize_max = ; };' >>"$PT_CONF"
kill -HUP "$PT_PID"
pt_wait_log_since "reload failed: $PT_CONF:$badline: " 3 ||
    pt_fail "no 'reload failed: $PT_CONF:$badline: ...' in the log"
[ "$(pt_workers)" = "$gen1" ] || pt_fail "broken reload changed the workers"
pt_tftpc -b 1468 -e "$ROOT/g" g || pt_fail "fetch after a broken reload"
pt_log_since | grep 'file="g"' | tail -n 1 | grep -q ' blksize=1468 ' ||
    pt_fail "old blksize_max not in force after a broken reload"

pt_step "reload that changes root and blksize_max during a transfer"
cp "$T/good.conf" "$PT_CONF"
# 1 MiB at 1468 bytes a block, one ACK per 3 ms: about 2.5 s.
lc_slow f "$T/f.out" 1468 3
case " $gen1 " in *" $LC_SERVER "*) ;;
*) pt_fail "transfer port $LC_TID held by $LC_SERVER, not a worker" ;;
esac
sed -e "s|^root = .*|root = \"$ROOT2\";|" \
    -e 's|blksize_max = 1468|blksize_max = 1024|' "$T/good.conf" >"$PT_CONF"
kill -HUP "$PT_PID"
pt_wait_log_since "reloaded $PT_CONF: generation 2, 2 workers" 3 ||
    pt_fail "reload not logged"
kill -0 "$LC_SLOW" 2>/dev/null ||
    pt_fail "paced transfer ended before the reload: cannot test"
gen2=""
for i in $(seq 1 40); do
	gen2=""
	for w in $(pt_workers); do
		case " $gen1 " in *" $w "*) ;; *) gen2="$gen2 $w" ;; esac
	done
	[ "$(pt_count $gen2)" = 2 ] && break
	sleep 0.05
done
[ "$(pt_count $gen2)" = 2 ] || pt_fail "new generation: '$gen2'"
pt_tftpc -b 1468 -e "$ROOT2/g" g || pt_fail "new root not served"
pt_log_since | grep 'file="g"' | tail -n 1 | grep -q ' blksize=1024 ' ||
    pt_fail "new blksize_max not in force after the reload"
pt_tftpc -n 2 -c 4 -b 1468 -e "$ROOT2/f" f || pt_fail "new f"
# The old worker with no transfer is gone, the serving one is not.
for w in $gen1; do
	[ "$w" = "$LC_SERVER" ] && continue
	pt_wait_gone "$w" 1 || pt_fail "idle old worker $w still running"
done
kill -0 "$LC_SLOW" 2>/dev/null && { pt_gone "$LC_SERVER" &&
    pt_fail "old worker $LC_SERVER quit during its transfer"; }
pt_wait_child "$LC_SLOW" 20 || pt_fail "paced transfer did not finish"
[ "$PT_RC" = 0 ] || { cat "$T/f.out.log"; pt_fail "paced transfer failed"; }
pt_cmp "$ROOT/f" "$T/f.out" "transfer started before the reload (old root)"
grep -q '^blksize=1468 ' "$T/f.out.log" ||
    pt_fail "old transfer lost its blksize: $(cat "$T/f.out.log")"
pt_wait_gone "$LC_SERVER" 1 ||
    pt_fail "old worker $LC_SERVER still running after its transfer"
supid=$PT_PID
pt_stop
# sd_notify: ready (once both workers serve), two reloads (the broken one
# says why in STATUS=; the good one is ready when its workers are), stopping.
want="^READY=1 MAINPID=$supid STATUS=serving: 2 workers, generation 1\|"
want="${want}RELOADING=1\|READY=1 STATUS=reload failed: $PT_CONF:$badline: "
want="${want}[^|]*; running configuration kept\|RELOADING=1\|"
want="${want}READY=1 MAINPID=$supid STATUS=serving: 2 workers, generation 2\|"
want="${want}STOPPING=1\|\$"
for i in $(seq 1 20); do
	tr '\n' '|' <"$T/notify.log" | grep -Eq "$want" && break
	sleep 0.05
done
tr '\n' '|' <"$T/notify.log" | grep -Eq "$want" ||
    pt_fail "sd_notify: got $(tr '\n' '|' <"$T/notify.log") want $want"
kill "$notifypid"
wait "$notifypid" 2>/dev/null
rm -f "$T/notify.sock" "$T/notify.log"

# --- 5. SIGTERM during a transfer -------------------------------------------
pt_step "SIGTERM drains a transfer, exits 0, removes its files (foreground)"
pt_mark
pt_start "workers = 2;"
[ -e "$T/ptftpd.stats" ] || pt_fail "no stats segment $T/ptftpd.stats"
lc_slow f "$T/f.out" 1468 3
kill -TERM "$PT_PID"
pt_wait_log_since "sup draining" 2 || pt_fail "no drain logged"
kill -0 "$LC_SLOW" 2>/dev/null || pt_fail "transfer ended too early: cannot test"
pt_gone "$PT_PID" && pt_fail "supervisor left before its transfer ended"
pt_wait_child "$LC_SLOW" 20 || pt_fail "transfer did not finish in the drain"
[ "$PT_RC" = 0 ] || { cat "$T/f.out.log"; pt_fail "drained transfer failed"; }
pt_cmp "$ROOT/f" "$T/f.out" "transfer during the drain"
pt_wait_child "$PT_PID" 3 || pt_fail "daemon did not exit after the drain"
[ "$PT_RC" = 0 ] || pt_fail "daemon exited with $PT_RC after SIGTERM"
PT_PID=""
[ -e "$T/ptftpd.stats" ] && pt_fail "stats segment left behind"

pt_step "SIGTERM in daemon mode (no -f): pid file and stats removed"
pt_mark
pid=""
for try in 1 2 3 4 5; do
	PT_PORT=$(pt_random_port)
	pt_write_conf "$PT_PORT" "workers = 2;"
	rm -f "$T/ptftpd.pid"
	pt_mark
	# Relative -c and -r: the daemon does chdir("/"), a reload must
	# still find both.
	(cd "$T" && "$PTFTPD" -c "${PT_CONF##*/}" -r "${ROOT##*/}") \
	    2>>"$PT_LOG" || pt_fail "daemon start failed"
	# The pid file is written by the detached child; a bind failure
	# (port taken) ends that child and removes the file.
	for i in $(seq 1 100); do
		pid=$(cat "$T/ptftpd.pid" 2>/dev/null)
		[ -n "$pid" ] && break
		pt_log_since | grep -q 'could not start' && break
		sleep 0.05
	done
	[ -n "$pid" ] || continue
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = ptftpd ] || { pid=""; continue; }
	PT_PID=$pid
	for i in $(seq 1 25); do
		pt_probe 127.0.0.1 && break
		pt_gone "$pid" && break
		sleep 0.2
	done
	pt_gone "$pid" && { PT_PID=""; continue; }
	pt_probe 127.0.0.1 || pt_fail "daemon $pid does not answer"
	break
done
[ -n "$PT_PID" ] || pt_fail "daemon did not start in 5 tries"
echo "   daemon pid $PT_PID port $PT_PORT"
[ -e "$T/ptftpd.stats" ] || pt_fail "no stats segment"
kill -HUP "$PT_PID"
pt_wait_log_since "reloaded $PT_CONF: generation 2, " 3 ||
    pt_fail "daemon started with relative -c and -r cannot reload"
lc_slow f "$T/f.out" 1468 3
kill -TERM "$PT_PID"
pt_wait_child "$LC_SLOW" 20 || pt_fail "transfer did not finish in the drain"
[ "$PT_RC" = 0 ] || { cat "$T/f.out.log"; pt_fail "drained transfer failed"; }
pt_cmp "$ROOT/f" "$T/f.out" "transfer during the daemon's drain"
pt_wait_gone "$PT_PID" 3 || pt_fail "daemon $PT_PID did not exit"
PT_PID=""
[ -e "$T/ptftpd.pid" ] && pt_fail "pid file left behind"
[ -e "$T/ptftpd.stats" ] && pt_fail "stats segment left behind"
pt_log_since | grep -q 'sup ptftpd stopped' || pt_fail "no clean stop logged"

# --- 6 and 7. stop at once ---------------------------------------------------
# A client that stops ACKing after 2 blocks, against a server that retries
# for minutes and drains for a minute: only "stop at once" ends it quickly.
STALLED_CONF=('workers = 2;' 'shutdown_timeout = 60;'
    'session = { timeout_ms = 500; timeout_max_ms = 1000; retries = 100; };')

# lc_stopped WHAT WORKER...: after WHAT, a stop-at-once signal, the
# supervisor exits within 2.5 s (status in PT_RC) and none of the workers
# outlives it; the stalled client is ended.
lc_stopped() {
	local what=$1 w
	shift
	pt_wait_child "$PT_PID" 2.5 || pt_fail "$what did not stop at once"
	echo "   exit status $PT_RC"
	for w in "$@"; do
		pt_gone "$w" || pt_fail "worker $w outlived its supervisor"
	done
	PT_PID=""
	kill -KILL "$LC_SLOW" 2>/dev/null
	wait "$LC_SLOW" 2>/dev/null
}

pt_step "a second SIGTERM ends a drain at once"
pt_mark
pt_start "${STALLED_CONF[@]}"
lc_slow f "$T/stall.out" 512 0 2
kill -TERM "$PT_PID"
pt_wait_log_since "sup draining" 2 || pt_fail "no drain logged"
sleep 1
pt_gone "$PT_PID" && pt_fail "drain ended though a transfer is stalled"
pt_gone "$LC_SERVER" && pt_fail "worker with the stalled transfer quit"
kill -TERM "$PT_PID"
lc_stopped "second SIGTERM" "$LC_SERVER"
[ "$PT_RC" = 0 ] || pt_fail "exit status $PT_RC after a second SIGTERM"

pt_step "SIGINT stops at once"
pt_mark
pt_start "${STALLED_CONF[@]}"
ws=$(pt_workers)
lc_slow f "$T/stall.out" 512 0 2
kill -INT "$PT_PID"
lc_stopped SIGINT $ws

# --- 8. twenty reloads under load -------------------------------------------
pt_step "20 reloads under load leak nothing"
pt_mark
pt_start "workers = 2;"
# Both workers in their loops (each logs its backend last) before the
# baseline is taken.
lc_both_ready() {
	[ "$(pt_log_since | grep -Ec ' w[0-9]+ (transfers on io_uring|io_uring unavailable)')" -ge 2 ]
}
pt_wait_for 20 lc_both_ready || pt_fail "the 2 workers did not start"
fd0=$(ls "/proc/$PT_PID/fd" | wc -l)
files0=$(ls -A "$T" | tr '\n' ' ')
shm0=$(ls /dev/shm | grep -c ptftpd)
mkdir "$T/load"
(
	i=0
	end=$((SECONDS + 40))
	while [ ! -e "$T/load/stop" ] && [ $i -lt 300 ] && [ $SECONDS -lt $end ]; do
		i=$((i + 1))
		timeout -k 2 30 "$TFTPC" -P "$PT_PORT" -n 4 -c 8 --max-seconds 20 \
		    -E "$ROOT" $SMALL >"$T/load/$i.out" 2>&1
		echo "$i $?" >>"$T/load/rc"
	done
) &
loadpid=$!
pt_track "$loadpid"
# Alternate 3 and 2 workers: slot 2's sockets are bound, then dropped.
t1=$SECONDS
for g in $(seq 2 21); do
	n=$((2 + (g + 1) % 2))
	pt_write_conf "$PT_PORT" "workers = $n;"
	kill -HUP "$PT_PID"
	pt_wait_log_since "reloaded $PT_CONF: generation $g, $n workers" 5 ||
	    pt_fail "reload $((g - 1)) not logged"
	sleep 0.1
done
pt_log_since | grep -q 'reload failed' &&
    pt_fail "a reload under load failed"
touch "$T/load/stop"
pt_wait_child "$loadpid" 30 || pt_fail "load loop did not stop"
runs=$(wc -l <"$T/load/rc")
bad=$(awk '$2 != 0' "$T/load/rc" | wc -l)
maxms=$(sed -n 's/^tftpc: ok=.* ms=\([0-9]*\).*/\1/p' "$T"/load/*.out | sort -n |
    tail -n 1)
echo "   20 reloads in $((SECONDS - t1)) s; $runs load runs of 8 fetches," \
    "$bad failed, slowest run ${maxms:-?} ms"
[ "$runs" -ge 3 ] || pt_fail "load loop ran only $runs times"
[ "$bad" = 0 ] || { awk '$2 != 0' "$T/load/rc"; pt_fail "fetches failed during reloads"; }
rm -rf "$T/load"
ok=""
for i in $(seq 1 60); do
	if [ "$(pt_count $(pt_workers))" = 2 ] &&
	    [ "$(ls "/proc/$PT_PID/fd" | wc -l)" = "$fd0" ]; then
		ok=1
		break
	fi
	sleep 0.05
done
[ -n "$ok" ] || pt_fail "after 20 reloads: workers '$(pt_workers)'," \
    "supervisor fds $(ls "/proc/$PT_PID/fd" | wc -l), was $fd0"
[ "$(ls -A "$T" | tr '\n' ' ')" = "$files0" ] ||
    pt_fail "files in $T changed: $(ls -A "$T" | tr '\n' ' ') (was $files0)"
[ "$(ls /dev/shm | grep -c ptftpd)" = "$shm0" ] || pt_fail "new shm files"
pt_tftpc -n 4 -c 16 -E "$ROOT" $SMALL || pt_fail "fetch after 20 reloads"
pt_stop

# --- 9. dead supervisor ------------------------------------------------------
pt_step "workers exit when the supervisor is killed"
pt_mark
pt_start "workers = 2;"
ws=$(pt_workers)
port=$PT_PORT
kill -KILL "$PT_PID"
wait "$PT_PID" 2>/dev/null
PT_PID=""
for w in $ws; do
	pt_wait_gone "$w" 2 || pt_fail "worker $w outlived its supervisor by 2 s"
done
[ -z "$(ss -uanH "sport = :$port")" ] ||
    pt_fail "port $port still bound: $(ss -uanpH "sport = :$port")"
LC_PORT=$port
pt_start "workers = 2;"
LC_PORT=""
[ "$PT_PORT" = "$port" ] || pt_fail "could not start again on port $port"
pt_tftpc -n 4 -c 16 -E "$ROOT" $SMALL || pt_fail "fetch from the new daemon"
pt_stop

echo "lifecycle: all cases passed in $(lc_elapsed) s"
