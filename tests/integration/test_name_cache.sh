#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_name_cache.sh - cache_valid_ms: a worker trusts a name's lookup for
# that long. With cache_valid_ms = 300 and three workers, each of which
# has the name cached:
#  - a file replaced by rename (new content written to a temp name in the
#    root, mv over) is, at once, served as the old or the new content,
#    byte-exact, never anything else; 400 ms later every worker serves
#    the new content;
#  - the same with replacements of the same size and mtime (only the
#    inode tells the versions apart), twice in a row;
#  - a deleted file is refused with ERROR 1 by every worker after the
#    window;
# with cache_valid_ms = 0 a replacement and a deletion are visible at
# once, on every worker.
set -u
. "$TOP/tests/integration/lib.sh"

# nc_fetch_all WHAT FILE EXPECTED: 30 fetches, 10 at a time, over IPv4
# and IPv6, each byte-exact EXPECTED (or, with EXPECTED "-x1", ERROR 1);
# every worker must have served (or refused) at least one.
nc_fetch_all() {
	local what=$1 file=$2 want=$3 h by
	pt_mark
	for h in 127.0.0.1 ::1; do
		if [ "$want" = -x1 ]; then
			pt_tftpc -H "$h" -n 10 -c 15 -x 1 "$file" ||
			    pt_fail "$what ($h): not ERROR 1 every time"
		else
			pt_tftpc -H "$h" -n 10 -c 15 -e "$want" "$file" ||
			    pt_fail "$what ($h): not the expected content"
		fi
	done
	# A refusal is not logged as a transfer: count workers from the
	# stats of the transfers only.
	[ "$want" = -x1 ] && return 0
	by=$(pt_served_by "$file")
	[ "$(pt_count $by)" = "$(pt_count $WORKERS)" ] ||
	    pt_fail "$what: served by $by, not by every worker ($WORKERS)"
}

# nc_fetch_either WHAT FILE OLD NEW: N single fetches right now; each must
# be byte-exact OLD or NEW. Prints how many were which.
nc_fetch_either() {
	local what=$1 file=$2 old=$3 new=$4 i n_old=0 n_new=0 h
	for i in 1 2 3 4 5 6; do
		h=127.0.0.1
		[ $((i % 2)) = 0 ] && h=::1
		rm -f "$T/either.out"
		timeout -k 2 30 "$TFTPC" -H "$h" -P "$PT_PORT" -o "$T/either.out" \
		    "$file" >"$T/either.log" 2>&1 ||
		    pt_fail "$what: fetch $i failed: $(cat "$T/either.log")"
		if cmp -s "$T/either.out" "$old"; then
			n_old=$((n_old + 1))
		elif cmp -s "$T/either.out" "$new"; then
			n_new=$((n_new + 1))
		else
			pt_fail "$what: fetch $i is neither the old nor the new" \
			    "content ($(wc -c <"$T/either.out") bytes)"
		fi
	done
	echo "   $what: $n_old old, $n_new new"
}

# nc_replace FILE SRC [REF]: SRC's content to a temp name in the root,
# (mtime copied from REF), mv over FILE.
nc_replace() {
	cp "$2" "$ROOT/.nc-tmp" || pt_fail "copy to temp"
	chmod 644 "$ROOT/.nc-tmp"
	[ -z "${3:-}" ] || touch -r "$3" "$ROOT/.nc-tmp"
	mv -f "$ROOT/.nc-tmp" "$ROOT/$1" || pt_fail "mv over $1"
	NC_CHANGED=$(date +%s%3N)
}

# Waits until the cache window (cache_valid_ms = 300, plus 100 ms) has
# passed since the last change (nc_replace, or nc_changed after an rm).
# Time since the change is the condition itself, so this is a lower bound:
# a slow machine only waits less here, never fails for it.
nc_changed() {
	NC_CHANGED=$(date +%s%3N)
}
nc_window_over() {
	[ $(($(date +%s%3N) - NC_CHANGED)) -ge 400 ]
}
nc_after_window() {
	pt_wait_for 5 nc_window_over || pt_fail "the clock did not move"
}

head -c 100000 /dev/urandom >"$T/v1"
head -c 120000 /dev/urandom >"$T/v2"
head -c 120000 /dev/urandom >"$T/v3"
head -c 120000 /dev/urandom >"$T/v4"
head -c 50000 /dev/urandom >"$T/gone"
cp "$T/v1" "$ROOT/nc"
cp "$T/gone" "$ROOT/gone"
chmod 644 "$ROOT/nc" "$ROOT/gone"

# --- cache_valid_ms = 300 ------------------------------------------------------
pt_start "workers = 3;" "cache_valid_ms = 300;"
WORKERS=$(pt_workers)
[ "$(pt_count $WORKERS)" = 3 ] || pt_fail "want 3 workers, have: $WORKERS"

pt_step "cache_valid_ms = 300: every worker has the name cached"
nc_fetch_all "v1" nc "$T/v1"

pt_step "replace by rename: at once old or new, after 400 ms new everywhere"
nc_fetch_all "v1 again (fresh lookups)" nc "$T/v1"
nc_replace nc "$T/v2"
nc_fetch_either "right after the rename" nc "$T/v1" "$T/v2"
nc_after_window
nc_fetch_all "v2 after 400 ms" nc "$T/v2"

pt_step "same size and mtime, only the inode differs (twice)"
# v3 has v2's size and mtime, v4 v3's: only the inode differs. (Should
# the file system give v4 the inode number v2 had, a body cached for v2
# would match v4's size, mtime and inode.)
nc_replace nc "$T/v3" "$ROOT/nc"
nc_fetch_either "v3 right after the rename" nc "$T/v2" "$T/v3"
nc_after_window
nc_fetch_all "v3 after 400 ms" nc "$T/v3"
ino3=$(stat -c %i "$ROOT/nc")
nc_replace nc "$T/v4" "$ROOT/nc"
echo "   inodes: v3 $ino3, v4 $(stat -c %i "$ROOT/nc")"
nc_after_window
nc_fetch_all "v4 after 400 ms" nc "$T/v4"

pt_step "a deleted file is refused after the window"
nc_fetch_all "gone, still there" gone "$T/gone"
rm -f "$ROOT/gone"
nc_changed
nc_after_window
nc_fetch_all "gone after 400 ms" gone -x1
pt_stop

# --- cache_valid_ms = 0 --------------------------------------------------------
pt_step "cache_valid_ms = 0: a replacement and a deletion show at once"
cp "$T/v1" "$ROOT/nc"
cp "$T/gone" "$ROOT/gone"
chmod 644 "$ROOT/nc" "$ROOT/gone"
pt_start "workers = 3;" "cache_valid_ms = 0;"
WORKERS=$(pt_workers)
nc_fetch_all "v1" nc "$T/v1"
nc_replace nc "$T/v2"
nc_fetch_all "v2 at once" nc "$T/v2"
nc_replace nc "$T/v3" "$ROOT/nc"
nc_fetch_all "v3 at once (same size and mtime)" nc "$T/v3"
nc_fetch_all "gone, still there" gone "$T/gone"
rm -f "$ROOT/gone"
nc_fetch_all "gone at once" gone -x1
pt_stop
echo "PASS name_cache in ${SECONDS}s"
