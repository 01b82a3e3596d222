/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * priv.c - what a process gives up before it reads its first packet or
 * runs its first program, in one call (priv_drop): the bounding set, then
 * the user and group lookups (they read /etc), the chroot when given a
 * directory (a worker with chroot set; the exec spawner passes none),
 * setgroups and the uid/gid switch with a check that it cannot be undone,
 * every remaining capability (ambient, effective, permitted, inheritable:
 * a supervisor started with CAP_NET_BIND_SERVICE must not pass it on), and
 * no_new_privs. It reports the step that failed in *what and never logs.
 * It does not decide when (worker.c, after the root directory is open;
 * execd.c in the spawner) and does not filter syscalls (sandbox.c). The
 * supervisor keeps its privileges to bind and fork; it never parses a
 * packet.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <unistd.h>

#include "priv.h"

/*
 * Leave a worker with no capability at all. Run unprivileged under
 * systemd with AmbientCapabilities=CAP_NET_BIND_SERVICE, the supervisor
 * needs that one to bind port 69, but workers inherit it; they must not
 * hold it (they never bind a privileged port). Clears the ambient set,
 * the bounding set where allowed, then effective, permitted and
 * inheritable. glibc has no capset wrapper: the raw syscall.
 */
static int
priv_drop_caps(const char **what)
{
	struct __user_cap_header_struct	 hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct	 data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	*what = "prctl(PR_CAP_AMBIENT_CLEAR_ALL)";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return -1;
	*what = "capset";
	return (int)syscall(SYS_capset, &hdr, data);
}

/*
 * After getpwnam or getgrnam returned NULL with errno cleared before the
 * call: was the name simply not there? POSIX leaves errno alone then;
 * getpwnam(3) lists ENOENT, ESRCH, EBADF and EPERM as what some systems
 * set instead. Sets errno to ENOENT in that case, keeps it otherwise.
 */
static bool
priv_not_found(void)
{
	if (errno != 0 && errno != ENOENT && errno != ESRCH &&
	    errno != EBADF && errno != EPERM)
		return false;
	errno = ENOENT;
	return true;
}

int
priv_drop(const char *user, const char *group, const char *root,
    const char **what)
{
	struct passwd	*pw = NULL;
	struct group	*gr;
	gid_t		 gid;
	int		 cap;

	/* The bounding set needs CAP_SETPCAP to shrink: while we are still
	 * root. Unprivileged, the empty permitted set set below holds. */
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	if (geteuid() == 0 && user != NULL && *user != '\0') {
		/* NULL with errno untouched means "no such name", and only
		 * a cleared errno tells that apart from a stale one. */
		errno = 0;
		if ((pw = getpwnam(user)) == NULL) {
			*what = priv_not_found() ? "getpwnam: no such user" :
			    "getpwnam";
			return -1;
		}
		gid = pw->pw_gid;
		if (group != NULL && *group != '\0') {
			errno = 0;
			if ((gr = getgrnam(group)) == NULL) {
				*what = priv_not_found() ?
				    "getgrnam: no such group" : "getgrnam";
				return -1;
			}
			gid = gr->gr_gid;
		}
	}
	/* After the name lookups (they read /etc), before giving up root:
	 * chroot needs CAP_SYS_CHROOT and fails plainly without it. */
	if (root != NULL) {
		*what = "chroot";
		if (chroot(root) == -1 || chdir("/") == -1)
			return -1;
	}
	if (pw != NULL) {
		*what = "setgroups";
		if (setgroups(0, NULL) == -1)
			return -1;
		*what = "setresgid";
		if (setresgid(gid, gid, gid) == -1)
			return -1;
		*what = "setresuid";
		if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
			return -1;
		/* Paranoia: the drop must be irreversible. */
		*what = "setuid(0) still works";
		if (pw->pw_uid != 0 && setuid(0) == 0) {
			errno = EPERM;
			return -1;
		}
	}
	if (priv_drop_caps(what) == -1)
		return -1;
	*what = "prctl(PR_SET_NO_NEW_PRIVS)";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return 0;
}
