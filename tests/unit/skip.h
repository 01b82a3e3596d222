/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * skip.h - a skip state for the Check unit tests, which have none of their
 * own (a test that returns early counts as passed). CK_SKIP(fmt, ...) in a
 * START_TEST body prints "SKIP <test>: <reason>" on stdout, appends the same
 * line to the file named by $PT_SKIP_FILE (scripts/run-unit.sh sets it and
 * counts the lines: Check forks every test, so nothing in memory would
 * reach main), and returns from the test. It owns nothing else: whether a
 * test may skip is the test's call. Skip only for what the machine lacks
 * (a kernel feature, root); a test that cannot build or load what it tests
 * must fail instead.
 */
#ifndef PTFTPD_TESTS_SKIP_H
#define PTFTPD_TESTS_SKIP_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void __attribute__((format(printf, 2, 3)))
ck_skip_note(const char *test, const char *fmt, ...)
{
	char		 line[512];
	const char	*path;
	va_list		 ap;
	int		 n, fd;
	size_t		 len;

	n = snprintf(line, sizeof(line), "SKIP %s: ", test);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	len = strlen(line);
	line[len++] = '\n';
	line[len] = '\0';
	fputs(line, stdout);
	fflush(stdout);
	if ((path = getenv("PT_SKIP_FILE")) == NULL || *path == '\0')
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		return;
	/* One write with O_APPEND: lines of forked tests never interleave. */
	if (write(fd, line, len) != (ssize_t)len) {
		/* the runner then counts this test as passed; nothing to add */
	}
	close(fd);
}

/* START_TEST(name) defines name_fn: strip the suffix for the message. */
#define CK_SKIP(...) do {						\
	char ck_skip_name_[128];					\
	size_t ck_skip_len_;						\
									\
	snprintf(ck_skip_name_, sizeof(ck_skip_name_), "%s", __func__);	\
	ck_skip_len_ = strlen(ck_skip_name_);				\
	if (ck_skip_len_ > 3 &&						\
	    strcmp(ck_skip_name_ + ck_skip_len_ - 3, "_fn") == 0)	\
		ck_skip_name_[ck_skip_len_ - 3] = '\0';			\
	ck_skip_note(ck_skip_name_, __VA_ARGS__);			\
	return;								\
} while (0)

#endif
