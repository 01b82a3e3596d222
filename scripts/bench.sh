#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench.sh - what `make bench` runs: ptftpd against three peers (tftpd-hpa,
# atftpd, dnsmasq) on loopback, driven by build/loadgen, which verifies
# every byte it receives. ptftpd runs three times, as three servers:
# "ptftpd" (default: a socket per transfer, on io_uring where the kernel
# has it), "ptftpd-sp" (single_port = true: every transfer answered from
# the listen socket) and "ptftpd-epoll" (io_uring = false: what the
# default mode gives where io_uring is off). All get the same other
# settings. Benchmarks are not tests: nothing here is part of
# `make check` (tests/integration/test_loadgen.sh checks the loadgen).
#
# The peers are fetched with `apt-get download` (never installed) into
# peers/ (git-ignored) and unpacked there with `dpkg -x`; shared libraries
# they need and the host lacks are fetched the same way into peers/lib.
# A peer that cannot be fetched or started is left out, with a note.
#
# Every server runs on 127.0.0.1 only, from one temp root, as "nobody"
# after start-up, and is stopped by pid on exit. dnsmasq has no TFTP port
# option (69 is compiled in): it runs on 127.0.0.1:69 only if that port
# is free, otherwise it is skipped.
#
# Environment:
#   BENCH_QUICK=1   smoke run (~4 min): one repetition, short runs, smaller
#                   files and S6 with 2,000 sessions
#   REPS=N          repetitions (default 3; quick 1)
#   RUN_SECS=S      seconds each throughput run keeps starting transfers
#                   (default 3; quick 1)
#   PEERS="a b"     subset of: tftpd-hpa atftpd dnsmasq (default all)
#   SCENARIOS="S1 S3w ..."  subset (default all; see scen_args below)
#   PT_EPOLL=0      leave the ptftpd-epoll row out (and ptftpd-before-epoll)
#   PT_BEFORE=PATH  a second ptftpd binary, say a build of main before a
#                   refactor: two more rows, "ptftpd-before" (PATH with the
#                   "ptftpd" row's settings) and "ptftpd-before-epoll" (PATH
#                   with io_uring = false, as ptftpd-epoll), in every
#                   scenario their twins run in (ptftpd-before also in S6
#                   and ST), interleaved with them, so that one run measures
#                   before and after on the same machine at the same time;
#                   the report quotes them like the other ptftpd rows and
#                   adds a table of after / before ratios
#   CEILING_ROWS=0  leave the ceiling rows out (then no ceiling fractions)
#   PT_WORKERS=N    workers of the ptftpd rows (default: CPUs
#                   minus one, for the load generator; at least 1)
#   S6_PEERS="..."  peers that get S6 too (default: atftpd dnsmasq, none in
#                   quick mode; tftpd-hpa forks a process per transfer:
#                   10,000 processes on a shared host is left out unless
#                   named here)
#   BUILD           build dir (default build)
#   REPORT_ONLY=1   run nothing: write results.md again from RAW (default
#                   build/bench/raw.tsv; ELAPSED=S the run's seconds)
#
# Output: build/bench/results.md (also printed), raw loadgen lines in
# build/bench/raw.tsv, server logs in build/bench/logs/.
#
# Per run: transfers/s and MiB/s of verified transfers, client timeouts
# (loadgen retransmit timer firings), failed transfers, the server's CPU
# seconds and the load generator's own (lg_cpu_s). Server CPU is utime+stime (+ reaped children) of
# all the server's processes from /proc/PID/stat, after minus before the
# run; and, where `perf stat -e task-clock` works, perf's count over the
# run attached to those processes (inherited by the children they fork),
# which is what the table uses: tftpd-hpa ignores SIGCHLD, so its
# per-transfer children are reaped by the kernel and their CPU time never
# reaches its cutime/cstime.
# Reported per scenario and server: median and min-max over the
# repetitions, which run as interleaved rounds (every server once per
# round, the same order: ABAB), server CPU seconds, work per server
# CPU-second (transfers, or MiB for the large files), the load
# generator's own CPU (loadgen's lg_cpu_s), and the spread (max - min) /
# median; a scenario where a server's spread exceeds 25% is marked noisy
# and its ratios are not quoted. The "ceiling" rows are build/ceiling
# (tests/bench/ceiling.c), the least work a read server can do per packet;
# each ptftpd row is quoted as a fraction of it and as a ratio to the
# best peer.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	REPS=${REPS:-1}
	RUN_SECS=${RUN_SECS:-1}
else
	REPS=${REPS:-3}
	RUN_SECS=${RUN_SECS:-3}
fi
PEERS=${PEERS:-tftpd-hpa atftpd dnsmasq}
SCENARIOS=${SCENARIOS:-S1 S2 S3 S3w S4 S4w S4b S5 S7 W ST S6}
# Workers of the ptftpd rows: the CPUs the load generator leaves (it needs
# one core of its own), at least 1. W measures 1 against 2 explicitly.
PT_WORKERS=${PT_WORKERS:-$(($(nproc) > 1 ? $(nproc) - 1 : 1))}
if [ "$QUICK" = 1 ]; then
	S6_PEERS=${S6_PEERS-}
else
	S6_PEERS=${S6_PEERS-atftpd dnsmasq}
fi
LOADGEN=$BUILD/loadgen
PTFTPD=$BUILD/ptftpd
CEILING=$BUILD/ceiling
OUT=$BUILD/bench
PEERDIR=$TOP/peers
HZ=$(getconf CLK_TCK)

for f in "$LOADGEN" "$PTFTPD" "$CEILING"; do
	[ -x "$f" ] || { echo "bench: $f not built (make bench builds it)" >&2; exit 1; }
done
PT_BEFORE=${PT_BEFORE:-}
if [ -n "$PT_BEFORE" ]; then
	case $PT_BEFORE in /*) ;; *) PT_BEFORE=$TOP/$PT_BEFORE ;; esac
	[ -x "$PT_BEFORE" ] ||
	    { echo "bench: PT_BEFORE=$PT_BEFORE is not an executable" >&2; exit 1; }
fi
mkdir -p "$OUT/logs"
RAW=${RAW:-$OUT/raw.tsv}
if [ "${REPORT_ONLY:-0}" != 1 ]; then
	: >"$RAW"
	: >"$OUT/logs/loadgen.err"
fi

T=$(mktemp -d /tmp/ptftpd-bench.XXXXXX) || exit 1
chmod 755 "$T"			# servers run as nobody and must get in
ROOT=$T/root
mkdir -m 755 "$ROOT"

declare -A SPID SPORT		# server name -> pid, port
SERVERS=""			# started, in start order
SAMPLER=""

log() { echo "bench: $*" >&2; }

cleanup() {
	local rc=$? s
	trap - EXIT INT TERM
	[ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
	[ -n "$PERFPID" ] && kill -INT "$PERFPID" 2>/dev/null
	for s in $SERVERS; do
		stop_server "$s"
	done
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

# ---- peers: scripts/peers.sh fetches and unpacks them --------------------

PEERS_LOG=$OUT/logs/apt.log PEERS_LIB=1
# shellcheck source=peers.sh
. "$TOP/scripts/peers.sh"
# shellcheck source=srvlib.sh
. "$TOP/scripts/srvlib.sh"

# ---- processes ----------------------------------------------------------

# The server's process tree: pid and every descendant.
tree_pids() {
	local p=$1 c
	echo "$p"
	for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
		tree_pids "$c"
	done
}

# CPU ticks (utime+stime+cutime+cstime) of a process tree.
tree_ticks() {
	local p sum=0 v
	for p in $(tree_pids "$1"); do
		v=$(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null |
		    awk '{ print $12 + $13 + $14 + $15 }')
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# "rss_kb pss_kb anon_kb fds" summed over a process tree. RSS counts a
# page shared by N processes N times; PSS divides it among them.
tree_mem() {
	local p rss=0 pss=0 anon=0 fds=0 r q a n
	for p in $(tree_pids "$1"); do
		r=$(awk '/^VmRSS:/ { print $2 }' /proc/"$p"/status 2>/dev/null)
		a=$(awk '/^RssAnon:/ { print $2 }' /proc/"$p"/status 2>/dev/null)
		q=$(awk '/^Pss:/ { print $2 }' /proc/"$p"/smaps_rollup 2>/dev/null)
		n=$(ls /proc/"$p"/fd 2>/dev/null | wc -l)
		rss=$((rss + ${r:-0})); pss=$((pss + ${q:-0}))
		anon=$((anon + ${a:-0})); fds=$((fds + n))
	done
	echo "$rss $pss $anon $fds"
}

PERF_OK=0
perf stat -e task-clock -x, -o /dev/null true >/dev/null 2>&1 && PERF_OK=1
PERFPID=""

# Start counting the CPU of server $1: /proc ticks now, and perf stat
# attached to its processes (children it forks inherit the counter).
cpu_begin() {
	CPU_BEFORE=$(tree_ticks "${SPID[$1]}")
	PERFPID=""
	if [ "$PERF_OK" = 1 ]; then
		perf stat -e task-clock -x, -o "$T/perf.out" \
		    -p "$(tree_pids "${SPID[$1]}" | paste -sd,)" 2>/dev/null &
		PERFPID=$!
		sleep 0.2	# attached before the load starts
	fi
}

# "cpu_s=F cpu_proc_s=F" since cpu_begin.
cpu_end() {
	local after proc perf=""
	after=$(tree_ticks "${SPID[$1]}")
	proc=$(awk -v a="$CPU_BEFORE" -v b="$after" -v hz="$HZ" \
	    'BEGIN { printf "%.3f", (b - a) / hz }')
	if [ -n "$PERFPID" ]; then
		kill -INT "$PERFPID" 2>/dev/null
		wait "$PERFPID" 2>/dev/null
		perf=$(awk -F, '$3 == "task-clock" { printf "%.3f", $1 / 1000 }' \
		    "$T/perf.out" 2>/dev/null)
		PERFPID=""
	fi
	echo "cpu_s=${perf:-$proc} cpu_proc_s=$proc"
}

stop_server() {
	srv_stop "${SPID[$1]:-}"
	SPID[$1]=""
}

# Start server $1 (ptftpd, ptftpd-sp, ptftpd-epoll, the -w1/-w2 twins of
# the first two for W, ptftpd-nostats for ST, ptftpd-before and
# ptftpd-before-epoll ($PT_BEFORE), tftpd-hpa, atftpd, dnsmasq).
start_server() {
	local name=$1 port ld
	ld=$(peer_ld_path)
	if [ "$name" = dnsmasq ]; then
		port=69
		srv_udp_bound 69 &&
		    { log "dnsmasq: port 69 is busy, skipped"; return 1; }
	else
		# Below the ephemeral range (session sockets live there).
		port=$(srv_random_port 21000 11000) ||
		    { log "$name: no free port"; return 1; }
	fi
	case $name in
	ptftpd | ptftpd-w[12] | ptftpd-sp | ptftpd-sp-w[12] | ptftpd-nostats | \
	    ptftpd-epoll | ptftpd-nogso | ptftpd-before | ptftpd-before-epoll)
		local w=$PT_WORKERS conf=$T/$name.conf sp="" st="" gso=""
		local bin=$PTFTPD
		case $name in ptftpd-before*) bin=$PT_BEFORE ;; esac
		case $name in *-w1) w=1 ;; *-w2) w=2 ;; esac
		case $name in ptftpd-sp*) sp="single_port = true;" ;; esac
		case $name in *-epoll) sp="io_uring = false;" ;; esac
		case $name in ptftpd-nogso) gso="gso = false;" ;; esac
		case $name in *-nostats) st="enabled = false;" ;; esac
		cat >"$conf" <<-EOF
		workers = $w;
		$sp
		listen = ( { address = "127.0.0.1"; port = $port; } );
		root = "$ROOT";
		user = "nobody";
		pid_file = "$T/$name.pid";
		log = { target = "stderr"; level = "warning"; };
		session = { blksize_max = 65464; windowsize_max = 64;
		            max_per_worker = 20000; max_per_client = 100000; $gso };
		stats = { path = "$T/$name.stats"; $st };
		EOF
		# Every bench client is 127.0.0.1: per-client admission
		# limits (newer builds) would measure the limiter, and the
		# peers have none. Left out if this build does not know them.
		cp "$conf" "$conf.base"
		echo "limits = { rate_per_client = 0; };" >>"$conf"
		"$bin" -t -c "$conf" >/dev/null 2>&1 || cp "$conf.base" "$conf"
		if ! "$bin" -t -c "$conf" >/dev/null 2>>"$OUT/logs/$name.log"; then
			log "$name: configuration refused (log: $OUT/logs/$name.log)"
			return 1
		fi
		"$bin" -f -c "$conf" -p "$port" -w "$w" \
		    2>>"$OUT/logs/$name.log" &
		;;
	tftpd-hpa)
		# -L: listen, foreground; -s: chroot to ROOT; -u: drop to
		# nobody; -B: the largest blksize RFC 2348 allows, as ptftpd.
		LD_LIBRARY_PATH=$ld "$(peer_bin tftpd-hpa)" \
		    -L -s -u nobody -B 65464 -a "127.0.0.1:$port" "$ROOT" \
		    2>>"$OUT/logs/$name.log" &
		;;
	atftpd)
		# One thread per transfer, 100 by default: raised so S2/S6/S7
		# are not refused by the limit.
		LD_LIBRARY_PATH=$ld "$(peer_bin atftpd)" --daemon \
		    --no-fork --port "$port" --bind-address 127.0.0.1 \
		    --user nobody --group nogroup --maxthread 20000 \
		    --logfile "$OUT/logs/atftpd.log" --verbose=3 "$ROOT" \
		    2>>"$OUT/logs/$name.log" &
		;;
	ceiling | ceiling-gso)
		# The measuring stick (tests/bench/ceiling.c): one socket,
		# recvmmsg/sendmmsg, no timers, no logging; -g: windows as
		# UDP GSO sends. As nobody, like the others.
		local g=""
		[ "$name" = ceiling-gso ] && g=-g
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    "$CEILING" $g -P "$port" "$ROOT" 2>>"$OUT/logs/$name.log" &
		;;
	dnsmasq)
		# DNS off (--port=0), TFTP only, on 127.0.0.1:69. -k, not
		# --no-daemon: that one keeps root and logs every transfer to
		# stderr (--quiet-tftp does not silence "sent ... to ...").
		LD_LIBRARY_PATH=$ld "$(peer_bin dnsmasq)" \
		    --keep-in-foreground --conf-file=/dev/null --port=0 --no-resolv \
		    --no-hosts --enable-tftp --tftp-root="$ROOT" \
		    --tftp-no-fail --tftp-max="${DNSMASQ_TFTP_MAX:-1000}" \
		    --listen-address=127.0.0.1 --bind-interfaces \
		    --user=nobody --group=nogroup --pid-file= --quiet-tftp \
		    --log-facility=/dev/null \
		    2>>"$OUT/logs/$name.log" &
		;;
	*)
		return 1 ;;
	esac
	SPID[$name]=$!
	SPORT[$name]=$port
	if ! srv_wait_probe "${SPID[$name]}" "$port" "$ROOT"; then
		log "$name: does not answer on port $port, skipped" \
		    "(log: $OUT/logs/$name.log)"
		stop_server "$name"
		return 1
	fi
	SERVERS="$SERVERS $name"
	log "$name: pid ${SPID[$name]} port $port"
	return 0
}

# CRASHED=0 if server $1 is alive; 1 if it died: then it is restarted (on
# a new port if it has one) so the next run has a server.
check_alive() {
	local name=$1 rc
	CRASHED=0
	kill -0 "${SPID[$name]}" 2>/dev/null && return 0
	CRASHED=1
	wait "${SPID[$name]}" 2>/dev/null
	rc=$?
	log "$name died (exit status $rc, log: $OUT/logs/$name.log), restarting"
	SPID[$name]=""
	start_server "$name" || log "$name: restart failed"
}

# ---- files and scenarios ----------------------------------------------

mkfile() {
	head -c "$2" /dev/urandom >"$ROOT/$1" || exit 1
	chmod 644 "$ROOT/$1"
}

if [ "$QUICK" = 1 ]; then
	S3_SIZE=$((4 << 20)) S4_SIZE=$((16 << 20)) S6_N=2000 S6_FILE=f16k
else
	S3_SIZE=$((16 << 20)) S4_SIZE=$((100 << 20)) S6_N=10000 S6_FILE=f32k
fi
[ "${REPORT_ONLY:-0}" = 1 ] || {
mkfile probe 1
mkfile f1k 1024
mkfile f16k 16384
mkfile f32k 32768
mkfile f64k 65536
mkfile f1m $((1 << 20))
mkfile f16m "$S3_SIZE"
mkfile f100m "$S4_SIZE"
}

# scen_args NAME: "file loadgen-args..." of a throughput scenario.
scen_args() {
	case $1 in
	S1)  echo "f64k -c 64 -b 1468" ;;
	S2)  echo "f1k -c 256 --plain" ;;
	S3)  echo "f16m -c 32 -b 1468" ;;
	S3w) echo "f16m -c 32 -b 1468 -w 16" ;;
	S4)  echo "f100m -c 1 -b 1468" ;;
	S4w) echo "f100m -c 1 -b 1468 -w 64" ;;
	S4b) echo "f100m -c 1 -b 65464" ;;
	S5)  echo "f1m -c 16 --plain" ;;
	S7)  echo "f64k -c 1000 --plain --first-data-latency" ;;
	W)   echo "f1k -c 256 --plain" ;;
	ST)  echo "f64k -c 64 -b 1468" ;;
	esac
}

scen_title() {
	case $1 in
	S1)  echo "S1 64 KiB x64 conc, blksize 1468" ;;
	S2)  echo "S2 1 KiB x256 conc, no options" ;;
	S3)  echo "S3 $((S3_SIZE >> 20)) MiB x32 conc, blksize 1468" ;;
	S3w) echo "S3w $((S3_SIZE >> 20)) MiB x32 conc, blksize 1468, windowsize 16" ;;
	S4)  echo "S4 $((S4_SIZE >> 20)) MiB x1, blksize 1468" ;;
	S4w) echo "S4w $((S4_SIZE >> 20)) MiB x1, blksize 1468, windowsize 64" ;;
	S4b) echo "S4b $((S4_SIZE >> 20)) MiB x1, blksize 65464" ;;
	S5)  echo "S5 1 MiB x16 conc, plain RFC 1350" ;;
	S6)  echo "S6 $S6_N slow sessions (ACK every 100 ms), $S6_FILE, plain" ;;
	S7)  echo "S7 RRQ->first DATA at 1000 conc (64 KiB, no options)" ;;
	W)   echo "W S2 with ptftpd and ptftpd-sp, -w 1 vs -w 2" ;;
	ST)  echo "ST S1 with the stats segment on vs off (ptftpd)" ;;
	esac
}

# One loadgen run against one server; appends a line to $RAW.
run_one() {
	local scen=$1 rep=$2 name=$3 port=${SPORT[$3]} args file cpu
	local line t0 t1
	args=$(scen_args "$scen")
	file=${args%% *}
	args=${args#* }
	echo "== $scen $name rep $rep" >>"$OUT/logs/loadgen.err"
	cpu_begin "$name"
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	line=$(timeout -k 5 $((RUN_SECS + 120)) "$LOADGEN" -P "$port" $args \
	    -n 1000000 --duration "$RUN_SECS" --max-seconds $((RUN_SECS + 100)) \
	    -e "$ROOT/$file" "$file" 2>>"$OUT/logs/loadgen.err" | tail -n 1)
	t1=$(date +%s.%N)
	cpu=$(cpu_end "$name")
	check_alive "$name"
	[ -n "$line" ] || line="transfers=0 ok=0 failed=0 loadgen=crashed"
	printf '%s\t%s\t%s\t%s %s wall_s=%s crashed=%s\n' "$scen" "$name" \
	    "$rep" "$line" "$cpu" \
	    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" \
	    "$CRASHED" >>"$RAW"
	printf '  %-4s %-12s rep %s: %s %s\n' "$scen" "$name" "$rep" \
	    "$(echo "$line" | cut -d' ' -f2-4,7-8,10)" "$cpu" >&2
}

# run_alternated SCEN SERVER...: REPS runs of SCEN against each server that
# started, in the given order on odd repetitions and reversed on even ones.
run_alternated() {
	local scen=$1 rep s order
	shift
	for rep in $(seq 1 "$REPS"); do
		order="$*"
		if [ $((rep % 2)) = 0 ]; then
			order=""
			for s in "$@"; do order="$s $order"; done
		fi
		for s in $order; do
			[ -n "${SPID[$s]:-}" ] && run_one "$scen" "$rep" "$s"
		done
	done
}

# warm_up SCEN NAME: a 1 s run of the scenario, not recorded.
warm_up() {
	local args file
	args=$(scen_args "$1")
	file=${args%% *}
	args=${args#* }
	# shellcheck disable=SC2086
	timeout -k 5 60 "$LOADGEN" -P "${SPORT[$2]}" $args -n 1000000 \
	    --duration 1 --max-seconds 30 -e "$ROOT/$file" "$file" \
	    >/dev/null 2>&1
	check_alive "$2"
}

# S6: hold many slow sessions; sample the server's memory and fds.
run_s6() {
	local name=$1 port=${SPORT[$1]} pid=${SPID[$1]} line m idle
	local samples=$T/s6.$name
	: >"$samples"
	echo "== S6 $name" >>"$OUT/logs/loadgen.err"
	idle=$(tree_mem "$pid")
	(
		while :; do
			tree_mem "$pid" >>"$samples"
			sleep 0.5
		done
	) &
	SAMPLER=$!
	line=$(timeout -k 5 150 "$LOADGEN" -P "$port" --plain \
	    -c "$S6_N" -n "$S6_N" --slow-ack-ms 100 --start-rate 5000 \
	    --timeout-ms 2000 --max-seconds 120 -e "$ROOT/$S6_FILE" "$S6_FILE" \
	    2>>"$OUT/logs/loadgen.err" | tail -n 1)
	kill "$SAMPLER" 2>/dev/null
	wait "$SAMPLER" 2>/dev/null
	SAMPLER=""
	m=$(awk '{ for (i = 1; i <= 4; i++) if ($i > x[i]) x[i] = $i }
	    END { print x[1] + 0, x[2] + 0, x[3] + 0, x[4] + 0 }' "$samples")
	[ -n "$line" ] || line="transfers=0 ok=0 failed=0 loadgen=crashed"
	printf 'S6\t%s\t1\t%s idle_rss_kb=%s idle_pss_kb=%s idle_anon_kb=%s idle_fds=%s rss_kb=%s pss_kb=%s anon_kb=%s fds=%s alive=%s\n' \
	    "$name" "$line" $idle $m \
	    "$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)" >>"$RAW"
	printf '  S6   %-12s: %s | max rss pss anon (KiB) fds: %s\n' "$name" \
	    "$(echo "$line" | cut -d' ' -f1-4)" "$m" >&2
	check_alive "$name"
}

# ---- report ----------------------------------------------------------------

# results.md from $RAW: medians, min-max, ratios against the best peer.
report() {
	python3 - "$RAW" "$1" "$REPS" "$RUN_SECS" "$QUICK" "$(nproc)" \
	    "$(cut -d' ' -f1-3 /proc/loadavg)" "$(uname -r)" "$PT_WORKERS" <<'PY'
import statistics, sys, time

raw, elapsed, reps, run_secs, quick, ncpu, load, kern, ptw = sys.argv[1:10]
runs = {}            # (scen, server) -> [dict]
order = []           # scenarios in run order
servers = []
for line in open(raw):
    scen, srv, rep, kv = line.rstrip("\n").split("\t")
    d = {}
    for f in kv.split():
        if "=" in f:
            k, v = f.split("=", 1)
            try:
                d[k] = float(v)
            except ValueError:
                d[k] = v
    runs.setdefault((scen, srv), []).append(d)
    if scen not in order:
        order.append(scen)
    if srv not in servers:
        servers.append(srv)
peers = [s for s in servers if not s.startswith(("ptftpd", "ceiling"))]

def med(xs):
    return statistics.median(xs) if xs else float("nan")

def cpu_per_gib(d):
    b = d.get("bytes", 0)
    return d.get("cpu_s", 0) / (b / 2**30) if b else float("nan")

def fmt(x, nd=0):
    if x != x:
        return "-"
    if nd == 0 and abs(x) >= 10:
        return f"{x:,.0f}"
    return f"{x:.{max(nd, 1)}f}" if abs(x) < 10 else f"{x:,.{nd}f}"

def cell(xs, nd=0):
    if not xs:
        return "-"
    if len(xs) == 1:
        return fmt(xs[0], nd)
    return f"{fmt(med(xs), nd)} [{fmt(min(xs), nd)}-{fmt(max(xs), nd)}]"

def stat(scen, srv, key):
    return [r.get(key, float("nan")) for r in runs.get((scen, srv), [])]

title = {
    "S1": "S1 64 KiB, 64 conc, blksize 1468",
    "S2": "S2 1 KiB, 256 conc, no options",
    "S3": "S3 16 MiB, 32 conc, blksize 1468",
    "S3w": "S3w 16 MiB, 32 conc, blksize 1468, windowsize 16",
    "S4": "S4 100 MiB, 1 client, blksize 1468",
    "S4w": "S4w 100 MiB, 1 client, blksize 1468, windowsize 64",
    "S4b": "S4b 100 MiB, 1 client, blksize 65464",
    "S5": "S5 1 MiB, 16 conc, plain RFC 1350",
    "W": "W: S2 with ptftpd and ptftpd-sp, -w 1 vs -w 2",
}
if quick == "1":
    for k in ("S3", "S3w"):
        title[k] = title[k].replace("16 MiB", "4 MiB")
    for k in ("S4", "S4w", "S4b"):
        title[k] = title[k].replace("100 MiB", "16 MiB")

o = []
WORK_MIB = ("S3", "S3w", "S4", "S4w", "S4b")     # the rest: transfers
PT_ROWS = ("ptftpd", "ptftpd-sp", "ptftpd-epoll", "ptftpd-nogso",
           "ptftpd-before", "ptftpd-before-epoll")
# (after, before) pairs of a PT_BEFORE run.
BEFORE = (("ptftpd", "ptftpd-before"), ("ptftpd-epoll", "ptftpd-before-epoll"))
CEIL = ("ceiling", "ceiling-gso")
NOISY = 25.0

def work(scen, d):
    """Work per server CPU-second of one run: transfers, or MiB."""
    c = d.get("cpu_s", 0)
    if not c or c != c:
        return float("nan")
    w = d.get("bytes", 0) / 2**20 if scen in WORK_MIB else d.get("ok", 0)
    return w / c

def works(scen, srv):
    return [work(scen, r) for r in runs.get((scen, srv), [])]

def section(intro, cols):
    """A table's introduction and head: intro, then the column names."""
    o.append("")
    o.append(intro)
    o.append("")
    o.append("| " + " | ".join(cols) + " |")
    o.append("|" + "---|" * len(cols))

def best_peer(scen, vals):
    """(median, peer) of the peer with the largest median of vals(peer)."""
    xs = [(med(vals(p)), p) for p in peers if (scen, p) in runs]
    xs = [x for x in xs if x[0] == x[0] and x[0] > 0]
    return max(xs) if xs else None

def spread(xs):
    """(max - min) / median, in percent; nan with fewer than 2 values."""
    xs = [x for x in xs if x == x]
    if len(xs) < 2 or med(xs) <= 0:
        return float("nan")
    return (max(xs) - min(xs)) / med(xs) * 100

def sp_of(scen, srv):
    a, b = spread(stat(scen, srv, "tps")), spread(works(scen, srv))
    v = [x for x in (a, b) if x == x]
    return max(v) if v else float("nan")

o.append("# ptftpd benchmark" + (" (BENCH_QUICK smoke run)" if quick == "1" else ""))
o.append("")
o.append(f"{time.strftime('%Y-%m-%d %H:%M')}, {ncpu} CPUs, kernel {kern}, "
         f"load average at the end {load}; {reps} repetition(s) (rounds "
         f"interleaved: every server once per round, same order), "
         f"{run_secs} s of starts per run; whole run {elapsed} s. Loopback "
         "(127.0.0.1), every transfer verified byte for byte by build/loadgen.")
o.append("")
o.append(f"What {ncpu} cores can and cannot show: the load generator needs a core "
         "of its own, so the servers get the other one (ptftpd runs "
         f"{ptw} worker(s)). In lock-step the load generator saturates its core "
         "(its CPU column near the run time), so transfers/s measure the client "
         "as much as the server and throughput ratios between servers saturate; "
         "work per server CPU-second (the server's CPU of all its processes, "
         "perf task-clock) is the figure that separates servers here. Scaling "
         "over several workers, and throughput a faster client could draw, "
         "are not measurable on this machine.")
o.append("")
o.append("Columns: tps, MiB/s: verified transfers and payload per second "
         "(median over repetitions); tmo: client retransmit timeouts (median); "
         "fail: failed transfers (sum); srv CPU: server CPU seconds per run "
         "(median); work/CPU: transfers (S1, S2, S5) or MiB (S3, S4) served per "
         "server CPU-second (median); lg CPU: the load generator's own CPU "
         "seconds per run (median) and its share of the run's wall time; "
         "spread: (max - min) / median over the repetitions of tps and "
         "work/CPU, the larger; above "
         f"{NOISY:.0f}% the scenario is marked noisy and its ratios are not "
         "quoted. of ceiling: work/CPU of that ptftpd row / the ceiling's "
         "(tests/bench/ceiling.c: one socket, recvmmsg/sendmmsg, mmap'd bodies, "
         "no timers, no logging: the least work a read server can do per packet; "
         "ceiling-gso sends windows as UDP GSO trains; the better ceiling row is "
         "the reference). vs best peer: work/CPU and tps of that ptftpd row / the "
         "best peer's (tftpd-hpa, atftpd, dnsmasq). ptftpd: a socket per "
         "transfer, on io_uring; ptftpd-sp: single_port = true; ptftpd-epoll: "
         "io_uring = false; ptftpd-nogso (windowed scenarios only): "
         "session.gso = false, what UDP GSO gives; ptftpd-before, "
         "ptftpd-before-epoll (PT_BEFORE): another binary, with the settings "
         "of ptftpd and ptftpd-epoll.")
o.append("")
o.append("| Scenario | Server | tps | MiB/s | tmo | fail | srv CPU s | work/CPU | lg CPU s | spread | of ceiling | vs best peer |")
o.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
crashes = []
noisy_scen = []
for scen in order:
    if scen in ("S6", "S7", "W", "ST"):
        continue
    rows = [s for s in servers if (scen, s) in runs
            and not s.endswith(("-w1", "-w2", "-nostats"))]
    sps = {s: sp_of(scen, s) for s in rows}
    noisy = [s for s in rows if sps[s] == sps[s] and sps[s] > NOISY]
    if noisy:
        noisy_scen.append(f"{scen} ({', '.join(noisy)})")
    unit = "MiB" if scen in WORK_MIB else "xfers"
    ceil = [(med(works(scen, c)), c) for c in CEIL if (scen, c) in runs]
    ceil = [x for x in ceil if x[0] == x[0] and x[0] > 0]
    first = True
    for srv in rows:
        rs = runs[(scen, srv)]
        tps = stat(scen, srv, "tps")
        mib = stat(scen, srv, "mibps")
        tmo = stat(scen, srv, "timeouts")
        fail = sum(r.get("failed", 0) for r in rs)
        nc = int(sum(r.get("crashed", 0) for r in rs))
        if nc:
            crashes.append(f"{srv} died in {nc} of {len(rs)} {scen} runs")
        cpu = stat(scen, srv, "cpu_s")
        lg = stat(scen, srv, "lg_cpu_s")
        lgw = [r.get("lg_cpu_s", float("nan")) / r["wall_s"]
               for r in rs if r.get("wall_s")]
        lgc = fmt(med(lg), 2)
        if lgw and med(lgw) == med(lgw):
            lgc += f" ({med(lgw) * 100:.0f}%)"
        w = med(works(scen, srv))
        frac = ratio = ""
        if srv in PT_ROWS:
            if noisy:
                frac = ratio = "noisy"
            else:
                if ceil:
                    b, who = max(ceil)
                    frac = f"{w / b:.2f} ({who})"
                pw = best_peer(scen, lambda p: works(scen, p))
                pt = best_peer(scen, lambda p: stat(scen, p, "tps"))
                parts = []
                if pw:
                    parts.append(f"work x{w / pw[0]:.2f} ({pw[1]})")
                if pt:
                    parts.append(f"tps x{med(tps) / pt[0]:.2f} ({pt[1]})")
                ratio = ", ".join(parts)
        spc = "-" if sps[srv] != sps[srv] else f"{sps[srv]:.0f}%"
        if srv in noisy:
            spc += " noisy"
        o.append(f"| {title.get(scen, scen) if first else ''} | {srv} | {cell(tps)} | "
                 f"{cell(mib, 1)} | {fmt(med(tmo))} | {int(fail)}{' (died)' if nc else ''} | "
                 f"{fmt(med(cpu), 2)} | {fmt(w)} {unit} | {lgc} | {spc} | {frac} | {ratio} |")
        first = False
if noisy_scen:
    o.append("")
    o.append(f"Noisy (a server's spread above {NOISY:.0f}%: ratios not quoted): "
             + "; ".join(noisy_scen) + ".")

if any(s == "S7" for s, _ in runs):
    section("S7: RRQ -> first DATA at 1,000 concurrent clients, 64 KiB, no "
            "options (so the first reply is DATA 1), all 1,000 started at once and "
            "each replaced as it ends. Kernel: from just before the RRQ's send to "
            "the kernel's receive timestamp of DATA 1 (SO_TIMESTAMPNS), which is "
            "the server's latency; app: to when the load generator read it, which "
            "adds the load generator's own backlog of 1,000 sockets. Median over "
            "repetitions of each run's p50 / p99.",
            ("Server", "p50 ms", "p99 ms", "app p50 ms", "app p99 ms", "tps",
             "tmo", "fail"))
    for srv in servers:
        if ("S7", srv) not in runs:
            continue
        rs = runs[("S7", srv)]
        nc = int(sum(r.get("crashed", 0) for r in rs))
        if nc:
            crashes.append(f"{srv} died in {nc} of {len(rs)} S7 runs")
        o.append(f"| {srv} | {cell(stat('S7', srv, 'kp50_ms'), 2)} | "
                 f"{cell(stat('S7', srv, 'kp99_ms'), 2)} | "
                 f"{cell(stat('S7', srv, 'p50_ms'), 2)} | "
                 f"{cell(stat('S7', srv, 'p99_ms'), 2)} | {cell(stat('S7', srv, 'tps'))} | "
                 f"{fmt(med(stat('S7', srv, 'timeouts')))} | {int(sum(r.get('failed', 0) for r in rs))} |")

if any(s == "S6" for s, _ in runs):
    section("S6: slow sessions (each ACK sent 100 ms after it is due), plain RFC 1350, "
            "started at 5,000/s; server memory and fds are the maxima of 0.5 s "
            "samples, summed over all the server's processes (RSS counts shared "
            "pages once per process and includes mapped file pages, such as "
            "ptftpd's body cache, which unmaps bodies idle for cache_idle_ms, "
            "10 s by default; PSS shares them out; anon is heap and stacks, "
            "idle -> peak).",
            ("Server", "ok / started", "peak sessions", "tmo", "fail", "RSS MiB",
             "PSS MiB", "anon MiB idle -> peak", "fds idle -> peak", "survived"))
    for srv in servers:
        if ("S6", srv) not in runs:
            continue
        r = runs[("S6", srv)][0]
        o.append(f"| {srv} | {int(r.get('ok', 0))} / {int(r.get('transfers', 0))} | "
                 f"{int(r.get('peak_active', 0))} | {int(r.get('timeouts', 0))} | "
                 f"{int(r.get('failed', 0))} | {r.get('rss_kb', 0) / 1024:.1f} | "
                 f"{r.get('pss_kb', 0) / 1024:.1f} | {r.get('idle_anon_kb', 0) / 1024:.1f} -> "
                 f"{r.get('anon_kb', 0) / 1024:.1f} | {int(r.get('idle_fds', 0))} -> "
                 f"{int(r.get('fds', 0))} | {r.get('alive', '?')} |")

if any(s == "W" for s, _ in runs):
    section("Worker scaling: S2 (1 KiB, 256 conc, no options) against ptftpd and "
            "ptftpd-sp, -w 1 and -w 2.",
            ("Server", "Workers", "tps", "tmo", "fail", "CPU s/GiB"))
    notes = []
    for base in ("ptftpd", "ptftpd-sp"):
        for srv, w in ((base + "-w1", "1"), (base + "-w2", "2")):
            if ("W", srv) not in runs:
                continue
            rs = runs[("W", srv)]
            o.append(f"| {base} | {w} | {cell(stat('W', srv, 'tps'))} | "
                     f"{fmt(med(stat('W', srv, 'timeouts')))} | "
                     f"{int(sum(r.get('failed', 0) for r in rs))} | "
                     f"{fmt(med([cpu_per_gib(r) for r in rs]), 1)} |")
        a = med(stat("W", base + "-w1", "tps"))
        b = med(stat("W", base + "-w2", "tps"))
        if a == a and b == b and a > 0:
            notes.append(f"{base} -w 2 / -w 1: x{b / a:.2f} transfers/s")
    if notes:
        o.append("")
        o.append("; ".join(notes) + ".")

if crashes:
    o.append("")
    o.append("Server deaths (restarted for the next run): " + "; ".join(crashes) + ".")
if any(s == "ST" for s, _ in runs):
    section("Stats cost: S1 (64 KiB, 64 conc, blksize 1468) against ptftpd with the "
            "stats segment on and with `stats.enabled = false`, alternated.",
            ("Server", "tps", "CPU s/GiB"))
    for srv in ("ptftpd", "ptftpd-nostats", "ptftpd-before"):
        if ("ST", srv) not in runs:
            continue
        rs = runs[("ST", srv)]
        o.append(f"| {srv} | {cell(stat('ST', srv, 'tps'))} | "
                 f"{fmt(med([cpu_per_gib(r) for r in rs]), 1)} |")
    a = med(stat("ST", "ptftpd", "tps"))
    b = med(stat("ST", "ptftpd-nostats", "tps"))
    if a == a and b == b and b > 0:
        o.append("")
        o.append(f"Stats on / off: x{a / b:.3f} transfers/s.")

pairs = [(scen, a, b) for scen in order for a, b in BEFORE
         if (scen, a) in runs and (scen, b) in runs]
if pairs:
    section("Before / after (PT_BEFORE): each row of this build over its "
            "ptftpd-before twin, same settings, same rounds; medians (work/CPU "
            "and tps as in the first table; S6: peak PSS; S7: kernel p99). A "
            "scenario marked noisy above is noisy here too.",
            ("Scenario", "after / before", "work/CPU", "tps", "other"))
    for scen, a, b in pairs:
        def q(key, f=med):
            x, y = f(key(a)), f(key(b))
            return f"x{x / y:.3f}" if x == x and y == y and y > 0 else "-"
        other = "-"
        if scen == "S6":
            other = "PSS " + q(lambda s: [r.get("pss_kb", float("nan"))
                                          for r in runs[(scen, s)]])
        elif scen == "S7":
            other = "p99 " + q(lambda s: stat(scen, s, "kp99_ms"))
        o.append(f"| {scen} | {a} / {b} | {q(lambda s: works(scen, s))} | "
                 f"{q(lambda s: stat(scen, s, 'tps'))} | {other} |")
print("\n".join(o))
PY
}

# ---- main ---------------------------------------------------------------

if [ "${REPORT_ONLY:-0}" = 1 ]; then
	report "${ELAPSED:-?}" >"$OUT/results.md" || exit 1
	cat "$OUT/results.md"
	exit 0
fi
start=$(date +%s)
mkdir -p "$PEERDIR"
AVAIL=""
for p in $PEERS; do
	if peer_pkg "$p" >/dev/null; then
		peers_setup "$p" 2>>"$OUT/logs/apt.log" && AVAIL="$AVAIL $p" ||
		    log "$p: not available (see $OUT/logs/apt.log)"
	else
		log "unknown peer $p"
	fi
done

RUNNING=""
PT_ROWS="ptftpd ptftpd-sp"
[ "${PT_EPOLL:-1}" = 0 ] || PT_ROWS="$PT_ROWS ptftpd-epoll"
# The rows of a binary before a change, each next to its twin.
BEFORE_ROWS=""
if [ -n "$PT_BEFORE" ]; then
	BEFORE_ROWS="ptftpd-before"
	[ "${PT_EPOLL:-1}" = 0 ] || BEFORE_ROWS="$BEFORE_ROWS ptftpd-before-epoll"
	PT_ROWS="$PT_ROWS $BEFORE_ROWS"
fi
CEIL_ROWS="ceiling ceiling-gso"
[ "${CEILING_ROWS:-1}" = 0 ] && CEIL_ROWS=""
# ptftpd with session.gso = false: the windowed scenarios only (what GSO
# gives), in the report under their scenarios.
case " $SCENARIOS " in
*" S3w "* | *" S4w "*) PT_ROWS="$PT_ROWS ptftpd-nogso" ;;
esac
for s in $CEIL_ROWS $PT_ROWS $AVAIL; do
	start_server "$s" && RUNNING="$RUNNING $s"
done
case " $SCENARIOS " in
*" W "*)
	for s in ptftpd-w1 ptftpd-w2 ptftpd-sp-w1 ptftpd-sp-w2; do
		start_server "$s" || true
	done
	;;
esac
case " $SCENARIOS " in
*" ST "*) start_server ptftpd-nostats || true ;;
esac
[ -n "$RUNNING" ] || { log "no server started"; exit 1; }
log "servers:$RUNNING; reps $REPS, $RUN_SECS s per run; $(nproc) CPUs," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"

for scen in $SCENARIOS; do
	log "$(scen_title "$scen")"
	case $scen in
	S6)
		for s in $RUNNING; do
			case " ptftpd ptftpd-sp ptftpd-before $S6_PEERS " in
			*" $s "*) ;;
			*) log "S6: $s skipped (not in S6_PEERS)"; continue ;;
			esac
			kill -0 "${SPID[$s]}" 2>/dev/null && run_s6 "$s"
		done
		continue
		;;
	W)
		run_alternated W ptftpd-w1 ptftpd-w2 ptftpd-sp-w1 ptftpd-sp-w2
		continue
		;;
	ST)
		# shellcheck disable=SC2086
		run_alternated ST ptftpd ptftpd-nostats \
		    ${BEFORE_ROWS:+ptftpd-before}
		continue
		;;
	esac
	# The ceiling rows: lock-step scenarios get the plain one (GSO
	# has nothing to do there), windowed ones both; S7 (latency) none.
	list=""
	for s in $RUNNING; do
		case $s,$scen in
		ceiling,S7 | ceiling-gso,S7) continue ;;
		ceiling-gso,S3w | ceiling-gso,S4w) ;;
		ptftpd-nogso,S3w | ptftpd-nogso,S4w) ;;
		ceiling-gso,* | ptftpd-nogso,*) continue ;;
		esac
		list="$list $s"
	done
	# Warm-up, not recorded: one short run per server, so the first
	# server of a repetition does not pay for cold caches (page cache of
	# the file, its first mapping, the allocator's first arenas).
	for s in $list; do
		kill -0 "${SPID[$s]}" 2>/dev/null && warm_up "$scen" "$s"
	done
	# Interleaved rounds, the same order each (ABAB): every server's
	# repetitions spread over the scenario's time, so a neighbour's load
	# falls on all of them alike.
	for rep in $(seq 1 "$REPS"); do
		for s in $list; do
			kill -0 "${SPID[$s]}" 2>/dev/null || continue
			run_one "$scen" "$rep" "$s"
		done
	done
done

elapsed=$(($(date +%s) - start))
report "$elapsed" >"$OUT/results.md" || exit 1
cat "$OUT/results.md"
