#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_client_selfcheck.sh - proves that tftpc, the client every other test
# trusts, is right: run against reference servers from Debian (in.tftpd of
# tftpd-hpa, and atftpd for RFC 7440 windows), it fetches files byte-exact
# across sizes, block sizes, rollover, windows, loss and duplicates, and it
# FAILS when the expected content, length or error code is wrong. The
# servers are unpacked (never installed) into $BUILD/peers; if they cannot be
# downloaded the test says so and passes.
set -u
. "$TOP/tests/integration/lib.sh"

PEERS=$BUILD/peers
# One tree per package: atftpd ships an in.tftpd of its own.
INTFTPD=$PEERS/tftpd-hpa/usr/sbin/in.tftpd
ATFTPD=$PEERS/atftpd/usr/sbin/atftpd
PEER_PORT=""
PEER_PID=""

# Downloads and unpacks a Debian package into $PEERS/PKG unless present.
peer_unpack() {
	local pkg=$1 deb
	deb=$(ls "$PEERS/${pkg}"_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		(cd "$PEERS" && timeout 60 apt-get download "$pkg") \
		    >/dev/null 2>&1 ||
		    (apt-get update -q >/dev/null 2>&1 &&
		    cd "$PEERS" && timeout 60 apt-get download "$pkg") \
		    >/dev/null 2>&1 || return 1
		deb=$(ls "$PEERS/${pkg}"_*.deb 2>/dev/null | head -n 1)
		[ -n "$deb" ] || return 1
	fi
	dpkg -x "$deb" "$PEERS/$pkg"
}

peer_fetch() {
	mkdir -p "$PEERS"
	if [ ! -x "$INTFTPD" ]; then
		peer_unpack tftpd-hpa || return 1
	fi
	if [ ! -x "$ATFTPD" ]; then
		peer_unpack atftpd || echo "note: atftpd unavailable"
	fi
	# Both peers link libwrap, which is not installed here.
	if ! ldconfig -p | grep -q 'libwrap\.so\.0 '; then
		ls "$PEERS"/libwrap0/usr/lib/*/libwrap.so.0 >/dev/null 2>&1 ||
		    peer_unpack libwrap0 || return 1
		LD_LIBRARY_PATH=$(dirname "$(ls "$PEERS"/libwrap0/usr/lib/*/libwrap.so.0 |
		    head -n 1)")
		export LD_LIBRARY_PATH
	fi
	return 0
}

# Stops the current peer and the transfer children it forked, by pid.
peer_stop() {
	local c
	[ -n "$PEER_PID" ] || return 0
	for c in $(pgrep -P "$PEER_PID"); do
		kill -KILL "$c" 2>/dev/null
	done
	kill -TERM "$PEER_PID" 2>/dev/null
	wait "$PEER_PID" 2>/dev/null
	PEER_PID=""
}

# peer_start in.tftpd|atftpd 4|6: on a random port, bounded retries.
peer_start() {
	local which=$1 fam=$2 try i host=127.0.0.1
	[ "$fam" = 6 ] && host=::1
	for try in 1 2 3 4 5; do
		PEER_PORT=$(pt_random_port)
		if [ "$which" = in.tftpd ]; then
			# -T: first retransmit after 200 ms (it backs off from
			# there and gives up after about 1.4 s).
			if [ "$fam" = 6 ]; then
				"$INTFTPD" -L -6 -a "[::1]:$PEER_PORT" -T 200000 \
				    -s "$ROOT" 2>>"$T/peer.log" &
			else
				"$INTFTPD" -L -4 -a "127.0.0.1:$PEER_PORT" \
				    -T 200000 -s "$ROOT" 2>>"$T/peer.log" &
			fi
		else
			"$ATFTPD" --daemon --no-fork --port "$PEER_PORT" \
			    --bind-address "$host" --user nobody \
			    --group nogroup --retry-timeout 1 \
			    --logfile "$T/atftpd.log" "$ROOT" \
			    2>>"$T/peer.log" &
		fi
		PEER_PID=$!
		pt_track "$PEER_PID"
		for i in $(seq 1 20); do
			kill -0 "$PEER_PID" 2>/dev/null || break
			if timeout 5 "$TFTPC" -H "$host" -P "$PEER_PORT" -x 1 \
			    --timeout-ms 200 --retries 2 no-such-file \
			    >/dev/null 2>&1; then
				return 0
			fi
			sleep 0.1
		done
		peer_stop
	done
	cat "$T/peer.log" >&2
	pt_fail "cannot start $which"
}

# c ARGS: tftpc against the current peer must succeed.
c() {
	timeout -k 2 120 "$TFTPC" -P "$PEER_PORT" "$@" >"$PT_OUT" 2>&1
	local rc=$?
	sed 's/^/    /' "$PT_OUT"
	[ $rc -eq 0 ] || pt_fail "tftpc $* exited $rc"
}

# c_fails REASON-ERE ARGS: tftpc must exit non-zero and say why.
c_fails() {
	local re=$1 rc
	shift
	timeout -k 2 120 "$TFTPC" -P "$PEER_PORT" "$@" >"$PT_OUT" 2>&1
	rc=$?
	sed 's/^/    /' "$PT_OUT"
	[ $rc -ne 0 ] || pt_fail "tftpc $* passed but must fail"
	grep -Eq -- "$re" "$PT_OUT" || pt_fail "tftpc $*: no \"$re\""
}

pt_need_tftpc
if ! peer_fetch; then
	pt_skip "cannot download tftpd-hpa from Debian; selfcheck not run"
fi

for s in 0 1 511 512 513 1468 1469 102400; do
	pt_mkfile "f$s" "$s"
done
pt_mkfile big 34000000		# > 65535 blocks of 512: rollover
pt_mkfile mid 300000
printf 'line one\nline two\r\nbare\rcr\n\n' >"$ROOT/text"
chmod 644 "$ROOT/text"

peer_start in.tftpd 4

pt_step "byte-exact over sizes and block sizes, with and without tsize"
for b in 0 8 1468 65464; do
	c -b "$b" -E "$ROOT" f0 f1 f511 f512 f513 f1468 f1469 f102400 -c 8 -n 8
	c -b "$b" -t -E "$ROOT" f0 f1 f511 f512 f513 f1468 f1469 f102400 \
	    -c 8 -n 8
done

pt_step "-o writes exactly what was received"
c -b 1468 -o "$T/out" mid
pt_cmp "$ROOT/mid" "$T/out" "-o output"

pt_step "a wrong expected file is caught, at the right offset"
cp "$ROOT/mid" "$T/bad"
pt_flip_byte "$T/bad" 70000
c_fails "differs at offset 70000" -e "$T/bad" mid
c_fails "differs at offset 70000" -b 1468 -w 0 -e "$T/bad" mid
head -c 299999 "$ROOT/mid" >"$T/short"
c_fails "more than the 299999 expected" -e "$T/short" mid
cp "$ROOT/mid" "$T/long"
printf 'z' >>"$T/long"
c_fails "expected 300001" -e "$T/long" mid
c_fails "OACK tsize 300000, expected 300001" -t -e "$T/long" mid

pt_step "error expectations: -x passes only on that code"
c -x 1 no-such-file
c_fails "ERROR 1" no-such-file
c_fails "expected ERROR" -x 1 -e "$ROOT/f512" f512
c_fails "ERROR 1 .*not the expected" -x 2 no-such-file

pt_step "many concurrent transfers, mixed sizes and block sizes"
c -n 50 -c 200 -b 0,512,1468,65464 -t -E "$ROOT" f0 f513 f1469 f102400 mid

pt_step "rollover: $((34000000 / 512 + 1)) blocks of 512, lock-step"
c -b 512 -e "$ROOT/big" big
cp "$ROOT/big" "$T/bigbad"
pt_flip_byte "$T/bigbad" 33600000	# past the rollover, checked below

pt_step "loss: 10% DATA dropped, 10% ACKs doubled, some ACKs dropped"
c -b 1468,512 --drop-data-rate 10 --dup-rate 10 --drop-ack 0,1,7,20 \
    --seed 3 --timeout-ms 100 --retries 25 -c 4 -n 4 -E "$ROOT" f102400 f1469

pt_step "EDK2 probe: tsize, ERROR 8, then the real request on the same port"
c --probe -b 1468 -e "$ROOT/mid" mid
c_fails "OACK tsize" --probe -b 1468 -e "$T/long" mid

pt_step "stall: the server resends, then gives up"
c --stop-after 3 --quiet-ms 2000 f102400
[ "$(pt_summary rexmit_seen)" -gt 0 ] || pt_fail "no resend counted"
c_fails "resent packets, more than 0" --stop-after 3 --quiet-ms 2000 \
    --max-rexmit 0 f102400

pt_step "--dup-rrq notices a second session (in.tftpd forks one per RRQ)"
# Long enough (lock-step, 512-byte blocks) that the second child's first
# DATA arrives while the transfer still runs, even on a loaded machine.
pt_mkfile dup 4000000
c_fails "second transfer ID" --dup-rrq -e "$ROOT/dup" dup

pt_step "netascii: the server's conversion matches pt_netascii"
pt_netascii "$ROOT/text" "$T/text.na"
c -m netascii -e "$T/text.na" text
peer_stop

pt_step "IPv6"
peer_start in.tftpd 6
c -H ::1 -b 1468 -t -e "$ROOT/mid" mid
c -H '[::1]' -e "$ROOT/f512" f512
peer_stop

if [ -x "$ATFTPD" ]; then
	peer_start atftpd 4
	pt_step "windows (atftpd): windowsize 4/8/16, rollover at windowsize 16"
	c -b 1468 -w 4,8,16 -t -c 3 -n 3 -e "$ROOT/mid" mid
	c -b 512 -w 16 -e "$ROOT/big" big
	c_fails "differs at offset 33600000" -b 512 -w 16 -e "$T/bigbad" big
	pt_step "windows with loss: gaps are ACKed at the last in-order block"
	c -b 1468,512 -w 8 --drop-data-rate 10 --dup-rate 10 \
	    --drop-ack 0,8,16 --seed 5 --timeout-ms 100 --retries 25 \
	    -c 6 -n 6 -e "$ROOT/f102400" f102400
	peer_stop
else
	echo "note: atftpd missing, window checks skipped"
fi
echo "PASS client_selfcheck"
