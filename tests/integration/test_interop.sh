#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_interop.sh - the operators' tools against the daemon, IPv4 and
# IPv6: tftp-hpa's tftp, atftp, curl and busybox tftp each fetch an empty
# file, exactly one block, a few hundred KB, and (tftp-hpa and curl) a file
# over 32 MiB at blksize 512 that needs block-number rollover; byte-exact.
# Client quirks met here:
# - tftp-hpa 5.2's client sends no options at all (no blksize/tsize
#   commands); its netascii mode converts CR LF back to LF locally, so the
#   result equals the original file.
# - curl rejects an OACK with "tsize 0" ("invalid tsize value in OACK",
#   same against tftpd-hpa), so the empty file is fetched with
#   --tftp-no-options.
set -u
. "$TOP/tests/integration/lib.sh"

pt_mkfile f0 0
pt_mkfile f512 512
pt_mkfile f300k 300000
pt_mkfile big 34000000		# > 32 MiB and > 65535 blocks of 512
printf 'line one\nline two\r\nbare\rcr\n\nend' >"$ROOT/text"
chmod 644 "$ROOT/text"

pt_start
P=$PT_PORT
OUT=$PT_GOT		# pt_get compares it with the served file

pt_step "tftp-hpa"
for f in f0 f512 f300k; do
	pt_get "tftp-hpa $f" "$f" tftp -m binary 127.0.0.1 "$P" -c get "$f" "$OUT"
	pt_get "tftp-hpa -6 $f" "$f" tftp -6 -m binary ::1 "$P" -c get "$f" "$OUT"
done
pt_get "tftp-hpa [::1]" f300k tftp -v -m binary '[::1]' "$P" -c get f300k "$OUT"
pt_get "tftp-hpa command mode" f512 sh -c "printf 'binary\nget f512 $OUT\nquit\n' |
    tftp 127.0.0.1 $P"
pt_get "tftp-hpa netascii" text tftp -m ascii 127.0.0.1 "$P" -c get text "$OUT"
pt_get "tftp-hpa 34 MB (rollover)" big tftp -m binary 127.0.0.1 "$P" \
    -c get big "$OUT"

pt_step "atftp"
for f in f0 f512 f300k; do
	pt_get "atftp $f" "$f" atftp -g -r "$f" -l "$OUT" 127.0.0.1 "$P"
	pt_get "atftp ::1 $f" "$f" atftp -g -r "$f" -l "$OUT" ::1 "$P"
done
pt_get "atftp blksize 1428" f300k atftp --option "blksize 1428" \
    -g -r f300k -l "$OUT" 127.0.0.1 "$P"
pt_get "atftp tsize 0" f300k atftp --option "tsize 0" \
    -g -r f300k -l "$OUT" 127.0.0.1 "$P"
pt_get "atftp tsize 0 empty" f0 atftp --option "tsize 0" \
    -g -r f0 -l "$OUT" 127.0.0.1 "$P"
pt_get "atftp windowsize 8" f300k atftp --option "windowsize 8" \
    --option "blksize 1468" -g -r f300k -l "$OUT" 127.0.0.1 "$P"
pt_get "atftp ::1 windowsize 8" f300k atftp --option "windowsize 8" \
    -g -r f300k -l "$OUT" ::1 "$P"

pt_step "curl"
for f in f512 f300k; do
	pt_get "curl $f" "$f" curl -sS "tftp://127.0.0.1:$P/$f" -o "$OUT"
	pt_get "curl [::1] $f" "$f" curl -sS "tftp://[::1]:$P/$f" -o "$OUT"
done
pt_get "curl empty, no options" f0 curl -sS --tftp-no-options \
    "tftp://127.0.0.1:$P/f0" -o "$OUT"
pt_get "curl blksize 1468" f300k curl -sS --tftp-blksize 1468 \
    "tftp://127.0.0.1:$P/f300k" -o "$OUT"
pt_get "curl no options" f300k curl -sS --tftp-no-options \
    "tftp://127.0.0.1:$P/f300k" -o "$OUT"
pt_get "curl 34 MB blksize 512 (rollover)" big curl -sS --tftp-blksize 512 \
    "tftp://127.0.0.1:$P/big" -o "$OUT"
rm -f "$OUT"
timeout 20 curl -sS "tftp://127.0.0.1:$P/no-such-file" -o "$OUT" 2>/dev/null &&
    pt_fail "curl: a missing file succeeded"

pt_step "busybox tftp"
for f in f0 f512 f300k; do
	pt_get "busybox $f" "$f" busybox tftp -g -r "$f" -l "$OUT" 127.0.0.1 "$P"
	pt_get "busybox ::1 $f" "$f" busybox tftp -g -r "$f" -l "$OUT" ::1 "$P"
done
pt_get "busybox -b 1468" f300k busybox tftp -b 1468 -g -r f300k -l "$OUT" \
    127.0.0.1 "$P"
pt_get "busybox ::1 -b 1468" f300k busybox tftp -b 1468 -g -r f300k \
    -l "$OUT" ::1 "$P"

pt_step "no transfer ended in error"
grep -E 'result=(error|timeout|aborted)' "$PT_LOG" | grep -v no-such-file &&
    pt_fail "a client transfer did not end well (see above)"

pt_stop
echo "PASS interop"
