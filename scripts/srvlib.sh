# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# srvlib.sh - the shell helpers every script that starts a server on
# loopback needs the same way: a UDP port nothing has bound, a bounded wait
# until a server answers a probe, a bounded stop by pid. Sourced by
# scripts/bench.sh, scripts/bench-loss.sh, scripts/amplification.sh and
# tests/integration/lib.sh. It starts nothing and sets no trap: what to
# start, with which configuration, and when to stop it is the caller's.
#
#   srv_udp_bound PORT        true if a UDP socket (IPv4 or IPv6) has
#                             bound PORT in this network namespace
#   srv_random_port LO SPAN   a port in LO..LO+SPAN-1 none has bound (50
#                             tries); status 1 and nothing printed if none
#   srv_wait_probe PID PORT ROOT
#                             until the server PID gives the file "probe"
#                             of its root ROOT, byte for byte, to $LOADGEN
#                             -P PORT: 40 tries 0.25 s apart; 1 if PID dies
#                             or never answers
#   srv_stop PID [TENTHS]     SIGTERM, wait up to TENTHS (default 30) tenths
#                             of a second, then SIGKILL; reaps PID

srv_udp_bound() {
	local hex
	hex=$(printf '%04X' "$1")
	grep -q ":$hex " /proc/net/udp /proc/net/udp6 2>/dev/null
}

srv_random_port() {
	local lo=$1 span=$2 _ port
	for _ in $(seq 1 50); do
		port=$((lo + (RANDOM * 32768 + RANDOM) % span))
		srv_udp_bound "$port" || { echo "$port"; return 0; }
	done
	return 1
}

srv_wait_probe() {
	local pid=$1 port=$2 root=$3 _
	for _ in $(seq 1 40); do
		kill -0 "$pid" 2>/dev/null || return 1
		"$LOADGEN" -P "$port" --plain --timeout-ms 200 --retries 1 \
		    --max-seconds 2 -e "$root/probe" probe \
		    >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	return 1
}

srv_stop() {
	local pid=$1 n=${2:-30} _
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 "$n"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
