#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_single_instance.sh - one ptftpd per listen address. A second daemon
# on an address and port the first serves (same user: SO_REUSEPORT would
# let it in and split the requests) must exit 1 naming the first one's
# pid, and leave the first untouched: its stats file and pid file stay,
# and it still serves. Both the foreground (-f) and the daemonizing start
# are tried, with a stats path and a pid file shared with the first. A
# reload and a worker respawn of the first one (its own sockets) pass.
set -u
. "$TOP/tests/integration/lib.sh"

pt_mkfile one.bin 70000
# The first daemon: not -f, so it writes its pid file.
PT_PORT=$(pt_random_port)
pt_write_conf "$PT_PORT"
"$PTFTPD" -c "$PT_CONF" 2>>"$PT_LOG" || pt_fail "first daemon did not start"
pt_wait_for 5 test -s "$T/ptftpd.pid"
PT_PID=$(cat "$T/ptftpd.pid" 2>/dev/null)
[ -n "$PT_PID" ] || pt_fail "no pid file"
pt_wait_for 5 pt_probe 127.0.0.1
pt_step "first ptftpd pid $PT_PID port $PT_PORT"
pt_tftpc -H 127.0.0.1 -o "$T/got0" one.bin || pt_fail "first fetch"
pt_cmp "$ROOT/one.bin" "$T/got0" "first fetch"
[ -f "$T/ptftpd.stats" ] || pt_fail "no stats file"
ino_stats=$(stat -c %i "$T/ptftpd.stats")
ino_pid=$(stat -c %i "$T/ptftpd.pid")

# The second: another root, the same port (-p), the same stats and pid
# paths (the config is the same file).
mkdir -m 755 "$T/root2"
check_refused() {
	local what=$1 rc
	shift
	: >"$T/second.err"
	timeout 20 "$PTFTPD" "$@" -c "$PT_CONF" -p "$PT_PORT" -r "$T/root2" \
	    >"$T/second.out" 2>"$T/second.err"
	rc=$?
	sed 's/^/    /' "$T/second.err"
	[ "$rc" -eq 1 ] || pt_fail "$what: second daemon exit status $rc, want 1"
	grep -q "already served by pid $PT_PID " "$T/second.err" ||
	    pt_fail "$what: the refusal does not name pid $PT_PID"
	[ -f "$T/ptftpd.stats" ] && [ "$(stat -c %i "$T/ptftpd.stats")" = \
	    "$ino_stats" ] || pt_fail "$what: the first one's stats file was replaced"
	[ -f "$T/ptftpd.pid" ] && [ "$(stat -c %i "$T/ptftpd.pid")" = \
	    "$ino_pid" ] && [ "$(cat "$T/ptftpd.pid")" = "$PT_PID" ] ||
	    pt_fail "$what: the first one's pid file changed"
	kill -0 "$PT_PID" 2>/dev/null || pt_fail "$what: the first one died"
}
pt_step "second daemon in the foreground (-f) is refused"
check_refused "foreground" -f
pt_step "second daemon (daemonizing) is refused"
check_refused "daemon"
# Log target stderr is in the config: the -f run logs there; the other
# must say it on stderr too (it refuses before detaching).

# The first still serves every request: 20 fetches, all from root 1.
pt_step "the first daemon still serves"
for i in $(seq 1 20); do
	pt_tftpc -H 127.0.0.1 -o "$T/got$i" one.bin >/dev/null ||
	    pt_fail "fetch $i after the refusals"
	pt_cmp "$ROOT/one.bin" "$T/got$i" "fetch $i"
done

# Its own sockets are not a second server: reload and respawn work.
pt_step "reload and worker respawn of the first daemon still work"
kill -HUP "$PT_PID"
pt_wait_log "reloaded .*generation 2" 10 || pt_fail "reload did not happen"
grep -q "already served" "$PT_LOG" && pt_fail "reload refused its own sockets"
w=$(pgrep -P "$PT_PID" | head -n 1)
[ -n "$w" ] || pt_fail "no worker"
kill -KILL "$w"
pt_wait_log "worker [0-9]+ \\(pid $w\\) killed" 10 || pt_fail "no reap of $w"
for i in $(seq 1 50); do
	[ "$(pgrep -P "$PT_PID" | grep -vc "^$w\$")" -ge 2 ] && break
	sleep 0.1
done
pt_tftpc -H ::1 -o "$T/got-after" one.bin || pt_fail "fetch after respawn"
pt_cmp "$ROOT/one.bin" "$T/got-after" "fetch after respawn"
pt_stop
[ -e "$T/ptftpd.pid" ] && pt_fail "pid file left after stop"
echo "PASS: test_single_instance"
