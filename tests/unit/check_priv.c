/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_priv.c - unit tests for the privilege drop (src/priv.c): a user
 * or group that does not exist is reported as such, whatever errno held
 * before, and a real user is switched to for good. Each call runs in a
 * forked child (it changes the process for good) that reports through a
 * pipe. It does not test chroot. Needs root: otherwise each test is
 * skipped (CK_SKIP, skip.h: "SKIP test: reason", counted apart by
 * scripts/run-unit.sh). Links priv.o only.
 */
#include <sys/wait.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "priv.h"
#include "skip.h"
#include "testutil.h"

#define NO_USER		"ptftpd-check-no-such-user"
#define NO_GROUP	"ptftpd-check-no-such-group"

struct outcome {
	int	 rc;
	int	 err;
	uid_t	 uid;
	char	 what[64];
};

/* priv_drop(user, group) in a child whose errno was `stale` before;
 * -1 when not root (the caller skips). */
static int
drop_in_child(const char *user, const char *group, int stale,
    struct outcome *o)
{
	int	 p[2], st;
	pid_t	 pid;

	memset(o, 0, sizeof(*o));
	if (geteuid() != 0)
		return -1;
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		const char	*what = "";
		struct outcome	 c;

		memset(&c, 0, sizeof(c));
		errno = stale;
		c.rc = priv_drop(user, group, NULL, &what);
		c.err = errno;
		c.uid = geteuid();
		snprintf(c.what, sizeof(c.what), "%s", what);
		_exit(write(p[1], &c, sizeof(c)) == sizeof(c) ? 0 : 1);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], o, sizeof(*o)), (int)sizeof(*o));
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return 0;
}

START_TEST(missing_user_says_no_such_user)
{
	static const int	 stale[] = { 0, EACCES, EINTR, EIO };
	struct outcome		 o;
	unsigned		 i;

	for (i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		if (drop_in_child(NO_USER, NULL, stale[i], &o) == -1)
			CK_SKIP("priv_drop needs root");
		ck_assert_int_eq(o.rc, -1);
		ck_assert_msg(o.err == ENOENT, "errno %d (%s) after a stale %d",
		    o.err, strerror(o.err), stale[i]);
		ck_assert_str_eq(o.what, "getpwnam: no such user");
	}
}
END_TEST

START_TEST(missing_group_says_no_such_group)
{
	struct outcome	 o;

	if (drop_in_child("nobody", NO_GROUP, EACCES, &o) == -1)
		CK_SKIP("priv_drop needs root");
	ck_assert_int_eq(o.rc, -1);
	ck_assert_int_eq(o.err, ENOENT);
	ck_assert_str_eq(o.what, "getgrnam: no such group");
}
END_TEST

START_TEST(existing_user_is_switched_to)
{
	struct passwd	*pw = getpwnam("nobody");
	struct outcome	 o;

	if (pw == NULL)
		CK_SKIP("no user nobody");
	if (drop_in_child("nobody", NULL, EACCES, &o) == -1)
		CK_SKIP("priv_drop needs root");
	ck_assert_msg(o.rc == 0, "%s: %s", o.what, strerror(o.err));
	ck_assert_uint_eq(o.uid, pw->pw_uid);
}
END_TEST

static Suite *
priv_suite(void)
{
	Suite	*s = suite_create("priv");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, missing_user_says_no_such_user);
	tcase_add_test(tc, missing_group_says_no_such_group);
	tcase_add_test(tc, existing_user_is_switched_to);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(priv_suite());
}
