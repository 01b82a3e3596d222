#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_systemd.sh - etc/ptftpd.service as systemd would run it, without
# systemd: systemd-analyze verify on the unit; the daemon under exactly
# the unit's CapabilityBoundingSet and NoNewPrivileges (setpriv), as root,
# with "chroot" on, serves a file; under the bounding set the unit had
# before (no CAP_SYS_CHROOT) every worker fails, and the daemon exits 1
# without ever telling READY=1 (workers report serving before READY goes
# out); under the unit's set a reload and a stop drain the workers (they
# run as another user: signalling them needs CAP_KILL); the unit's first
# ExecReload (ptftpd -t) fails on a broken config
# with the reason, so systemctl reload fails instead of reporting success.
# Needs root and setpriv (util-linux); SKIPs visibly without them.
set -u
. "$TOP/tests/integration/lib.sh"

UNIT=$TOP/etc/ptftpd.service

pt_step "the unit's ExecReload checks the config before the HUP"
grep -q '^ExecReload=/usr/sbin/ptftpd -t -c /etc/ptftpd.conf$' "$UNIT" ||
    pt_fail "no ExecReload=ptftpd -t in the unit"
[ "$(grep '^ExecReload=' "$UNIT" | tail -n 1)" = \
    'ExecReload=/bin/kill -HUP $MAINPID' ] || pt_fail "HUP is not the last ExecReload"
# The same command, our binary, a broken config: exit 1, file:line why.
printf 'root = "%s";\nworkers = ;\nuser = "nobody";\n' "$ROOT" >"$T/broken.conf"
cmd=$(sed -n 's|^ExecReload=/usr/sbin/ptftpd \(.*\) -c /etc/ptftpd.conf$|\1|p' "$UNIT" | head -n 1)
out=$("$PTFTPD" $cmd -c "$T/broken.conf" 2>&1) && pt_fail "ptftpd -t accepted $T/broken.conf"
echo "$out" | sed 's/^/    /'
echo "$out" | grep -q "broken.conf:2: syntax error" || pt_fail "the reason is not given: $out"

# systemd implements RestrictSUIDSGID= by failing openat2 with ENOSYS:
# every worker exits (seen under a real systemd, scripts/systemd-test.sh).
grep -q '^RestrictSUIDSGID=yes' "$UNIT" &&
    pt_fail "RestrictSUIDSGID=yes in the unit hides openat2 from the workers"

if command -v systemd-analyze >/dev/null 2>&1; then
	pt_step "systemd-analyze verify (the unit with this build's paths)"
	sed "s|/usr/sbin/ptftpd|$PTFTPD|g; s|/etc/ptftpd.conf|$T/ptftpd.conf|g" \
	    "$UNIT" >"$T/ptftpd.service"
	pt_write_conf 69
	out=$(systemd-analyze verify --man=no "$T/ptftpd.service" 2>&1) ||
	    pt_fail "systemd-analyze verify: $out"
	[ -z "$out" ] || pt_fail "systemd-analyze verify says: $out"
else
	echo "SKIP: systemd-analyze not installed: unit not verified"
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: not root: the unit's capability set cannot be applied"
	exit 0
fi
if ! command -v setpriv >/dev/null 2>&1; then
	echo "SKIP: setpriv (util-linux) missing: the unit's capability set cannot be applied"
	exit 0
fi

# "CAP_NET_BIND_SERVICE CAP_SETUID" -> "-all,+net_bind_service,+setuid"
bset() {
	local out=-all c
	for c in $1; do
		c=${c#CAP_}
		out="$out,+$(echo "$c" | tr 'A-Z' 'a-z')"
	done
	echo "$out"
}
UNIT_CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[ -n "$UNIT_CAPS" ] || pt_fail "no CapabilityBoundingSet in the unit"
grep -q '^NoNewPrivileges=yes' "$UNIT" || pt_fail "NoNewPrivileges changed: adapt"
REAL=$PTFTPD
wrap() {
	cat >"$T/under-unit" <<EOS
#!/bin/sh
exec setpriv --bounding-set $(bset "$1") --inh-caps -all --no-new-privs $REAL "\$@"
EOS
	chmod 755 "$T/under-unit"
	PTFTPD=$T/under-unit
}

pt_notify_listen "$T/notify.sock" "$T/notify.log"

JAIL=$T/jail
mkdir -m 755 "$JAIL"
pt_mkfile f 200000

pt_step "old bounding set (no CAP_SYS_CHROOT): workers fail, no READY=1, exit 1"
wrap "CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID CAP_NET_ADMIN"
PT_PORT=$(pt_random_port)
pt_write_conf "$PT_PORT" "chroot = \"$JAIL\";"
: >"$T/notify.log"
NOTIFY_SOCKET=$T/notify.sock timeout 30 "$PTFTPD" -f -c "$PT_CONF" \
    2>>"$PT_LOG"
rc=$?
[ "$rc" -eq 1 ] || pt_fail "exit status $rc, want 1"
grep -q "dropping privileges: chroot: Operation not permitted" "$PT_LOG" ||
    pt_fail "no chroot failure logged"
sed 's/^/    notify: /' "$T/notify.log"
grep -q 'READY=1' "$T/notify.log" && pt_fail "READY=1 sent by a daemon whose workers never served"

pt_step "the unit's bounding set ($UNIT_CAPS), chroot on: serves"
wrap "$UNIT_CAPS"
: >"$T/notify.log"
: >"$PT_LOG"
export NOTIFY_SOCKET=$T/notify.sock
pt_start "chroot = \"$JAIL\";" "workers = 3;"
unset NOTIFY_SOCKET
grep -q "^CapBnd:" "/proc/$PT_PID/status" || pt_fail "no CapBnd"
want=$(setpriv --bounding-set "$(bset "$UNIT_CAPS")" grep '^CapBnd:' /proc/self/status)
[ "$(grep '^CapBnd:' "/proc/$PT_PID/status")" = "$want" ] ||
    pt_fail "supervisor bounding set $(grep '^CapBnd:' "/proc/$PT_PID/status"), want $want"
[ "$(grep '^NoNewPrivs:' "/proc/$PT_PID/status" | awk '{print $2}')" = 1 ] ||
    pt_fail "no_new_privs not set on the supervisor"
for w in $(pgrep -P "$PT_PID"); do
	[ "$(readlink "/proc/$w/root")" = "$JAIL" ] ||
	    pt_fail "worker $w is not in the chroot"
done
pt_tftpc -H 127.0.0.1 -o "$T/got" f || pt_fail "fetch under the unit's capabilities"
pt_cmp "$ROOT/f" "$T/got" "fetched file"
for i in $(seq 1 50); do
	grep -q 'READY=1' "$T/notify.log" && break
	sleep 0.1
done
sed 's/^/    notify: /' "$T/notify.log"
grep -q "^READY=1 MAINPID=$PT_PID STATUS=serving: 3 workers, generation 1$" \
    "$T/notify.log" || pt_fail "no READY=1 for 3 serving workers"
pt_step "reload and drain under the unit's capabilities"
old=$(pgrep -P "$PT_PID" | sort | tr '\n' ' ')
kill -HUP "$PT_PID"
pt_wait_log "ready: 3 workers serving \\(generation 2\\)" 10 ||
    pt_fail "generation 2 not ready"
for w in $old; do
	for i in $(seq 1 50); do
		[ -e "/proc/$w" ] || break
		sleep 0.1
	done
	[ -e "/proc/$w" ] && pt_fail "old worker $w did not drain after the reload"
done
grep -q 'READY=1 MAINPID=[0-9]* STATUS=serving: 3 workers, generation 2' \
    "$T/notify.log" || pt_fail "no READY=1 for generation 2"
pt_stop
grep -q 'workers did not stop in time' "$PT_LOG" && pt_fail "stop killed the workers"
echo "PASS: test_systemd"
