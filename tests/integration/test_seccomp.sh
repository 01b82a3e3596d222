#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_seccomp.sh - the worker's seccomp filter (src/sandbox.c). With the
# default `seccomp = true` every worker runs filtered (Seccomp: 2 in
# /proc/PID/status) and everything a client can make a worker do still
# works: octet transfers with options over IPv4 and IPv6 (tftpc and curl),
# uploads (curl; the routes allow them, so the worker must have passed
# SANDBOX_UPLOADS), netascii, a missing file, path escapes, a refused WRQ,
# a tsize probe, a foreign TID, a client that goes silent, a reload with
# its drain; no worker is killed. Then a worker made to call getppid(2)
# (harmless, not needed by a worker, so not allowed) through gdb dies of
# SIGSYS, the supervisor logs "killed by signal 31 (Bad system call)",
# and a filtered replacement is started and serves. With
# `seccomp = false` the same call just returns the supervisor's pid and
# the worker serves on. Needs gdb (scripts/deps.sh check) and the right to
# ptrace the workers (root).
set -u
. "$TOP/tests/integration/lib.sh"

command -v gdb >/dev/null 2>&1 ||
    pt_fail "gdb is not installed (scripts/deps.sh check installs it)"

# "Seccomp:" of /proc/PID/status: 0 none, 2 filter.
seccomp_mode() {
	awk '/^Seccomp:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

worker_pids() {
	pgrep -P "$PT_PID" | tr '\n' ' '
}

# Every worker of the daemon must be in seccomp mode $1. A worker just
# forked (a reload, a respawn) installs its filter as the last step of
# its start-up: give each up to 5 s to get there.
check_workers_mode() {
	local w n=0 i
	for w in $(worker_pids); do
		for i in $(seq 1 50); do
			[ "$(seccomp_mode "$w")" = "$1" ] && break
			sleep 0.1
		done
		[ "$(seccomp_mode "$w")" = "$1" ] ||
		    pt_fail "worker $w: Seccomp is $(seccomp_mode "$w"), want $1"
		n=$((n + 1))
	done
	[ "$n" -ge 2 ] || pt_fail "expected 2 workers, found $n"
	[ "$(seccomp_mode "$PT_PID")" = 0 ] ||
	    pt_fail "the supervisor is filtered too"
}

# serves PID WHEN: rounds of 16 transfers (10 at most) until worker PID
# has logged a finished transfer of its own; 1 if it never does. WHEN
# names the rounds in a failure.
serves() {
	local round
	for round in 1 2 3 4 5 6 7 8 9 10; do
		pt_tftpc -c 16 -n 8 -e "$ROOT/f70000" f70000 >/dev/null ||
		    pt_fail "transfers $2"
		grep -q "ptftpd\[$1\] .*result=ok" "$PT_LOG" && return 0
	done
	return 1
}

no_kills() {
	if grep -q "killed by signal" "$PT_LOG"; then
		grep "killed by signal" "$PT_LOG" >&2
		pt_fail "$1: a worker was killed"
	fi
}

# gdb makes worker $1 call getppid(); output in $T/gdb.out.
gdb_getppid() {
	timeout -k 5 90 gdb -nx -p "$1" -batch \
	    -ex 'call (long)getppid()' >"$T/gdb.out" 2>&1
	sed 's/^/    gdb: /' "$T/gdb.out" | grep -v '^    gdb: *$' | tail -n 6
}

pt_mkfiles 0 1 512 1469 70000 1048576
FILES=$PT_FILES
nfiles=$(echo $FILES | wc -w)
printf 'line one\nline two\r\nbare CR\rend\n' >"$ROOT/text"
chmod 644 "$ROOT/text"
pt_netascii "$ROOT/text" "$T/text.na"
mkdir -m 755 "$ROOT/dir"
ln -s /etc/passwd "$ROOT/escape-link"
# Upload routes: up/ may replace files, new/ may only create them.
mkdir -m 777 "$ROOT/up" "$ROOT/new"
ROUTES='routes = ( { prefix = "up/"; write = { create = true; overwrite = true; }; },
	{ prefix = "new/"; write = { create = true; }; } );'
UPLOADS=0

# Everything a client can make a worker do; fails the test on any miss.
exercise() {
	local h
	for h in 127.0.0.1 ::1; do
		pt_tftpc -H "$h" -c "$nfiles" -n "$nfiles" -E "$ROOT" $FILES ||
		    pt_fail "$h: plain transfers"
		pt_tftpc -H "$h" -b 1468 -w 16 -t -c 12 -n 6 -E "$ROOT" $FILES ||
		    pt_fail "$h: blksize, windowsize, tsize"
		pt_tftpc -H "$h" -m netascii -e "$T/text.na" text ||
		    pt_fail "$h: netascii"
		pt_tftpc -H "$h" -x 1 no-such-file || pt_fail "$h: missing file"
		pt_tftpc -H "$h" -x 2 ../../etc/passwd || pt_fail "$h: ../ escape"
		pt_tftpc -H "$h" -x 2 escape-link || pt_fail "$h: symlink escape"
		pt_tftpc -H "$h" -x 2 dir || pt_fail "$h: directory"
		pt_tftpc -H "$h" --wrq -x 2 upload || pt_fail "$h: WRQ"
		pt_tftpc -H "$h" --probe f70000 || pt_fail "$h: tsize probe"
	done
	pt_tftpc -H ::1 --foreign-tid f70000 || pt_fail "foreign TID"
	# A client that goes silent: retransmits, then the give-up timer.
	pt_tftpc --stop-after 3 --quiet-ms 1500 f1048576 ||
	    pt_fail "silent client"
	# Uploads (the worker's SANDBOX_UPLOADS calls): replace, create,
	# refuse to replace, then read back.
	UPLOADS=$((UPLOADS + 1))
	for h in 127.0.0.1 "[::1]"; do
		curl -s -g --max-time 20 -T "$ROOT/f70000" \
		    "tftp://$h:$PT_PORT/up/same" || pt_fail "$h: upload"
		pt_cmp "$ROOT/f70000" "$ROOT/up/same" "$h: upload"
		curl -s -g --max-time 20 -T "$ROOT/f1469" \
		    "tftp://$h:$PT_PORT/new/$UPLOADS$h" ||
		    pt_fail "$h: create-only upload"
		pt_cmp "$ROOT/f1469" "$ROOT/new/$UPLOADS$h" "$h: create-only"
		curl -s -g --max-time 20 -T "$ROOT/f1" \
		    "tftp://$h:$PT_PORT/new/$UPLOADS$h" &&
		    pt_fail "$h: create-only upload replaced a file"
		pt_cmp "$ROOT/f1469" "$ROOT/new/$UPLOADS$h" "$h: not replaced"
	done
	pt_tftpc -e "$ROOT/f70000" up/same || pt_fail "uploaded file read back"
	rm -f "$T/curl4" "$T/curl6"
	curl -s --max-time 20 -o "$T/curl4" \
	    "tftp://127.0.0.1:$PT_PORT/f1048576" || pt_fail "curl IPv4"
	pt_cmp "$ROOT/f1048576" "$T/curl4" "curl IPv4"
	curl -s -g --max-time 20 -o "$T/curl6" \
	    "tftp://[::1]:$PT_PORT/f70000" || pt_fail "curl IPv6"
	pt_cmp "$ROOT/f70000" "$T/curl6" "curl IPv6"
}

# Debug: the supervisor logs "started, pid N" for the respawn timing.
# Short timers, so the silent client's session is over in about 2 s.
LOGCONF='log = { target = "stderr"; level = "debug"; };'
SESSCONF='session = { timeout_ms = 200; timeout_max_ms = 400; };'

pt_start "$LOGCONF" "$SESSCONF" "$ROUTES"
pt_step "default config: every worker is filtered, the supervisor is not"
check_workers_mode 2

pt_step "transfers, errors, escapes, probe and abort under the filter"
before=$(worker_pids)
exercise
no_kills "serving"
[ "$(worker_pids)" = "$before" ] ||
    pt_fail "workers changed while serving: $before -> $(worker_pids)"

pt_step "reload: the new generation is filtered, the old one drains cleanly"
kill -HUP "$PT_PID"
for i in $(seq 1 50); do
	now=$(worker_pids)
	left=0
	for w in $before; do
		case " $now " in *" $w "*) left=1 ;; esac
	done
	[ "$left" = 0 ] && [ -n "$now" ] && break
	sleep 0.1
done
[ "$left" = 0 ] || pt_fail "old workers still there 5 s after SIGHUP"
grep -Eq "exited with status|killed by signal" "$PT_LOG" &&
    pt_fail "a drained worker did not exit 0"
check_workers_mode 2
exercise
no_kills "after the reload"

pt_step "a forbidden call (getppid via gdb) kills the worker with SIGSYS"
set -- $(worker_pids)
victim=$1
before=$(worker_pids)
gdb_getppid "$victim"
pt_wait_log "\(pid $victim\) killed by signal 31 \(Bad system call\)" 20 ||
    pt_fail "no 'killed by signal 31 (Bad system call)' for pid $victim"
grep -q "SIGSYS" "$T/gdb.out" || pt_fail "gdb did not see SIGSYS"
state=$(awk '{print $3}' "/proc/$victim/stat" 2>/dev/null)
[ -n "$state" ] && [ "$state" != Z ] && pt_fail "worker $victim still alive"

pt_step "a filtered replacement starts and serves"
fresh=""
new_worker() {
	local w
	for w in $(worker_pids); do
		case " $before " in *" $w "*) ;; *) fresh=$w ;; esac
	done
	[ -n "$fresh" ]
}
pt_wait_for 10 new_worker || pt_fail "no replacement worker after 10 s"
grep -q "started, pid $fresh\$" "$PT_LOG" ||
    pt_fail "the supervisor did not log the start of $fresh"
echo "    respawned as pid $fresh"
check_workers_mode 2
# Requests from many source ports reach both workers of the group; go on
# until the replacement has logged a finished transfer of its own.
serves "$fresh" "after the respawn" ||
    pt_fail "replacement $fresh served nothing"
[ "$(grep -c "killed by signal" "$PT_LOG")" = 1 ] ||
    pt_fail "more than the one worker was killed"
pt_stop

pt_step "seccomp = false: workers unfiltered; the same call is harmless"
: >"$PT_LOG"
pt_start "$LOGCONF" "$SESSCONF" "$ROUTES" "seccomp = false;"
check_workers_mode 0
# pt_start returns once one worker answers; the other may still be in its
# start-up (a loaded or fresh machine). Probe a worker that has logged
# its backend, the last step before its loop.
in_loop() {
	local w
	victim=""
	for w in $(worker_pids); do
		grep -Eq "ptftpd\[$w\] w[0-9]+ (transfers on io_uring|io_uring unavailable)" \
		    "$PT_LOG" && victim=$w && return 0
	done
	return 1
}
pt_wait_for 20 in_loop || pt_fail "no worker reached its loop"
# gdb's inferior call can fail for gdb's own reasons (say so, try again,
# at most 3 times); the worker must answer and survive every try.
for try in 1 2 3; do
	gdb_getppid "$victim"
	grep -Eq "^\\\$1 = [0-9]+\$" "$T/gdb.out" && break
	echo "    gdb try $try got no value:"
	sed 's/^/      | /' "$T/gdb.out"
	pt_gone "$victim" && break
done
grep -Eq "^\\\$1 = $PT_PID\$" "$T/gdb.out" || {
	sed 's/^/    gdb.out: /' "$T/gdb.out"
	pt_fail "getppid() in the worker did not return the supervisor's pid"
}
pt_gone "$victim" && pt_fail "unfiltered worker $victim died"
serves "$victim" "after the gdb call" ||
    pt_fail "worker $victim served nothing after the call"
no_kills "seccomp = false"
pt_stop
pt_step "ok"
