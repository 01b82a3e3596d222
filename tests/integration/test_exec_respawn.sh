#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_exec_respawn.sh - the exec spawner dies (killed by pid) while the
# worker serves a plain file (issue 13): the worker drains instead of
# stopping at once, so the plain-file transfer completes byte-exact; then
# it exits with status 1 and the supervisor starts a fresh worker, whose
# own spawner runs programs again.
#
# One worker. The plain-file client (python3, raw UDP on 127.0.0.1) takes
# DATA 1, then waits, unACKed, until the spawner is gone and the worker
# said so; then it ACKs its way to the end. The session's give-up (first
# packet resent up to first_retries = 10 times, at most 2 s apart) is far
# longer than the waits, which are bounded and wait for conditions.
set -u
. "$TOP/tests/integration/lib.sh"

command -v python3 >/dev/null || pt_fail "python3 missing (scripts/deps.sh check)"
pt_mkfile plain.bin 60000
mkdir -m 755 "$T/bin"
GEN=$T/bin/gen.sh
cat >"$GEN" <<'EOF'
#!/bin/sh
printf 'generated for %s\n' "$PTFTPD_FILE"
EOF
chmod 755 "$GEN"

pt_start "workers = 1;" \
    'session = { timeout_ms = 500; timeout_max_ms = 2000; retries = 10;
            first_retries = 10; };' \
    "routes = ( { prefix = \"gen/\"; handler = \"exec\";
        command = [ \"$GEN\" ]; timeout_ms = 5000; } );"

# The worker and its spawner (the worker's only child).
W0=$(pgrep -P "$PT_PID")
[ "$(echo "$W0" | wc -w)" = 1 ] || pt_fail "expected one worker: $W0"
S0=$(pgrep -P "$W0")
[ "$(echo "$S0" | wc -w)" = 1 ] || pt_fail "expected one spawner: $S0"

pt_step "exec works before"
pt_tftpc -o "$T/gen0" gen/a || pt_fail "exec before"
grep -q '^generated for gen/a$' "$T/gen0" || pt_fail "exec output: $(cat "$T/gen0")"

pt_step "kill the spawner ($S0) during a plain-file transfer"
timeout 60 python3 - "$PT_PORT" "$T" <<'EOF' &
import os, socket, struct, sys, time

port, t = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(5.0)
s.sendto(b"\0\1plain.bin\0octet\0", ("127.0.0.1", port))
data, tid = s.recvfrom(2000)
assert data[:4] == b"\0\3\0\1", data[:4]
got = [data[4:]]
open(os.path.join(t, "started"), "w").close()
for _ in range(300):                    # up to 30 s for the go-ahead
    if os.path.exists(os.path.join(t, "go")):
        break
    time.sleep(0.1)
else:
    sys.exit("no go-ahead")
expect = 2
s.sendto(struct.pack("!HH", 4, 1), tid)
while len(got[-1]) == 512:
    data, frm = s.recvfrom(2000)
    if frm != tid:
        continue
    op, blk = struct.unpack("!HH", data[:4])
    assert op == 3, ("not DATA", data[:4], data[4:])
    if blk == expect:
        got.append(data[4:])
        expect += 1
    s.sendto(struct.pack("!HH", 4, blk), tid)
open(os.path.join(t, "plain.out"), "wb").write(b"".join(got))
print("client: %d blocks" % (expect - 1))
EOF
CLIENT=$!
pt_track "$CLIENT"
pt_wait_for 10 test -e "$T/started" ||
    pt_fail "the plain-file transfer did not start"
kill -KILL "$S0" || pt_fail "kill spawner $S0"
pt_wait_log 'exec spawner gone; draining' 10 ||
    pt_fail "the worker did not notice the spawner's death"
kill -0 "$W0" 2>/dev/null || pt_fail "the worker left at once"
echo "   worker $W0 drains, still alive"
touch "$T/go"
wait "$CLIENT" || pt_fail "the plain-file client failed"
pt_cmp "$T/plain.out" "$ROOT/plain.bin" "plain file across the spawner's death"
echo "   plain.bin complete and byte-exact"
pt_wait_log 'file="plain.bin" .*result=ok' 5 ||
    pt_fail "no result=ok line for plain.bin"

pt_step "the worker exits 1 and is respawned"
pt_wait_log "worker 0 \\(pid $W0\\) exited with status 1" 10 ||
    pt_fail "worker $W0 did not exit with status 1"
# The transfer's line comes before the exit.
okl=$(grep -n 'file="plain.bin" .*result=ok' "$PT_LOG" | head -n 1 | cut -d: -f1)
exl=$(grep -n "pid $W0) exited" "$PT_LOG" | head -n 1 | cut -d: -f1)
[ "$okl" -lt "$exl" ] || pt_fail "the worker exited before the transfer ended"
W1=""
for i in $(seq 1 100); do
	W1=$(pgrep -P "$PT_PID")
	[ -n "$W1" ] && [ "$W1" != "$W0" ] && break
	sleep 0.1
done
[ -n "$W1" ] && [ "$W1" != "$W0" ] || pt_fail "no new worker"
S1=""
for i in $(seq 1 100); do
	S1=$(pgrep -P "$W1")
	[ -n "$S1" ] && break
	sleep 0.1
done
[ -n "$S1" ] || pt_fail "the new worker has no spawner"
echo "   worker $W1 with spawner $S1"
pt_tftpc -o "$T/gen1" gen/b || pt_fail "exec after the respawn"
grep -q '^generated for gen/b$' "$T/gen1" || pt_fail "exec output: $(cat "$T/gen1")"
pt_tftpc -e "$ROOT/plain.bin" plain.bin || pt_fail "plain file after the respawn"
if grep -q "killed by signal" "$PT_LOG"; then
	pt_fail "a worker was killed by a signal"
fi
pt_stop
echo "PASS exec_respawn"
