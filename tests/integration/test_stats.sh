#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_stats.sh - the stats segment end to end: a daemon with 3 workers
# runs known transfers (completed, not found, an EDK2 size probe, a client
# that stops ACKing until the server gives up); then SIGUSR1 must write
# stats.file (Prometheus text) and log a summary, and both that file and
# "ptftpd-stat -j" must show exactly those counts. Counts are taken as
# differences from a snapshot after start-up, because pt_start's readiness
# probes are requests too. Then the Prometheus side across a reload, a
# refused reload and a killed worker: per-worker series for live workers
# only, totals that never go back, reload and crash counters apart, and
# `promtool check metrics` on the real output (SKIP: reason when no
# promtool can be had). Then ptftpd-stat -w across a daemon restart (it
# must map the new segment and go on), stats.file rewritten without
# stats.interval (15 s default), and after the daemon stops ptftpd-stat
# exits 1 with a clear message. Every wait is for a condition, bounded.
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
assert d["version"] == 3, d["version"]
for k, v in d["totals"].items():
    if isinstance(v, int):
        print("%s=%d" % (k, v))
# per-slot counters must add up to the totals
for k, v in d["totals"].items():
    if isinstance(v, int) and k != "sess_active":
        s = sum(sl[k] for sl in d["slots"])
        assert s == v, "%s: slots sum %d, totals %d" % (k, s, v)
for k in ("generation", "reloads_ok", "reloads_failed", "last_reload",
          "last_reload_ok", "worker_crashes"):
    print("%s=%d" % (k, d[k]))
print("daemon_version=%s" % d["daemon_version"])
print("slots=%d" % len(d["slots"]))
for st in ("running", "draining", "exited"):
    print("%s=%d" % (st, sum(1 for sl in d["slots"] if sl["state"] == st)))
print("running_pids=%s" % ",".join(str(sl["pid"]) for sl in d["slots"]
                                   if sl["state"] == "running"))
EOF
}

# A Prometheus text file checked (HELP/TYPE once per family and before
# its samples, families contiguous, label syntax) and read back as
# "key=value": each counter under its segment field name (the labelled
# families mapped back, as stats.c's stats_members maps them), and the
# header's figures.
prom_sums() {
	python3 - "$1" <<'EOF' || pt_fail "$1: not valid exposition text"
import re, sys
FAMS = {
    "ptftpd_requests_total": ("op", {"rrq": "rrq", "wrq": "wrq"}),
    "ptftpd_transfers_total": ("result", {
        "ok": "sess_ok", "probe": "sess_probe", "aborted": "sess_aborted",
        "timeout": "sess_timeout", "error": "sess_error",
        "replaced": "sess_replaced"}),
    "ptftpd_refused_total": ("reason", {
        "not_found": "refused_notfound", "access": "refused_access",
        "bad_request": "refused_badop", "busy": "refused_busy",
        "other": "refused_other", "acl": "denied_acl",
        "limit": "denied_limit"}),
    "ptftpd_client_errors_total": ("code", {
        "0": "client_err0", "8": "client_err8",
        "other": "client_err_other"}),
    "ptftpd_options_negotiated_total": ("option", {
        "blksize": "opt_blksize", "windowsize": "opt_windowsize",
        "tsize": "opt_tsize", "timeout": "opt_timeout"}),
}
SUP = {
    'ptftpd_reloads_total{result="ok"}': "reloads_ok",
    'ptftpd_reloads_total{result="failed"}': "reloads_failed",
    "ptftpd_worker_crashes_total": "worker_crashes",
    "ptftpd_config_generation": "generation",
    "ptftpd_config_last_reload_successful": "last_reload_ok",
    "ptftpd_config_last_reload_timestamp_seconds": "last_reload",
    'ptftpd_workers{state="running"}': "running",
    'ptftpd_workers{state="draining"}': "draining",
}
out, seen_help, seen_type, order, workers = {}, set(), set(), [], set()
types = {}
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
lab_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        name = line.split()[2]
        seen = seen_help if line[2] == "H" else seen_type
        assert name not in seen, "duplicate %s" % line
        seen.add(name)
        if line[2] == "T":
            types[name] = line.split()[3]
        if not order or order[-1] != name:
            assert name not in order, "family %s not contiguous" % name
            order.append(name)
        continue
    m = line_re.match(line)
    assert m, "bad line: %r" % line
    name, labtext, value = m.group(1), m.group(3) or "", m.group(4)
    labels, pos = {}, 0
    while pos < len(labtext):
        lm = lab_re.match(labtext, pos)
        assert lm, "bad labels in %r" % line
        labels[lm.group(1)] = lm.group(2)
        pos = lm.end()
    fam = re.sub(r"_(bucket|sum|count)$", "", name)
    fam = fam if types.get(fam) == "histogram" else name
    assert fam in seen_type, "sample %s has no TYPE" % name
    assert order and order[-1] == fam, "sample %s outside its family" % name
    if "worker" in labels:
        workers.add(labels["worker"])
        continue
    if name in FAMS:
        lab, vals = FAMS[name]
        assert list(labels) == [lab], line
        out[vals[labels[lab]]] = int(value)
    elif line.rsplit(" ", 1)[0] in SUP:
        out[SUP[line.rsplit(" ", 1)[0]]] = int(value)
    elif name == "ptftpd_build_info":
        out["daemon_version"] = labels["version"]
    elif name.endswith("_total") and types[name] == "counter":
        assert not labels, line
        out[name[len("ptftpd_"):-len("_total")]] = int(value)
out["worker_series"] = len(workers)
out["worker_labels"] = ",".join(sorted(workers, key=int))
for k, v in sorted(out.items()):
    print("%s=%s" % (k, v))
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

# Every counter of list $2 is at least its value in list $1 (totals never
# go back, whatever retired or died in between).
check_not_back() {
	local what=$1 old=$2 new=$3 k v n bad=""
	while IFS='=' read -r k v; do
		case $v in
		''|*[!0-9]*) continue ;;
		esac
		case $k in
		running|draining|exited|slots|worker_series|sess_active|last_reload_ok)
			continue ;;
		esac
		n=$(kv "$k" "$new")
		[ -n "$n" ] || { bad="$bad $k(gone)"; continue; }
		[ "$n" -ge "$v" ] || bad="$bad $k($v->$n)"
	done <"$old"
	[ -z "$bad" ] || pt_fail "$what: went back:$bad"
	echo "    $what: no total went back"
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

# Waits (bounded, 10 s) until "ptftpd-stat -j" has key=value for every
# pair given; the last snapshot stays in $T/wait.kv.
wait_json() {
	local i pair ok
	for i in $(seq 1 100); do
		stat_json >"$T/wait.kv"
		ok=1
		for pair in "$@"; do
			[ "$(kv "${pair%%=*}" "$T/wait.kv")" = "${pair#*=}" ] ||
			    ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.1
	done
	pt_fail "waited 10 s for $*: $(tr '\n' ' ' <"$T/wait.kv")"
}

# USR1, then wait (bounded) until stats.file shows key=value.
usr1_until() {
	local k=$1 want=$2 i
	for i in $(seq 1 50); do
		kill -USR1 "$PT_PID"
		sleep 0.1
		if [ -s "$PROM" ]; then
			prom_sums "$PROM" >"$T/usr1.kv"
			[ "$(kv "$k" "$T/usr1.kv")" = "$want" ] && return 0
		fi
	done
	pt_fail "stats.file: $k never became $want"
}

# promtool check metrics on a file, or SKIP with the reason once.
PROMTOOL=""
PROMTOOL_WHY=""
if out=$("$TOP/scripts/promtool.sh" 2>&1); then
	PROMTOOL=$out
else
	PROMTOOL_WHY=$out
fi
promtool_check() {
	if [ -z "$PROMTOOL" ]; then
		echo "SKIP: promtool check metrics ($2): $PROMTOOL_WHY"
		return 0
	fi
	"$PROMTOOL" check metrics <"$1" >"$T/promtool.out" 2>&1 ||
	    pt_fail "promtool check metrics ($2): $(cat "$T/promtool.out")"
	echo "    promtool check metrics ($2): ok"
}

pt_step "ptftpd-stat links stats alone: no libseccomp, liburing"
ldd "$STAT" >"$T/ldd" 2>&1 || pt_fail "ldd $STAT: $(cat "$T/ldd")"
grep -E 'libseccomp|liburing|libjemalloc' "$T/ldd" &&
    pt_fail "ptftpd-stat links more than it uses"
"$STAT" -V | grep -qx "ptftpd-stat $("$PTFTPD" -V | sed 's/^ptftpd //')" ||
    pt_fail "ptftpd-stat -V: $("$STAT" -V) vs $("$PTFTPD" -V)"

pt_step "ptftpd-stat -c reads stats.path as the daemon does"
mkdir -p "$T/sub"
echo 'stats = { path = "rel/seg"; }; root = "/nonexistent";' >"$T/sub/a.conf"
"$STAT" -c "$T/sub/a.conf" >/dev/null 2>"$T/err" && pt_fail "-c: no segment"
grep -qF "$T/sub/rel/seg: No such file or directory (is ptftpd running?" \
    "$T/err" || pt_fail "-c relative stats.path: $(cat "$T/err")"
# without stats.path: the compiled-in default under /run (a daemon of
# the host may be using it: then this works)
echo 'workers = 1;' >"$T/sub/b.conf"
"$STAT" -c "$T/sub/b.conf" >/dev/null 2>"$T/err" ||
    grep -q "^ptftpd-stat: /run/[^ ]*: No such file" "$T/err" ||
    pt_fail "-c without stats.path: $(cat "$T/err")"
echo 'stats = { enabled = false; };' >"$T/sub/c.conf"
"$STAT" -c "$T/sub/c.conf" >/dev/null 2>"$T/err"
[ $? = 1 ] && grep -q "stats.enabled is false" "$T/err" ||
    pt_fail "-c stats.enabled = false: $(cat "$T/err")"
echo 'stats = { path = ' >"$T/sub/d.conf"
"$STAT" -c "$T/sub/d.conf" >/dev/null 2>"$T/err"
[ $? = 1 ] && grep -q "d.conf:[0-9]*: syntax error" "$T/err" ||
    pt_fail "-c syntax error: $(cat "$T/err")"

pt_mkfile f3000 3000

pt_start "workers = 3;" \
    "session = { timeout_ms = 200; timeout_max_ms = 400; retries = 2; first_retries = 2; };" \
    "stats = { path = \"$SEG\"; file = \"$PROM\"; interval = 0; };"

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
[ "$(kv running "$T/prom.kv")" = 3 ] ||
    pt_fail "stats.file: $(kv running "$T/prom.kv") workers running, not 3"
[ "$(kv worker_series "$T/prom.kv")" = 3 ] ||
    pt_fail "stats.file: workers $(kv worker_labels "$T/prom.kv"), not 3"
[ "$(kv daemon_version "$T/prom.kv")" = "$("$PTFTPD" -V | sed 's/^ptftpd //')" ] ||
    pt_fail "ptftpd_build_info: version $(kv daemon_version "$T/prom.kv")"
grep -q '^ptftpd_transfers_total{result="ok"} ' "$PROM" ||
    pt_fail "no ptftpd_transfers_total{result=\"ok\"}"
grep -q '^ptftpd_rrq_total' "$PROM" && pt_fail "ptftpd_rrq_total still exported"
promtool_check "$PROM" "stats.file after transfers"

pt_step "a second SIGUSR1 refreshes stats.file"
rrq_before=$(kv rrq "$T/prom.kv")
pt_tftpc -e "$ROOT/f3000" f3000 || pt_fail "one more transfer"
wait_idle
usr1_until rrq $((rrq_before + 1))

pt_step "reload: the old workers retire, their counts stay in the totals"
prom_sums "$PROM" >"$T/before-reload.kv"
old_labels=$(kv worker_labels "$T/before-reload.kv")
kill -HUP "$PT_PID"
wait_json generation=2 running=3 draining=0 exited=3 reloads_ok=1
[ "$(kv last_reload "$T/wait.kv")" -gt 0 ] || pt_fail "no last reload time"
[ "$(kv worker_crashes "$T/wait.kv")" = 0 ] ||
    pt_fail "a reload counted as a crash"
usr1_until generation 2
prom_sums "$PROM" >"$T/after-reload.kv"
check_not_back "reload" "$T/before-reload.kv" "$T/after-reload.kv"
[ "$(kv worker_series "$T/after-reload.kv")" = 3 ] ||
    pt_fail "after a reload: workers $(kv worker_labels "$T/after-reload.kv") exported, not 3 live ones"
[ "$(kv worker_labels "$T/after-reload.kv")" != "$old_labels" ] ||
    pt_fail "after a reload the retired slots $old_labels are still exported"
[ "$(kv reloads_ok "$T/after-reload.kv")" = 1 ] &&
    [ "$(kv last_reload_ok "$T/after-reload.kv")" = 1 ] ||
    pt_fail "reload counters: $(grep reload "$T/after-reload.kv" | tr '\n' ' ')"
pt_tftpc -e "$ROOT/f3000" f3000 || pt_fail "a transfer after the reload"
wait_idle

pt_step "a refused reload is counted as failed"
cp "$PT_CONF" "$T/good.conf"
echo "no_such_setting = 1;" >>"$PT_CONF"
kill -HUP "$PT_PID"
wait_json reloads_failed=1 last_reload_ok=0 generation=2
pt_wait_log "reload failed" || pt_fail "no 'reload failed' in the log"
cp "$T/good.conf" "$PT_CONF"

pt_step "a killed worker is a crash, not a reload"
victim=$(kv running_pids "$T/wait.kv" | cut -d, -f1)
[ -n "$victim" ] || pt_fail "no running worker pid"
kill -KILL "$victim"
wait_json worker_crashes=1 running=3 reloads_ok=1
case ",$(kv running_pids "$T/wait.kv")," in
*",$victim,"*) pt_fail "worker $victim still listed as running" ;;
esac
usr1_until worker_crashes 1
prom_sums "$PROM" >"$T/after-kill.kv"
check_not_back "killed worker" "$T/after-reload.kv" "$T/after-kill.kv"
[ "$(kv worker_series "$T/after-kill.kv")" = 3 ] ||
    pt_fail "after a crash: workers $(kv worker_labels "$T/after-kill.kv")"
[ "$(kv reloads_ok "$T/after-kill.kv")" = 1 ] &&
    [ "$(kv reloads_failed "$T/after-kill.kv")" = 1 ] ||
    pt_fail "a crash moved the reload counters"
promtool_check "$PROM" "stats.file after a reload and a killed worker"
"$STAT" -s "$SEG" -p >"$T/stat.prom" || pt_fail "ptftpd-stat -p"
prom_sums "$T/stat.prom" >/dev/null
promtool_check "$T/stat.prom" "ptftpd-stat -p"

pt_step "ptftpd-stat: text and -c CONFIG"
"$STAT" -s "$SEG" >"$T/stat.txt" || pt_fail "ptftpd-stat text"
grep -q "^slot [0-9]* pid [0-9]* state running gen 2 " "$T/stat.txt" ||
    pt_fail "ptftpd-stat text: no slot line"
grep -q "^reloads 1 ok, 1 failed, last .* (failed); worker crashes 1$" \
    "$T/stat.txt" || pt_fail "ptftpd-stat text: reloads line"
"$STAT" -c "$PT_CONF" -j >"$T/c.json" || pt_fail "ptftpd-stat -c CONFIG"
cmp -s <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sup_pid"])' "$T/c.json") \
    <(echo "$PT_PID") || pt_fail "ptftpd-stat -c read another segment"

pt_step "ptftpd-stat -w goes on across a daemon restart"
"$STAT" -s "$SEG" -w 1 >"$T/rates" 2>"$T/rates.err" &
WPID=$!
pt_track "$WPID"
# Lines of rates (after the header) in $T/rates.
rate_lines() {
	echo $(($(wc -l <"$T/rates") - 1))
}
wait_rates() {
	local want=$1 i
	for i in $(seq 1 100); do
		[ "$(rate_lines)" -ge "$want" ] && return 0
		kill -0 "$WPID" 2>/dev/null || pt_fail "ptftpd-stat -w exited: $(cat "$T/rates.err")"
		sleep 0.1
	done
	pt_fail "ptftpd-stat -w: $(rate_lines) lines, waited for $want"
}
wait_rates 1
head -n 1 "$T/rates" | grep -Eq '^time +req/s +ok/s' ||
    pt_fail "ptftpd-stat -w header: $(head -n 1 "$T/rates")"
sed -n 2p "$T/rates" | grep -Eq '^[0-2][0-9]:[0-5][0-9]:[0-6][0-9] +[0-9.]+ ' ||
    pt_fail "ptftpd-stat -w line: $(sed -n 2p "$T/rates")"
old_pid=$PT_PID
pt_stop
for i in $(seq 1 100); do
	grep -q "waiting for ptftpd" "$T/rates.err" && break
	sleep 0.1
done
grep -q "waiting for ptftpd" "$T/rates.err" ||
    pt_fail "ptftpd-stat -w did not notice the stop: $(cat "$T/rates.err")"
kill -0 "$WPID" 2>/dev/null || pt_fail "ptftpd-stat -w exited with the daemon"
n_before=$(rate_lines)

# The new daemon: stats.file without stats.interval, rewritten every 15 s.
PROM2=$PROMDIR/second.prom
pt_start "workers = 2;" "stats = { path = \"$SEG\"; file = \"$PROM2\"; };"
[ "$PT_PID" != "$old_pid" ] || pt_fail "same daemon pid"
for i in $(seq 1 100); do
	grep -q "a new segment (ptftpd restarted, supervisor pid $PT_PID)" \
	    "$T/rates.err" && break
	sleep 0.1
done
grep -q "a new segment (ptftpd restarted, supervisor pid $PT_PID)" \
    "$T/rates.err" || pt_fail "ptftpd-stat -w: $(cat "$T/rates.err")"
pt_tftpc -e "$ROOT/f3000" f3000 || pt_fail "a transfer after the restart"
wait_rates $((n_before + 2))
kill -0 "$WPID" 2>/dev/null || pt_fail "ptftpd-stat -w died"
kill "$WPID"
wait "$WPID" 2>/dev/null

pt_step "stats.file without stats.interval: written within 15 s"
pt_wait_for 30 test -s "$PROM2" ||
    pt_fail "$PROM2 not written 30 s after start"
prom_sums "$PROM2" >"$T/second.kv"
[ "$(kv worker_series "$T/second.kv")" = 2 ] ||
    pt_fail "second daemon: workers $(kv worker_labels "$T/second.kv")"
promtool_check "$PROM2" "periodic stats.file"

pt_stop

pt_step "after the daemon stops, ptftpd-stat says so"
if "$STAT" -s "$SEG" >/dev/null 2>"$T/err"; then
	pt_fail "ptftpd-stat succeeded without a daemon"
fi
grep -q "is ptftpd running" "$T/err" ||
    pt_fail "ptftpd-stat message: $(cat "$T/err")"
echo "PASS stats"
