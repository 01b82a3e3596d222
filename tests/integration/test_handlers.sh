#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2016 # ${...} in single quotes is template text
# test_handlers.sh - dynamic content end to end, with the default seccomp
# filter on (no worker may be killed):
#  - template: the etc/examples PXELINUX template and hosts table (plus
#    lines for 127.0.0.1 and 127.0.0.2): two client addresses get their
#    own host entry, a client with no entry (::1, which also checks
#    ${client_ip} = "::1") gets the one of the MAC in the name, byte-exact
#    against an independent renderer; tsize in the OACK equals the rendered
#    size; netascii converts; "$${", an unclosed "${", unknown names and
#    ${client_port} in a second template; a template or hosts table
#    replaced on disk shows at the next request; a missing template is
#    ERROR 1.
#  - exec: a script printing its environment (content per client, IPv4 and
#    IPv6, netascii, empty output); exit 1 -> ERROR 1; exit 3 -> ERROR 0
#    and "exit status 3" with the stderr head in the log; a program past
#    timeout_ms -> ERROR 0 "Generator failed" in time, "timed out" in the
#    log, the program gone; output over max_bytes -> ERROR 3; 30 concurrent
#    requests with max_concurrent = 4 all byte-exact (and never more than
#    workers x 4 programs at once); a retransmitted RRQ does not run the
#    program twice; a worker serves plain files while a program runs.
#  - module: build/modules/example.so: mod/size/100000 byte-exact with
#    tsize, mod/hello names the client, a missing name is ERROR 1, the done
#    callback logs one line per finished transfer (ok and probe); a missing
#    .so fails "ptftpd -t", a start, and a SIGHUP (which keeps serving).
# Other client addresses (127.0.0.2) and known source ports come from tc.py
# below; tftpc cannot choose its source address.
set -u
. "$TOP/tests/integration/lib.sh"

PY=$PT_PYTHON

# tc.py SRC HOST PORT NAME [-m MODE] [-t] [-o OUT] [-r RESEND_MS] [-d SECS]
# One RRQ from address SRC (port chosen by the kernel). -t asks tsize 0.
# The RRQ is resent every RESEND_MS (default 1000) until the first reply.
# Prints "ok BYTES sport=P tsize=N tids=K" (tsize=- without an OACK; tids:
# distinct server ports that answered), "error CODE MSG" or "timeout".
TC=$T/tc.py
cat >"$TC" <<'EOF'
import socket, struct, sys, select, time, getopt
opts, args = getopt.getopt(sys.argv[1:], 'm:to:r:d:')
src, host, port, name = args[0], args[1], int(args[2]), args[3]
o = dict(opts)
mode = o.get('-m', 'octet')
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.bind((src, 0))
sport = s.getsockname()[1]
rrq = struct.pack('!H', 1) + name.encode('latin-1') + b'\0' + \
    mode.encode() + b'\0' + (b'tsize\0' + b'0\0' if '-t' in o else b'')
resend = int(o.get('-r', '1000')) / 1000.0
deadline = time.monotonic() + float(o.get('-d', '8'))
s.sendto(rrq, (host, port))
last, peer, tids, tsize = rrq, None, set(), '-'
data, expect, done = b'', 1, False
while not done:
    now = time.monotonic()
    if now >= deadline:
        print('timeout'); sys.exit(0)
    if not select.select([s], [], [], min(resend, deadline - now))[0]:
        s.sendto(last, peer or (host, port))
        continue
    p, a = s.recvfrom(70000)
    tids.add(a[1])
    if peer is None:
        peer = a
    if a != peer:
        continue
    op = struct.unpack('!H', p[:2])[0]
    if op == 5:
        n = struct.unpack('!H', p[2:4])[0]
        print('error %d %s' % (n, p[4:].split(b'\0')[0].decode('latin-1')))
        sys.exit(0)
    if op == 6:
        f = p[2:].split(b'\0')
        for k, v in zip(f[0::2], f[1::2]):
            if k.lower() == b'tsize':
                tsize = v.decode()
        last = struct.pack('!HH', 4, 0)
        s.sendto(last, peer)
        continue
    if op != 3:
        continue
    n = struct.unpack('!H', p[2:4])[0]
    if n == expect & 0xffff:
        data += p[4:]
        expect += 1
        done = len(p) < 516
    last = struct.pack('!HH', 4, n)
    s.sendto(last, peer)
# Linger a little: a second transfer ID would show up now.
t_end = time.monotonic() + 0.2
while True:
    r = t_end - time.monotonic()
    if r <= 0 or not select.select([s], [], [], r)[0]:
        break
    tids.add(s.recvfrom(70000)[1][1])
if '-o' in o:
    open(o['-o'], 'wb').write(data)
print('ok %d sport=%d tsize=%s tids=%d' % (len(data), sport, tsize,
                                            len(tids)))
EOF

# tc SRC NAME [tc.py options]: to ::1 if SRC is IPv6, else 127.0.0.1.
tc() {
	local src=$1 name=$2 host=127.0.0.1
	shift 2
	case $src in *:*) host=::1 ;; esac
	timeout -k 1 15 "$PY" "$TC" "$@" "$src" "$host" "$PT_PORT" "$name"
}

# tc_get WHAT SRC NAME [options]: must end "ok"; the data is in $T/out and
# the source port in $SPORT, tc's line in $TCLINE.
tc_get() {
	local what=$1 src=$2 name=$3
	shift 3
	rm -f "$T/out"
	TCLINE=$(tc "$src" "$name" -o "$T/out" "$@")
	case $TCLINE in
	ok*) ;;
	*) pt_fail "$what: $TCLINE" ;;
	esac
	SPORT=$(echo "$TCLINE" | sed -n 's/.* sport=\([0-9]*\).*/\1/p')
}

# tc_err WHAT WANT SRC NAME [options]: tc's line must start with WANT.
tc_err() {
	local what=$1 want=$2
	shift 2
	TCLINE=$(tc "$@")
	case $TCLINE in
	"$want"*) echo "ok   $what: $TCLINE" ;;
	*) pt_fail "$what: want \"$want...\", got \"$TCLINE\"" ;;
	esac
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

no_kills() {
	if grep -q "killed by signal" "$PT_LOG"; then
		grep "killed by signal" "$PT_LOG" >&2
		pt_fail "$1: a worker was killed"
	fi
}

# Every worker of the running daemon must be under the seccomp filter.
check_filtered() {
	local w n=0
	for w in $(pgrep -P "$PT_PID"); do
		# The exec spawner of each worker is a grandchild; only workers
		# are direct children.
		[ "$(awk '/^Seccomp:/ { print $2 }' "/proc/$w/status" \
		    2>/dev/null)" = 2 ] || pt_fail "worker $w is not filtered"
		n=$((n + 1))
	done
	[ "$n" -ge 1 ] || pt_fail "no workers"
}

# render_example OUT VAR=VALUE...: etc/examples/pxelinux.tmpl rendered
# independently of the daemon: "$${" is a literal "${", every other ${x}
# is its value or "" (the template has no unclosed "${").
render_example() {
	local out=$1
	shift
	perl -e '
	    my %v = map { split /=/, $_, 2 } @ARGV; @ARGV = ();
	    local $/; my $t = <STDIN>;
	    $t =~ s/\$\$\{/\x01/g;
	    $t =~ s/\$\{([A-Za-z0-9_.]+)\}/exists $v{$1} ? $v{$1} : ""/ge;
	    $t =~ s/\x01/\${/g; print $t;' "$@" \
	    <"$TOP/etc/examples/pxelinux.tmpl" >"$out" ||
	    pt_fail "render_example"
}

# ---------------------------------------------------------------------------
# Files: templates, hosts table, the exec program, expected contents.

MAC=52:54:00:12:34:56
PXE=pxelinux.cfg/01-52-54-00-12-34-56
mkdir -m 755 "$ROOT/tmpl" "$T/bin" "$T/exp"
cp "$TOP/etc/examples/pxelinux.tmpl" "$ROOT/tmpl/pxelinux.tmpl"
{
	cat "$TOP/etc/examples/hosts.conf"
	printf '127.0.0.1\thostname=lo-one os=alpha append="a=1 b=2"\n'
	printf '127.0.0.2\thostname=lo-two os=beta\n'
} >"$ROOT/hosts.conf"
# ${client_port}, unknown names, the "$${" escape, an unclosed "${" and a
# bare CR (netascii: CR NUL) in a template of its own.
printf '%s\n' 'port=${client_port} ip=${client_ip} file=${file}' \
    'unknown=[${nosuch}] [${host.nosuch}] [${match1}] mac=[${mac}]' \
    'literal=$${client_ip} open=${client_ip' \
    'host=${host.hostname}' >"$ROOT/tmpl/edge.tmpl"
printf 'cr=\r|\n' >>"$ROOT/tmpl/edge.tmpl"
chmod 644 "$ROOT/tmpl/"* "$ROOT/hosts.conf"
pt_mkfile plain.bin 30000

# The exec program runs as nobody: world-readable and executable, in a
# searchable directory; it records its runs in the world-writable $D.
D=$T/run
mkdir -m 777 "$D"
: >"$D/runs"
chmod 666 "$D/runs"
GEN=$T/bin/gen.sh
cat >"$GEN" <<EOF
#!/bin/sh
D=$D
EOF
cat >>"$GEN" <<'EOF'
echo "$PTFTPD_FILE" >>"$D/runs"
case $PTFTPD_FILE in
gen/fail1*) echo "no such thing" >&2; exit 1 ;;
gen/fail3*) printf 'boom: disk on fire\nsecond line\n' >&2; exit 3 ;;
gen/big*) head -c 200000 /dev/zero; exit 0 ;;
gen/empty*) exit 0 ;;
gen/slow*)	# runs until the test releases it (at most 8 s)
	i=0
	while [ ! -e "$D/release" ] && [ $i -lt 80 ]; do
		sleep 0.1
		i=$((i + 1))
	done ;;
gen/count*) sleep 1 ;;
gen/conc/*)
	touch "$D/act.$$"
	ls "$D" | grep -c '^act\.' >>"$D/peak"
	sleep 0.2
	rm -f "$D/act.$$"
	printf 'conc %s\n' "$PTFTPD_FILE"
	seq 1 1500
	exit 0 ;;
gento/*) echo $$ >"$D/sleeper.pid"; exec sleep 10 ;;
esac
printf 'arg=%s file=%s\nclient=%s port=%s server=%s\n' "$1" "$PTFTPD_FILE" \
    "$PTFTPD_CLIENT_IP" "$PTFTPD_CLIENT_PORT" "$PTFTPD_SERVER_IP"
printf 'mac=%s mode=%s match1=%s match2=[%s]\n' "$PTFTPD_MAC" \
    "$PTFTPD_MODE" "$PTFTPD_MATCH1" "${PTFTPD_MATCH2-unset}"
printf 'path=%s home=[%s]\n' "$PATH" "${HOME-}"
EOF
chmod 755 "$GEN"

# exec_expect OUT ARG FILE CLIENT PORT SERVER MAC MODE MATCH1
exec_expect() {
	printf 'arg=%s file=%s\nclient=%s port=%s server=%s\n' "$2" "$3" \
	    "$4" "$5" "$6" >"$1"
	printf 'mac=%s mode=%s match1=%s match2=[unset]\n' "$7" "$8" "$9" \
	    >>"$1"
	printf 'path=/usr/sbin:/usr/bin:/sbin:/bin home=[]\n' >>"$1"
}

for i in $(seq 1 30); do
	mkdir -p "$T/exp/gen/conc"
	{ printf 'conc gen/conc/%d\n' "$i"; seq 1 1500; } \
	    >"$T/exp/gen/conc/$i"
done
perl -e 'print map { chr($_ % 251) } 0 .. 99999' >"$T/exp/size100000"

# The module's log: workers (nobody) open it for appending in init.
MODLOG=$T/mod.log
: >"$MODLOG"
chmod 666 "$MODLOG"
MODSO=$BUILD/modules/example.so
[ -f "$MODSO" ] || pt_fail "$MODSO not built"

ROUTES=(
	'routes = ('
	'  { regex = "^pxelinux\\.cfg/01-([0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){5})$";'
	'    handler = "template";'
	'    template = "tmpl/pxelinux.tmpl"; hosts = "hosts.conf"; },'
	'  { prefix = "t/"; handler = "template";'
	'    template = "tmpl/edge.tmpl"; hosts = "hosts.conf"; },'
	'  { prefix = "missing/"; handler = "template";'
	'    template = "tmpl/none.tmpl"; },'
	'  { prefix = "nohosts/"; handler = "template";'
	'    template = "tmpl/edge.tmpl"; hosts = "none.conf"; },'
	'  { regex = "^gen/(.*)$"; handler = "exec";'
	"    command = [ \"$GEN\", \"first arg\" ]; timeout_ms = 10000;"
	'    max_bytes = 100000; max_concurrent = 4; },'
	'  { prefix = "gento/"; handler = "exec";'
	"    command = [ \"$GEN\" ]; timeout_ms = 1000; },"
	'  { prefix = "mod/"; handler = "module";'
	"    module = \"$MODSO\"; args = \"log=$MODLOG\"; }"
	');'
)

# ---------------------------------------------------------------------------
pt_step "module load failure: ptftpd -t and a start"
BADLINE="routes = ( { prefix = \"mod/\"; handler = \"module\"; module = \"$T/nope.so\"; } );"
pt_write_conf 1 "$BADLINE"
cp "$PT_CONF" "$T/bad.conf"
badln=$(grep -n 'handler = "module"' "$T/bad.conf" | cut -d: -f1)
# refuses WHAT FLAG: ptftpd FLAG on bad.conf exits 1 saying file:line.
refuses() {
	local out rc
	out=$(timeout 10 "$PTFTPD" "$2" -c "$T/bad.conf" 2>&1)
	rc=$?
	echo "    $out"
	[ "$rc" = 1 ] || pt_fail "$1 with a missing module: exit $rc, want 1"
	echo "$out" |
	    grep -q "bad.conf:$badln: routes\[0\]\.module: cannot load" ||
	    pt_fail "$1: no \"bad.conf:$badln: routes[0].module: cannot load\""
}
refuses "ptftpd -t" -t
refuses start -f
echo "ok   missing .so: -t and start exit 1 with file:line"

pt_start "${ROUTES[@]}"
check_filtered

# ---------------------------------------------------------------------------
pt_step "template: per client address, by MAC, IPv6, tsize"
render_example "$T/exp/pxe.1" client_ip=127.0.0.1 server_ip=127.0.0.1 \
    file="$PXE" mac="$MAC" host.hostname=lo-one host.os=alpha \
    host.append="a=1 b=2"
render_example "$T/exp/pxe.2" client_ip=127.0.0.2 server_ip=127.0.0.1 \
    file="$PXE" mac="$MAC" host.hostname=lo-two host.os=beta
render_example "$T/exp/pxe.6" client_ip=::1 server_ip=::1 \
    file="$PXE" mac="$MAC" host.hostname=node01 host.os=debian12 \
    host.append="console=ttyS0,115200n8 quiet"
grep -q "MENU TITLE lo-two ($MAC)" "$T/exp/pxe.2" ||
    pt_fail "render_example is broken"
cmp -s "$T/exp/pxe.1" "$T/exp/pxe.2" && pt_fail "expected files equal"

pt_tftpc -t -e "$T/exp/pxe.1" "$PXE" || pt_fail "template from 127.0.0.1"
echo "ok   127.0.0.1: its hosts line (by IP), byte-exact, tsize"
tc_get "template from 127.0.0.2" 127.0.0.2 "$PXE" -t
pt_cmp "$T/exp/pxe.2" "$T/out" "template from 127.0.0.2"
[ "$TCLINE" = "ok $(wc -c <"$T/exp/pxe.2") sport=$SPORT tsize=$(wc -c \
    <"$T/exp/pxe.2") tids=1" ] || pt_fail "127.0.0.2 tsize: $TCLINE"
echo "ok   127.0.0.2: its own hosts line, byte-exact, tsize ($TCLINE)"
pt_tftpc -H ::1 -t -e "$T/exp/pxe.6" "$PXE" ||
    pt_fail "template from ::1 (no IP line: by MAC)"
echo "ok   ::1: no IP line, the MAC's line (node01); client_ip ::1"
# The MAC decides for a client without a line: another MAC, another host.
render_example "$T/exp/pxe.gpu" client_ip=::1 server_ip=::1 \
    file=pxelinux.cfg/01-52-54-00-ab-cd-ef mac=52:54:00:ab:cd:ef \
    host.hostname=gpu01 host.os=rocky9 host.append="console=tty0 nomodeset"
pt_tftpc -H ::1 -e "$T/exp/pxe.gpu" pxelinux.cfg/01-52-54-00-ab-cd-ef ||
    pt_fail "template by another MAC"
render_example "$T/exp/pxe.none" client_ip=::1 server_ip=::1 \
    file=pxelinux.cfg/01-00-11-22-33-44-55 mac=00:11:22:33:44:55
pt_tftpc -H ::1 -e "$T/exp/pxe.none" pxelinux.cfg/01-00-11-22-33-44-55 ||
    pt_fail "template, unknown MAC"
echo "ok   other MAC -> gpu01; unknown MAC -> empty values"

pt_step "template: variables, escapes, netascii"
tc_get "edge template" 127.0.0.2 t/x
{
	printf 'port=%s ip=127.0.0.2 file=t/x\n' "$SPORT"
	printf 'unknown=[] [] [] mac=[]\n'
	printf 'literal=${client_ip} open=${client_ip\n'
	printf 'host=lo-two\ncr=\r|\n'
} >"$T/exp/edge"
pt_cmp "$T/exp/edge" "$T/out" "edge template"
echo "ok   client_port, unknown names, \$\${, unclosed \${"
pt_netascii "$T/exp/pxe.1" "$T/exp/pxe.1.na"
pt_tftpc -m netascii -e "$T/exp/pxe.1.na" "$PXE" ||
    pt_fail "template in netascii"
tc_get "edge template netascii" 127.0.0.2 t/x -m netascii
pt_netascii "$T/exp/edge" "$T/exp/edge.na"
sed -i "s/^port=[0-9]*/port=$SPORT/" "$T/exp/edge.na"
pt_cmp "$T/exp/edge.na" "$T/out" "edge template netascii (CR -> CR NUL)"
echo "ok   netascii: LF -> CR LF, CR -> CR NUL"

pt_step "template: change on disk, missing files"
printf 'new template for ${host.hostname} at ${client_ip}\n' \
    >"$ROOT/tmpl/pxelinux.tmpl.new"
chmod 644 "$ROOT/tmpl/pxelinux.tmpl.new"
mv "$ROOT/tmpl/pxelinux.tmpl.new" "$ROOT/tmpl/pxelinux.tmpl"
printf 'new template for lo-one at 127.0.0.1\n' >"$T/exp/new"
# Two workers, each with its own cache: several requests reach both.
pt_tftpc -t -n 4 -c 8 -e "$T/exp/new" "$PXE" ||
    pt_fail "replaced template not picked up"
sed 's/hostname=lo-one/hostname=lo-uno/' "$ROOT/hosts.conf" \
    >"$ROOT/hosts.conf.new"
chmod 644 "$ROOT/hosts.conf.new"
mv "$ROOT/hosts.conf.new" "$ROOT/hosts.conf"
printf 'new template for lo-uno at 127.0.0.1\n' >"$T/exp/new"
pt_tftpc -t -n 4 -c 8 -e "$T/exp/new" "$PXE" ||
    pt_fail "replaced hosts table not picked up"
echo "ok   template and hosts replaced by rename: next requests see them"
pt_tftpc -x 1 missing/x || pt_fail "missing template: want ERROR 1"
pt_tftpc -x 1 nohosts/x || pt_fail "missing hosts file: want ERROR 1"
echo "ok   missing template / hosts file -> ERROR 1"
no_kills "template"

# ---------------------------------------------------------------------------
pt_step "exec: environment per client"
tc_get "exec from 127.0.0.1" 127.0.0.1 gen/a/b
exec_expect "$T/exp/ex" "first arg" gen/a/b 127.0.0.1 "$SPORT" 127.0.0.1 \
    "" octet a/b
pt_cmp "$T/exp/ex" "$T/out" "exec from 127.0.0.1"
tc_get "exec from 127.0.0.2" 127.0.0.2 gen/$PXE -t
exec_expect "$T/exp/ex" "first arg" "gen/$PXE" 127.0.0.2 "$SPORT" \
    127.0.0.1 "$MAC" octet "$PXE"
pt_cmp "$T/exp/ex" "$T/out" "exec from 127.0.0.2"
case $TCLINE in
*" tsize=$(wc -c <"$T/exp/ex") "*) ;;
*) pt_fail "exec tsize: $TCLINE" ;;
esac
tc_get "exec from ::1" ::1 gen/v6 -m netascii
exec_expect "$T/exp/ex" "first arg" gen/v6 ::1 "$SPORT" ::1 "" netascii v6
pt_netascii "$T/exp/ex" "$T/exp/ex.na"
pt_cmp "$T/exp/ex.na" "$T/out" "exec from ::1, netascii"
tc_get "exec, empty output" 127.0.0.1 gen/empty
{ [ "${TCLINE%% *}" = ok ] && [ ! -s "$T/out" ]; } ||
    pt_fail "exec empty output: $TCLINE"
echo "ok   per-client env (IPv4 x2, IPv6), MAC, match1, tsize, netascii," \
    "empty output, only PATH added"

pt_step "exec: failures"
pt_tftpc -x 1 gen/fail1 || pt_fail "exit 1: want ERROR 1"
tc_err "exit 3" "error 0 Generator failed" 127.0.0.1 gen/fail3
pt_wait_log 'file="gen/fail3": exit status 3; stderr: "boom: disk on fire' ||
    pt_fail "exit 3: no log line with the status and stderr head"
pt_tftpc -x 3 gen/big || pt_fail "output over max_bytes: want ERROR 3"
pt_wait_log 'file="gen/big": output over max_bytes' ||
    pt_fail "no log line for output over max_bytes"
echo "ok   exit 1 -> ERROR 1; exit 3 -> ERROR 0 + log; too big -> ERROR 3"
rm -f "$D/sleeper.pid"
t0=$(now_ms)
tc_err "timeout_ms 1000" "error 0 Generator failed" 127.0.0.1 gento/sleep \
    -r 300 -d 6
el=$(($(now_ms) - t0))
# Not before timeout_ms (a lower bound only; the program would run 10 s,
# the "timed out" line and its kill below show the timeout ended it).
[ "$el" -ge 900 ] || pt_fail "timeout_ms 1000: the ERROR came after $el ms"
pt_wait_log 'file="gento/sleep": timed out' ||
    pt_fail "timeout: no \"timed out\" log line"
spid=$(cat "$D/sleeper.pid" 2>/dev/null)
[ -n "$spid" ] || pt_fail "the sleeping program never ran"
pt_wait_gone "$spid" 5 || pt_fail "timed-out program $spid still runs"
echo "ok   timeout -> ERROR 0 after $el ms, logged, program killed"

pt_step "exec: 30 concurrent, max_concurrent = 4"
: >"$D/peak"
chmod 666 "$D/peak"
files=$(for i in $(seq 1 30); do printf 'gen/conc/%d ' "$i"; done)
# shellcheck disable=SC2086
pt_tftpc -n 30 -c 30 -E "$T/exp" --max-seconds 30 $files ||
    pt_fail "30 concurrent exec requests"
n=$(grep -c '^gen/conc/' "$D/runs")
[ "$n" = 30 ] || pt_fail "30 requests ran the program $n times"
peak=$(sort -n "$D/peak" | tail -n 1)
[ "$peak" -le 8 ] || pt_fail "$peak programs at once (2 workers x 4)"
echo "ok   30/30 byte-exact, 30 runs, at most $peak at once"

pt_step "exec: a retransmitted RRQ runs the program once"
tc_get "retransmitted RRQ" 127.0.0.1 gen/count/1 -r 200
n=$(grep -c '^gen/count/1$' "$D/runs")
[ "$n" = 1 ] || pt_fail "RRQ resent every 200 ms: program ran $n times"
case $TCLINE in *tids=1) ;; *) pt_fail "resent RRQ: $TCLINE" ;; esac
exec_expect "$T/exp/ex" "first arg" gen/count/1 127.0.0.1 "$SPORT" \
    127.0.0.1 "" octet count/1
pt_cmp "$T/exp/ex" "$T/out" "retransmitted RRQ"
pt_tftpc --dup-rrq gen/count/2 >/dev/null || pt_fail "tftpc --dup-rrq"
n=$(grep -c '^gen/count/2$' "$D/runs")
[ "$n" = 1 ] || pt_fail "duplicated RRQ: program ran $n times"
echo "ok   one run, one transfer ID"
no_kills "exec"

# ---------------------------------------------------------------------------
pt_step "module: example.so"
pt_tftpc -t -e "$T/exp/size100000" mod/size/100000 ||
    pt_fail "mod/size/100000"
pt_tftpc -b 1428 -w 8 -e "$T/exp/size100000" mod/size/100000 ||
    pt_fail "mod/size/100000 with blksize and windowsize"
pt_tftpc --probe -b 1024 -e "$T/exp/size100000" mod/size/100000 ||
    pt_fail "mod/size/100000 after a tsize probe"
tc_get "mod/hello" 127.0.0.2 mod/hello/x
grep -qx 'client_ip=127.0.0.2' "$T/out" ||
    pt_fail "mod/hello/x does not name the client: $(cat "$T/out")"
grep -qx "client_port=$SPORT" "$T/out" || pt_fail "mod/hello: client_port"
grep -qx 'file=mod/hello/x' "$T/out" || pt_fail "mod/hello: file"
tc_err "module, unknown name" "error 1 No such example" 127.0.0.1 \
    mod/nothing
echo "ok   size pattern byte-exact (tsize, options, probe), hello, ERROR 1"
# Finished transfers: 4 ok (size x3, hello) + 1 probe; none for the error.
for i in $(seq 1 30); do
	[ "$(wc -l <"$MODLOG")" -ge 5 ] && break
	sleep 0.1
done
sleep 0.2
sed 's/^/    /' "$MODLOG"
[ "$(wc -l <"$MODLOG")" = 5 ] ||
    pt_fail "module done: $(wc -l <"$MODLOG") lines, want 5"
[ "$(grep -c '^file=mod/size/100000 client=127.0.0.1:[0-9]* mac= result=ok bytes=100000 .* tsize=100000$' \
    "$MODLOG")" = 3 ] || pt_fail "module done: want 3 ok lines of 100000"
grep -q '^file=mod/size/100000 .* result=probe bytes=0 ' "$MODLOG" ||
    pt_fail "module done: no probe line"
grep -q "^file=mod/hello/x client=127.0.0.2:$SPORT .*result=ok bytes=$(wc -c \
    <"$T/out") " "$MODLOG" || pt_fail "module done: hello line"
grep -q 'mod/nothing' "$MODLOG" && pt_fail "module done called after error"
echo "ok   done: one line per finished transfer"
no_kills "module"
pt_stop

# ---------------------------------------------------------------------------
pt_step "exec: one worker serves plain files while a program runs"
pt_start "workers = 1;" "${ROUTES[@]}"
check_filtered
rm -f "$D/release"
tc 127.0.0.1 gen/slow/1 -o "$T/slow.out" >"$T/slow.line" &
slowpid=$!
pt_track "$slowpid"
# The program runs (it logged its run) and waits for $D/release.
slow_runs() {
	grep -qx 'gen/slow/1' "$D/runs"
}
pt_wait_for 10 slow_runs || pt_fail "the slow program never started"
for i in 1 2 3; do
	pt_tftpc -e "$ROOT/plain.bin" plain.bin >/dev/null ||
	    pt_fail "plain file during a slow program"
done
# Served while the program still ran: it cannot end before the release.
pt_gone "$slowpid" && pt_fail "the slow request ended before its release"
touch "$D/release"
wait "$slowpid"
case $(cat "$T/slow.line") in
ok*) ;;
*) pt_fail "slow program's request: $(cat "$T/slow.line")" ;;
esac
grep -q '^client=127.0.0.1 ' "$T/slow.out" || pt_fail "slow program output"
echo "ok   3 plain fetches served while the program ran; its output then served"

pt_step "module load failure on SIGHUP"
pt_write_conf "$PT_PORT" "workers = 1;" "$BADLINE"
kill -HUP "$PT_PID"
pt_wait_log "reload failed: .*routes\[0\]\.module: cannot load" ||
    pt_fail "SIGHUP with a missing module: no \"reload failed\""
grep "reload failed" "$PT_LOG" | sed 's/^/    /'
kill -0 "$PT_PID" || pt_fail "the daemon died on a bad reload"
pt_tftpc -e "$ROOT/plain.bin" plain.bin || pt_fail "plain after bad reload"
pt_tftpc -e "$T/exp/size100000" mod/size/100000 ||
    pt_fail "the old module route after a bad reload"
tc_get "exec after a bad reload" 127.0.0.2 gen/after
grep -q '^client=127.0.0.2 ' "$T/out" || pt_fail "exec after bad reload"
echo "ok   reload refused, old config keeps serving"
no_kills "reload"
pt_stop
no_kills "end"
pt_step "all handler tests passed"
