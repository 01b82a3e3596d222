#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_basic.sh - the protocol surface of one daemon: every interesting file
# size at every block size class, with and without tsize, arrives
# byte-exact; the OACK echoes only what was asked (tftpc fails on anything
# else, and on an OACK to a request without options); netascii goes on the
# wire as CR LF / CR NUL; the error codes are right (1 missing, 2 escape /
# non-regular / WRQ, 4 mail); a FIFO does not hang a worker; an EDK2 size
# probe is logged as result=probe and the real request after it works; a
# retransmitted RRQ does not start a second session.
set -u
. "$TOP/tests/integration/lib.sh"

pt_mkfiles 0 1 511 512 513 1468 1469 102400
FILES=$PT_FILES
nfiles=$(echo $FILES | wc -w)

pt_start

pt_step "sizes x blksize (default, 1468, 8, 65464) x tsize, byte-exact"
for b in 0 1468 8 65464; do
	pt_tftpc -b "$b" -c "$nfiles" -n "$nfiles" -E "$ROOT" $FILES ||
	    pt_fail "blksize $b without tsize"
	pt_tftpc -b "$b" -t -c "$nfiles" -n "$nfiles" -E "$ROOT" $FILES ||
	    pt_fail "blksize $b with tsize"
done

pt_step "timeout option is echoed exactly; IPv6 the same as IPv4"
pt_tftpc -T 3 -b 1468 -t -e "$ROOT/f102400" f102400 || pt_fail "timeout opt"
pt_tftpc -H ::1 -b 1468 -t -c "$nfiles" -n "$nfiles" -E "$ROOT" $FILES ||
    pt_fail "IPv6"

pt_step "leading slash names the same file"
pt_tftpc -e "$ROOT/f513" /f513 || pt_fail "leading slash"

pt_step "netascii: LF -> CR LF, CR -> CR NUL, also across block edges"
# Text whose line ends fall on the 512 and 1468 boundaries.
perl -e '
my $out = "";
for my $i (0 .. 299) {
	$out .= "x" x ($i % 37) . ($i % 11 == 0 ? "\r" : "") . "\n";
}
substr($out, 511, 1) = "\n";
substr($out, 1467, 1) = "\r";
print $out, "no final newline";
' >"$ROOT/text" || pt_fail "make text"
chmod 644 "$ROOT/text"
pt_netascii "$ROOT/text" "$T/text.na"
pt_tftpc -m netascii -e "$T/text.na" text || pt_fail "netascii 512"
pt_tftpc -m netascii -b 1468 -t -e "$T/text.na" text ||
    pt_fail "netascii 1468"
pt_netascii "$ROOT/f102400" "$T/bin.na"
pt_tftpc -m netascii -b 1468 -e "$T/bin.na" f102400 ||
    pt_fail "netascii of binary content"

pt_step "errors: 1 missing, 2 escape, 4 mail, 2 WRQ"
pt_tftpc -x 1 no-such-file || pt_fail "missing file: ERROR 1"
pt_tftpc -x 1 -b 1468 -t no-such-file || pt_fail "missing + options: ERROR 1"
pt_tftpc -x 2 ../etc/passwd || pt_fail "../etc/passwd: ERROR 2"
pt_tftpc -x 2 /../../etc/passwd || pt_fail "/../../etc/passwd: ERROR 2"
mkdir -m 755 "$ROOT/dir"
pt_tftpc -x 2 dir/../../etc/passwd || pt_fail "dir/../../: ERROR 2"
ln -s /etc/passwd "$ROOT/escape-link"
pt_tftpc -x 2 escape-link || pt_fail "symlink out of the root: ERROR 2"
pt_tftpc -x 2 dir || pt_fail "directory: ERROR 2"
pt_tftpc -x 4 -m mail f512 || pt_fail "mail mode: ERROR 4"
pt_tftpc --wrq -x 2 new-upload || pt_fail "WRQ: ERROR 2"
pt_tftpc --wrq -x 2 f512 || pt_fail "WRQ over a file: ERROR 2"
[ "$(cat "$ROOT/f512" | wc -c)" -eq 512 ] || pt_fail "f512 changed"
[ -e "$ROOT/new-upload" ] && pt_fail "WRQ created a file"

pt_step "a FIFO gets ERROR 2 and does not block the worker"
mkfifo -m 644 "$ROOT/fifo"
pt_tftpc -x 2 --max-seconds 5 fifo || pt_fail "FIFO: ERROR 2"
# Many source ports, so the next requests reach every worker.
pt_tftpc -c 20 -n 1 --max-seconds 4 -e "$ROOT/f1469" f1469 ||
    pt_fail "requests after the FIFO were not answered promptly"

pt_step "EDK2 probe: tsize OACK, ERROR 8, real RRQ on the same port"
# EDK2 sends the ERROR 8 and the second RRQ back to back; 20 rounds, so a
# race between the two shows up as a wrong result= in the log.
pt_mkfile pf 102400
pt_tftpc --probe -b 1468 -w 4 -c 20 -n 1 -e "$ROOT/pf" pf ||
    pt_fail "probe then transfer"
pt_tftpc --probe -b 1468 -e "$ROOT/f0" f0 || pt_fail "probe of an empty file"
for i in $(seq 1 30); do
	[ "$(grep -c 'file="pf".* result=ok' "$PT_LOG")" -ge 20 ] && break
	sleep 0.1
done
np=$(grep -c 'file="pf".* result=probe' "$PT_LOG")
nok=$(grep -c 'file="pf".*windowsize=4 .*result=ok' "$PT_LOG")
if [ "$np" -ne 20 ] || [ "$nok" -ne 20 ]; then
	grep 'file="pf"' "$PT_LOG" | grep -v 'result=ok' | sed 's/^/    /'
	pt_fail "20 probes logged as $np result=probe and $nok result=ok"
fi

pt_step "a repeated RRQ (same port, same file) makes one session, not two"
pt_mkfile dup 102400
pt_tftpc --dup-rrq -b 1468 -t -e "$ROOT/dup" dup || pt_fail "repeated RRQ"
pt_tftpc --dup-rrq -e "$ROOT/dup" dup || pt_fail "repeated plain RRQ"
# Both transfers logged and no transfer left open: a second session of a
# repeated RRQ would be logged by then too.
dup_done() {
	[ "$(grep -c 'file="dup"' "$PT_LOG")" -ge 2 ] &&
	    [ "$(pt_stat sess_active)" = 0 ]
}
pt_wait_for 10 dup_done || pt_fail "dup not logged twice, or still active"
n=$(grep -c 'file="dup"' "$PT_LOG")
[ "$n" -eq 2 ] || pt_fail "2 transfers of dup logged as $n sessions"

pt_step "one log line per finished transfer, with the fields"
pt_wait_log 'op=RRQ file="f513" mode=octet .*blksize=1468 .*result=ok bytes=513 ' ||
    pt_fail "log line for f513 at blksize 1468"
pt_wait_log 'peer=\[::1\]:[0-9]+ op=RRQ' || pt_fail "IPv6 peer in the log"

pt_stop
echo "PASS basic"
