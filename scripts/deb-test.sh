#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# deb-test.sh - `make deb-test`: the Debian package, built, installed,
# used and purged on a fresh Debian 12. It owns that sequence; the fresh
# machine is /work/shared/tools/fresh-machine.sh's (FRESH_MACHINE=...): a
# clean bookworm chroot with a clone of the committed HEAD in
# /root/project (uncommitted changes are not tested). Not part of make
# check: it needs root, that script and its image
# (/var/tmp/ptftpd-fresh/*.tar.zst) and the Debian mirror.
#
#   scripts/deb-test.sh            (host, root) run --inside on a fresh machine
#   scripts/deb-test.sh --inside   (in that chroot) the test itself:
#     Build-Depends from scripts/debian/control (apt-get satisfy), make deb,
#     the package's dependencies; a list of the file system; dpkg -i; the
#     files where they belong (/usr/sbin, the unit in systemd's unit
#     directory, /etc/ptftpd.conf a conffile), the tftp user, /srv/tftp and
#     /run/ptftpd from tmpfiles.d, the hardening flags in the binary,
#     systemd-analyze verify on the installed unit; ptftpd -t; the
#     installed daemon (the packaged config, listen moved to 127.0.0.1)
#     serves a file with curl, workers as tftp; dpkg --purge; the same
#     file system list again. Only the tftp user's entries stay (Debian
#     keeps system users; tftpd-hpa shares the name).
# Exit 0 pass, 1 fail, 77 skipped (printed as SKIP with the reason).
set -u

FM=${FRESH_MACHINE:-/work/shared/tools/fresh-machine.sh}
PORT=${DEB_TEST_PORT:-6970}

fail() {
	echo "FAIL: $*" >&2
	[ -f /tmp/deb-test-ptftpd.log ] && tail -n 20 /tmp/deb-test-ptftpd.log >&2
	exit 1
}
step() { echo "== $*"; }

if [ "${1:-}" != "--inside" ]; then
	cd "$(dirname "$0")/.." || exit 1
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: deb-test: needs root (chroot)"; exit 77
	fi
	if [ ! -x "$FM" ]; then
		echo "SKIP: deb-test: no fresh-machine script at $FM"; exit 77
	fi
	if ! ls /var/tmp/ptftpd-fresh/*.tar.zst >/dev/null 2>&1; then
		echo "SKIP: deb-test: no fresh machine image (/var/tmp/ptftpd-fresh/*.tar.zst)"
		exit 77
	fi
	exec "$FM" run . --timeout 1800 -- scripts/deb-test.sh --inside
fi

# ---- inside the fresh machine ------------------------------------------
export DEBIAN_FRONTEND=noninteractive
cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" -eq 0 ] || fail "--inside needs root"

step "Build-Depends: $(scripts/deb-build.sh --build-depends)"
apt-get satisfy -y -q --no-install-recommends \
    "$(scripts/deb-build.sh --build-depends)" >/tmp/deb-test-apt.log 2>&1 ||
    { tail -n 20 /tmp/deb-test-apt.log; fail "apt-get satisfy Build-Depends"; }

step "make deb"
make deb || fail "make deb"
deb=$(ls "$PWD"/build/deb/ptftpd_*.deb) || fail "no .deb"

step "the package's dependencies: $(dpkg-deb -f "$deb" Depends)"
apt-get satisfy -y -q --no-install-recommends "$(dpkg-deb -f "$deb" Depends)" \
    >>/tmp/deb-test-apt.log 2>&1 ||
    { tail -n 20 /tmp/deb-test-apt.log; fail "apt-get satisfy Depends"; }

# Everything on the machine but the project clone, caches, logs, apt and
# dpkg's own books and the kernel's file systems.
fs_list() {
	find / -xdev \( -path /proc -o -path /sys -o -path /dev -o \
	    -path /root/project -o -path /tmp -o -path /var/tmp -o \
	    -path /var/cache -o -path /var/log -o -path /var/lib/dpkg -o \
	    -path /var/lib/apt \) -prune -o -print 2>/dev/null | sort
	# /run may be a mount of its own
	find /run 2>/dev/null
}
fs_list | sort -u >/tmp/deb-test-before.list

step "dpkg -i $(basename "$deb")"
dpkg -i "$deb" || fail "dpkg -i"

step "files where they belong"
for f in /usr/sbin/ptftpd /usr/sbin/ptftpd-stat; do
	[ -x "$f" ] || fail "$f missing"
done
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
[ -n "$unitdir" ] || unitdir=/lib/systemd/system
[ -f "$unitdir/ptftpd.service" ] || fail "no unit in $unitdir"
dpkg -L ptftpd | grep -qx "$unitdir/ptftpd.service" || fail "unit not in the package's list"
dpkg-query -W -f='${Conffiles}\n' ptftpd | grep -q '^ /etc/ptftpd.conf ' ||
    fail "/etc/ptftpd.conf is not a conffile"
grep -qx 'user = "tftp";' /etc/ptftpd.conf || fail "packaged config does not use tftp"
getent passwd tftp >/dev/null || fail "no tftp user"
echo "    $(getent passwd tftp)"
[ -d /srv/tftp ] && [ -d /run/ptftpd ] || fail "/srv/tftp or /run/ptftpd not made"
[ -L /etc/systemd/system/multi-user.target.wants/ptftpd.service ] ||
    fail "unit not enabled"

step "hardening: fortified calls and BIND_NOW"
# __*_chk calls come from -D_FORTIFY_SOURCE (CPPFLAGS); __stack_chk_fail
# is the stack protector (CFLAGS) and does not count.
fortified=$(readelf --dyn-syms -W /usr/sbin/ptftpd | grep -o '__[a-z_]*_chk' |
    grep -v '^__stack_chk' | sort -u | tr '\n' ' ')
[ -n "$fortified" ] ||
    fail "no _FORTIFY_SOURCE call in ptftpd (CPPFLAGS not honoured)"
echo "    fortified: $fortified"
readelf -d /usr/sbin/ptftpd | grep -q 'BIND_NOW\|FLAGS.*NOW' || fail "no BIND_NOW"
readelf --dyn-syms -W /usr/sbin/ptftpd | grep -q '__stack_chk_fail' ||
    fail "no stack protector"

if command -v systemd-analyze >/dev/null 2>&1; then
	step "systemd-analyze verify $unitdir/ptftpd.service"
	had_mark=0
	[ -e /run/systemd/systemd-units-load ] && had_mark=1
	out=$(systemd-analyze verify --man=no "$unitdir/ptftpd.service" 2>&1) ||
	    fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify says: $out"
	# systemd-analyze's own marker, not the package's: the purge
	# comparison below must see only what the package did.
	[ "$had_mark" = 1 ] || rm -f /run/systemd/systemd-units-load
fi

step "ptftpd -t"
ptftpd -t || fail "ptftpd -t on the packaged config"

step "the installed daemon serves (packaged config, listen 127.0.0.1:$PORT)"
awk '/^listen = \(/ { skip = 1 } !skip { print } skip && /^\);/ { skip = 0 }' \
    /etc/ptftpd.conf >/tmp/deb-test.conf
echo "listen = ( { address = \"127.0.0.1\"; port = $PORT; } );" >>/tmp/deb-test.conf
grep -q '^listen = ( { address = "0.0.0.0"' /tmp/deb-test.conf && fail "listen not replaced"
printf 'hello from the package\n' >/srv/tftp/deb-test.txt
chmod 644 /srv/tftp/deb-test.txt
/usr/sbin/ptftpd -f -v -c /tmp/deb-test.conf >/tmp/deb-test-ptftpd.log 2>&1 &
pid=$!
got=""
for i in $(seq 1 50); do
	kill -0 "$pid" 2>/dev/null || fail "ptftpd exited"
	got=$(curl -s --max-time 2 "tftp://127.0.0.1:$PORT/deb-test.txt") && break
	sleep 0.2
done
[ "$got" = "hello from the package" ] || { kill "$pid"; fail "fetched: '$got'"; }
echo "    fetched: $got"
users=$(ps -o user= --ppid "$pid" | sort -u | tr '\n' ' ')
[ "$users" = "tftp " ] || { kill "$pid"; fail "workers run as: $users"; }
echo "    workers run as: $users"
[ -f /run/ptftpd/ptftpd.stats ] || { kill "$pid"; fail "no stats segment"; }
ptftpd-stat -c /tmp/deb-test.conf >/tmp/deb-test-stat.out 2>&1 ||
    { kill "$pid"; fail "ptftpd-stat: $(cat /tmp/deb-test-stat.out)"; }
kill -TERM "$pid"
for i in $(seq 1 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; fail "ptftpd ignored SIGTERM"; }
wait "$pid"
rc=$?
[ "$rc" -eq 0 ] || fail "ptftpd exit status $rc"
rm -f /srv/tftp/deb-test.txt

step "dpkg --purge ptftpd"
dpkg --purge ptftpd || fail "dpkg --purge"
fs_list | sort -u >/tmp/deb-test-after.list
if ! diff /tmp/deb-test-before.list /tmp/deb-test-after.list >/tmp/deb-test.diff; then
	# systemd-sysusers keeps a backup of the files it edits.
	if grep -v '^[<>] /etc/\(passwd\|group\|shadow\|gshadow\)-$' /tmp/deb-test.diff |
	    grep -q '^[<>]'; then
		sed 's/^/    /' /tmp/deb-test.diff
		fail "the purge left the file system different"
	fi
	echo "    only sysusers' backups differ:"
	sed 's/^/    /' /tmp/deb-test.diff
fi
getent passwd tftp >/dev/null && echo "    kept on purpose: $(getent passwd tftp)"
dpkg -s ptftpd >/dev/null 2>&1 && fail "ptftpd still known to dpkg"
echo "PASS: deb-test"
