#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_truncate.sh - a file truncated in place under transfers that send it
# from their mapping: the next DATA past the new end faults (EFAULT), each
# such transfer ends with ERROR 0 "File changed on server", never a short
# or empty datagram, and the worker goes on serving. With a socket per
# transfer and in single port mode, where the ACKs of several transfers
# read by one recvmmsg are answered by one shared send queue.
set -u
. "$TOP/tests/integration/lib.sh"

LOADGEN=$BUILD/loadgen
[ -x "$LOADGEN" ] || pt_fail "$LOADGEN not built (make check builds it)"
N=8

# tr_run LABEL [CONFIG LINE...]
tr_run() {
	local label=$1 out=$T/lg.out lg i errs
	shift
	pt_mkfile big 2000000
	cp "$ROOT/big" "$T/big.orig"
	pt_mkfile small 3000
	pt_start "$@"
	pt_step "$label: $N slow transfers of a 2 MB file, truncated under them"
	# ACKs 20 ms late: 2 MB in 512-byte blocks would take 80 s.
	"$LOADGEN" -P "$PT_PORT" --plain -c "$N" -n "$N" --slow-ack-ms 20 \
	    --timeout-ms 500 --retries 3 --max-seconds 30 \
	    -e "$T/big.orig" big >"$out" 2>"$T/lg.err" &
	lg=$!
	pt_track "$lg"
	# Once all N transfers are sending and past the first pages: bytes
	# of the file's last page beyond a new end read as zeros, not a
	# fault, so the test needs the transfers beyond 4 KiB (they run in
	# step: N x 12 KiB sent).
	pt_wait_for 10 pt_stat_ge sess_active "$N" ||
	    pt_fail "$N transfers never started"
	pt_wait_for 20 pt_stat_ge tx_bytes $((N * 12288)) ||
	    pt_fail "the transfers never got past 12 KiB"
	truncate -s 1000 "$ROOT/big" || pt_fail "truncate"
	for i in $(seq 1 300); do
		kill -0 "$lg" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$lg" 2>/dev/null && pt_fail "$label: loadgen still running"
	wait "$lg"
	sed 's/^/    /' "$out"
	grep -q "^transfers=$N " "$out" || pt_fail "$label: not $N transfers"
	errs=$(sed -n 's/.* errors=\([0-9]*\) .*/\1/p' "$out")
	[ "${errs:-0}" -eq "$N" ] ||
	    pt_fail "$label: $errs of $N transfers ended with an ERROR"
	grep -q ' mismatch=0 ' "$out" ||
	    pt_fail "$label: a short, empty or wrong datagram reached a client"
	grep -q 'File changed on server' "$T/lg.err" ||
	    pt_fail "$label: not the ERROR \"File changed on server\""
	[ "$(grep -c 'file="big".* result=error' "$PT_LOG")" -ge "$N" ] ||
	    pt_fail "$label: not $N transfers logged as result=error"
	pt_step "$label: the workers go on serving"
	pt_tftpc -n 4 -c 8 -e "$ROOT/small" small || pt_fail "$label: serving"
	pt_stop
	: >"$PT_LOG"
}

tr_run "socket per transfer"
tr_run "single port" "single_port = true;"
echo "PASS truncate"
