/*
 * check_fs.c - unit tests for fs.c: name resolution beneath a temporary
 * root (escapes, symlinks, special files), the body cache (sharing,
 * replacement, idle eviction) and netascii conversion. Each test gets a
 * fresh root from mkdtemp in the fixture and the fixture removes it.
 * Whether a body is still mapped is observed with mincore(2), which fails
 * with ENOMEM on an unmapped address.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "fs.h"

static char base[64];	/* one per test case, removed even after failures */
static char root[96];	/* one per test, inside base */
static struct fs *fs;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;	/* keep going: remove all we can */
}

static void
rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Unchecked: runs in the runner, so a failed (forked) test leaves no trace. */
static void
base_setup(void)
{
	snprintf(base, sizeof base, "/tmp/check_fs.XXXXXX");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		exit(EXIT_FAILURE);
	}
}

static void
base_teardown(void)
{
	rm_tree(base);
}

static void
setup(void)
{
	snprintf(root, sizeof root, "%s/root.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(root));
	fs = NULL;
}

static void
teardown(void)
{
	fs_free(fs);
	fs = NULL;
	rm_tree(root);
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
put_file(const char *rel, const void *data, size_t len)
{
	int fd;

	fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

static void
put_str(const char *rel, const char *s)
{
	put_file(rel, s, strlen(s));
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

/* Open name in mode; expect rc (and msg when rc != 0). */
static struct body *
open_expect(const char *name, enum tftp_mode mode, int rc, const char *msg)
{
	struct body *b = (struct body *)1;
	const char *errmsg = NULL;

	ck_assert_int_eq(fs_open_read(fs, name, mode, &b, &errmsg), rc);
	if (rc == 0) {
		ck_assert_ptr_nonnull(b);
		return b;
	}
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(errmsg);
	if (msg != NULL)
		ck_assert_str_eq(errmsg, msg);
	return NULL;
}

static void
fs_start(unsigned max_idle)
{
	fs = fs_new(root, max_idle);
	ck_assert_ptr_nonnull(fs);
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
	b = open_expect("hello.txt", TFTP_MODE_OCTET, 0, NULL);
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
	b = open_expect("/grub/grub.cfg", TFTP_MODE_OCTET, 0, NULL);
	body_is(b, "set timeout=5\n");
	fs_release(fs, b);
	b = open_expect("///grub/grub.cfg", TFTP_MODE_OCTET, 0, NULL);
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
	b = open_expect("sub/../top", TFTP_MODE_OCTET, 0, NULL);
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
	b = open_expect("/etc/passwd", TFTP_MODE_OCTET, 0, NULL);
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
	b1 = open_expect("link", TFTP_MODE_OCTET, 0, NULL);
	body_is(b1, "payload");
	b2 = open_expect("dir/uplink", TFTP_MODE_OCTET, 0, NULL);
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
	struct timespec t0, t1;
	int64_t ms;

	ck_assert_int_eq(mkfifo(at("fifo"), 0644), 0);
	fs_start(8);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	open_expect("fifo", TFTP_MODE_OCTET, TFTP_EACCESS,
	    "Not a regular file");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_lt(ms, 500);
}
END_TEST

START_TEST(device_refused)
{
	if (geteuid() != 0) {
		fprintf(stderr, "device_refused: skipped, mknod needs root\n");
		return;
	}
	if (mknod(at("null"), S_IFCHR | 0666, makedev(1, 3)) == -1) {
		fprintf(stderr, "device_refused: skipped, mknod: %s\n",
		    strerror(errno));
		return;
	}
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

	put_file("empty", "", 0);
	fs_start(8);
	b = open_expect("empty", TFTP_MODE_OCTET, 0, NULL);
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
	b1 = open_expect("pxelinux.0", TFTP_MODE_OCTET, 0, NULL);
	b2 = open_expect("/pxelinux.0", TFTP_MODE_OCTET, 0, NULL);
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
	b1 = open_expect("boot.cfg", TFTP_MODE_OCTET, 0, NULL);
	put_str("boot.cfg.tmp", "new content");
	ck_assert_int_eq(rename(at("boot.cfg.tmp"), at("boot.cfg")), 0);
	b2 = open_expect("boot.cfg", TFTP_MODE_OCTET, 0, NULL);
	ck_assert_ptr_ne(b1, b2);
	body_is(b2, "new content");
	/* A session still sending the old file keeps the old bytes. */
	body_is(b1, "old");
	fs_release(fs, b1);
	fs_release(fs, b2);
}
END_TEST

START_TEST(stale_version_evicted_on_insert)
{
	struct body *b1, *b2;
	const void *old;

	put_str("f", "aaaa");
	fs_start(8);
	b1 = open_expect("f", TFTP_MODE_OCTET, 0, NULL);
	old = b1->data;
	fs_release(fs, b1);
	ck_assert(is_mapped(old));
	/* Rewritten in place (not how to publish, but it must not serve
	 * stale bytes): same inode, new size. */
	put_str("f", "bbbbbbbb");
	b2 = open_expect("f", TFTP_MODE_OCTET, 0, NULL);
	body_is(b2, "bbbbbbbb");
	ck_assert(!is_mapped(old));
	fs_release(fs, b2);
}
END_TEST

START_TEST(released_stale_version_is_unmapped)
{
	struct body *b1, *b2;
	const void *old;

	put_str("f", "aaaa");
	fs_start(8);
	b1 = open_expect("f", TFTP_MODE_OCTET, 0, NULL);
	old = b1->data;
	put_str("f", "bbbbbbbb");
	b2 = open_expect("f", TFTP_MODE_OCTET, 0, NULL);
	ck_assert(is_mapped(old));
	fs_release(fs, b1);
	ck_assert(!is_mapped(old));
	ck_assert(is_mapped(b2->data));
	fs_release(fs, b2);
}
END_TEST

START_TEST(idle_bodies_evicted_beyond_max_idle)
{
	struct body *a, *b, *c;
	const void *pa, *pb, *pc;

	put_str("a", "A");
	put_str("b", "B");
	put_str("c", "C");
	fs_start(2);
	a = open_expect("a", TFTP_MODE_OCTET, 0, NULL);
	b = open_expect("b", TFTP_MODE_OCTET, 0, NULL);
	c = open_expect("c", TFTP_MODE_OCTET, 0, NULL);
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
	b = open_expect("b", TFTP_MODE_OCTET, 0, NULL);
	ck_assert_ptr_eq(b->data, pb);
	fs_release(fs, b);
}
END_TEST

START_TEST(idle_body_reused_on_hit)
{
	struct body *a1, *a2, *b, *c;
	const void *pa, *pb, *pc;

	put_str("a", "A");
	put_str("b", "B");
	put_str("c", "C");
	fs_start(2);
	a1 = open_expect("a", TFTP_MODE_OCTET, 0, NULL);
	fs_release(fs, a1);
	a2 = open_expect("a", TFTP_MODE_OCTET, 0, NULL);
	ck_assert_ptr_eq(a1, a2);
	b = open_expect("b", TFTP_MODE_OCTET, 0, NULL);
	c = open_expect("c", TFTP_MODE_OCTET, 0, NULL);
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
	b = open_expect("a", TFTP_MODE_OCTET, 0, NULL);
	p = b->data;
	ck_assert(is_mapped(p));
	fs_release(fs, b);
	ck_assert(!is_mapped(p));
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
	a = open_expect("a", TFTP_MODE_OCTET, 0, NULL);
	b = open_expect("b", TFTP_MODE_NETASCII, 0, NULL);
	open_expect("a", TFTP_MODE_OCTET, 0, NULL);
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
	o = open_expect("cfg", TFTP_MODE_OCTET, 0, NULL);
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
	put_file("big.txt", src, sizeof src);
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
	o = open_expect("huge.iso", TFTP_MODE_OCTET, 0, NULL);
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
	if (geteuid() == 0) {
		fprintf(stderr, "permission_denied_is_access: skipped, "
		    "root bypasses file modes\n");
		return;
	}
	put_str("secret", "s");
	ck_assert_int_eq(chmod(at("secret"), 0), 0);
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
	tcase_add_test(tc, stale_version_evicted_on_insert);
	tcase_add_test(tc, released_stale_version_is_unmapped);
	tcase_add_test(tc, idle_bodies_evicted_beyond_max_idle);
	tcase_add_test(tc, idle_body_reused_on_hit);
	tcase_add_test(tc, max_idle_zero_unmaps_at_once);
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
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(fs_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
