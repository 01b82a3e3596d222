#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-loss.sh - what `make bench-loss` runs: ptftpd against atftpd and
# dnsmasq on a lossy network, in one run. The whole script runs in a
# private network namespace (unshare -n; needs root) whose loopback drops
# the given per cent of UDP packets at random, both directions, with
# nftables (`numgen random mod 1000 < N drop`) in an input-hook chain:
# on loopback every packet passes output and input once, and a drop at
# output would fail the sender's sendto() with EPERM (clients such as
# tftp-hpa, curl and busybox then abort), which is no packet loss. The
# host's network is never touched. build/loadgen drives and verifies
# every transfer byte for byte. It owns the lossy namespace, the server
# start-up and the result table; the peers are fetched by scripts/peers.sh
# and nothing here is a test (no pass/fail on speed).
#
# Scenarios (client retransmit timer 2 s, as a typical boot client):
#   L   96 transfers of 64 KiB, lock-step (blksize 1468, no windowsize),
#       32 at a time
#   W   16 transfers of 1 MiB, windowsize 16, all at once
# Servers: ptftpd (adaptive RTO, session.rto_min_ms default), ptftpd-fixed
# (rto_min_ms = 0: the fixed 1 s schedule of before), atftpd, dnsmasq
# (port 69 in the namespace; it has no port option for TFTP).
#
# Environment:
#   LOSSES="0 1 3 10"   loss levels in per cent (integers or one decimal)
#   SERVERS="..."       subset of: ptftpd ptftpd-fixed atftpd dnsmasq
#   SCENARIOS="L W"     REPS=1 repetitions   BUILD=build
#   RTO_MIN_MS=N        rto_min_ms for the ptftpd row (default: built-in)
#   L_ARGS, W_ARGS      loadgen -c/-n of L and W (default "-c 32 -n 96",
#                       "-c 16 -n 16")
#
# Output: build/bench-loss/results.md (also printed), raw loadgen lines
# with the loss, server and scenario in build/bench-loss/raw.tsv, server
# logs in build/bench-loss/logs/ (ptftpd logs every transfer: rexmit=,
# rtt_ms=, gaps=).
#
# Columns: secs (whole scenario), p50/p99 per transfer (loadgen, RRQ to
# last DATA; with 96 or 16 transfers p99 is the slowest or second
# slowest), client timer firings, rexmit_seen (duplicate DATA the client
# received: the server's retransmissions that arrived), for ptftpd the
# server's own rexmit= sum and mean rtt_ms, and failed transfers.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
OUT=$BUILD/bench-loss

if [ "${BENCH_LOSS_NETNS:-0}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] || { echo "bench-loss: needs root (unshare -n)" >&2; exit 1; }
	command -v nft >/dev/null || { echo "bench-loss: nft missing (scripts/deps.sh check)" >&2; exit 1; }
	mkdir -p "$OUT/logs"
	# Peers are fetched outside the namespace: apt-get needs the network.
	PEERS_LOG=$OUT/logs/apt.log PEERS_LIB=0 scripts/peers.sh atftpd dnsmasq \
	    >/dev/null || echo "bench-loss: some peers unavailable" >&2
	BENCH_LOSS_NETNS=1 exec unshare -n "$0" "$@"
fi

LOSSES=${LOSSES:-0 1 3 10}
SERVERS=${SERVERS:-ptftpd ptftpd-fixed atftpd dnsmasq}
SCENARIOS=${SCENARIOS:-L W}
REPS=${REPS:-1}
LOADGEN=$BUILD/loadgen
PTFTPD=$BUILD/ptftpd
PEERS_LIB=1
# shellcheck source=peers.sh
. "$TOP/scripts/peers.sh"
# shellcheck source=srvlib.sh
. "$TOP/scripts/srvlib.sh"

for f in "$LOADGEN" "$PTFTPD"; do
	[ -x "$f" ] || { echo "bench-loss: $f not built" >&2; exit 1; }
done
mkdir -p "$OUT/logs"
RAW=$OUT/raw.tsv
: >"$RAW"

T=$(mktemp -d /tmp/ptftpd-bloss.XXXXXX) || exit 1
chmod 755 "$T"
ROOT=$T/root
mkdir -m 755 "$ROOT"
SPID=""

log() { echo "bench-loss: $*" >&2; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_server
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

ip link set lo up || exit 1
nft -f - <<-EOF || exit 1
	table inet ptloss {
		chain in {
			type filter hook input priority 0; policy accept;
		}
	}
EOF

# Drop $1 per cent of UDP on loopback, each packet at random.
set_loss() {
	local pm
	pm=$(awk -v p="$1" 'BEGIN { printf "%d", p * 10 + 0.5 }')
	nft flush chain inet ptloss in || return 1
	[ "$pm" -gt 0 ] || return 0
	nft add rule inet ptloss in meta l4proto udp \
	    numgen random mod 1000 "<" "$pm" counter drop
}

dropped() {
	nft list chain inet ptloss in 2>/dev/null |
	    sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -n 1
}

head -c 1 /dev/urandom >"$ROOT/probe"
head -c 65536 /dev/urandom >"$ROOT/f64k"
head -c 1048576 /dev/urandom >"$ROOT/f1m"
chmod 644 "$ROOT"/*

stop_server() {
	srv_stop "$SPID" 50
	SPID=""
}

# Start server $1 on port 69 of the namespace; its log is $2.
start_server() {
	local name=$1 slog=$2 conf=$T/$1.conf rto="" ld
	ld=$(peer_ld_path)
	case $name in
	ptftpd | ptftpd-fixed)
		[ "$name" = ptftpd-fixed ] && rto="rto_min_ms = 0;"
		[ "$name" = ptftpd ] && [ -n "${RTO_MIN_MS:-}" ] &&
		    rto="rto_min_ms = $RTO_MIN_MS;"
		cat >"$conf" <<-EOF
		workers = 1;
		listen = ( { address = "127.0.0.1"; port = 69; } );
		root = "$ROOT";
		user = "nobody";
		pid_file = "$T/$name.pid";
		log = { target = "stderr"; level = "info"; };
		session = { blksize_max = 65464; windowsize_max = 64; $rto
		            max_per_worker = 20000; max_per_client = 100000; };
		stats = { path = "$T/$name.stats"; };
		EOF
		cp "$conf" "$conf.base"
		echo "limits = { rate_per_client = 0; };" >>"$conf"
		"$PTFTPD" -t -c "$conf" >/dev/null 2>&1 || cp "$conf.base" "$conf"
		"$PTFTPD" -f -c "$conf" 2>>"$slog" &
		;;
	atftpd)
		LD_LIBRARY_PATH=$ld "$(peer_bin atftpd)" --daemon --no-fork \
		    --port 69 --bind-address 127.0.0.1 --user nobody \
		    --group nogroup --maxthread 20000 --logfile /dev/null \
		    "$ROOT" 2>>"$slog" &
		;;
	dnsmasq)
		LD_LIBRARY_PATH=$ld "$(peer_bin dnsmasq)" --keep-in-foreground \
		    --conf-file=/dev/null --port=0 --no-resolv --no-hosts \
		    --enable-tftp --tftp-root="$ROOT" --tftp-no-fail \
		    --tftp-max=1000 --listen-address=127.0.0.1 \
		    --bind-interfaces --user=nobody --group=nogroup \
		    --pid-file= --quiet-tftp --log-facility=/dev/null \
		    2>>"$slog" &
		;;
	*) return 1 ;;
	esac
	SPID=$!
	# Loss is off while a server starts.
	srv_wait_probe "$SPID" 69 "$ROOT" ||
	    { log "$name: does not answer"; stop_server; return 1; }
}

# loadgen arguments of a scenario.
scen_args() {
	case $1 in
	L) echo "${L_ARGS:--c 32 -n 96} -w 0 -e $ROOT/f64k f64k" ;;
	W) echo "${W_ARGS:--c 16 -n 16} -w 16 -e $ROOT/f1m f1m" ;;
	esac
}

for loss in $LOSSES; do
	for rep in $(seq 1 "$REPS"); do
		for srv in $SERVERS; do
			case $srv in
			atftpd | dnsmasq) [ -x "$(peer_bin "$srv")" ] || continue ;;
			esac
			slog=$OUT/logs/$srv-loss$loss-r$rep.log
			: >"$slog"
			set_loss 0
			start_server "$srv" "$slog" || continue
			for sc in $SCENARIOS; do
				n0=$(wc -l <"$slog")
				set_loss "$loss" || exit 1
				# shellcheck disable=SC2046
				line=$("$LOADGEN" -P 69 --timeout-ms 2000 --retries 8 \
				    --max-seconds 600 $(scen_args "$sc") \
				    2>>"$OUT/logs/loadgen.err")
				drops=$(dropped)
				set_loss 0
				# ptftpd's own figures from its per-transfer lines.
				srvx=$(tail -n +"$((n0 + 1))" "$slog" | awk '
				    / rexmit=/ { for (i = 1; i <= NF; i++) {
					split($i, kv, "=")
					if (kv[1] == "rexmit") r += kv[2]
					if (kv[1] == "gaps") g += kv[2]
					if (kv[1] == "rtt_ms" && kv[2] != "-") { t += kv[2]; nt++ }
				    } n++ }
				    END { if (n) printf "srv_rexmit=%d srv_gaps=%d srv_rtt_ms=%.3f", r, g, nt ? t / nt : -1 }')
				printf '%s\t%s\t%s\t%s\t%s drops=%s %s\n' "$loss" "$srv" \
				    "$sc" "$rep" "$line" "${drops:-0}" "$srvx" >>"$RAW"
				log "loss=$loss% $srv $sc: $line ${srvx}"
			done
			stop_server
		done
	done
done

python3 - "$RAW" >"$OUT/results.md" <<'EOF'
import sys
rows = []
for l in open(sys.argv[1]):
    loss, srv, sc, rep, rest = l.rstrip("\n").split("\t")
    kv = dict(x.split("=", 1) for x in rest.split() if "=" in x)
    rows.append((float(loss), srv, sc, kv))
print("# bench-loss: lossy loopback (random UDP drop, both directions), client timer 2 s\n")
print("L: 96 x 64 KiB lock-step, 32 at a time. W: 16 x 1 MiB windowsize 16.\n")
print("| loss % | scenario | server | secs | p50 ms | p99 ms | client timeouts | rexmit seen | srv rexmit | srv rtt ms | gaps | failed | dropped pkts |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for loss, srv, sc, kv in sorted(rows, key=lambda r: (r[0], r[2])):
    g = lambda k: kv.get(k, "-")
    print(f"| {loss:g} | {sc} | {srv} | {g('secs')} | {g('p50_ms')} | {g('p99_ms')} | {g('timeouts')} | {g('rexmit_seen')} | {g('srv_rexmit')} | {g('srv_rtt_ms')} | {g('srv_gaps')} | {g('failed')} | {g('drops')} |")
EOF
cat "$OUT/results.md"
