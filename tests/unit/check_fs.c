/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_fs.c - unit tests for fs.c: name resolution beneath a temporary
 * root (escapes, symlinks, special files), the body cache (sharing,
 * replacement, idle eviction) and netascii conversion. Each test gets a
 * fresh root from mkdtemp in the fixture and the fixture removes it.
 * Whether a body is still mapped is observed with mincore(2), which fails
 * with ENOMEM on an unmapped address.
 *
 * Uploads: every test looks at the directory itself (what a reader or an
 * operator would see) before and after commit or abort. The named-temp
 * fallback is reached through this binary's own syscall(), which stands
 * in for libc's and can refuse O_TMPFILE as NFS does (force_named).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <check.h>

#include "fs.h"
#include "skip.h"
#include "testutil.h"

static char base[64];	/* one per test case, removed even after failures */
static char root[96];	/* one per test, inside base */
static struct fs *fs;

/* Unchecked: runs in the runner, so a failed (forked) test leaves no trace. */
static void
base_setup(void)
{
	unit_tmpdir(base, sizeof base, "/tmp", "check_fs");
}

static void
base_teardown(void)
{
	unit_rmtree(base);
}

static void
setup(void)
{
	unit_tmpdir(root, sizeof root, base, "root");
	fs = NULL;
}

static void
teardown(void)
{
	fs_free(fs);
	fs = NULL;
	unit_rmtree(root);
}

/* root/rel; two rotating buffers so that rename(at(a), at(b)) works. */
static const char *
at(const char *rel)
{
	static char path[2][4096];
	static int i;

	i = !i;
	snprintf(path[i], sizeof path[i], "%s/%s", root, rel);
	return path[i];
}

static void
put_str(const char *rel, const char *s)
{
	(void)unit_write(root, rel, s, strlen(s));
}

static int
is_mapped(const void *p)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	unsigned char vec;

	if (mincore((void *)((uintptr_t)p & ~(page - 1)), 1, &vec) == 0)
		return 1;
	ck_assert_int_eq(errno, ENOMEM);
	return 0;
}

static int
count_fds(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (access(path, F_OK) == 0)
			n++;
	}
	return n;
}

/*
 * An fs_open_* call returned got and set p and errmsg: expect rc, and
 * p set on success, else p NULL and an error message (msg when it is
 * not NULL). Returns p.
 */
static void *
expect_open(int got, int rc, void *p, const char *errmsg, const char *msg)
{
	ck_assert_int_eq(got, rc);
	if (rc == 0) {
		ck_assert_ptr_nonnull(p);
		return p;
	}
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(errmsg);
	if (msg != NULL)
		ck_assert_str_eq(errmsg, msg);
	return NULL;
}

/* Open name in mode; expect rc (and msg when rc != 0). */
static struct body *
open_expect(const char *name, enum tftp_mode mode, int rc, const char *msg)
{
	struct body *b = (struct body *)1;
	const char *errmsg = NULL;
	int got;

	got = fs_open_read(fs, name, mode, &b, &errmsg);
	return expect_open(got, rc, b, errmsg, msg);
}

/* Open name for an octet read, which must succeed. */
static struct body *
open_ok(const char *name)
{
	return open_expect(name, TFTP_MODE_OCTET, 0, NULL);
}

static void
fs_start(unsigned max_idle)
{
	fs = fs_new(root, max_idle);
	ck_assert_ptr_nonnull(fs);
}

/* Files a, b and c holding "A", "B" and "C"; fs_start(max_idle). */
static void
abc_start(unsigned max_idle)
{
	put_str("a", "A");
	put_str("b", "B");
	put_str("c", "C");
	fs_start(max_idle);
}

static void
body_is(const struct body *b, const char *s)
{
	ck_assert_uint_eq(b->size, strlen(s));
	ck_assert_int_eq(memcmp(b->data, s, strlen(s)), 0);
}

START_TEST(regular_file_served)
{
	struct body *b;

	put_str("hello.txt", "hello, world\n");
	fs_start(8);
	b = open_ok("hello.txt");
	body_is(b, "hello, world\n");
	fs_release(fs, b);
}
END_TEST

START_TEST(leading_slashes_stripped)
{
	struct body *b;

	ck_assert_int_eq(mkdir(at("grub"), 0755), 0);
	put_str("grub/grub.cfg", "set timeout=5\n");
	fs_start(8);
	b = open_ok("/grub/grub.cfg");
	body_is(b, "set timeout=5\n");
	fs_release(fs, b);
	b = open_ok("///grub/grub.cfg");
	body_is(b, "set timeout=5\n");
	fs_release(fs, b);
}
END_TEST

START_TEST(empty_name_is_not_found)
{
	fs_start(8);
	open_expect("", TFTP_MODE_OCTET, TFTP_ENOTFOUND, "File not found");
	open_expect("///", TFTP_MODE_OCTET, TFTP_ENOTFOUND, "File not found");
}
END_TEST

START_TEST(missing_file_is_not_found)
{
	put_str("file", "x");
	fs_start(8);
	open_expect("nope", TFTP_MODE_OCTET, TFTP_ENOTFOUND, "File not found");
	open_expect("no/such/dir", TFTP_MODE_OCTET, TFTP_ENOTFOUND,
	    "File not found");
	/* ENOTDIR: a component is a regular file. */
	open_expect("file/x", TFTP_MODE_OCTET, TFTP_ENOTFOUND,
	    "File not found");
}
END_TEST

START_TEST(dotdot_escape_refused)
{
	struct body *b;

	ck_assert_int_eq(mkdir(at("sub"), 0755), 0);
	put_str("top", "top");
	fs_start(8);
	open_expect("../etc/passwd", TFTP_MODE_OCTET, TFTP_EACCESS,
	    "Path escapes root");
	open_expect("sub/../../etc/passwd", TFTP_MODE_OCTET, TFTP_EACCESS,
	    "Path escapes root");
	open_expect("/..", TFTP_MODE_OCTET, TFTP_EACCESS, "Path escapes root");
	/* ".." that stays inside the root is an ordinary path. */
	b = open_ok("sub/../top");
	body_is(b, "top");
	fs_release(fs, b);
}
END_TEST

START_TEST(absolute_path_stays_beneath_root)
{
	struct body *b;

	fs_start(8);
	open_expect("/etc/passwd", TFTP_MODE_OCTET, TFTP_ENOTFOUND,
	    "File not found");
	ck_assert_int_eq(mkdir(at("etc"), 0755), 0);
	put_str("etc/passwd", "not the host's\n");
	b = open_ok("/etc/passwd");
	body_is(b, "not the host's\n");
	fs_release(fs, b);
}
END_TEST

START_TEST(symlink_out_of_root_refused)
{
	ck_assert_int_eq(symlink("/etc/passwd", at("abs")), 0);
	ck_assert_int_eq(symlink("../../../../../../etc/passwd", at("rel")), 0);
	ck_assert_int_eq(symlink("/proc/self/root/etc/passwd", at("magic")), 0);
	fs_start(8);
	open_expect("abs", TFTP_MODE_OCTET, TFTP_EACCESS, "Path escapes root");
	open_expect("rel", TFTP_MODE_OCTET, TFTP_EACCESS, "Path escapes root");
	open_expect("magic", TFTP_MODE_OCTET, TFTP_EACCESS,
	    "Path escapes root");
}
END_TEST

START_TEST(symlink_inside_root_followed)
{
	struct body *b1, *b2;

	ck_assert_int_eq(mkdir(at("dir"), 0755), 0);
	put_str("real.bin", "payload");
	ck_assert_int_eq(symlink("real.bin", at("link")), 0);
	ck_assert_int_eq(symlink("../real.bin", at("dir/uplink")), 0);
	fs_start(8);
	b1 = open_ok("link");
	body_is(b1, "payload");
	b2 = open_ok("dir/uplink");
	ck_assert_ptr_eq(b1, b2);
	fs_release(fs, b1);
	fs_release(fs, b2);
}
END_TEST

START_TEST(directory_refused)
{
	ck_assert_int_eq(mkdir(at("dir"), 0755), 0);
	fs_start(8);
	open_expect("dir", TFTP_MODE_OCTET, TFTP_EACCESS, "Not a regular file");
	open_expect("dir/", TFTP_MODE_OCTET, TFTP_EACCESS,
	    "Not a regular file");
}
END_TEST

START_TEST(fifo_refused_without_blocking)
{
	/* An open that blocked would wait for a writer forever: the test's
	 * timeout (CK_DEFAULT_TIMEOUT) fails it, no clock needed here. */
	ck_assert_int_eq(mkfifo(at("fifo"), 0644), 0);
	fs_start(8);
	open_expect("fifo", TFTP_MODE_OCTET, TFTP_EACCESS,
	    "Not a regular file");
}
END_TEST

START_TEST(device_refused)
{
	if (geteuid() != 0)
		CK_SKIP("mknod needs root");
	if (mknod(at("null"), S_IFCHR | 0666, makedev(1, 3)) == -1)
		CK_SKIP("mknod: %s", strerror(errno));
	fs_start(8);
	/* "Permission denied" instead if the root is on a nodev mount. */
	open_expect("null", TFTP_MODE_OCTET, TFTP_EACCESS, NULL);
}
END_TEST

START_TEST(socket_refused)
{
	/* A UNIX socket cannot be open(2)ed at all: ENXIO. */
	ck_assert_int_eq(mknod(at("sock"), S_IFSOCK | 0644, 0), 0);
	fs_start(8);
	open_expect("sock", TFTP_MODE_OCTET, TFTP_EACCESS,
	    "Not a regular file");
}
END_TEST

START_TEST(empty_file_has_zero_size)
{
	struct body *b;

	(void)unit_write(root, "empty", "", 0);
	fs_start(8);
	b = open_ok("empty");
	ck_assert_uint_eq(b->size, 0);
	ck_assert_ptr_null(b->data);
	fs_release(fs, b);
	b = open_expect("empty", TFTP_MODE_NETASCII, 0, NULL);
	ck_assert_uint_eq(b->size, 0);
	ck_assert_ptr_null(b->data);
	fs_release(fs, b);
}
END_TEST

START_TEST(same_file_shares_body)
{
	struct body *b1, *b2, *n;

	put_str("pxelinux.0", "line\n");
	fs_start(8);
	b1 = open_ok("pxelinux.0");
	b2 = open_ok("/pxelinux.0");
	ck_assert_ptr_eq(b1, b2);
	/* The netascii view of the same file is a body of its own. */
	n = open_expect("pxelinux.0", TFTP_MODE_NETASCII, 0, NULL);
	ck_assert_ptr_ne(n, b1);
	body_is(n, "line\r\n");
	fs_release(fs, b1);
	fs_release(fs, n);
	body_is(b2, "line\n");
	fs_release(fs, b2);
}
END_TEST

START_TEST(replaced_file_gets_new_body)
{
	struct body *b1, *b2;

	put_str("boot.cfg", "old");
	fs_start(8);
	b1 = open_ok("boot.cfg");
	put_str("boot.cfg.tmp", "new content");
	ck_assert_int_eq(rename(at("boot.cfg.tmp"), at("boot.cfg")), 0);
	b2 = open_ok("boot.cfg");
	ck_assert_ptr_ne(b1, b2);
	body_is(b2, "new content");
	/* A session still sending the old file keeps the old bytes. */
	body_is(b1, "old");
	fs_release(fs, b1);
	fs_release(fs, b2);
}
END_TEST

/*
 * A file rewritten in place (not how to publish, but it must not serve
 * stale bytes): same inode, new size. The old version's mapping goes
 * when the new one is inserted if no session holds it (_i 0: released
 * before, idle in the cache), else when the last holder releases it
 * (_i 1).
 */
START_TEST(stale_version_unmapped)
{
	struct body *b1, *b2;
	const void *old;

	put_str("f", "aaaa");
	fs_start(8);
	b1 = open_ok("f");
	old = b1->data;
	if (_i == 0) {
		fs_release(fs, b1);
		ck_assert(is_mapped(old));
	}
	put_str("f", "bbbbbbbb");
	b2 = open_ok("f");
	body_is(b2, "bbbbbbbb");
	if (_i == 1) {
		ck_assert(is_mapped(old));
		fs_release(fs, b1);
	}
	ck_assert(!is_mapped(old));
	ck_assert(is_mapped(b2->data));
	fs_release(fs, b2);
}
END_TEST

START_TEST(idle_bodies_evicted_beyond_max_idle)
{
	struct body *a, *b, *c;
	const void *pa, *pb, *pc;

	abc_start(2);
	a = open_ok("a");
	b = open_ok("b");
	c = open_ok("c");
	pa = a->data;
	pb = b->data;
	pc = c->data;
	fs_release(fs, a);
	fs_release(fs, b);
	ck_assert(is_mapped(pa) && is_mapped(pb));
	fs_release(fs, c);
	/* Three idle, two allowed: the least recently released goes. */
	ck_assert(!is_mapped(pa));
	ck_assert(is_mapped(pb) && is_mapped(pc));
	/* An idle body is reused as is. */
	b = open_ok("b");
	ck_assert_ptr_eq(b->data, pb);
	fs_release(fs, b);
}
END_TEST

START_TEST(idle_body_reused_on_hit)
{
	struct body *a1, *a2, *b, *c;
	const void *pa, *pb, *pc;

	abc_start(2);
	a1 = open_ok("a");
	fs_release(fs, a1);
	a2 = open_ok("a");
	ck_assert_ptr_eq(a1, a2);
	b = open_ok("b");
	c = open_ok("c");
	pa = a2->data;
	pb = b->data;
	pc = c->data;
	fs_release(fs, b);
	fs_release(fs, c);
	/* a left the idle list when it was hit: releasing it now evicts b. */
	ck_assert(is_mapped(pa));
	fs_release(fs, a2);
	ck_assert(!is_mapped(pb));
	ck_assert(is_mapped(pc) && is_mapped(pa));
}
END_TEST

START_TEST(max_idle_zero_unmaps_at_once)
{
	struct body *b;
	const void *p;

	put_str("a", "A");
	fs_start(0);
	b = open_ok("a");
	p = b->data;
	ck_assert(is_mapped(p));
	fs_release(fs, b);
	ck_assert(!is_mapped(p));
}
END_TEST

START_TEST(idle_bodies_expire_by_age)
{
	struct body *a, *b, *c;
	const void *pa, *pb, *pc;
	uint64_t now = 5000;

	abc_start(64);
	ck_assert_int_eq(fs_set_name_cache(fs, 0, &now), 0);
	a = open_ok("a");
	b = open_ok("b");
	c = open_ok("c");
	pa = a->data;
	pb = b->data;
	pc = c->data;
	fs_release(fs, a);		/* idle since 5000 */
	now = 6000;
	fs_release(fs, b);		/* idle since 6000 */
	/* 0: no age limit; too young: nothing goes. */
	ck_assert_uint_eq(fs_expire_idle(fs, 100000, 0), 0);
	ck_assert_uint_eq(fs_expire_idle(fs, 7999, 3000), 0);
	ck_assert(is_mapped(pa) && is_mapped(pb));
	/* a is 3000 ms idle, b only 2000: a goes, b stays. */
	ck_assert_uint_eq(fs_expire_idle(fs, 8000, 3000), 1);
	ck_assert(!is_mapped(pa) && is_mapped(pb));
	/* A body in use never expires, however old. */
	ck_assert_uint_eq(fs_expire_idle(fs, 60000, 3000), 1);
	ck_assert(!is_mapped(pb) && is_mapped(pc));
	/* A hit on an idle body takes it off the clock, and its next
	 * release starts it again. */
	fs_release(fs, c);
	c = open_ok("c");
	ck_assert_ptr_eq(c->data, pc);
	ck_assert_uint_eq(fs_expire_idle(fs, 120000, 3000), 0);
	now = 120000;
	fs_release(fs, c);
	ck_assert_uint_eq(fs_expire_idle(fs, 122999, 3000), 0);
	ck_assert(is_mapped(pc));
	ck_assert_uint_eq(fs_expire_idle(fs, 123000, 3000), 1);
	ck_assert(!is_mapped(pc));
}
END_TEST

START_TEST(no_fd_kept_per_body)
{
	struct body *a, *b;
	int before;

	put_str("a", "A");
	put_str("b", "B\n");
	fs_start(8);
	before = count_fds();
	a = open_ok("a");
	b = open_expect("b", TFTP_MODE_NETASCII, 0, NULL);
	open_ok("a");
	open_expect("missing", TFTP_MODE_OCTET, TFTP_ENOTFOUND, NULL);
	open_expect(".", TFTP_MODE_OCTET, TFTP_EACCESS, NULL);
	ck_assert_int_eq(count_fds(), before);
	fs_release(fs, a);
	fs_release(fs, a);
	fs_release(fs, b);
}
END_TEST

START_TEST(netascii_converts_lf_and_cr)
{
	static const uint8_t src[] = "a\nb\rc\r\nd";
	static const uint8_t want[] = "a\r\nb\r\0c\r\0\r\nd";
	uint8_t dst[32];
	uint64_t n = sizeof src - 1;

	ck_assert_uint_eq(fs_netascii_size(src, n), sizeof want - 1);
	ck_assert_uint_eq(fs_netascii_convert(dst, src, n), sizeof want - 1);
	ck_assert_int_eq(memcmp(dst, want, sizeof want - 1), 0);
}
END_TEST

START_TEST(netascii_size_matches_convert)
{
	uint8_t src[512] = { 0 }, dst[1024];
	uint64_t n;
	unsigned seed = 1;
	int i, round;

	ck_assert_uint_eq(fs_netascii_size(src, 0), 0);
	ck_assert_uint_eq(fs_netascii_convert(dst, src, 0), 0);
	for (i = 0; i < 256; i++)
		src[i] = (uint8_t)i;
	ck_assert_uint_eq(fs_netascii_size(src, 256), 258);
	ck_assert_uint_eq(fs_netascii_convert(dst, src, 256), 258);
	for (round = 0; round < 100; round++) {
		n = (uint64_t)(rand_r(&seed) % (int)sizeof src);
		for (i = 0; i < (int)n; i++)
			src[i] = "\r\nab"[rand_r(&seed) % 4];
		ck_assert_uint_eq(fs_netascii_size(src, n),
		    fs_netascii_convert(dst, src, n));
	}
	memset(src, '\n', sizeof src);
	ck_assert_uint_eq(fs_netascii_convert(dst, src, sizeof src),
	    2 * sizeof src);
}
END_TEST

START_TEST(netascii_body_is_converted)
{
	static const char want[] = "line1\r\nline2\r\0\r\n\r\0";
	struct body *n, *o;

	put_str("cfg", "line1\nline2\r\n\r");
	fs_start(8);
	n = open_expect("cfg", TFTP_MODE_NETASCII, 0, NULL);
	ck_assert_uint_eq(n->size, sizeof want - 1);
	ck_assert_int_eq(memcmp(n->data, want, sizeof want - 1), 0);
	o = open_ok("cfg");
	body_is(o, "line1\nline2\r\n\r");
	fs_release(fs, n);
	fs_release(fs, o);
}
END_TEST

START_TEST(netascii_body_spans_read_chunks)
{
	static uint8_t src[200000], want[2 * sizeof src];
	uint64_t wlen;
	struct body *n;
	size_t i;

	/* Larger than fs.c's 64 KiB read chunk, with CR and LF throughout. */
	for (i = 0; i < sizeof src; i++)
		src[i] = (uint8_t)"ab\ncd\r"[i % 6];
	wlen = fs_netascii_convert(want, src, sizeof src);
	(void)unit_write(root, "big.txt", src, sizeof src);
	fs_start(8);
	n = open_expect("big.txt", TFTP_MODE_NETASCII, 0, NULL);
	ck_assert_uint_eq(n->size, wlen);
	ck_assert_int_eq(memcmp(n->data, want, wlen), 0);
	fs_release(fs, n);
}
END_TEST

START_TEST(fd_exhaustion_is_server_error)
{
	struct rlimit saved, low;
	struct body *b = NULL;
	const char *errmsg = NULL;
	int lowest, rc;

	put_str("a", "A");
	fs_start(8);
	/* Let no new fd be allocated: the lowest free one is the limit. */
	lowest = dup(0);
	ck_assert_int_ge(lowest, 0);
	close(lowest);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = (rlim_t)lowest;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	rc = fs_open_read(fs, "a", TFTP_MODE_OCTET, &b, &errmsg);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	ck_assert_int_eq(rc, FS_ESERVER);
	ck_assert_int_ne(rc, 0);
	ck_assert_uint_eq((uint16_t)rc, TFTP_EUNDEF);
	ck_assert_ptr_null(b);
	ck_assert_str_eq(errmsg, "Server error");
}
END_TEST

START_TEST(netascii_too_large_refused)
{
	struct body *o;
	int fd;

	fd = open(at("huge.iso"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (64 << 20) + 1), 0);
	close(fd);
	fs_start(8);
	open_expect("huge.iso", TFTP_MODE_NETASCII, TFTP_ENOSPACE,
	    "File too large for netascii");
	o = open_ok("huge.iso");
	ck_assert_uint_eq(o->size, (64 << 20) + 1);
	fs_release(fs, o);
}
END_TEST

START_TEST(unsupported_mode_refused)
{
	put_str("a", "A");
	fs_start(8);
	open_expect("a", TFTP_MODE_MAIL, TFTP_EBADOP, NULL);
}
END_TEST

START_TEST(permission_denied_is_access)
{
	const char	*fork_env = getenv("CK_FORK");

	put_str("secret", "s");
	ck_assert_int_eq(chmod(at("secret"), 0), 0);
	if (geteuid() == 0) {
		/* Root bypasses file modes (make check runs as root): be
		 * nobody for this test. Check runs each test in a child of
		 * its own, so the drop ends with it; the runner, still
		 * root, removes the tree. Not so with CK_FORK=no. */
		if (fork_env != NULL && strcmp(fork_env, "no") == 0)
			CK_SKIP("root bypasses file modes, and with CK_FORK=no "
			    "this test cannot drop to nobody alone");
		ck_assert_int_eq(chmod(base, 0711), 0);
		ck_assert_int_eq(chmod(root, 0711), 0);
		ck_assert_int_eq(setgroups(0, NULL), 0);
		ck_assert_int_eq(setresgid(65534, 65534, 65534), 0);
		ck_assert_int_eq(setresuid(65534, 65534, 65534), 0);
	}
	fs_start(8);
	open_expect("secret", TFTP_MODE_OCTET, TFTP_EACCESS,
	    "Permission denied");
}
END_TEST

START_TEST(nul_free_long_name_is_refused_cleanly)
{
	char name[5001];
	size_t i;

	/* One 4000-byte component: longer than NAME_MAX. */
	memset(name, 'a', 4000);
	name[4000] = '\0';
	fs_start(8);
	open_expect(name, TFTP_MODE_OCTET, TFTP_EACCESS, "Name too long");
	/* Short components, 5000 bytes in all: longer than PATH_MAX. */
	for (i = 0; i < 5000; i++)
		name[i] = i % 2 ? '/' : 'a';
	name[5000] = '\0';
	open_expect(name, TFTP_MODE_OCTET, TFTP_EACCESS, "Name too long");
}
END_TEST

START_TEST(missing_root_fails)
{
	errno = 0;
	ck_assert_ptr_null(fs_new(at("nonexistent"), 8));
	ck_assert_int_eq(errno, ENOENT);
	put_str("file", "x");
	ck_assert_ptr_null(fs_new(at("file"), 8));
	ck_assert_int_eq(errno, ENOTDIR);
}
END_TEST

/* ---- uploads ---- */

static int force_named;	/* openat2 refuses O_TMPFILE (tests run forked) */

/*
 * Stands in for libc's syscall() in this binary: fs.o calls openat2 by
 * syscall(SYS_openat2, ...), since libc has no wrapper for it. Passes
 * everything to libc's, except that an O_TMPFILE open fails with
 * EOPNOTSUPP while force_named is set, as on a filesystem without it.
 * Six arguments are always passed on, as libc's own syscall() reads six
 * registers whatever the call.
 */
long
syscall(long nr, ...)
{
	static long (*real)(long, ...);
	const struct open_how *how;
	long a[6];
	va_list ap;
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (force_named && nr == SYS_openat2) {
		how = (const struct open_how *)a[2];
		if ((how->flags & O_TMPFILE) == O_TMPFILE) {
			errno = EOPNOTSUPP;
			return -1;
		}
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "syscall");
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static const struct fs_wpolicy pol_new = {
	.create = true, .overwrite = false, .max_bytes = UINT64_MAX,
	.mode = 0644,
};
static const struct fs_wpolicy pol_replace = {
	.create = true, .overwrite = true, .max_bytes = UINT64_MAX,
	.mode = 0644,
};

/* Open an upload; expect rc (and msg when rc != 0 and msg != NULL). */
static struct fs_upload *
up_expect(const char *name, const struct fs_wpolicy *p, enum tftp_mode mode,
    int rc, const char *msg)
{
	struct fs_upload *u = (struct fs_upload *)1;
	const char *errmsg = NULL;
	int got;

	got = fs_open_write(fs, name, p, mode, &u, &errmsg);
	return expect_open(got, rc, u, errmsg, msg);
}

/* Each upload name (NULL-ended list) refused under p with rc and msg. */
static void
up_refused(const struct fs_wpolicy *p, int rc, const char *msg, ...)
{
	va_list ap;
	const char *name;

	va_start(ap, msg);
	while ((name = va_arg(ap, const char *)) != NULL)
		up_expect(name, p, TFTP_MODE_OCTET, rc, msg);
	va_end(ap);
}

/* Write a string at the wire offset *off and advance it. */
static void
up_put(struct fs_upload *u, uint64_t *off, const void *data, size_t len)
{
	ck_assert_int_eq(fs_upload_write(u, *off, data, len), 0);
	*off += len;
}

/* Entries of root/rel other than "." and ".."; the first in first[]. */
static int
dir_entries(const char *rel, char *first, size_t cap)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir(at(rel));
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n++ == 0 && first != NULL)
			snprintf(first, cap, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

/* The whole content of root/rel, or -1 if it cannot be opened. */
static ssize_t
slurp(const char *rel, char *buf, size_t cap)
{
	ssize_t n, got = 0;
	int fd;

	fd = open(at(rel), O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	while ((size_t)got < cap &&
	    (n = read(fd, buf + got, cap - (size_t)got)) > 0)
		got += n;
	close(fd);
	return got;
}

static void
file_is(const char *rel, const void *want, size_t len)
{
	static char buf[1 << 17];

	ck_assert_int_eq(slurp(rel, buf, sizeof buf), (ssize_t)len);
	ck_assert_int_eq(memcmp(buf, want, len), 0);
}

static int
exists(const char *rel)
{
	struct stat st;

	return fstatat(AT_FDCWD, at(rel), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

START_TEST(upload_creates_file_atomically)
{
	struct fs_upload *u;
	uint64_t off = 0;
	int pass;

	ck_assert_int_eq(mkdir(at("backups"), 0755), 0);
	ck_assert_int_eq(mkdir(at("backups2"), 0755), 0);
	fs_start(8);
	/* pass 0: O_TMPFILE; pass 1: the named-temp fallback */
	for (pass = 0; pass < 2; pass++) {
		const char *name = pass ? "backups2/sw2.cfg" : "/backups/sw2.cfg";
		const char *rel = pass ? "backups2/sw2.cfg" : "backups/sw2.cfg";
		const char *dir = pass ? "backups2" : "backups";
		char first[256];

		force_named = pass;
		off = 0;
		u = up_expect(name, &pol_new, TFTP_MODE_OCTET, 0, NULL);
		up_put(u, &off, "hostname ", 9);
		up_put(u, &off, "sw\n", 3);
		ck_assert(!exists(rel));
		if (pass == 0) {
			/* nothing at all in the directory yet */
			ck_assert_int_eq(dir_entries(dir, NULL, 0), 0);
		} else {
			/* one hidden temp, tagged, never the final name */
			ck_assert_int_eq(dir_entries(dir, first,
			    sizeof first), 1);
			ck_assert_int_eq(strncmp(first, ".sw2.cfg.ptftpd-",
			    16), 0);
			ck_assert_uint_eq(strlen(first), 16 + 6);
		}
		ck_assert_int_eq(fs_upload_commit(fs, u), 0);
		file_is(rel, "hostname sw\n", 12);
		ck_assert_int_eq(dir_entries(dir, NULL, 0), 1);
	}
	/* an empty upload is an empty file */
	u = up_expect("empty", &pol_new, TFTP_MODE_OCTET, 0, NULL);
	ck_assert_int_eq(fs_upload_commit(fs, u), 0);
	file_is("empty", "", 0);
}
END_TEST

START_TEST(upload_overwrite_policy)
{
	struct fs_upload *u;
	struct stat st0, st1;
	uint64_t off;
	char buf[8];
	int pass, old_fd;

	put_str("cfg", "old");
	/* held open, so its inode number cannot be reused meanwhile */
	old_fd = open(at("cfg"), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(old_fd, 0);
	ck_assert_int_eq(fstat(old_fd, &st0), 0);
	fs_start(8);
	up_expect("cfg", &pol_new, TFTP_MODE_OCTET, TFTP_EEXISTS,
	    "File already exists");
	for (pass = 0; pass < 2; pass++) {
		force_named = pass;
		off = 0;
		u = up_expect("cfg", &pol_replace, TFTP_MODE_OCTET, 0, NULL);
		up_put(u, &off, pass ? "newer" : "new", pass ? 5 : 3);
		file_is("cfg", pass ? "new" : "old", 3);
		ck_assert_int_eq(fs_upload_commit(fs, u), 0);
		file_is("cfg", pass ? "newer" : "new", pass ? 5 : 3);
		/* replaced by rename (a new inode), no temp left */
		ck_assert_int_eq(dir_entries(".", NULL, 0), 1);
	}
	/* a new inode each time; the old one is intact, not truncated */
	ck_assert_int_eq(stat(at("cfg"), &st1), 0);
	ck_assert(st1.st_ino != st0.st_ino);
	ck_assert_int_eq(pread(old_fd, buf, sizeof buf, 0), 3);
	ck_assert_int_eq(memcmp(buf, "old", 3), 0);
	close(old_fd);

	/* a file created between open and commit is not clobbered */
	for (pass = 0; pass < 2; pass++) {
		const char *rel = pass ? "race2" : "race1";

		force_named = pass;
		off = 0;
		u = up_expect(rel, &pol_new, TFTP_MODE_OCTET, 0, NULL);
		up_put(u, &off, "mine", 4);
		put_str(rel, "theirs");
		ck_assert_int_eq(fs_upload_commit(fs, u), TFTP_EEXISTS);
		file_is(rel, "theirs", 6);
		ck_assert_int_eq(dir_entries(".", NULL, 0), 2 + pass);
	}
}
END_TEST

START_TEST(upload_create_policy)
{
	struct fs_wpolicy p = pol_replace;
	struct fs_upload *u;
	uint64_t off = 0;

	p.create = false;
	put_str("existing", "v1");
	fs_start(8);
	up_expect("missing", &p, TFTP_MODE_OCTET, TFTP_EACCESS,
	    "Creating files is not allowed");
	ck_assert(!exists("missing"));
	/* replacing is still allowed */
	u = up_expect("existing", &p, TFTP_MODE_OCTET, 0, NULL);
	up_put(u, &off, "v2", 2);
	ck_assert_int_eq(fs_upload_commit(fs, u), 0);
	file_is("existing", "v2", 2);
	/* neither create nor overwrite: nothing can be written */
	p.overwrite = false;
	up_expect("existing", &p, TFTP_MODE_OCTET, TFTP_EEXISTS, NULL);
	up_expect("missing", &p, TFTP_MODE_OCTET, TFTP_EACCESS, NULL);
	ck_assert_int_eq(dir_entries(".", NULL, 0), 1);
}
END_TEST

START_TEST(upload_abort_leaves_nothing)
{
	struct fs_upload *u;
	uint64_t off;
	int before, pass;

	put_str("keep", "keep me");
	fs_start(8);
	before = count_fds();
	for (pass = 0; pass < 2; pass++) {
		force_named = pass;
		off = 0;
		u = up_expect("crash.dump", &pol_new, TFTP_MODE_OCTET, 0, NULL);
		up_put(u, &off, "partial", 7);
		fs_upload_abort(fs, u);
		ck_assert(!exists("crash.dump"));
		off = 0;
		u = up_expect("keep", &pol_replace, TFTP_MODE_NETASCII, 0,
		    NULL);
		up_put(u, &off, "half\r", 5);
		fs_upload_abort(fs, u);
		file_is("keep", "keep me", 7);
		/* no file, no temp: only what was there */
		ck_assert_int_eq(dir_entries(".", NULL, 0), 1);
	}
	fs_upload_abort(fs, NULL);
	ck_assert_int_eq(count_fds(), before);
	/* commit releases everything as well, success or not */
	u = up_expect("a", &pol_new, TFTP_MODE_OCTET, 0, NULL);
	ck_assert_int_eq(fs_upload_commit(fs, u), 0);
	u = up_expect("b", &pol_new, TFTP_MODE_OCTET, 0, NULL);
	put_str("b", "theirs");
	ck_assert_int_eq(fs_upload_commit(fs, u), TFTP_EEXISTS);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

START_TEST(upload_escape_refused)
{
	char outside[128];
	int pass;

	unit_tmpdir(outside, sizeof outside, base, "outside");
	ck_assert_int_eq(mkdir(at("sub"), 0755), 0);
	ck_assert_int_eq(symlink(outside, at("out")), 0);
	ck_assert_int_eq(symlink("../../..", at("sub/up")), 0);
	ck_assert_int_eq(symlink("/proc/self/cwd", at("magic")), 0);
	ck_assert_int_eq(symlink(outside, at("sub/target")), 0);
	fs_start(8);
	for (pass = 0; pass < 2; pass++) {
		force_named = pass;
		/* dot-dot, and a symlinked parent leading out of the root */
		up_refused(&pol_replace, TFTP_EACCESS, "Path escapes root",
		    "../x", "sub/../../x", "out/x", "sub/up/x", "magic/x",
		    NULL);
		/* the last component: never followed, never replaced */
		up_refused(&pol_replace, TFTP_EACCESS, "Not a regular file",
		    "sub/target", "..", "sub/..", NULL);
		up_expect("", &pol_replace, TFTP_MODE_OCTET, TFTP_EACCESS,
		    NULL);
		/* an absolute name is beneath the root, like for reading */
		up_expect("/tmp/x", &pol_replace, TFTP_MODE_OCTET,
		    TFTP_ENOTFOUND, "Directory not found");
	}
	ck_assert_int_eq(rmdir(outside), 0);	/* still empty */
	ck_assert_int_eq(dir_entries("sub", NULL, 0), 2);
}
END_TEST

START_TEST(upload_missing_parent_not_found)
{
	put_str("file", "x");
	fs_start(8);
	/* file/x: a parent that is a regular file */
	up_refused(&pol_new, TFTP_ENOTFOUND, "Directory not found",
	    "nodir/x", "a/b/c", "file/x", NULL);
	/* directories are never created */
	ck_assert(!exists("nodir"));
	ck_assert(!exists("a"));
	ck_assert_int_eq(dir_entries(".", NULL, 0), 1);
}
END_TEST

/* Reference netascii decoder for well-formed input (CR LF, CR NUL). */
static size_t
na_decode(char *dst, const char *src, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (src[i] == '\r' && i + 1 < n && src[i + 1] == '\n')
			dst[o++] = '\n', i++;
		else if (src[i] == '\r' && i + 1 < n && src[i + 1] == '\0')
			dst[o++] = '\r', i++;
		else
			dst[o++] = src[i];
	}
	return o;
}

START_TEST(upload_netascii_converted)
{
	static const char want[] = "line1\nline2\rend\nbare\rx\r";
	static char wire[3 * 1468 + 10000], exp[sizeof wire];
	struct fs_upload *u;
	uint64_t off = 0;
	size_t i, n, elen;

	fs_start(8);
	u = up_expect("motd", &pol_new, TFTP_MODE_NETASCII, 0, NULL);
	/* CR LF split across two packets, CR NUL too */
	up_put(u, &off, "line1\r", 6);
	up_put(u, &off, "\nline2\r", 7);
	/* a bare CR is kept; a CR ending the stream is a CR */
	up_put(u, &off, "\0end\r\nbare\rx\r", 13);
	ck_assert_int_eq(fs_upload_commit(fs, u), 0);
	file_is("motd", want, sizeof want - 1);

	/* blocks of 1468 and one big write past the decode buffer */
	for (i = 0; i < sizeof wire; i++)
		wire[i] = "ab\r\ncd\r\0e\r\n"[i % 12];
	elen = na_decode(exp, wire, sizeof wire);
	off = 0;
	u = up_expect("big.txt", &pol_new, TFTP_MODE_NETASCII, 0, NULL);
	for (i = 0; i < sizeof wire; i += n) {
		n = i < 3 * 1468 ? 1468 : sizeof wire - i;
		up_put(u, &off, wire + i, n);
	}
	ck_assert_int_eq(fs_upload_commit(fs, u), 0);
	file_is("big.txt", exp, elen);

	/* octet is byte for byte */
	off = 0;
	u = up_expect("raw", &pol_new, TFTP_MODE_OCTET, 0, NULL);
	up_put(u, &off, "a\r\nb\r\0", 6);
	ck_assert_int_eq(fs_upload_commit(fs, u), 0);
	file_is("raw", "a\r\nb\r\0", 6);
}
END_TEST

START_TEST(upload_mode_applied)
{
	struct fs_wpolicy p = pol_replace;
	struct fs_upload *u;
	struct stat st;
	int pass;

	fs_start(8);
	umask(027);	/* the configured mode wins over the umask */
	for (pass = 0; pass < 2; pass++) {
		force_named = pass;
		p.mode = 0664;
		u = up_expect("m", &p, TFTP_MODE_OCTET, 0, NULL);
		ck_assert_int_eq(fs_upload_commit(fs, u), 0);
		ck_assert_int_eq(stat(at("m"), &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0664);
		/* a replaced file takes the policy's mode, not the old one */
		p.mode = 0600;
		u = up_expect("m", &p, TFTP_MODE_OCTET, 0, NULL);
		ck_assert_int_eq(fs_upload_commit(fs, u), 0);
		ck_assert_int_eq(stat(at("m"), &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0600);
		ck_assert(S_ISREG(st.st_mode));
		/* never set-id or sticky, whatever the policy says */
		p.mode = 06755 | S_ISVTX;
		u = up_expect("m", &p, TFTP_MODE_OCTET, 0, NULL);
		ck_assert_int_eq(fs_upload_commit(fs, u), 0);
		ck_assert_int_eq(stat(at("m"), &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0755);
	}
}
END_TEST

/*
 * A child reads the file as fast as it can while the parent replaces it
 * over and over, each new version written in many pieces. Every read must
 * be one whole version: all 'A' (20000 bytes) or all 'B' (30000).
 */
static void
reader_loop(int stop_fd)
{
	static char buf[40000];
	struct pollfd pfd = { .fd = stop_fd, .events = POLLIN };
	ssize_t n, i;
	long rounds;

	for (rounds = 0; rounds < 10000000; rounds++) {
		if (poll(&pfd, 1, 0) != 0)
			_exit(0);	/* the parent closed the pipe */
		n = slurp("f", buf, sizeof buf);
		if (n != 20000 && n != 30000)
			_exit(1);
		for (i = 0; i < n; i++)
			if (buf[i] != (n == 20000 ? 'A' : 'B'))
				_exit(2);
	}
	_exit(0);
}

START_TEST(upload_concurrent_reader_sees_old_or_new)
{
	static char a[20000], b[30000];
	struct fs_upload *u;
	struct body *old, *cur;
	uint64_t off;
	size_t i, n, len;
	const char *src;
	int pfd[2], status, round;
	pid_t pid;

	memset(a, 'A', sizeof a);
	memset(b, 'B', sizeof b);
	(void)unit_write(root, "f", a, sizeof a);
	fs_start(8);
	old = open_ok("f");
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[1]);
		reader_loop(pfd[0]);
	}
	close(pfd[0]);
	for (round = 0; round < 60; round++) {
		src = round % 2 ? a : b;
		len = round % 2 ? sizeof a : sizeof b;
		force_named = round % 4 >= 2;
		u = up_expect("f", &pol_replace, TFTP_MODE_OCTET, 0, NULL);
		for (off = 0, i = 0; i < len; i += n) {
			n = len - i < 1468 ? len - i : 1468;
			up_put(u, &off, src + i, n);
			/* the server's own readers see a whole version too */
			if (i == 7 * 1468) {
				cur = open_expect("f", TFTP_MODE_OCTET, 0,
				    NULL);
				ck_assert(cur->size == sizeof a ||
				    cur->size == sizeof b);
				ck_assert_int_eq(cur->data[cur->size - 1],
				    cur->size == sizeof a ? 'A' : 'B');
				fs_release(fs, cur);
			}
		}
		ck_assert_int_eq(fs_upload_commit(fs, u), 0);
	}
	close(pfd[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* a session still sending the first version keeps its bytes */
	ck_assert_uint_eq(old->size, sizeof a);
	ck_assert_int_eq(memcmp(old->data, a, sizeof a), 0);
	fs_release(fs, old);
	file_is("f", a, sizeof a);
	ck_assert_int_eq(dir_entries(".", NULL, 0), 1);
}
END_TEST

START_TEST(upload_over_existing_non_regular_refused)
{
	struct stat st;

	ck_assert_int_eq(mkdir(at("d"), 0755), 0);
	ck_assert_int_eq(mkfifo(at("fifo"), 0644), 0);
	ck_assert_int_eq(mknod(at("sock"), S_IFSOCK | 0644, 0), 0);
	put_str("real", "real");
	ck_assert_int_eq(symlink("real", at("lnk")), 0);
	fs_start(8);
	/* lnk: a symlink, even to a regular file inside the root */
	up_refused(&pol_replace, TFTP_EACCESS, "Not a regular file",
	    "d", "d/", "fifo", "sock", "lnk", NULL);
	ck_assert_int_eq(lstat(at("lnk"), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(lstat(at("d"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	file_is("real", "real", 4);
	ck_assert_int_eq(dir_entries(".", NULL, 0), 5);
}
END_TEST

START_TEST(upload_write_limits)
{
	struct fs_wpolicy p = pol_new;
	struct fs_upload *u;
	uint64_t off = 0;

	p.max_bytes = 10;
	fs_start(8);
	up_expect("m", &p, TFTP_MODE_MAIL, TFTP_EBADOP, "Unsupported mode");
	u = up_expect("capped", &p, TFTP_MODE_OCTET, 0, NULL);
	up_put(u, &off, "12345678", 8);
	ck_assert_int_eq(fs_upload_write(u, off, (const uint8_t *)"abc", 3),
	    TFTP_ENOSPACE);
	fs_upload_abort(fs, u);
	ck_assert(!exists("capped"));
	/* netascii counts file bytes: 12 wire bytes, 8 in the file */
	off = 0;
	u = up_expect("na", &p, TFTP_MODE_NETASCII, 0, NULL);
	up_put(u, &off, "ab\r\ncd\r\nef\r\n", 12);
	ck_assert_int_eq(fs_upload_commit(fs, u), 0);
	file_is("na", "ab\ncd\nef\n", 9);
	/* out of order or twice: refused, never written */
	off = 0;
	u = up_expect("order", &p, TFTP_MODE_OCTET, 0, NULL);
	up_put(u, &off, "abc", 3);
	ck_assert_int_eq(fs_upload_write(u, 0, (const uint8_t *)"abc", 3),
	    FS_ESERVER);
	ck_assert_int_eq(fs_upload_write(u, 9, (const uint8_t *)"abc", 3),
	    FS_ESERVER);
	ck_assert_int_eq(fs_upload_commit(fs, u), 0);
	file_is("order", "abc", 3);
}
END_TEST

static Suite *
fs_suite(void)
{
	Suite *s;
	TCase *tc;

	s = suite_create("fs");
	tc = tcase_create("fs");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, regular_file_served);
	tcase_add_test(tc, leading_slashes_stripped);
	tcase_add_test(tc, empty_name_is_not_found);
	tcase_add_test(tc, missing_file_is_not_found);
	tcase_add_test(tc, dotdot_escape_refused);
	tcase_add_test(tc, absolute_path_stays_beneath_root);
	tcase_add_test(tc, symlink_out_of_root_refused);
	tcase_add_test(tc, symlink_inside_root_followed);
	tcase_add_test(tc, directory_refused);
	tcase_add_test(tc, fifo_refused_without_blocking);
	tcase_add_test(tc, device_refused);
	tcase_add_test(tc, socket_refused);
	tcase_add_test(tc, empty_file_has_zero_size);
	tcase_add_test(tc, same_file_shares_body);
	tcase_add_test(tc, replaced_file_gets_new_body);
	tcase_add_loop_test(tc, stale_version_unmapped, 0, 2);
	tcase_add_test(tc, idle_bodies_evicted_beyond_max_idle);
	tcase_add_test(tc, idle_body_reused_on_hit);
	tcase_add_test(tc, max_idle_zero_unmaps_at_once);
	tcase_add_test(tc, idle_bodies_expire_by_age);
	tcase_add_test(tc, no_fd_kept_per_body);
	tcase_add_test(tc, netascii_converts_lf_and_cr);
	tcase_add_test(tc, netascii_size_matches_convert);
	tcase_add_test(tc, netascii_body_is_converted);
	tcase_add_test(tc, netascii_body_spans_read_chunks);
	tcase_add_test(tc, netascii_too_large_refused);
	tcase_add_test(tc, fd_exhaustion_is_server_error);
	tcase_add_test(tc, unsupported_mode_refused);
	tcase_add_test(tc, permission_denied_is_access);
	tcase_add_test(tc, nul_free_long_name_is_refused_cleanly);
	tcase_add_test(tc, missing_root_fails);
	suite_add_tcase(s, tc);

	tc = tcase_create("upload");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, upload_creates_file_atomically);
	tcase_add_test(tc, upload_overwrite_policy);
	tcase_add_test(tc, upload_create_policy);
	tcase_add_test(tc, upload_abort_leaves_nothing);
	tcase_add_test(tc, upload_escape_refused);
	tcase_add_test(tc, upload_missing_parent_not_found);
	tcase_add_test(tc, upload_netascii_converted);
	tcase_add_test(tc, upload_mode_applied);
	tcase_add_test(tc, upload_concurrent_reader_sees_old_or_new);
	tcase_add_test(tc, upload_over_existing_non_regular_refused);
	tcase_add_test(tc, upload_write_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(fs_suite());
}
