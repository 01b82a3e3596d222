#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# systemd-test.sh - `make systemd-test`: the Debian package under a real
# systemd. It owns a throw-away Debian 12 tree (the fresh-machine image,
# /var/tmp/ptftpd-fresh/*.tar.zst, unpacked under /var/tmp), systemd and
# build/deb/ptftpd_*.deb installed in it, a `systemd-nspawn --boot` of it
# (host network: the packaged config's listen is moved to 127.0.0.1), and
# these checks through nsenter:
#   - the service is active only with READY=1 from every worker, its
#     status line says so; a file is fetched (curl from the host); the
#     workers are chrooted ("chroot" on) and run as tftp; the supervisor's
#     bounding set is exactly the unit's;
#   - under the bounding set the unit had before (no CAP_SYS_CHROOT, by a
#     drop-in) every worker fails and `systemctl restart` fails: no READY;
#   - `systemctl reload` with a broken config fails, says why in the
#     journal, and the service keeps serving; a good reload reaches
#     generation 2 (status line);
#   - a second ptftpd started by hand on the same address exits 1 naming
#     the service's main pid; the service's stats file is untouched;
#   - `systemctl stop` drains the workers (no kill) and removes /run/ptftpd.
# Then the container is powered off and the tree removed. Not part of make
# check: needs root, systemd-nspawn (systemd-container), the image, the
# Debian mirror and a built package (make deb). Exit 0 pass, 1 fail, 77
# skipped (printed as SKIP with the reason). Log: $LOG (kept).
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
PORT=${SYSTEMD_TEST_PORT:-6971}
IMAGE=$(ls /var/tmp/ptftpd-fresh/*.tar.zst 2>/dev/null | head -n 1)
LOG=${LOG:-/var/tmp/ptftpd-systemd-test-$(date +%Y%m%d-%H%M%S).log}

skip() { echo "SKIP: systemd-test: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v systemd-nspawn >/dev/null 2>&1 || skip "no systemd-nspawn (apt-get install systemd-container)"
command -v nsenter >/dev/null 2>&1 || skip "no nsenter"
[ -n "$IMAGE" ] || skip "no fresh machine image in /var/tmp/ptftpd-fresh"
DEB=$(ls "$TOP"/build/deb/ptftpd_*.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] || skip "no package: run make deb first"

W=$(mktemp -d /var/tmp/ptftpd-nspawn.XXXXXX) || exit 1
R=$W/root
NSPID=""
INIT=""
: >"$LOG"
say() { echo "$*" | tee -a "$LOG"; }
fail() { say "FAIL: $*"; exit 1; }
# Run in the container; output to the log and stdout; returns the status.
X() {
	local rc
	echo "\$ $*" >>"$LOG"
	nsenter -t "$INIT" -a "$@" >"$W/out" 2>&1
	rc=$?
	sed 's/^/    /' "$W/out" | tee -a "$LOG"
	return $rc
}
# The container's systemd: nspawn's child, or its grandchild.
find_init() {
	local c g
	for c in $(pgrep -P "$NSPID"); do
		for g in "$c" $(pgrep -P "$c"); do
			[ "$(cat "/proc/$g/comm" 2>/dev/null)" = systemd ] &&
			    { echo "$g"; return 0; }
		done
	done
	return 1
}
# Power the container off (its systemd), then make sure nspawn and the
# container's pid namespace are gone (SIGKILL to its init kills them all)
# before the tree is removed.
cleanup() {
	local i
	if [ -n "$NSPID" ] && kill -0 "$NSPID" 2>/dev/null; then
		[ -n "$INIT" ] || INIT=$(find_init)
		[ -n "$INIT" ] && nsenter -t "$INIT" -a systemctl poweroff \
		    >/dev/null 2>&1
		for i in $(seq 1 60); do
			kill -0 "$NSPID" 2>/dev/null || break
			sleep 0.5
		done
		if kill -0 "$NSPID" 2>/dev/null; then
			[ -n "$INIT" ] && kill -KILL "$INIT" 2>/dev/null
			sleep 1
			kill -KILL "$NSPID" 2>/dev/null
		fi
		wait "$NSPID" 2>/dev/null
	fi
	if [ -n "$INIT" ] && kill -0 "$INIT" 2>/dev/null; then
		kill -KILL "$INIT" 2>/dev/null
		sleep 1
	fi
	if [ -n "$INIT" ] && kill -0 "$INIT" 2>/dev/null; then
		echo "systemd-test: container init $INIT still runs; keeping $W" >&2
	elif grep -q " $W/" /proc/self/mountinfo; then
		echo "systemd-test: mounts left under $W; not removing it" >&2
	else
		rm -rf --one-file-system "$W"
	fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM

say "== unpack $IMAGE, install systemd and $(basename "$DEB")"
mkdir "$R" && tar -I zstd -xf "$IMAGE" -C "$R" || fail "unpack"
cp /etc/resolv.conf "$R/etc/resolv.conf"
cp "$DEB" "$R/root/"
systemd-nspawn -q --register=no --keep-unit -D "$R" /bin/sh -c \
    "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends systemd systemd-sysv /root/$(basename "$DEB")" \
    >>"$LOG" 2>&1 || fail "install (see $LOG)"
# Loopback only: the container shares the host's network.
awk -v port="$PORT" '/^listen = \(/ { skip = 1; print "listen = ( { address = \"127.0.0.1\"; port = " port "; } );" }
    !skip { print } skip && /^\);/ { skip = 0 }' "$R/etc/ptftpd.conf" >"$W/conf" &&
    sed -i 's|^# chroot = "/var/empty";|chroot = "/var/lib/ptftpd-jail";|' "$W/conf" &&
    cp "$W/conf" "$R/etc/ptftpd.conf" || fail "config"
grep -q '^chroot = ' "$R/etc/ptftpd.conf" || fail "chroot not set"
mkdir -p "$R/var/lib/ptftpd-jail" "$R/srv/tftp"
echo "hello from systemd" >"$R/srv/tftp/hello.txt"
chmod 644 "$R/srv/tftp/hello.txt"

say "== boot (systemd-nspawn --boot)"
systemd-nspawn --register=no --keep-unit -D "$R" --boot >"$W/boot.log" 2>&1 </dev/null &
NSPID=$!
for i in $(seq 1 120); do
	INIT=$(find_init) && break
	sleep 0.5
done
[ -n "$INIT" ] || fail "no systemd in the container ($(tail -n 5 "$W/boot.log"))"
# Until systemd answers on its bus and has finished booting.
for i in $(seq 1 240); do
	case $(nsenter -t "$INIT" -a systemctl is-system-running 2>/dev/null) in
	running|degraded) break ;;
	esac
	sleep 0.5
done
X systemctl is-system-running
for i in $(seq 1 60); do
	[ "$(nsenter -t "$INIT" -a systemctl is-active ptftpd)" = activating ] ||
	    break
	sleep 0.5
done
X systemctl is-active ptftpd || { X journalctl -u ptftpd --no-pager; fail "ptftpd not active after boot"; }

fetch() {
	local got
	got=$(curl -s --max-time 5 "tftp://127.0.0.1:$PORT/hello.txt")
	say "    fetched: $got"
	[ "$got" = "hello from systemd" ]
}
status_line() {
	nsenter -t "$INIT" -a systemctl show -p StatusText --value ptftpd
}

say "== active, READY from every worker, serving, chroot, tftp, the unit's bounding set"
st=$(status_line); say "    status: $st"
[ "$st" = "serving: 2 workers, generation 1" ] || fail "status line"
fetch || fail "fetch"
MP=$(nsenter -t "$INIT" -a systemctl show -p MainPID --value ptftpd)
for w in $(nsenter -t "$INIT" -a pgrep -P "$MP"); do
	X sh -c "echo worker $w root=\$(readlink /proc/$w/root) user=\$(ps -o user= -p $w)"
	grep -q "root=/var/lib/ptftpd-jail user=tftp" "$W/out" || fail "worker $w"
done
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$R/lib/systemd/system/ptftpd.service")
unit=$(setpriv --bounding-set "-all$(for c in $caps; do c=${c#CAP_}; printf ',+%s' "${c,,}"; done)" \
    awk '/^CapBnd:/ { print $2 }' /proc/self/status)
# nspawn gives the container less than everything (no CAP_NET_ADMIN
# without a private network): the service gets the unit's set within it.
cont=$(awk '/^CapBnd:/ { print $2 }' "/proc/$INIT/status")
want=$(printf '%016x' $((0x$unit & 0x$cont)))
X grep '^CapBnd:' "/proc/$MP/status"
say "    unit $unit, container $cont: want $want"
[ "$(awk '{ print $2 }' "$W/out")" = "$want" ] || fail "bounding set, want $want"

say "== the old bounding set (no CAP_SYS_CHROOT): restart fails, never active"
mkdir -p "$R/etc/systemd/system/ptftpd.service.d"
printf '[Service]\nCapabilityBoundingSet=\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID CAP_NET_ADMIN\nRestart=no\n' \
    >"$R/etc/systemd/system/ptftpd.service.d/old-caps.conf"
X systemctl daemon-reload
X timeout 60 systemctl restart ptftpd && fail "restart succeeded without CAP_SYS_CHROOT"
X systemctl is-active ptftpd && fail "active without serving workers"
X sh -c "journalctl -u ptftpd --no-pager | grep -E 'chroot|no worker left' | tail -3"
grep -q 'chroot: Operation not permitted' "$W/out" || fail "no chroot error logged"
rm -f "$R/etc/systemd/system/ptftpd.service.d/old-caps.conf"
X systemctl daemon-reload
X systemctl reset-failed ptftpd
X timeout 60 systemctl start ptftpd || fail "start with the unit's set"
fetch || fail "fetch after restart"

say "== reload: a broken config fails with the reason; a good one reaches generation 2"
cp "$R/etc/ptftpd.conf" "$W/good.conf"
echo 'workers = ;' >>"$R/etc/ptftpd.conf"
X timeout 60 systemctl reload ptftpd && fail "reload of a broken config succeeded"
X sh -c "journalctl -u ptftpd --no-pager | tail -n 4"
grep -q 'syntax error' "$W/out" || fail "no reason in the journal"
X systemctl is-active ptftpd || fail "not active after a failed reload"
fetch || fail "fetch after the failed reload"
cp "$W/good.conf" "$R/etc/ptftpd.conf"
X timeout 60 systemctl reload ptftpd || fail "good reload"
for i in $(seq 1 50); do
	[ "$(status_line)" = "serving: 2 workers, generation 2" ] && break
	sleep 0.2
done
st=$(status_line); say "    status: $st"
[ "$st" = "serving: 2 workers, generation 2" ] || fail "status after reload"
fetch || fail "fetch after reload"

say "== a second ptftpd on the same address is refused; the service is untouched"
MP=$(nsenter -t "$INIT" -a systemctl show -p MainPID --value ptftpd)
ino=$(stat -c %i "$R/run/ptftpd/ptftpd.stats" 2>/dev/null ||
    nsenter -t "$INIT" -a stat -c %i /run/ptftpd/ptftpd.stats)
X /usr/sbin/ptftpd -f -c /etc/ptftpd.conf -r /tmp && fail "second instance started"
X sh -c "journalctl -t ptftpd --no-pager | grep 'already served' | tail -n 1"
grep -q "already served by pid $MP (ptftpd)" "$W/out" || fail "refusal does not name pid $MP"
[ "$(nsenter -t "$INIT" -a stat -c %i /run/ptftpd/ptftpd.stats)" = "$ino" ] ||
    fail "the service's stats file was replaced"
fetch || fail "fetch after the refusal"

say "== stop drains and removes /run/ptftpd"
X timeout 60 systemctl stop ptftpd || fail "stop"
X sh -c "journalctl -u ptftpd --no-pager | tail -n 6"
grep -q 'draining' "$W/out" || fail "no drain"
grep -q 'did not stop in time' "$W/out" && fail "workers had to be killed"
X test -e /run/ptftpd && fail "/run/ptftpd left"
say "PASS: systemd-test (log $LOG)"
