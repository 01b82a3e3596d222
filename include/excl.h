/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * excl.h - one server per listen address: who else has a UDP socket on an
 * address and port we mean to serve. See excl.c.
 */
#ifndef PTFTPD_EXCL_H
#define PTFTPD_EXCL_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct excl_holder {
	ino_t	 ino;		/* the other socket's inode */
	uid_t	 uid;		/* its owner, from /proc/net/udp */
	pid_t	 pid;		/* the topmost process holding it; 0: unseen */
	char	 comm[32];	/* that process's name, "" when unknown */
};

/*
 * Look for a UDP socket bound to ss's port whose address overlaps ss's
 * (the same address, or the wildcard of the family on either side) and
 * that is neither one of ours[] (socket inodes) nor held by this process
 * or one of its children (a draining worker's copy). Returns 1 with *h
 * filled, 0 when there is none, -1 with errno when /proc/net cannot be
 * read. Reads /proc/net/udp{,6}, and /proc/<pid>/fd of every process we
 * may see when a foreign socket is found: for start-up and reload only.
 */
int	excl_find(const struct sockaddr_storage *ss, const ino_t *ours,
	    size_t nours, struct excl_holder *h);

#endif
