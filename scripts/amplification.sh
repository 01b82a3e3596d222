#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# amplification.sh - what one spoofed RRQ that is never acknowledged makes
# a server send, on loopback: how many times the first packet (OACK or
# DATA 1) goes out, when the last copy goes, and the bytes on the wire
# (UDP payload + 28 bytes of IPv4 and UDP headers, both directions). For
# ptftpd with its default session settings (timeout_ms 1000,
# timeout_max_ms 5000, first_retries 3) and, for comparison, tftpd-hpa's
# in.tftpd (defaults: -T 1000000, i.e. 1 s, with its own back-off), each
# serving a 100 KB file; one request without options (the answer is
# DATA 1 of 512 bytes) and one with blksize 1468 and tsize 0 (OACK).
#
# tftpd-hpa is fetched by scripts/peers.sh (`apt-get download` into
# peers/, git-ignored, unpacked there with dpkg -x); it is never installed.
# Set PEERS=none to measure ptftpd alone.
#
#   scripts/amplification.sh            BUILD=build, listen 40 s
#   SECS=60 scripts/amplification.sh
#
# Every process started here is stopped by pid; only 127.0.0.1 is used.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BUILD=${BUILD:-build}
SECS=${SECS:-40}
PEERS=${PEERS:-tftpd-hpa}
FILE=file100k.bin
PEERS_LIB=1
# shellcheck source=peers.sh
. "$TOP/scripts/peers.sh"
# shellcheck source=srvlib.sh
. "$TOP/scripts/srvlib.sh"

make -s "BUILD=$BUILD" "$BUILD/ptftpd" "$BUILD/flood" >/dev/null ||
    { echo "amplification: build failed" >&2; exit 1; }

T=$(mktemp -d /tmp/ptftpd-amp.XXXXXX) || exit 1
chmod 755 "$T"
ROOT=$T/root
mkdir -m 755 "$ROOT"
head -c 102400 /dev/urandom >"$ROOT/$FILE"
chmod 644 "$ROOT/$FILE"
PIDS=""

cleanup() {
	local p
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.2
	for p in $PIDS; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

# Waits (bounded) until something answers on port $1 with ERROR 1.
wait_up() {
	local i
	for i in $(seq 1 50); do
		"$BUILD/flood" -P "$1" -n 1 -T 1 --quiet-ms 300 no-such-file \
		    2>/dev/null | grep -q ' err1=1 ' && return 0
		sleep 0.1
	done
	return 1
}

start_ptftpd() {
	local port=$1
	cat >"$T/ptftpd.conf" <<-EOF
	workers = 1;
	listen = ( { address = "127.0.0.1"; port = $port; } );
	root = "$ROOT";
	user = "nobody";
	pid_file = "$T/ptftpd.pid";
	log = { target = "stderr"; level = "info"; };
	stats = { path = "$T/ptftpd.stats"; };
	EOF
	"$BUILD/ptftpd" -f -c "$T/ptftpd.conf" 2>>"$T/ptftpd.log" &
	PIDS="$PIDS $!"
}

start_hpa() {
	local port=$1 args=""
	# -L foreground, -s chroot and -u nobody when we are root.
	[ "$(id -u)" = 0 ] && args="-s -u nobody"
	LD_LIBRARY_PATH=$(peer_ld_path) "$(peer_bin tftpd-hpa)" -L $args \
	    -a "127.0.0.1:$port" "$ROOT" 2>>"$T/hpa.log" &
	PIDS="$PIDS $!"
}

# One never-ACKed request: flood prints the figures; kept in $T/$2.out.
measure() {
	local port=$1 tag=$2
	shift 2
	"$BUILD/flood" -P "$port" -n 1 -T "$SECS" "$@" "$FILE" \
	    >"$T/$tag.out" 2>&1 &
	MPIDS="$MPIDS $!"
}

field() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$2"
}

SERVERS="ptftpd"
P1=$(srv_random_port 20000 40000) || exit 1
start_ptftpd "$P1"
wait_up "$P1" || { echo "amplification: ptftpd did not start" >&2; cat "$T/ptftpd.log" >&2; exit 1; }
case " $PEERS " in
*" tftpd-hpa "*)
	if peers_setup tftpd-hpa 2>>"$T/hpa.log"; then
		P2=$(srv_random_port 20000 40000) || exit 1
		start_hpa "$P2"
		if wait_up "$P2"; then
			SERVERS="$SERVERS tftpd-hpa"
		else
			echo "amplification: tftpd-hpa did not start" >&2
			cat "$T/hpa.log" >&2
		fi
	else
		echo "amplification: cannot fetch tftpd-hpa, skipped" >&2
	fi
	;;
esac

echo "amplification: one RRQ for a 102400-byte file, never ACKed," \
    "listening ${SECS} s"
MPIDS=""
for s in $SERVERS; do
	port=$P1
	[ "$s" = tftpd-hpa ] && port=$P2
	measure "$port" "$s-plain"
	measure "$port" "$s-opts" -o blksize=1468,tsize=0
done
for p in $MPIDS; do
	wait "$p"
done

printf '%-10s %-22s %6s %8s %9s %9s %8s %7s\n' server request copies \
    "last(s)" "sent(B)" "recv(B)" "ratio" "pkts"
for s in $SERVERS; do
	for k in plain opts; do
		f=$T/$s-$k.out
		req="no options"
		[ "$k" = opts ] && req="blksize 1468, tsize 0"
		printf '%-10s %-22s %6s %8.1f %9s %9s %7sx %7s\n' "$s" "$req" \
		    "$(field first_max "$f")" \
		    "$(awk -v m="$(field first_last_ms "$f")" \
		    'BEGIN { print m / 1000 }')" \
		    "$(field sent_wire "$f")" "$(field rx_wire "$f")" \
		    "$(field amp_wire "$f")" \
		    "$(field sent_pkts "$f")/$(field rx_pkts "$f")"
	done
done
echo "(bytes on the wire: UDP payload + 28 bytes of IPv4/UDP headers;" \
    "copies: times the first packet, OACK or DATA 1, was sent;" \
    "last: when the last copy came, after the request)"
