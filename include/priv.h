/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * priv.h - dropping privileges in a worker: user, group, no supplementary
 * groups, no_new_privs.
 */
#ifndef PTFTPD_PRIV_H
#define PTFTPD_PRIV_H

/*
 * When running as root, chroot to root (NULL: no chroot), then switch to
 * user/group (group NULL: the user's primary group) with no supplementary
 * groups. Always drops every capability and sets PR_SET_NO_NEW_PRIVS.
 * Returns 0, or -1 with errno and a short reason in *what (for the
 * caller's log line): a user or group that does not exist gives ENOENT
 * and "getpwnam: no such user" or "getgrnam: no such group", whatever
 * errno held before the call.
 */
int	priv_drop(const char *user, const char *group, const char *root,
	    const char **what);

#endif
