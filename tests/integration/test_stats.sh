#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_stats.sh - the stats segment end to end: a daemon with 3 workers
# runs known transfers (completed, not found, an EDK2 size probe, a client
# that stops ACKing until the server gives up); then SIGUSR1 must write
# stats.file (Prometheus text) and log a summary, and both that file and
# "ptftpd-stat -j" must show exactly those counts summed over the workers.
# Counts are taken as differences from a snapshot after start-up, because
# pt_start's readiness probes are requests too. Also: a second SIGUSR1
# refreshes the file, ptftpd-stat finds the segment through -c, no temp
# file is left beside stats.file, and after the daemon stops ptftpd-stat
# exits 1 with a clear message.
set -u
. "$TOP/tests/integration/lib.sh"

STAT=$BUILD/ptftpd-stat
SEG=$T/ptftpd.stats
PROMDIR=$T/prom
PROM=$PROMDIR/ptftpd.prom
mkdir -m 755 "$PROMDIR"
chmod 777 "$PROMDIR"		# harmless if the supervisor writes as root

[ -x "$STAT" ] || pt_fail "$STAT not built"

# lib.sh always writes its own one-line stats group; a second "stats"
# group is a config error, so drop lib.sh's default (kept as is should it
# stop writing one when a test line sets stats).
eval "pt_write_conf_lib$(declare -f pt_write_conf | sed 1s/pt_write_conf//)"
pt_write_conf() {
	pt_write_conf_lib "$@"
	sed -i "\\|^stats = { path = \"$T/ptftpd.stats\"; };\$|d" "$PT_CONF"
}

# Totals from "ptftpd-stat -j" as "key=value" lines (counters only).
stat_json() {
	"$STAT" -s "$SEG" -j >"$T/stat.json" || pt_fail "ptftpd-stat -j failed"
	python3 - "$T/stat.json" <<'EOF' || pt_fail "ptftpd-stat -j: bad JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == 1, d["version"]
for k, v in d["totals"].items():
    if isinstance(v, int):
        print("%s=%d" % (k, v))
# per-slot counters must add up to the totals
for k, v in d["totals"].items():
    if isinstance(v, int) and k != "sess_active":
        s = sum(sl[k] for sl in d["slots"])
        assert s == v, "%s: slots sum %d, totals %d" % (k, s, v)
print("slots=%d" % len(d["slots"]))
print("running=%d" % sum(1 for sl in d["slots"] if sl["state"] == "running"))
EOF
}

# Counters of a Prometheus text file summed over workers, "name=value".
prom_sums() {
	python3 - "$1" <<'EOF' || pt_fail "$1: not valid exposition text"
import re, sys
sums, seen_help, seen_type, order = {}, set(), set(), []
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        name = line.split()[2]
        seen = seen_help if line[2] == "H" else seen_type
        assert name not in seen, "duplicate %s" % line
        seen.add(name)
        if not order or order[-1] != name:
            assert name not in order, "family %s not contiguous" % name
            order.append(name)
        continue
    m = line_re.match(line)
    assert m, "bad line: %r" % line
    name, labels, value = m.group(1), m.group(3) or "", m.group(4)
    fam = re.sub(r"_(bucket|sum|count)$", "", name)
    fam = fam if fam in seen_type else name
    assert order and order[-1] == fam, "sample %s outside its family" % name
    if name.endswith("_total") and 'worker="' in labels:
        sums[name[len("ptftpd_"):-len("_total")]] = \
            sums.get(name[len("ptftpd_"):-len("_total")], 0) + int(value)
    if name == "ptftpd_worker_up" and value == "1":
        sums["workers_up"] = sums.get("workers_up", 0) + 1
for k, v in sorted(sums.items()):
    print("%s=%d" % (k, v))
EOF
}

# Value of key in a "key=value" list.
kv() {
	sed -n "s/^$1=//p" "$2"
}

# Checks that each expected delta (name=N ...) holds between two lists;
# reports every mismatch, then fails if there was one.
check_deltas() {
	local what=$1 base=$2 now=$3 pair k want b n bad=""
	shift 3
	for pair in "$@"; do
		k=${pair%%=*}
		want=${pair#*=}
		b=$(kv "$k" "$base")
		n=$(kv "$k" "$now")
		[ -n "$b" ] && [ -n "$n" ] || pt_fail "$what: no $k"
		if [ $((n - b)) -eq "$want" ]; then
			echo "    $what: $k +$want ok"
		else
			echo "    $what: $k went from $b to $n, expected +$want"
			bad="$bad $k"
		fi
	done
	[ -z "$bad" ] || pt_fail "$what: wrong counts:$bad"
}

# Waits (bounded) until no transfer is active: every result is counted.
wait_idle() {
	local i
	for i in $(seq 1 50); do
		stat_json >"$T/idle.kv"
		[ "$(kv sess_active "$T/idle.kv")" = 0 ] && return 0
		sleep 0.1
	done
	pt_fail "transfers still active after 5 s"
}

pt_mkfile f3000 3000

pt_start "workers = 3;" \
    "session = { timeout_ms = 200; timeout_max_ms = 400; retries = 2; first_retries = 2; };" \
    "stats = { path = \"$SEG\"; file = \"$PROM\"; };"

pt_step "segment: 3 running workers"
three_running() {
	stat_json >"$T/base.kv" && [ "$(kv running "$T/base.kv")" = 3 ]
}
pt_wait_for 10 three_running
wait_idle
stat_json >"$T/base.kv"
[ "$(kv running "$T/base.kv")" = 3 ] ||
    pt_fail "expected 3 running slots: $(tr '\n' ' ' <"$T/base.kv")"
[ "$(kv rrq "$T/base.kv")" = "$(kv refused_notfound "$T/base.kv")" ] ||
    pt_fail "before any test transfer, rrq != refused_notfound (probes only)"
[ -e "$PROM" ] && pt_fail "stats.file written before SIGUSR1 (interval 0)"

pt_step "5 completed, 3 not found, 1 probe, 1 timeout"
pt_tftpc -c 5 -n 5 -e "$ROOT/f3000" f3000 || pt_fail "5 transfers"
pt_tftpc -x 1 -c 3 -n 3 no-such-file || pt_fail "3 not found"
pt_tftpc --probe -b 1468 -e "$ROOT/f3000" f3000 || pt_fail "probe"
pt_tftpc --stop-after 1 --quiet-ms 1500 f3000 ||
    pt_fail "stalled client: the server did not give up"
wait_idle

pt_step "SIGUSR1 writes stats.file and logs the summary"
kill -USR1 "$PT_PID"
for i in $(seq 1 50); do
	[ -s "$PROM" ] && break
	sleep 0.1
done
[ -s "$PROM" ] || pt_fail "no $PROM 5 s after SIGUSR1"
pt_wait_log "stats: rrq=[0-9]+ " || pt_fail "no stats summary in the log"
ls -A "$PROMDIR" | grep -q '\.tmp\.' && pt_fail "temp file left in $PROMDIR"
stat_json >"$T/now.kv"
prom_sums "$PROM" >"$T/prom.kv"

# rrq: 5 + 3 + 2 (probe and the real request) + 1 (stalled). The real
# RRQ follows the probe's ERROR 8 at once from the same port with other
# options: it must start a transfer, not be dropped as a duplicate of the
# probe (req_retransmit) and then counted again when the client resends.
EXPECT="rrq=11 req_retransmit=0 sess_started=8 sess_ok=6 refused_notfound=3"
EXPECT="$EXPECT sess_probe=1 sess_timeout=1 sess_aborted=0 sess_error=0"
check_deltas "ptftpd-stat -j" "$T/base.kv" "$T/now.kv" $EXPECT
check_deltas "stats.file" "$T/base.kv" "$T/prom.kv" $EXPECT
[ "$(kv workers_up "$T/prom.kv")" = 3 ] ||
    pt_fail "stats.file: $(kv workers_up "$T/prom.kv") workers up, not 3"

pt_step "a second SIGUSR1 refreshes stats.file"
rrq_before=$(kv rrq "$T/prom.kv")
pt_tftpc -e "$ROOT/f3000" f3000 || pt_fail "one more transfer"
wait_idle
kill -USR1 "$PT_PID"
for i in $(seq 1 50); do
	prom_sums "$PROM" >"$T/prom2.kv"
	[ "$(kv rrq "$T/prom2.kv")" = $((rrq_before + 1)) ] && break
	sleep 0.1
done
[ "$(kv rrq "$T/prom2.kv")" = $((rrq_before + 1)) ] ||
    pt_fail "stats.file not refreshed: rrq $(kv rrq "$T/prom2.kv")"

pt_step "ptftpd-stat: text, -p and -c CONFIG"
"$STAT" -s "$SEG" >"$T/stat.txt" || pt_fail "ptftpd-stat text"
grep -q "^slot [0-9]* pid [0-9]* state running gen 1 " "$T/stat.txt" ||
    pt_fail "ptftpd-stat text: no slot line"
"$STAT" -s "$SEG" -p >"$T/stat.prom" || pt_fail "ptftpd-stat -p"
prom_sums "$T/stat.prom" >/dev/null
"$STAT" -c "$PT_CONF" -j >/dev/null || pt_fail "ptftpd-stat -c CONFIG"
"$STAT" -s "$SEG" -w 1 -n 1 >"$T/rates" || pt_fail "ptftpd-stat -w"
[ "$(wc -l <"$T/rates")" -eq 2 ] || pt_fail "ptftpd-stat -w 1 -n 1 lines"

pt_stop

pt_step "after the daemon stops, ptftpd-stat says so"
if "$STAT" -s "$SEG" >/dev/null 2>"$T/err"; then
	pt_fail "ptftpd-stat succeeded without a daemon"
fi
grep -q "is ptftpd running" "$T/err" ||
    pt_fail "ptftpd-stat message: $(cat "$T/err")"
echo "PASS stats"
