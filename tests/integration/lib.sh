# SPDX-License-Identifier: BSD-2-Clause
# lib.sh - helpers shared by tests/integration/test_*.sh; source it first:
#   . "$TOP/tests/integration/lib.sh"
# Environment (set by scripts/run-integration.sh): BUILD (build dir), TOP
# (repo root). Everything lives in one temp dir removed on exit; every
# process started here is stopped by pid on any exit. Loopback only: the
# daemon listens on 127.0.0.1 and ::1, nothing else is ever addressed.
#
#   pt_start [CONFIG LINE...]  write a config and start $BUILD/ptftpd on a
#                      random port, wait until it answers. Defaults for
#                      workers, log, session, stats, pid_file and limits
#                      (per-client rate off: all test clients are one
#                      address; the daemon's own default is 50/s, burst
#                      200); each is dropped when a line sets it, and a
#                      group given replaces the default one whole.
#   pt_stop            SIGTERM, bounded wait, SIGKILL; no worker may remain
#   pt_tftpc ARGS...   $BUILD/tftpc -P $PT_PORT ARGS, output kept in $PT_OUT
#   pt_mkfile NAME SIZE   random file of SIZE bytes in $ROOT
#   pt_cmp A B WHAT    byte-exact comparison or pt_fail
#   pt_wait_log ERE [SECS]   wait (bounded) until the daemon log matches
#   pt_wait_for SECS CMD...  run CMD every 0.1 s until it succeeds, at most
#                      SECS seconds (decimals allowed); 1 on timeout
#   pt_wait_gone PID [SECS]  wait (bounded) until PID is gone or a zombie
#   pt_gone PID        true if PID is gone or a zombie
#   pt_workers         the supervisor's live children, sorted, one line
#   pt_count WORDS...  how many words (pt_count $(pt_workers))
#   pt_mkfiles SIZE... one random file f<SIZE> per size; their names in
#                      PT_FILES
#   pt_get WHAT FILE CMD...  run a client CMD (60 s at most) that writes
#                      $PT_GOT; fail unless it exits 0 and PT_GOT is
#                      byte-exact $ROOT/FILE
#   pt_wait_child PID SECS   wait (bounded) for a child of ours to exit;
#                      its status in PT_RC (-1 and 1 returned on timeout)
#   pt_mark            remember where the daemon log ends now
#   pt_log_since       the daemon log's lines since pt_mark
#   pt_wait_log_since ERE SECS   pt_wait_log over those lines only
#   pt_served_by [ERE] pids that logged a finished transfer since pt_mark
#                      (of files matching ERE), sorted, unique
#   pt_notify_listen SOCK LOG  a stand-in for systemd's notify socket at
#                      SOCK: one line per datagram in LOG; its pid in
#                      PT_NOTIFY_PID (tracked)
#   pt_port_range N    "MIN MAX" of N free UDP ports below the ephemeral range
#   pt_stat KEY        a total of the daemon's stats segment (ptftpd-stat -j
#                      "totals", e.g. sess_active), empty if unreadable
#   pt_stat_ge KEY N   true if that total is at least N (for pt_wait_for)
#   pt_skip REASON     print "SKIP REASON" and end the test as skipped
#                      (exit 77, which run-integration.sh counts apart)
#   pt_flip_byte FILE OFF    corrupt one byte (for negative checks)
#   pt_netascii IN OUT       IN as netascii on the wire (LF -> CR LF,
#                      CR -> CR NUL)
#   pt_fail MSG        print MSG and the log tail, exit 1
#   pt_step MSG        progress line
# Also PT_PYTHON: the python3 interpreter itself (the pyenv shim costs
# seconds per start on a loaded machine). Port checks and the bounded stop
# of a helper are scripts/srvlib.sh's.

set -u

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$TOP/$BUILD ;;
esac
PTFTPD=$BUILD/ptftpd
TFTPC=$BUILD/tftpc
# shellcheck source=../../scripts/srvlib.sh
. "$TOP/scripts/srvlib.sh"
PT_PYTHON=/usr/bin/python3
[ -x "$PT_PYTHON" ] ||
    PT_PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -x "$PT_PYTHON" ] || PT_PYTHON=python3

T=$(mktemp -d /tmp/ptftpd-itest.XXXXXX) || exit 1
chmod 755 "$T"			# workers run as nobody and must get in
ROOT=$T/root
mkdir -m 755 "$ROOT"
PT_CONF=$T/ptftpd.conf
PT_LOG=$T/ptftpd.log
PT_OUT=$T/tftpc.out
PT_PID=""
PT_PORT=""
PT_WORKER_PIDS=""
PT_EXTRA_PIDS=""		# helpers started by a test (pt_track PID)
: >"$PT_LOG"

pt_step() {
	echo "== [${SECONDS}s] $*"
}

pt_fail() {
	echo "FAIL: $*" >&2
	if [ -s "$PT_LOG" ]; then
		echo "--- daemon log (tail) ---" >&2
		tail -n 25 "$PT_LOG" >&2
	fi
	exit 1
}

# A pid we started that must not outlive the test.
pt_track() {
	PT_EXTRA_PIDS="$PT_EXTRA_PIDS $1"
}

# Sends SIG to pid if it is alive and still has the expected command name
# (guards against a recycled pid).
pt_kill_if() {
	local pid=$1 sig=$2 name=$3 comm
	[ -n "$pid" ] || return 0
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 0
	case $comm in
	"$name"*) kill "-$sig" "$pid" 2>/dev/null ;;
	esac
	return 0
}

# Under make check SANITIZE=1 a daemon that hits ASan or UBSan prints
# its report to its log: any such report fails the test, even when the
# behaviour checked looked right.
pt_sanitizer_check() {
	local f bad=0
	for f in "$T"/*.log "$T"/*/*.log; do
		[ -f "$f" ] || continue
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"
		then
			echo "FAIL: sanitizer report in $f:" >&2
			grep -E -A25 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
			    "$f" | head -n 60 >&2
			bad=1
		fi
	done
	return $bad
}

pt_cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	[ -n "$PT_PID" ] && pt_stop_quiet
	for p in $PT_EXTRA_PIDS; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pt_sanitizer_check || rc=1
	rm -rf "$T"
	exit "$rc"
}
trap pt_cleanup EXIT
trap 'exit 143' INT TERM

# $BUILD/tftpc, built if missing or older than its source. The make rule
# is tried first; a direct compile with the project's flags is the fallback.
pt_need_tftpc() {
	local src=$TOP/tests/tools/tftpc.c
	if [ -x "$TFTPC" ] && [ ! "$src" -nt "$TFTPC" ]; then
		return 0
	fi
	(cd "$TOP" && make -s "BUILD=${BUILD#"$TOP"/}" "${TFTPC#"$TOP"/}") \
	    >/dev/null 2>&1 && [ -x "$TFTPC" ] && return 0
	(cd "$TOP" && make -s "BUILD=${BUILD#"$TOP"/}" \
	    "${BUILD#"$TOP"/}/obj/tftp.o" "${BUILD#"$TOP"/}/obj/num.o" &&
	    ${CC:-cc} -std=gnu11 -g -O2 -D_GNU_SOURCE -Iinclude -Wall -Wextra \
	    -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	    -Wformat=2 -Wvla -o "$TFTPC" "$src" "$BUILD/obj/tftp.o" \
	    "$BUILD/obj/num.o") ||
	    pt_fail "cannot build $TFTPC"
}

# Random port in 20000-59999 that no UDP socket has bound yet (a second
# SO_REUSEPORT daemon of the same user could otherwise share it with us).
# Should all 50 tries find a bound port, one of them anyway: pt_start
# then fails to bind and tries another.
pt_random_port() {
	srv_random_port 20000 40000 ||
	    echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000))
}

# "MIN MAX": N consecutive UDP ports that nothing has bound now, below the
# kernel's ephemeral range (ip_local_port_range), so that no other
# process's kernel-chosen port lands in them later. The machine's
# network is shared (other tests, other chroots): a fixed range such as
# 47001-47008 sits in the ephemeral range and was taken now and then.
pt_port_range() {
	local n=$1 lo i base p busy
	lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ -n "$lo" ] && [ "$lo" -gt 12000 ] || lo=32768
	for i in $(seq 1 50); do
		base=$((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000 - n)))
		busy=0
		for p in $(seq "$base" $((base + n - 1))); do
			srv_udp_bound "$p" && { busy=1; break; }
		done
		[ "$busy" = 0 ] && break
	done
	echo "$base $((base + n - 1))"
}

# Do the extra config lines (args 2..) set top-level setting $1? Only the
# names pt_write_conf has defaults for are asked, and none of them is a
# member of another group, so "name =" (or "name :") at the start of a line
# or after ";", "{" or a blank is that setting ("catalog =" or a route's
# "logs/" prefix is not).
pt_conf_sets() {
	local name=$1
	shift
	printf '%s\n' "$@" |
	    grep -Eq "(^|[;{[:space:]])$name[[:space:]]*[=:]"
}

# Writes $PT_CONF for port $1; further args are extra config lines.
pt_write_conf() {
	local port=$1 line
	shift
	{
		pt_conf_sets workers "$@" || echo "workers = 2;"
		echo "listen = ( { address = \"127.0.0.1\"; port = $port; },"
		echo "           { address = \"::1\"; port = $port; } );"
		echo "root = \"$ROOT\";"
		echo "user = \"nobody\";"
		pt_conf_sets log "$@" ||
		    echo 'log = { target = "stderr"; level = "info"; };'
		pt_conf_sets session "$@" ||
		    echo 'session = { timeout_ms = 500; timeout_max_ms = 2000; };'
		pt_conf_sets stats "$@" ||
		    echo "stats = { path = \"$T/ptftpd.stats\"; };"
		pt_conf_sets pid_file "$@" ||
		    echo "pid_file = \"$T/ptftpd.pid\";"
		pt_conf_sets limits "$@" ||
		    echo "limits = { rate_per_client = 0; };"
		# PT_IO_URING=false: the suite's epoll pass (run-integration).
		[ -z "${PT_IO_URING:-}" ] || pt_conf_sets io_uring "$@" ||
		    echo "io_uring = $PT_IO_URING;"
		for line in "$@"; do
			echo "$line"
		done
	} >"$PT_CONF"
}

# Probe: a missing file must give ERROR 1. Returns tftpc's status.
pt_probe() {
	local host=$1
	timeout 5 "$TFTPC" -H "$host" -P "$PT_PORT" -x 1 --timeout-ms 200 \
	    --retries 2 --max-seconds 3 pt-probe-no-such-file >/dev/null 2>&1
}

pt_start() {
	local try i
	pt_need_tftpc
	[ -x "$PTFTPD" ] || pt_fail "$PTFTPD not built"
	for try in 1 2 3 4 5; do
		PT_PORT=$(pt_random_port)
		pt_write_conf "$PT_PORT" "$@"
		echo "--- start $try port $PT_PORT" >>"$PT_LOG"
		"$PTFTPD" -f -c "$PT_CONF" 2>>"$PT_LOG" &
		PT_PID=$!
		for i in $(seq 1 25); do
			kill -0 "$PT_PID" 2>/dev/null || break
			if pt_probe 127.0.0.1; then
				# A probe hashed to a worker still starting
				# waits in its socket: ask again, from new
				# ports, a while (a loaded machine).
				pt_wait_for 20 pt_probe ::1 ||
				    pt_fail "answers on 127.0.0.1 but not on ::1"
				PT_WORKER_PIDS=$(pgrep -P "$PT_PID" | tr '\n' ' ')
				pt_step "ptftpd pid $PT_PID port $PT_PORT" \
				    "workers: $PT_WORKER_PIDS"
				return 0
			fi
			sleep 0.2
		done
		if kill -0 "$PT_PID" 2>/dev/null; then
			pt_stop_quiet
			pt_fail "ptftpd runs but does not answer on port $PT_PORT"
		fi
		wait "$PT_PID" 2>/dev/null
		PT_PID=""
		echo "pt_start: ptftpd exited on port $PT_PORT, retrying" >&2
	done
	pt_fail "ptftpd did not start in 5 tries"
}

# Stops the daemon; returns 1 if it needed SIGKILL or left workers behind.
pt_stop_quiet() {
	local i rc=0 w left=""
	[ -n "$PT_PID" ] || return 0
	# Workers forked since start (respawns) count too.
	PT_WORKER_PIDS="$PT_WORKER_PIDS $(pgrep -P "$PT_PID" | tr '\n' ' ')"
	kill -TERM "$PT_PID" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$PT_PID" 2>/dev/null || break
		# A zombie is gone for our purpose: wait reaps it below.
		[ "$(awk '{print $3}' "/proc/$PT_PID/stat" 2>/dev/null)" = Z ] &&
		    break
		sleep 0.1
	done
	if kill -0 "$PT_PID" 2>/dev/null &&
	    [ "$(awk '{print $3}' "/proc/$PT_PID/stat" 2>/dev/null)" != Z ]; then
		echo "pt_stop: ptftpd $PT_PID ignored SIGTERM for 5 s" >&2
		kill -KILL "$PT_PID" 2>/dev/null
		rc=1
	fi
	wait "$PT_PID" 2>/dev/null
	sleep 0.1
	for w in $PT_WORKER_PIDS; do
		if [ -e "/proc/$w" ] &&
		    grep -q ptftpd "/proc/$w/cmdline" 2>/dev/null; then
			left="$left $w"
			pt_kill_if "$w" KILL ptftpd
		fi
	done
	if [ -n "$left" ]; then
		echo "pt_stop: workers left behind:$left" >&2
		rc=1
	fi
	PT_PID=""
	PT_WORKER_PIDS=""
	return $rc
}

pt_stop() {
	pt_stop_quiet || pt_fail "ptftpd did not stop cleanly"
}

# tftpc against the daemon; the output is shown and kept in $PT_OUT.
pt_tftpc() {
	local rc
	timeout -k 2 150 "$TFTPC" -P "$PT_PORT" "$@" >"$PT_OUT" 2>&1
	rc=$?
	sed 's/^/    /' "$PT_OUT"
	return $rc
}

# Value of key=N from tftpc's summary line in $PT_OUT.
pt_summary() {
	sed -n "s/^tftpc: ok=.* $1=\([0-9]*\).*/\1/p; s/^tftpc: $1=\([0-9]*\).*/\1/p" \
	    "$PT_OUT" | tail -n 1
}

pt_mkfile() {
	head -c "$2" /dev/urandom >"$ROOT/$1" || pt_fail "mkfile $1"
	chmod 644 "$ROOT/$1"
}

pt_cmp() {
	cmp "$1" "$2" >/dev/null 2>&1 || pt_fail "$3: $1 and $2 differ"
}

# Waits up to SECS (default 5) for an extended regexp in the daemon log.
pt_wait_log() {
	local re=$1 secs=${2:-5} i
	for i in $(seq 1 $((secs * 10))); do
		grep -Eq -- "$re" "$PT_LOG" && return 0
		sleep 0.1
	done
	return 1
}

# Runs CMD... every 0.1 s until it succeeds, for at most SECS seconds
# (decimals allowed: 0.5). Returns 0 once CMD succeeds, 1 on timeout. The
# bound is in tries (SECS * 10) and in time (a slow CMD ends it sooner).
pt_wait_for() {
	local secs=$1 n i end
	shift
	n=$(awk -v s="$secs" 'BEGIN { n = int(s * 10 + 0.5); print n < 1 ? 1 : n }')
	end=$((SECONDS + n / 10 + 1))
	for i in $(seq 1 "$n"); do
		"$@" && return 0
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
	"$@"
}

# A total from the default stats segment of pt_start's config.
pt_stat() {
	"$BUILD/ptftpd-stat" -s "$T/ptftpd.stats" -j 2>/dev/null |
	    sed -n 's/^"totals":{\(.*\)/\1/p' | grep -o "\"$1\":[0-9]*" |
	    cut -d: -f2
}

pt_stat_ge() {
	local v
	v=$(pt_stat "$1")
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}

# True if PID is gone or a zombie (its parent has not reaped it yet).
pt_gone() {
	[ -e "/proc/$1" ] || return 0
	[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# Waits up to SECS (default 5, decimals allowed) for PID to be gone or a
# zombie.
pt_wait_gone() {
	pt_wait_for "${2:-5}" pt_gone "$1"
}

# Live (non-zombie) children of the supervisor, sorted, space separated.
# Cheap (no scan of /proc by pgrep): callers time what they do with it.
pt_workers() {
	local p out="" st
	for p in $(cat "/proc/$PT_PID/task/$PT_PID/children" 2>/dev/null); do
		read -r st <"/proc/$p/stat" 2>/dev/null || continue
		set -- $st
		[ "$3" = Z ] || out="$out $p"
	done
	[ -n "$out" ] && printf '%s\n' $out | sort -n | tr '\n' ' ' |
	    sed 's/ $//'
	return 0
}

pt_count() {
	echo $#
}

pt_mkfiles() {
	local s
	PT_FILES=""
	for s in "$@"; do
		pt_mkfile "f$s" "$s"
		PT_FILES="$PT_FILES f$s"
	done
}

# Waits up to SECS (decimals allowed) for our child PID to exit; its
# status in PT_RC (-1 when it did not exit in time: returns 1).
pt_wait_child() {
	PT_RC=-1
	pt_wait_gone "$1" "$2" || return 1
	wait "$1" 2>/dev/null
	PT_RC=$?
	return 0
}

# The log is shared by every daemon of a test, and earlier ones wrote the
# same messages: pt_mark before a case, then look at its lines only.
pt_mark() {
	PT_MARK=$(($(wc -l <"$PT_LOG") + 1))
}

pt_log_since() {
	tail -n +"${PT_MARK:-1}" "$PT_LOG"
}

pt_log_since_has() {
	pt_log_since | grep -Eq -- "$1"
}

pt_wait_log_since() {
	pt_wait_for "$2" pt_log_since_has "$1"
}

pt_served_by() {
	pt_log_since | grep -E "file=\"(${1:-.*})\"" |
	    sed -n 's/^[^ ]* ptftpd\[\([0-9]*\)\] w[0-9]* peer=.*/\1/p' |
	    sort -un | tr '\n' ' ' | sed 's/ $//'
}

# pt_get WHAT FILE CMD...: a real client that writes $PT_GOT, byte-exact.
PT_GOT=$T/out
pt_get() {
	local what=$1 file=$2 rc
	shift 2
	rm -f "$PT_GOT"
	timeout -k 2 60 "$@" >"$T/client.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		sed 's/^/    /' "$T/client.log"
		pt_fail "$what: exit $rc: $*"
	fi
	[ -f "$PT_GOT" ] || pt_fail "$what: no output file"
	pt_cmp "$ROOT/$file" "$PT_GOT" "$what"
	echo "ok   $what"
}

# A stand-in for systemd's notify socket at $1: one line per datagram,
# appended to $2. Returns once the socket exists (5 s at most).
pt_notify_listen() {
	cat >"$T/notify.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        f.flush()
EOF
	"$PT_PYTHON" "$T/notify.py" "$1" "$2" 2>/dev/null &
	PT_NOTIFY_PID=$!
	pt_track "$PT_NOTIFY_PID"
	pt_wait_for 5 test -S "$1" || pt_fail "notify socket $1 not bound"
}

# The test cannot run here (a missing kernel feature, a client that cannot
# be had): say why and end as skipped. Exit status 77 (as automake's) is
# what scripts/run-integration.sh counts as a skip; a test that could run
# but did not get its result must pt_fail instead.
pt_skip() {
	echo "SKIP $*"
	exit 77
}

# Inverts the byte at OFFSET of FILE in place.
pt_flip_byte() {
	perl -e 'open(F, "+<", $ARGV[0]) or exit 1; binmode F;
	    seek(F, $ARGV[1], 0); read(F, $b, 1) == 1 or exit 1;
	    seek(F, $ARGV[1], 0); print F chr(ord($b) ^ 0xff);
	    close(F) or exit 1' "$1" "$2" || pt_fail "flip byte"
}

# netascii as it goes on the wire: LF -> CR LF, a bare CR -> CR NUL.
# (perl, not python3: it starts in milliseconds on a loaded machine.)
pt_netascii() {
	perl -0777 -pe 's/\r/\r\0/g; s/\n/\r\n/g' <"$1" >"$2" ||
	    pt_fail "netascii conversion"
}
