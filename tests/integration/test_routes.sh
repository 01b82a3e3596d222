#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_routes.sh - request policy end to end: rewrite rules (Windows
# backslashes with tftp-hpa, a prefix move with a capture, icase, a rule
# limited to one client block, "last"), a route with its own root serving
# other content to one subnet, the top-level acl (ERROR 2 "Access denied"),
# a route acl over IPv6, and acl_action = "silent" (no answer at all).
# Other clients are other loopback addresses (127.0.0.2, 127.0.0.3): the
# stock clients cannot choose a source address, so tc.py below can.
set -u
. "$TOP/tests/integration/lib.sh"

PY=$PT_PYTHON

# tc.py SRC HOST PORT get NAME [OUT]: one RRQ (octet, no options) from
# source address SRC; prints "ok BYTES", "error CODE MSG" or "timeout".
TC=$T/tc.py
cat >"$TC" <<'EOF'
import socket, struct, sys, select
src, host, port, mode, name = sys.argv[1:6]
out = sys.argv[6] if len(sys.argv) > 6 else None
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.bind((src, 0))
s.sendto(struct.pack('!H', 1) + name.encode('latin-1') + b'\0octet\0',
         (host, int(port)))
data, expect, peer = b'', 1, None
while True:
    if not select.select([s], [], [], 1.5)[0]:
        print('timeout'); sys.exit(0)
    p, a = s.recvfrom(70000)
    peer = peer or a
    if a != peer:
        continue
    op, n = struct.unpack('!HH', p[:4])
    if op == 5:
        print('error %d %s' % (n, p[4:].split(b'\0')[0].decode('latin-1')))
        sys.exit(0)
    if op != 3:
        continue
    if n == expect & 0xffff:
        data += p[4:]
        expect += 1
    s.sendto(struct.pack('!HH', 4, n), peer)
    if n == (expect - 1) & 0xffff and len(p) < 516:
        break
if out:
    open(out, 'wb').write(data)
print('ok %d' % len(data))
EOF

# tc SRC NAME [OUT]: tc.py against the daemon over IPv4 (IPv6 if SRC is).
tc() {
	local host=127.0.0.1
	case $1 in *:*) host=::1 ;; esac
	timeout -k 1 10 "$PY" "$TC" "$1" "$host" "$PT_PORT" get "$2" ${3:+"$3"}
}

# expect_tc WHAT WANT SRC NAME: tc's line must start with WANT.
expect_tc() {
	local what=$1 want=$2 got
	shift 2
	got=$(tc "$@")
	case $got in
	"$want"*) echo "ok   $what: $got" ;;
	*) pt_fail "$what: want \"$want...\", got \"$got\"" ;;
	esac
}

# fetch_tc WHAT SRC NAME EXPECTED-FILE: byte-exact download from SRC.
fetch_tc() {
	local what=$1 got
	rm -f "$T/out"
	got=$(tc "$2" "$3" "$T/out")
	case $got in ok*) ;; *) pt_fail "$what: $got" ;; esac
	pt_cmp "$4" "$T/out" "$what"
	echo "ok   $what"
}

# hpa WHAT EXPECTED-FILE HOST NAME: tftp-hpa get, byte-exact. tftp-hpa
# exits 0 even on an ERROR, so the file and the output decide.
hpa() {
	local what=$1 want=$2 host=$3 name=$4
	rm -f "$T/out"
	timeout -k 1 20 tftp -m binary "$host" "$PT_PORT" -c get "$name" \
	    "$T/out" >"$T/hpa.log" 2>&1
	if grep -q -i error "$T/hpa.log" || [ ! -s "$T/out" ]; then
		sed 's/^/    /' "$T/hpa.log"
		pt_fail "$what: tftp-hpa failed"
	fi
	pt_cmp "$want" "$T/out" "$what"
	echo "ok   $what"
}

# content NAME TEXT: a small file whose text says where it lives.
content() {
	mkdir -p "$(dirname "$ROOT/$1")"
	printf '%s\n' "$2" >"$ROOT/$1"
	chmod -R a+rX "$ROOT"
}

content Boot/x64/wdsnbp.com "wds nbp"
content new/images/vmlinuz "moved kernel"
content case/MiXeD.cfg "case folded dir"
content rack1/pxelinux.cfg/default "rack 1 config"
content rack2/pxelinux.cfg/default "rack 2 config (rewritten by client)"
content stopped/f "stopped here"
content never/f "a rule after last ran"
content never/g "not stopped: later rules run"
content open/f "everyone"
content v6only/f "only ::1"
ROOT2=$T/root2			# the per-subnet root of route "subnet2/"
mkdir -p "$ROOT2/subnet2/pxelinux.cfg"
printf 'subnet 2 root\n' >"$ROOT2/subnet2/pxelinux.cfg/default"
mkdir -p "$ROOT/subnet2/pxelinux.cfg"
printf 'main root, never served\n' >"$ROOT/subnet2/pxelinux.cfg/default"
chmod -R a+rX "$ROOT" "$ROOT2"
printf 'rack 1 config\n' >"$T/want.rack1"

# In the file every backslash of the regex is written twice: "\\\\" is
# the ERE \\, one literal backslash.
REWRITE='rewrite = (
  { match = "\\\\"; replace = "/"; global = true; },
  { match = "^/?boot/"; replace = "Boot/"; icase = true; },
  { match = "^/?old/(.*)$"; replace = "new/\\1"; },
  { match = "^/?case/"; replace = "case/"; icase = true; },
  { match = "^/?rack1/(.*)$"; replace = "rack2/\\1"; client = "127.0.0.2"; },
  { match = "^/?(pxelinux\\.cfg/.*)$"; replace = "subnet2/\\1";
    client = "127.0.0.4/32"; },
  { match = "^/?stop/(.*)$"; replace = "stopped/\\1"; last = true; },
  { match = "^stopped/"; replace = "never/"; }
);'
ROUTES="routes = (
  { prefix = \"subnet2/\"; root = \"$ROOT2\"; },
  { prefix = \"v6only/\"; acl = ( { allow = \"::1\"; } ); }
);"
ACL='acl = ( { deny = "127.0.0.3"; }, { allow = "127.0.0.0/8"; },
        { allow = "::1"; } );'

pt_start "$REWRITE" "$ROUTES" "$ACL"

pt_step "rewrite: Windows backslashes (tftp-hpa), icase, prefix move"
hpa 'tftp-hpa \Boot\x64\wdsnbp.com' "$ROOT/Boot/x64/wdsnbp.com" 127.0.0.1 \
    '\Boot\x64\wdsnbp.com'
hpa 'tftp-hpa \BOOT\x64\wdsnbp.com (icase)' "$ROOT/Boot/x64/wdsnbp.com" \
    127.0.0.1 '\BOOT\x64\wdsnbp.com'
hpa 'tftp-hpa -6 \boot\x64\wdsnbp.com' "$ROOT/Boot/x64/wdsnbp.com" ::1 \
    '\boot\x64\wdsnbp.com'
hpa "old/images/vmlinuz -> new/images/vmlinuz" "$ROOT/new/images/vmlinuz" \
    127.0.0.1 old/images/vmlinuz
hpa "/old/images/vmlinuz (GRUB slash)" "$ROOT/new/images/vmlinuz" \
    127.0.0.1 /old/images/vmlinuz
hpa "CASE/MiXeD.cfg (icase rule, name kept)" "$ROOT/case/MiXeD.cfg" \
    127.0.0.1 CASE/MiXeD.cfg
expect_tc "no icase on the name itself" "error 1" 127.0.0.1 case/mixed.cfg

pt_step "rewrite: a rule for client 127.0.0.2 only"
fetch_tc "127.0.0.1 rack1/ unchanged" 127.0.0.1 rack1/pxelinux.cfg/default \
    "$T/want.rack1"
fetch_tc "127.0.0.2 rack1/ -> rack2/" 127.0.0.2 rack1/pxelinux.cfg/default \
    "$ROOT/rack2/pxelinux.cfg/default"
fetch_tc "127.0.0.5 rack1/ unchanged" 127.0.0.5 rack1/pxelinux.cfg/default \
    "$T/want.rack1"

pt_step "rewrite: last"
hpa "stop/f -> stopped/f, then no more rules" "$ROOT/stopped/f" 127.0.0.1 \
    stop/f
hpa "stopped/g: last did not match, the next rule ran" "$ROOT/never/g" \
    127.0.0.1 stopped/g

pt_step "route root: subnet 127.0.0.4 gets its own tree"
fetch_tc "127.0.0.4 pxelinux.cfg/default from root2" 127.0.0.4 \
    pxelinux.cfg/default "$ROOT2/subnet2/pxelinux.cfg/default"
expect_tc "127.0.0.1 pxelinux.cfg/default: not rewritten, absent" "error 1" \
    127.0.0.1 pxelinux.cfg/default
fetch_tc "127.0.0.1 subnet2/... also from root2" 127.0.0.1 \
    subnet2/pxelinux.cfg/default "$ROOT2/subnet2/pxelinux.cfg/default"

pt_step "acl: 127.0.0.3 denied, ::1 only on v6only/"
expect_tc "127.0.0.3 denied" "error 2 Access denied" 127.0.0.3 open/f
expect_tc "127.0.0.3 denied a missing file too" "error 2 Access denied" \
    127.0.0.3 no-such-file
fetch_tc "127.0.0.2 allowed" 127.0.0.2 open/f "$ROOT/open/f"
fetch_tc "::1 v6only/f" ::1 v6only/f "$ROOT/v6only/f"
expect_tc "127.0.0.1 v6only/f denied" "error 2 Access denied" 127.0.0.1 \
    v6only/f
hpa "tftp-hpa -6 v6only/f" "$ROOT/v6only/f" ::1 v6only/f
pt_tftpc -x 2 v6only/f || pt_fail "tftpc: v6only/f over IPv4 not ERROR 2"
pt_stop

# (pt_start's readiness probe needs answers on 127.0.0.1 and ::1, so ::1
# is silenced by a route acl, not by the top-level one.)
pt_step "acl_action = silent: no answer at all"
content hidden/f "not for ::1"
pt_start "acl_action = \"silent\";" \
    'acl = ( { deny = "127.0.0.3"; }, { allow = "0.0.0.0/0"; },
        { allow = "::/0"; } );' \
    'routes = ( { prefix = "hidden/";
        acl = ( { deny = "::1"; }, { allow = "0.0.0.0/0"; } ); } );'
expect_tc "127.0.0.3: silence" timeout 127.0.0.3 open/f
expect_tc "::1 hidden/f: silence" timeout ::1 hidden/f
fetch_tc "127.0.0.2 still served" 127.0.0.2 open/f "$ROOT/open/f"
fetch_tc "::1 served elsewhere" ::1 open/f "$ROOT/open/f"
fetch_tc "127.0.0.1 hidden/f served" 127.0.0.1 hidden/f "$ROOT/hidden/f"
timeout 10 "$TFTPC" -H ::1 -P "$PT_PORT" --timeout-ms 200 --retries 2 \
    --max-seconds 3 hidden/f >"$PT_OUT" 2>&1
rc=$?
[ $rc -eq 0 ] && pt_fail "tftpc over ::1 got an answer"
grep -q 'ERROR\|error [0-9]' "$PT_OUT" && pt_fail "tftpc got an ERROR"
# It gave up by its own retries, not killed by timeout(1) (status 124).
[ $rc -eq 124 ] && pt_fail "tftpc over ::1 was still waiting after 10 s"
echo "ok   tftpc over ::1 timed out"
pt_stop
echo "routes: all passed"
