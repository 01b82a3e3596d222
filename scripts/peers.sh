#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# peers.sh - fetch the peer TFTP servers the benchmarks compare ptftpd
# with (tftpd-hpa, atftpd, dnsmasq) without installing them: `apt-get
# download` into peers/ (git-ignored), `dpkg -x` there, and shared
# libraries the host lacks fetched and unpacked the same way into
# peers/lib (use peer_ld_path as LD_LIBRARY_PATH). It owns only the fetch
# and unpack; starting, configuring and stopping a peer is the caller's
# (scripts/bench-loss.sh).
#
# Use: scripts/peers.sh [tftpd-hpa|atftpd|dnsmasq ...]   fetch these
#      (default all), print "name path-of-binary" for each ready one;
# or source it (PEERS_LIB=1) and call peers_setup NAME, peer_bin NAME,
# peer_ld_path. Environment: PEERDIR (default <top>/peers), PEERS_LOG
# (apt-get output, default /dev/null).

PEERS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERDIR=${PEERDIR:-$PEERS_TOP/peers}
PEERS_LOG=${PEERS_LOG:-/dev/null}

peers_log() { echo "peers: $*" >&2; }

# Debian package holding a shared library a peer may lack on this host.
peers_lib_pkg() {
	case $1 in
	libwrap.so.0) echo libwrap0 ;;
	libnetfilter_conntrack.so.3) echo libnetfilter-conntrack3 ;;
	libnftables.so.1) echo libnftables1 ;;
	libnftnl.so.11) echo libnftnl11 ;;
	libnfnetlink.so.0) echo libnfnetlink0 ;;
	libmnl.so.0) echo libmnl0 ;;
	libjansson.so.4) echo libjansson4 ;;
	libxtables.so.12) echo libxtables12 ;;
	libgmp.so.10) echo libgmp10 ;;
	libidn2.so.0) echo libidn2-0 ;;
	libnsl.so.2) echo libnsl2 ;;
	libtirpc.so.3) echo libtirpc3 ;;
	libpcre.so.3) echo libpcre3 ;;
	libpcre2-8.so.0) echo libpcre2-8-0 ;;
	*) return 1 ;;
	esac
}

# Package and binary (inside the package) of a peer.
peer_pkg() {
	case $1 in
	tftpd-hpa) echo tftpd-hpa ;;
	atftpd) echo atftpd ;;
	dnsmasq) echo dnsmasq-base ;;
	*) return 1 ;;
	esac
}

peer_bin() {
	case $1 in
	tftpd-hpa) echo "$PEERDIR/tftpd-hpa/usr/sbin/in.tftpd" ;;
	atftpd) echo "$PEERDIR/atftpd/usr/sbin/atftpd" ;;
	dnsmasq) echo "$PEERDIR/dnsmasq/usr/sbin/dnsmasq" ;;
	*) return 1 ;;
	esac
}

# apt-get download PKG into peers/ once; prints the .deb path.
peers_fetch_deb() {
	local pkg=$1 deb
	deb=$(ls "$PEERDIR/${pkg}"_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		(cd "$PEERDIR" && timeout 120 apt-get download "$pkg") \
		    >>"$PEERS_LOG" 2>&1 || return 1
		deb=$(ls "$PEERDIR/${pkg}"_*.deb 2>/dev/null | head -n 1)
	fi
	[ -n "$deb" ] && echo "$deb"
}

peer_ld_path() {
	# No empty entry: that would search the current directory.
	find "$PEERDIR/lib" -name '*.so*' -printf '%h\n' 2>/dev/null |
	    sort -u | paste -sd:
}

# Unpack a peer and fetch libraries until ldd is satisfied (4 rounds).
peers_setup() {
	local name=$1 pkg bin deb round missing l lp
	pkg=$(peer_pkg "$name") || { peers_log "unknown peer $name"; return 1; }
	bin=$(peer_bin "$name")
	mkdir -p "$PEERDIR"
	deb=$(peers_fetch_deb "$pkg") ||
	    { peers_log "$name: apt-get download $pkg failed"; return 1; }
	if [ ! -x "$bin" ]; then
		rm -rf "${PEERDIR:?}/$name"
		dpkg -x "$deb" "$PEERDIR/$name" || return 1
	fi
	for round in 1 2 3 4; do
		missing=$(LD_LIBRARY_PATH=$(peer_ld_path) ldd "$bin" 2>/dev/null |
		    awk '/not found/ { print $1 }')
		[ -z "$missing" ] && return 0
		for l in $missing; do
			lp=$(peers_lib_pkg "$l") ||
			    { peers_log "$name: no package known for $l"; return 1; }
			deb=$(peers_fetch_deb "$lp") ||
			    { peers_log "$name: cannot fetch $lp"; return 1; }
			dpkg -x "$deb" "$PEERDIR/lib" || return 1
		done
	done
	peers_log "$name: libraries still missing: $missing"
	return 1
}

if [ "${PEERS_LIB:-0}" != 1 ]; then
	set -u
	rc=0
	for p in ${*:-tftpd-hpa atftpd dnsmasq}; do
		if peers_setup "$p"; then
			echo "$p $(peer_bin "$p")"
		else
			rc=1
		fi
	done
	exit $rc
fi
