#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_netloss.sh - real packet loss: the test runs in a private network
# namespace (unshare -n, root) whose loopback drops 3% of UDP packets at
# random, both directions, with nftables (`numgen random mod 1000 < 30
# drop` in an input-hook chain; a drop at output would fail the sender's
# sendto() with EPERM instead of losing the packet). ptftpd serves and
# takes 1 MiB with tftp-hpa, atftp (windowsize 8), curl and busybox, and
# build/tftpc fetches it in lock-step and with windowsize 8 (client timer
# 2 s), all at once: every transfer completes byte-exact, within generous
# bounds (no wall-clock assertion: timeouts only stop a hung client), the
# loss was real (nft counted drops), and the server's log shows the
# retransmissions, an RTT estimate (rtt_ms=) and repaired gaps (gaps=).
# test_lossy.sh simulates loss inside tftpc instead, deterministically.
#
# tftp-hpa's upload is 256 KiB with `rexmt 1`: a lost DATA of an upload
# waits for the client's own timer (it rightly ignores our repeated ACK,
# RFC 1123 4.2.3.1), 5 s by default, which no server can shorten.
set -u
if [ "${PT_NETLOSS_NS:-0}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root (unshare -n)" >&2; exit 1; }
	command -v nft >/dev/null ||
	    { echo "FAIL: nft missing (scripts/deps.sh check)" >&2; exit 1; }
	PT_NETLOSS_NS=1 exec unshare -n bash "$0" "$@"
fi
. "$TOP/tests/integration/lib.sh"

ip link set lo up || pt_fail "lo up in the namespace"
nft -f - <<-EOF || pt_fail "nft table"
	table inet ptloss {
		chain in {
			type filter hook input priority 0; policy accept;
		}
	}
EOF

pt_mkfile f1m 1048576
UP=$ROOT/up
mkdir -m 755 "$UP"
chown nobody "$UP" 2>/dev/null || chmod 777 "$UP"
head -c 1048576 /dev/urandom >"$T/src.bin"
head -c 262144 /dev/urandom >"$T/src256k.bin"

# The loss starts once the daemon answers (pt_start probes it).
pt_start "routes = ( { prefix = \"up/\"; write = { create = true;
    overwrite = false; max_bytes = 2000000; mode = 0644; }; } );"
P=$PT_PORT
nft add rule inet ptloss in meta l4proto udp numgen random mod 1000 \
    "<" 30 counter drop || pt_fail "nft loss rule"

OUT=$T/out
mkdir "$OUT"
PIDS=""
NAMES=""
# bg NAME CMD...: one client in the background, bounded by `timeout`.
bg() {
	local name=$1
	shift
	(cd "$OUT" && exec timeout -k 5 170 "$@") >"$OUT/$name.log" 2>&1 &
	PIDS="$PIDS $!"
	NAMES="$NAMES $name"
	pt_track $!
}

pt_step "12 clients at once, 3% loss each way"
bg hpa-get tftp -m binary 127.0.0.1 "$P" -c get f1m hpa.bin
bg hpa-put sh -c "printf 'mode binary\nrexmt 1\nput $T/src256k.bin up/hpa.bin\n' |
    tftp 127.0.0.1 $P"
# atftp's get with blksize 1468: 90 windows instead of 256, so its
# once-only re-ACK (below) bites about 3 times less often.
bg atftp-get atftp --option "windowsize 8" --option "blksize 1468" -g -r f1m \
    -l atftp.bin 127.0.0.1 "$P"
bg atftp-put atftp --option "windowsize 8" -p -l "$T/src.bin" -r up/atftp.bin \
    127.0.0.1 "$P"
bg curl-get curl -sS "tftp://127.0.0.1:$P/f1m" -o curl.bin
bg curl-put curl -sS -T "$T/src.bin" "tftp://127.0.0.1:$P/up/curl.bin"
bg bb-get busybox tftp -g -r f1m -l bb.bin 127.0.0.1 "$P"
bg bb-put busybox tftp -p -l "$T/src.bin" -r up/bb.bin 127.0.0.1 "$P"
bg tftpc-lock "$TFTPC" -P "$P" -b 1468 --timeout-ms 2000 --retries 10 \
    --max-seconds 160 -c 2 -n 2 -E "$ROOT" f1m
bg tftpc-win "$TFTPC" -P "$P" -b 1468 -w 8 --timeout-ms 2000 --retries 10 \
    --max-seconds 160 -c 2 -n 2 -E "$ROOT" f1m

set -- $NAMES
bad=""
for p in $PIDS; do
	wait "$p"
	rc=$?
	echo "    $1: exit $rc"
	# Two atftp 0.8 client bugs no server can avoid at 3% loss, so that
	# failure is retried, twice at most (doc/CLIENTS.md):
	# - it aborts on a resent OACK ("unexpected OACK": its ACK 0 was
	#   lost and the server did what RFC 2347 asks);
	# - it re-ACKs a window it has whole only once ("got wrong block"
	#   for every later copy of it), and every copy restarts its own
	#   5 s timer: when its ACK and that one re-ACK are both lost
	#   (about 1 window in 1,000), it waits, silent, until the server
	#   gives up, then aborts ("timeout: retrying" x3).
	tries=0
	while [ $rc -ne 0 ] && [ "$1" = atftp-get ] && [ $tries -lt 2 ] &&
	    grep -Eq 'unexpected OACK|got wrong block' "$OUT/$1.log"; do
		tries=$((tries + 1))
		echo "    atftp-get: lost its ACKs (an atftp bug), again"
		(cd "$OUT" && timeout -k 5 120 atftp --option "windowsize 8" \
		    --option "blksize 1468" -g -r f1m -l atftp.bin \
		    127.0.0.1 "$P") >"$OUT/$1.log" 2>&1
		rc=$?
		echo "    $1: exit $rc"
	done
	# curl's upload once ended a block short (an empty DATA where a full
	# one was lost; 1 run in about 13): the WRQ announced tsize, so the
	# server refuses the short file instead of publishing it, and
	# nothing of it may be left. That refusal is what must happen; the
	# upload is then retried once, as an operator's script would.
	if [ $rc -ne 0 ] && [ "$1" = curl-put ] &&
	    grep -q 'file="up/curl.bin" .*result=error' "$PT_LOG"; then
		[ ! -e "$UP/curl.bin" ] ||
		    pt_fail "a refused upload left up/curl.bin behind"
		echo "    curl-put: refused, not the announced size; again"
		(cd "$OUT" && timeout -k 5 120 curl -sS -T "$T/src.bin" \
		    "tftp://127.0.0.1:$P/up/curl.bin") >"$OUT/$1.log" 2>&1
		rc=$?
		echo "    $1: exit $rc"
	fi
	# An upload whose final ACK was lost: the server stored and
	# published the file, ACKed it, and dallied one interval (500 ms
	# here, RFC 1350's "dally"); atftp resends its last DATA only after
	# its own 5 s timer, finds nobody and exits 1. Delivered: the byte
	# compare below proves it. (A dally as long as the clients' timers
	# is a behaviour change left to its own issue.)
	if [ $rc -ne 0 ] && [ "$1" = atftp-put ] &&
	    grep -q 'file="up/atftp.bin" .*result=ok' "$PT_LOG"; then
		echo "    atftp-put: stored (server result=ok), the final ACK was lost"
		rc=0
	fi
	if [ $rc -ne 0 ]; then
		bad="$bad $1"
		sed 's/^/        /' "$OUT/$1.log" | tail -n 5
	fi
	shift
done
[ -z "$bad" ] || pt_fail "clients failed:$bad"

pt_step "byte-exact"
pt_cmp "$ROOT/f1m" "$OUT/hpa.bin" "tftp-hpa get"
pt_cmp "$ROOT/f1m" "$OUT/atftp.bin" "atftp windowsize 8 get"
pt_cmp "$ROOT/f1m" "$OUT/curl.bin" "curl get"
pt_cmp "$ROOT/f1m" "$OUT/bb.bin" "busybox get"
# An upload is final (renamed into place) before its last ACK is sent.
pt_cmp "$T/src256k.bin" "$UP/hpa.bin" "tftp-hpa put"
pt_cmp "$T/src.bin" "$UP/atftp.bin" "atftp windowsize 8 put"
pt_cmp "$T/src.bin" "$UP/curl.bin" "curl put"
pt_cmp "$T/src.bin" "$UP/bb.bin" "busybox put"

pt_step "the loss was real and the server repaired it"
drops=$(nft list chain inet ptloss in |
    sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
echo "    packets dropped: $drops"
[ "${drops:-0}" -gt 0 ] || pt_fail "nftables dropped nothing"
nft flush chain inet ptloss in
# 12 transfers: 4 uploads, 4 client downloads, 2 + 2 tftpc. A download
# whose client has every byte (it exited 0, the file compared above) but
# whose final ACK was lost ends result=timeout with all but the last
# window acknowledged (bytes + blksize x windowsize >= tsize; lock-step:
# the last block): the client has finished
# and says nothing more (RFC 1350 section 6), and the server gives up on
# that last ACK after its retries. It counts as done; any other ending
# does not. (A retried atftp-get adds a line of its own: at least 12.)
ended() {
	grep -E 'op=(RRQ|WRQ) file="(f1m|up/[a-z]+\.bin)"' "$PT_LOG" |
	    grep -v 'result=refused' | awk '
	/result=ok / { n++; next }
	/op=RRQ .*result=timeout / {
		t = b = k = w = -1
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "tsize") t = kv[2] + 0
			else if (kv[1] == "blksize") k = kv[2] + 0
			else if (kv[1] == "windowsize") w = kv[2] + 0
			else if (kv[1] == "bytes") b = kv[2] + 0
		}
		if (t >= 0 && b >= 0 && k > 0 && w > 0 && b + k * w >= t) n++
	}
	END { print n + 0 }'
}
all_ended() { [ "$(ended)" -ge 12 ]; }
# A last ACK lost waits out the server's retries (lib.sh: about 10 s).
pt_wait_for 30 all_ended ||
    pt_fail "only $(ended) transfers ended with the data delivered, of 12"
grep -q 'result=ok .* rexmit=[1-9]' "$PT_LOG" ||
    pt_fail "no retransmission logged at 3% loss"
grep -Eq 'result=ok .* rtt_ms=[0-9]+\.[0-9]{3} ' "$PT_LOG" ||
    pt_fail "no rtt_ms= estimate logged"
grep -Eq 'windowsize=8 .*result=ok .* gaps=[1-9]' "$PT_LOG" ||
    pt_fail "no repaired gap logged for a windowed transfer"
grep 'result=ok' "$PT_LOG" | grep -Eo 'op=[A-Z]+|windowsize=[0-9]+|ms=[0-9]+|rexmit=[0-9]+|rtt_ms=[0-9.]+|gaps=[0-9]+' |
    paste -sd' ' | sed 's/ op=/\n    op=/g; s/^/    /'
echo

pt_stop
echo "PASS netloss"
