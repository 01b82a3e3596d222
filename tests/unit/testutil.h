/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testutil.h - the helpers every Check unit suite was copying: a fresh
 * temporary directory, a file written in it and its removal (unit_tmpdir,
 * unit_write, unit_rmtree), a socket address from text (unit_addr) and
 * the suite runner main() calls (unit_run). Header-only (static inline) like skip.h and udp.h, so a
 * suite links no extra object. It owns nothing else: the skip state is
 * skip.h's, the loopback UDP socket udp.h's, and what a suite puts in
 * its directory is the suite's.
 */
#ifndef PTFTPD_TESTS_TESTUTIL_H
#define PTFTPD_TESTS_TESTUTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

/*
 * Make a fresh directory <parent>/<name>.XXXXXX and put its canonical
 * path (no symlink in it) in buf. Failing that it exits: it serves both
 * unchecked fixtures (in the runner, where a Check assertion cannot
 * report) and forked tests (where Check reports the early exit as an
 * error), and no test can run without its directory.
 */
static inline void
unit_tmpdir(char *buf, size_t size, const char *parent, const char *name)
{
	char	 tmpl[PATH_MAX];
	char	*real;
	int	 n;

	n = snprintf(tmpl, sizeof(tmpl), "%s/%s.XXXXXX", parent, name);
	if (n < 0 || (size_t)n >= sizeof(tmpl) || mkdtemp(tmpl) == NULL) {
		perror("unit_tmpdir: mkdtemp");
		exit(EXIT_FAILURE);
	}
	if ((real = realpath(tmpl, NULL)) == NULL) {
		perror("unit_tmpdir: realpath");
		exit(EXIT_FAILURE);
	}
	if (strlen(real) >= size) {
		fprintf(stderr, "unit_tmpdir: %s: longer than %zu\n", real,
		    size - 1);
		exit(EXIT_FAILURE);
	}
	memcpy(buf, real, strlen(real) + 1);
	free(real);
}

/*
 * Write len bytes of data to <dir>/<rel> (created 0644, or truncated: the
 * same inode when it exists); returns the path, in a static buffer that
 * the next call reuses. A failure fails the test.
 */
static inline const char *
unit_write(const char *dir, const char *rel, const void *data, size_t len)
{
	static char	p[PATH_MAX];
	int		fd;

	ck_assert_int_lt(snprintf(p, sizeof(p), "%s/%s", dir, rel),
	    (int)sizeof(p));
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd != -1, "open %s: %s", p, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	return p;
}

static inline int
unit_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;	/* keep going: remove all we can */
}

/* Remove dir and all below it, not following symlinks; "" is a no-op. */
static inline void
unit_rmtree(const char *dir)
{
	if (dir[0] != '\0')
		nftw(dir, unit_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ss = ip (IPv4 or IPv6 text) and port; a bad address fails the test. */
static inline void
unit_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return;
	}
	ck_assert_msg(inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1,
	    "not an address: %s", ip);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
}

/*
 * The example module (src/modules/example.c) as the build made it:
 * $PTFTPD_EXAMPLE_MODULE, else <build>/modules/example.so beside this
 * test binary's <build>/tests, else build/modules/example.so (run from
 * the top directory). The path, in a static buffer; not opened here.
 */
static inline const char *
unit_example_module(void)
{
	static char	 path[PATH_MAX + 32];
	const char	*env = getenv("PTFTPD_EXAMPLE_MODULE");
	char		 exe[PATH_MAX], *slash;
	ssize_t		 n;

	if (env != NULL && *env != '\0')
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return "build/modules/example.so";
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/../modules/example.so", exe);
	if (access(path, R_OK) != 0)
		return "build/modules/example.so";
	return path;
}

/* Run suite s; main()'s exit status: 0 when no test failed. */
static inline int
unit_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
