#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_chroot.sh - `chroot`: workers confine themselves to a directory
# after opening their roots. Proves: every worker's root directory is the
# chroot (the supervisor's is not), plain files, uploads (no /proc in the
# chroot: the named temporary file path) and exec routes (the spawner was
# forked before the chroot) all still work, and a missing chroot
# directory is a config error naming file, line and setting.
. "$TOP/tests/integration/lib.sh"
pt_need_tftpc

JAIL=$T/jail
mkdir -m 755 "$JAIL" "$ROOT/up"
chown nobody "$ROOT/up"
pt_mkfile f 300000
cat >"$T/gen.sh" <<'SH'
#!/bin/sh
echo "gen $PTFTPD_FILE for $PTFTPD_CLIENT_IP"
SH
chmod 755 "$T/gen.sh"

pt_step "a missing chroot directory is a config error"
printf 'root = "%s";\nchroot = "%s/nowhere";\n' "$ROOT" "$T" >"$T/bad.conf"
out=$("$PTFTPD" -t -c "$T/bad.conf" 2>&1) && pt_fail "-t accepted a missing chroot"
echo "$out" | grep -q "bad.conf:2: chroot: .*nowhere: No such file or directory" ||
    pt_fail "unexpected message: $out"

pt_start "chroot = \"$JAIL\";" \
    "routes = ( { prefix = \"up/\"; write = { create = true; overwrite = true; }; }, { prefix = \"gen/\"; handler = \"exec\"; command = [ \"$T/gen.sh\" ]; } );"

pt_step "workers live in the chroot, the supervisor does not"
for w in $(pgrep -P "$PT_PID"); do
	comm=$(cat "/proc/$w/comm" 2>/dev/null)
	[ "$comm" = ptftpd ] || continue
	r=$(readlink "/proc/$w/root")
	# the exec spawner (a child of a worker, not of the supervisor) is
	# not listed here; every direct child is a worker
	[ "$r" = "$JAIL" ] || pt_fail "worker $w has root $r, want $JAIL"
done
[ "$(readlink "/proc/$PT_PID/root")" = / ] || pt_fail "supervisor chrooted"

pt_step "files, uploads and exec still work"
pt_tftpc -n 4 -c 8 -b 1468 -w 1,8 -e "$ROOT/f" f || pt_fail "download"
head -c 200000 /dev/urandom >"$T/upl"
timeout 20 curl -s -T "$T/upl" "tftp://127.0.0.1:$PT_PORT/up/u1" ||
    pt_fail "upload"
pt_cmp "$T/upl" "$ROOT/up/u1" "uploaded file"
[ -z "$(ls -A "$ROOT/up" | grep -v '^u1$')" ] || pt_fail "temp file left: $(ls -A "$ROOT/up")"
got=$(timeout 10 curl -s "tftp://127.0.0.1:$PT_PORT/gen/x")
[ "$got" = "gen gen/x for 127.0.0.1" ] || pt_fail "exec output: $got"
grep -q "killed by signal" "$PT_LOG" && pt_fail "a worker was killed"
pt_stop
echo "chroot: ok"
