/*
 * priv.c - what a worker gives up before it reads its first packet. It
 * owns the uid/gid switch and no_new_privs; it does not decide when
 * (worker.c, after the root directory is open) and does not chroot or
 * filter syscalls (later layers). The supervisor keeps its privileges to
 * bind and fork; it never parses a packet.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "priv.h"

int
priv_drop(const char *user, const char *group, const char **what)
{
	struct passwd	*pw = NULL;
	struct group	*gr;
	gid_t		 gid;

	if (geteuid() == 0 && user != NULL && *user != '\0') {
		*what = "getpwnam";
		if ((pw = getpwnam(user)) == NULL) {
			if (errno == 0)
				errno = ENOENT;
			return -1;
		}
		gid = pw->pw_gid;
		if (group != NULL && *group != '\0') {
			*what = "getgrnam";
			if ((gr = getgrnam(group)) == NULL) {
				if (errno == 0)
					errno = ENOENT;
				return -1;
			}
			gid = gr->gr_gid;
		}
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
	*what = "prctl(PR_SET_NO_NEW_PRIVS)";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return 0;
}
