#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_adversarial.sh - abuse resistance (security issue, items 3, 4, 7, 8).
# One daemon, 4 workers, short session timers. Groups of abuse, each
# followed by adv_check: a legitimate client still gets its file
# byte-exact (IPv4 and IPv6), the worker pids are the ones we started
# with (no crash, no respawn) and the log has no "killed by signal".
#
#   1. crafted datagrams (tests/tools/flood.c "cases", IPv4 and IPv6):
#      silence for non-requests on the listen port, ERROR 4 for malformed
#      requests, odd options clamped or ignored, every OACK checked (only
#      options asked for, each once, never above the value asked)
#   2. path attacks: .., backslashes (through the WDS rewrite rule),
#      absolute names, symlinks out of the root and in loops, a FIFO, a
#      UNIX socket, character devices (root only), /proc names, long
#      names, names with NUL bytes
#   3. foreign transfer IDs: ERROR 5 to the stranger, the transfer goes on
#   4. a flood of 20,000 RRQs from 500 source ports of 127.0.0.2 in 4 s,
#      for existing and missing files, never ACKed, while a client on
#      127.0.0.1 keeps downloading; afterwards, once every session has
#      timed out, RSS and fd counts are back to the baseline
#   5. 10,000 RRQs with blksize, tsize and windowsize 64 (the OACK path)
#      from 1000 ports of 8 addresses, as fast as possible: the same checks
#
# Loopback only; every loop is bounded; every process stopped by pid.
set -u
. "$TOP/tests/integration/lib.sh"

FLOOD=$BUILD/flood
if [ ! -x "$FLOOD" ] || [ "$TOP/tests/tools/flood.c" -nt "$FLOOD" ]; then
	(cd "$TOP" && make -s "BUILD=${BUILD#"$TOP"/}" "${FLOOD#"$TOP"/}") \
	    >/dev/null 2>&1 || pt_fail "cannot build $FLOOD"
fi
STAT=$BUILD/ptftpd-stat
[ -x "$STAT" ] || pt_fail "$STAT is not built (make $(basename "$BUILD")/ptftpd-stat)"

pt_mkfile legit.bin 300000
pt_mkfile flood.bin 102400

# Short timers: a never-ACKed transfer is given up 1.4 s after it starts
# (first packet at 0, resent at 200, 600 and 1000 ms, first_retries = 3).
# A small socket pool (io_uring): up to 16 idle transfer sockets per worker
# kept for the next transfers (closed after 10 s idle), which the fd
# checks below allow for.
pt_start "workers = 4;" \
    "session = { timeout_ms = 200; timeout_max_ms = 400; retries = 2; first_retries = 3; socket_pool = 16; };" \
    'rewrite = ( { match = "\\\\"; replace = "/"; global = true; } );'
START_PIDS=$(pgrep -P "$PT_PID" | sort -n | tr '\n' ' ')
set -- $START_PIDS
[ $# -eq 4 ] || pt_fail "expected 4 workers, got: $START_PIDS"

# The legitimate client, then the crash checks. $1 names the group.
adv_check() {
	local what=$1 host now p
	for host in 127.0.0.1 ::1; do
		rm -f "$T/legit.out"
		timeout -k 2 60 "$TFTPC" -H "$host" -P "$PT_PORT" -b 1468 -t \
		    -o "$T/legit.out" -e "$ROOT/legit.bin" legit.bin \
		    >"$PT_OUT" 2>&1 ||
		    { cat "$PT_OUT"; pt_fail "$what: legit client on $host failed"; }
		pt_cmp "$T/legit.out" "$ROOT/legit.bin" "$what: legit client on $host"
	done
	kill -0 "$PT_PID" 2>/dev/null || pt_fail "$what: supervisor is gone"
	for p in $START_PIDS; do
		kill -0 "$p" 2>/dev/null || pt_fail "$what: worker $p is gone"
	done
	now=$(pgrep -P "$PT_PID" | sort -n | tr '\n' ' ')
	[ "$now" = "$START_PIDS" ] ||
	    pt_fail "$what: workers were '$START_PIDS', now '$now'"
	if grep -q "killed by signal" "$PT_LOG"; then
		pt_fail "$what: a worker was killed by a signal"
	fi
	echo "   $what: legit client ok (IPv4, IPv6), workers unchanged"
}

# Sum of VmRSS (kB) and of open fds over the supervisor and the workers.
adv_rss() {
	local p s=0 v
	for p in $PT_PID $START_PIDS; do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}
adv_fds() {
	local p s=0
	for p in $PT_PID $START_PIDS; do
		s=$((s + $(ls "/proc/$p/fd" 2>/dev/null | wc -l)))
	done
	echo "$s"
}
# Every fd's target, a line each ("PID TARGET"), one readlink per fd in
# one pass: two listings (names, then targets) taken apart miscount an
# fd closed in between (the pool shrinks).
adv_fd_targets() {
	local p f
	for p in $PT_PID $START_PIDS; do
		for f in /proc/"$p"/fd/*; do
			f=$(readlink "$f" 2>/dev/null) || continue
			echo "$p ${f%%\[*}"
		done
	done
}
# The non-socket fds as "COUNT PID TARGET", for a failure's message.
adv_fd_list() {
	adv_fd_targets | grep -v ' socket:$' | sort | uniq -c
}
# "OTHER SOCKETS": how many fds are not sockets, how many are (listen
# sockets, transfer sockets, pooled ones).
adv_fds_split() {
	adv_fd_targets | awk '$2 == "socket:" { k++; next } { o++ }
	    END { print o + 0, k + 0 }'
}
read -r _ SOCKS_START <<<"$(adv_fds_split)"	# no transfer yet: no pool

# adv_first_copies FROM WHAT: never ACKed, no transfer sends its first
# packet (WHAT: "first packet" or "OACK") more than first_retries + 1 = 4
# times. Read from the server's own count, the rexmit= of each
# never-acknowledged transfer (bytes=0) logged after line FROM of the
# daemon log: flood's first_max counts per (socket, server port,
# request), so a server port the kernel hands out again to the same
# socket's next transfer merges two transfers there; it only gets a loose
# bound.
adv_first_copies() {
	local rmax fmax

	rmax=$(tail -n +"$(($1 + 1))" "$PT_LOG" | grep ' bytes=0 ' |
	    sed -n 's/.* rexmit=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
	[ -n "$rmax" ] && [ "$rmax" -le 3 ] ||
	    pt_fail "a transfer sent its $2 $((${rmax:-98} + 1)) times"
	fmax=$(sed -n 's/.* first_max=\([0-9]*\) .*/\1/p' "$T/flood.out")
	[ "${fmax:-99}" -le 8 ] || pt_fail "flood saw $fmax copies of its $2 on one port"
}

# Waits (bounded) until no transfer is active in any worker.
adv_idle() {
	local i
	for i in $(seq 1 100); do
		"$STAT" -s "$T/ptftpd.stats" 2>/dev/null |
		    grep -q '^active transfers 0$' && return 0
		sleep 0.1
	done
	return 1
}

adv_check "start"

# ---- 1. crafted datagrams ---------------------------------------------
pt_step "crafted datagrams, built-in cases (flood cases), IPv4 and IPv6"
for host in 127.0.0.1 ::1; do
	timeout 30 "$FLOOD" cases -H "$host" -P "$PT_PORT" -f flood.bin \
	    --wait-ms 2000 >"$T/cases.out" 2>&1
	rc=$?
	grep -v '\[ok\]$' "$T/cases.out" | sed 's/^/    /'
	[ $rc -eq 0 ] || { cat "$T/cases.out"; pt_fail "crafted cases on $host"; }
done
adv_check "crafted datagrams"

# ---- 2. path attacks --------------------------------------------------
pt_step "path attacks"
mkdir -m 755 "$ROOT/sub"
printf 'inside\n' >"$ROOT/sub/in.txt"
chmod 644 "$ROOT/sub/in.txt"
ln -s /etc/passwd "$ROOT/esc"
ln -s /etc "$ROOT/etcdir"
ln -s /proc/self "$ROOT/selfproc"
ln -s /proc/self/fd/0 "$ROOT/fd0"
ln -s ../../../../../../../etc/passwd "$ROOT/sub/up"
ln -s loopb "$ROOT/loopa"
ln -s loopa "$ROOT/loopb"
ln -s selfloop "$ROOT/selfloop"
ln -s sub/in.txt "$ROOT/goodlink"
mkfifo -m 644 "$ROOT/fifo"
perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Type => SOCK_DGRAM(),
    Local => $ARGV[0]) or die "$!\n"' "$ROOT/sock" ||
    pt_fail "cannot make a UNIX socket file"
head -c 10 /dev/urandom >"$ROOT/secret"
chmod 600 "$ROOT/secret"		# the workers run as nobody
DEVS=""
if [ "$(id -u)" = 0 ]; then
	mknod -m 644 "$ROOT/zero" c 1 5 && mknod -m 666 "$ROOT/null" c 1 3 &&
	    mknod -m 666 "$ROOT/tty" c 5 0 || pt_fail "mknod"
	DEVS="zero null tty"
fi

# name and the ERROR code it must get: 1 for a name that does not exist
# beneath the root (an absolute name is looked up beneath it), 2 for an
# escape, a loop, or anything that is not a readable regular file.
n300=$(printf 'x%.0s' $(seq 1 300))
adv_path() {
	local code=$1 name=$2
	timeout 20 "$TFTPC" -P "$PT_PORT" -x "$code" --timeout-ms 300 \
	    --retries 3 --max-seconds 10 "$name" >"$PT_OUT" 2>&1 ||
	    { cat "$PT_OUT"; pt_fail "path ${name:0:60}: expected ERROR $code"; }
	printf '    ERROR %s  %s\n' "$code" "${name:0:60}"
}
adv_path 2 "../etc/passwd"
adv_path 2 "../../../../../../etc/passwd"
adv_path 2 '..\..\..\etc\passwd'
adv_path 2 '\..\..\etc\passwd'
adv_path 2 "sub/../../etc/passwd"
adv_path 1 "/etc/passwd"
adv_path 2 "/../../etc/passwd"
adv_path 2 "//..//..//etc/passwd"
adv_path 2 "esc"
adv_path 2 "etcdir/passwd"
adv_path 2 "sub/up"
adv_path 2 "selfproc/environ"
adv_path 2 "fd0"
adv_path 2 "loopa"
adv_path 2 "selfloop"
adv_path 2 "fifo"
adv_path 2 "sock"
adv_path 2 "secret"
adv_path 2 "sub"
adv_path 2 "."
adv_path 1 "/"
adv_path 1 "/proc/self/environ"
adv_path 1 "/proc/self/fd/0"
adv_path 1 "/dev/zero"
adv_path 2 "$n300"
adv_path 1 "$(printf 'a/%.0s' $(seq 1 250))"
for d in $DEVS; do
	adv_path 2 "$d"
done
# Inside the root, symlinks and ".." that stay beneath it are served.
pt_tftpc -e "$ROOT/sub/in.txt" goodlink >/dev/null ||
    pt_fail "a symlink inside the root was not served"
pt_tftpc -e "$ROOT/sub/in.txt" 'sub\in.txt' >/dev/null ||
    pt_fail "the backslash rewrite rule did not apply"
# Names too long for a request, and names with NUL bytes, as raw packets.
cat >"$T/paths.cases" <<-'EOF'
	# name longer than a request may be (dropped as truncated, or ERROR 4)
	name_4000 none|error:4 \0\x01\{4000:a}\0octet\0
	name_4000_dotdot none|error:4 \0\x01\{1300:../}etc/passwd\0octet\0
	# a NUL ends the name: what follows is the mode
	nul_then_path error:4 \0\x01\F\0../../etc/passwd\0octet\0
	nul_first error:4 \0\x01\0../../etc/passwd\0octet\0
	nul_after_escape error:2 \0\x01../../etc/passwd\0octet\0junk\0
	nul_in_symlink error:2 \0\x01esc\0octet\0\0\0
	proc_magic error:1 \0\x01/proc/self/mem\0octet\0
	fifo_opts error:2 \0\x01fifo\0octet\0tsize\0000\0blksize\0001468\0
	dev_opts error:1|error:2 \0\x01zero\0octet\0tsize\0000\0
	EOF
timeout 30 "$FLOOD" cases -P "$PT_PORT" -f flood.bin --wait-ms 2000 \
    "$T/paths.cases" >"$T/cases.out" 2>&1 ||
    { cat "$T/cases.out"; pt_fail "path cases"; }
sed 's/^/    /' "$T/cases.out"
adv_check "path attacks"

# ---- 3. foreign transfer IDs -------------------------------------------
pt_step "foreign TIDs: ERROR 5 to the stranger, the transfer completes"
pt_tftpc --foreign-tid -e "$ROOT/legit.bin" legit.bin >/dev/null ||
    pt_fail "foreign TID, lock-step"
pt_tftpc --foreign-tid -b 1468 -w 4 -c 4 -n 4 -e "$ROOT/legit.bin" \
    legit.bin >/dev/null || pt_fail "foreign TID, windowsize 4"
pt_tftpc -H ::1 --foreign-tid -b 1468 -e "$ROOT/legit.bin" legit.bin \
    >/dev/null || pt_fail "foreign TID, IPv6"
adv_check "foreign TIDs"

# ---- 4. flood -------------------------------------------------------------
# Warm-up of the same shape: the flood touches session slots (calloc'd,
# so untouched pages cost nothing until used), the limiter's entry for
# 127.0.0.2, the socket buffers and the body cache entry of flood.bin.
# Measuring the baseline after a smaller flood of the same 500 ports makes
# the comparison about leaks, not about first use.
pt_step "flood warm-up: 2000 RRQs from 500 ports, then the baseline"
timeout 30 "$FLOOD" -S 127.0.0.2 -P "$PT_PORT" -n 2000 -p 500 -r 5000 -T 5 \
    --quiet-ms 1000 flood.bin no-such-1 flood.bin no-such-2 >"$T/flood.out" \
    2>&1 || { cat "$T/flood.out"; pt_fail "warm-up flood"; }
adv_idle || pt_fail "transfers still active 10 s after the warm-up"
adv_check "warm-up flood"
RSS0=$(adv_rss)
FDS0=$(adv_fds)
read -r OTHER0 _ <<<"$(adv_fds_split)"
adv_fd_list >"$T/fds-before"
LOG0=$(wc -l <"$PT_LOG")
echo "   baseline: RSS ${RSS0} kB, fds ${FDS0}"

pt_step "flood: 20000 RRQs from 500 ports of 127.0.0.2 in 4 s, never ACKed"
"$FLOOD" -S 127.0.0.2 -P "$PT_PORT" -n 20000 -p 500 -r 5000 -T 12 \
    --quiet-ms 2000 flood.bin no-such-1 flood.bin no-such-2 \
    >"$T/flood.out" 2>&1 &
FPID=$!
pt_track "$FPID"
FT0=$(date +%s)
# Once the flood is arriving (the daemon counted 100 of its requests).
rrq0=$(pt_stat rrq)
pt_wait_for 10 pt_stat_ge rrq $((${rrq0:-0} + 100)) ||
    pt_fail "the flood never reached the daemon"
lat_max=0 lat_all="" n=0 peak_fds=0 peak_active=0
while kill -0 "$FPID" 2>/dev/null && [ "$n" -lt 40 ]; do
	host=127.0.0.1
	[ $((n % 4)) -eq 3 ] && host=::1
	t0=$(date +%s%N)
	timeout -k 2 30 "$TFTPC" -H "$host" -P "$PT_PORT" -b 1468 -t \
	    -e "$ROOT/legit.bin" legit.bin >"$PT_OUT" 2>&1 ||
	    { cat "$PT_OUT"; pt_fail "legit client during the flood ($host)"; }
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	lat_all="$lat_all $ms"
	[ "$ms" -gt "$lat_max" ] && lat_max=$ms
	f=$(adv_fds)
	[ "$f" -gt "$peak_fds" ] && peak_fds=$f
	a=$("$STAT" -s "$T/ptftpd.stats" 2>/dev/null |
	    sed -n 's/^active transfers \([0-9]*\)$/\1/p')
	[ "${a:-0}" -gt "$peak_active" ] && peak_active=$a
	n=$((n + 1))
	sleep 0.1
done
for i in $(seq 1 150); do
	kill -0 "$FPID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$FPID" 2>/dev/null && pt_fail "flood did not end within 15 s"
wait "$FPID" || { cat "$T/flood.out"; pt_fail "flood tool failed"; }
sed 's/^/    /' "$T/flood.out"
echo "   legit client during the flood: $n transfers of 300000 bytes," \
    "wall ms:$lat_all (max $lat_max)"
echo "   peak during the flood: $peak_fds fds, $peak_active active transfers"
[ "$n" -ge 3 ] || pt_fail "only $n legit transfers ran during the flood"
grep -q ' err1=0 ' "$T/flood.out" && pt_fail "no ERROR 1 came back to the flood"
grep -q ' rx_data=0 ' "$T/flood.out" && pt_fail "no DATA came back to the flood"
pt_step "after the flood: sessions time out, RSS and fds back to baseline"
adv_idle || pt_fail "transfers still active 10 s after the flood"
adv_first_copies "$LOG0" "first packet"
adv_check "flood"
RSS1=$(adv_rss)
FDS1=$(adv_fds)
echo "   after: RSS ${RSS1} kB (baseline ${RSS0}), fds ${FDS1} (baseline ${FDS0})"
# fds: bodies are mappings, not open files, so every fd but a socket is
# as at the baseline; every transfer socket is closed when its transfer
# ends or kept in the pool, at most 16 per worker, so with no transfer
# left the sockets are those at start plus at most 64 (a leak per request
# would be thousands).
adv_fds_ok() {
	local o k
	read -r o k <<<"$(adv_fds_split)"
	echo "   fds: $o besides sockets (baseline $OTHER0), $k sockets" \
	    "(at start $SOCKS_START, pool at most 64)"
	[ "$o" -eq "$OTHER0" ] && [ "$k" -ge "$SOCKS_START" ] &&
	    [ "$k" -le $((SOCKS_START + 4 * 16)) ]
}
# A leak would stay, and be per request: wait up to 5 s for the count to
# settle (sockets of ended transfers leave the pool over time); on a
# failure say which non-socket fds differ from the baseline.
adv_fds_settled() {
	pt_wait_for 5 adv_fds_ok && return 0
	echo "   non-socket fds (count pid target), before and after:"
	adv_fd_list | diff "$T/fds-before" - | sed 's/^/    /'
	pt_fail "fds: $(adv_fds) after $1, $FDS0 before"
}
adv_fds_settled "the flood"
# RSS: 1 MB over 5 processes. The warm-up already touched the session slots
# and the cache entry; what may still move is the allocator's arenas and
# stdio buffers, a few pages per process. A leak of even one allocation
# per request (20,000 requests) or a socket buffer kept per session would
# be far above it.
[ "$RSS1" -le $((RSS0 + 1024)) ] ||
    pt_fail "RSS grew from $RSS0 kB to $RSS1 kB over the flood"
# Not-found answers are logged at most log.refusals_per_second (20) a
# second per worker, the rest counted in "suppressed=K" lines: the flood's
# 10,000 missing names must not reach the log one by one. Transfers log
# one line each when they end.
FSECS=$(($(date +%s) - FT0 + 2))
NF=$(tail -n +$((LOG0 + 1)) "$PT_LOG" |
    grep -c 'file="no-such-[12]" .*result=refused reason=notfound')
echo "   not-found lines during the flood: $NF (at most 20 a second" \
    "per worker over $FSECS s)"
[ "$NF" -le $((20 * 4 * FSECS)) ] ||
    pt_fail "$NF not-found lines in $FSECS s: not rate-limited"
tail -n +$((LOG0 + 1)) "$PT_LOG" | grep -q 'result=refused suppressed=' ||
    pt_fail "no suppressed count for the refusals held back"
LOG1=$(wc -l <"$PT_LOG")
echo "   log lines during the flood: $((LOG1 - LOG0)) (one per ended transfer," \
    "refusals capped)"
[ $((LOG1 - LOG0)) -le $((10100 + 2 * 20 * 4 * FSECS)) ] ||
    pt_fail "$((LOG1 - LOG0)) log lines for 10000 transfers"

# ---- 5. flood with options, from many addresses -----------------------
# The OACK path (a session waiting for ACK 0) and many clients: 10,000
# RRQs asking blksize 1468, tsize and windowsize 64, from 1000 ports over
# 8 addresses (127.0.0.3-10), as fast as the tool can send.
pt_step "option flood: 10000 RRQs from 1000 ports of 8 addresses, no ACK"
LOG2=$(wc -l <"$PT_LOG")
timeout 40 "$FLOOD" -S 127.0.0.3 --src-count 8 -P "$PT_PORT" -n 10000 \
    -p 1000 -r 0 -T 12 --quiet-ms 2000 \
    -o blksize=1468,tsize=0,windowsize=64 flood.bin legit.bin no-such-3 \
    >"$T/flood.out" 2>&1 || { cat "$T/flood.out"; pt_fail "option flood"; }
sed 's/^/    /' "$T/flood.out"
grep -q ' rx_oack=0 ' "$T/flood.out" && pt_fail "no OACK came back"
adv_idle || pt_fail "transfers still active 10 s after the option flood"
adv_first_copies "$LOG2" OACK
adv_check "option flood"
RSS2=$(adv_rss)
FDS2=$(adv_fds)
echo "   after: RSS ${RSS2} kB, fds ${FDS2} (baseline ${RSS0} kB, ${FDS0})"
adv_fds_settled "the option flood"
# Up to 1000 transfers at once instead of 500: twice the session slots
# touched (about 1 kB each) and limiter entries for 8 new addresses, well
# under 1 MB; plus the 1 MB allowed above.
[ "$RSS2" -le $((RSS0 + 2048)) ] ||
    pt_fail "RSS grew from $RSS0 kB to $RSS2 kB over both floods"

[ "$SECONDS" -le 90 ] || echo "   note: the test took ${SECONDS}s"
pt_stop
echo "PASS adversarial"
