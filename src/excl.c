/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * excl.c - one server per listen address. SO_REUSEPORT lets any process
 * of the same user bind an address and port a running ptftpd serves, and
 * the kernel then splits the requests between the two (a second daemon
 * started by mistake took 13 of 20 fetches). This file owns the lookup the
 * supervisor runs once its listen sockets are bound: the UDP sockets of
 * /proc/net/udp{,6} on the same port and an overlapping address that are
 * not ours, and the process holding one (a scan of /proc/<pid>/fd, walked
 * up to the topmost ancestor holding the same socket: the other
 * supervisor, not one of its workers). Checking after our own bind, not
 * before, leaves no window: of two daemons started at once, each sees the
 * other. It does not bind (net.c) and does not decide (sup.c refuses).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "excl.h"

#define EXCL_ANCESTORS	8	/* supervisor -> worker is one step */

/* Parse /proc/net/udp's hex address: each 32-bit word is printed as the
 * host-order value of the network-order bytes, so copying the parsed
 * words back gives the address bytes. */
static int
excl_parse_addr(const char *hex, size_t len, uint8_t *out)
{
	size_t	 w;

	if (len != 8 && len != 32)
		return -1;
	for (w = 0; w < len / 8; w++) {
		char		 buf[9];
		char		*end;
		uint32_t	 v;

		memcpy(buf, hex + w * 8, 8);
		buf[8] = '\0';
		v = (uint32_t)strtoul(buf, &end, 16);
		if (*end != '\0')
			return -1;
		memcpy(out + w * 4, &v, 4);
	}
	return 0;
}

static bool
excl_is_any(const uint8_t *a, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (a[i] != 0)
			return false;
	return true;
}

/* Does the socket on `pid`'s fd table have inode ino? */
static bool
excl_pid_holds(pid_t pid, ino_t ino)
{
	char		 path[64], link[64], want[48];
	DIR		*d;
	struct dirent	*de;
	bool		 found = false;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)ino);
	if ((d = opendir(path)) == NULL)
		return false;
	while (!found && (de = readdir(d)) != NULL) {
		char	 fdp[320];
		ssize_t	 n;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(fdp, sizeof(fdp), "%s/%s", path, de->d_name);
		n = readlink(fdp, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(d);
	return found;
}

/* The parent of pid from /proc/<pid>/stat ("pid (comm) state ppid"), or 0. */
static pid_t
excl_ppid(pid_t pid, char *comm, size_t commlen)
{
	char	 path[64], buf[512], *l, *r;
	long	 ppid;
	ssize_t	 n;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: it ends at the last ')'. */
	if ((l = strchr(buf, '(')) == NULL || (r = strrchr(buf, ')')) == NULL ||
	    r < l)
		return 0;
	if (comm != NULL)
		snprintf(comm, commlen, "%.*s", (int)(r - l - 1), l + 1);
	if (sscanf(r + 1, " %*c %ld", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

/* The first process in /proc holding socket ino, or 0. */
static pid_t
excl_scan(ino_t ino)
{
	DIR		*d;
	struct dirent	*de;
	pid_t		 pid = 0;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (pid == 0 && (de = readdir(d)) != NULL) {
		char	*end;
		long	 p;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		p = strtol(de->d_name, &end, 10);
		if (*end == '\0' && p > 0 && excl_pid_holds((pid_t)p, ino))
			pid = (pid_t)p;
	}
	closedir(d);
	return pid;
}

/* Fill h for socket ino; return true when it belongs to us (this process
 * or a child of ours). */
static bool
excl_identify(ino_t ino, struct excl_holder *h)
{
	pid_t	 self = getpid(), pid, pp;
	int	 i;

	h->ino = ino;
	h->pid = 0;
	h->comm[0] = '\0';
	if ((pid = excl_scan(ino)) == 0)
		return false;
	for (i = 0; i < EXCL_ANCESTORS; i++) {
		if (pid == self)
			return true;
		pp = excl_ppid(pid, NULL, 0);
		if (pp == self)
			return true;
		if (pp <= 1 || !excl_pid_holds(pp, ino))
			break;
		pid = pp;
	}
	h->pid = pid;
	(void)excl_ppid(pid, h->comm, sizeof(h->comm));
	return false;
}

int
excl_find(const struct sockaddr_storage *ss, const ino_t *ours,
    size_t nours, struct excl_holder *h)
{
	const bool	 v6 = ss->ss_family == AF_INET6;
	const size_t	 alen = v6 ? 16 : 4;
	const uint8_t	*want;
	uint16_t	 port;
	char		 line[512];
	FILE		*f;
	int		 found = 0;

	if (v6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		want = s6->sin6_addr.s6_addr;
		port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		want = (const uint8_t *)&s4->sin_addr.s_addr;
		port = ntohs(s4->sin_port);
	}
	if ((f = fopen(v6 ? "/proc/net/udp6" : "/proc/net/udp", "re")) == NULL)
		return -1;
	while (found == 0 && fgets(line, sizeof(line), f) != NULL) {
		char		 addr[33];
		unsigned	 lport;
		unsigned long	 uid, ino;
		uint8_t		 a[16];
		size_t		 i;
		bool		 mine = false;

		/* sl local rem st tx:rx tr:when retr uid timeout inode */
		if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %*s %*x %*s %*s %*s "
		    "%lu %*d %lu", addr, &lport, &uid, &ino) != 4)
			continue;	/* the header line */
		if (lport != port || ino == 0 ||
		    excl_parse_addr(addr, strlen(addr), a) == -1 ||
		    strlen(addr) != alen * 2)
			continue;
		if (memcmp(a, want, alen) != 0 && !excl_is_any(a, alen) &&
		    !excl_is_any(want, alen))
			continue;
		for (i = 0; i < nours && !mine; i++)
			mine = ours[i] == (ino_t)ino;
		if (mine || excl_identify((ino_t)ino, h))
			continue;
		h->uid = (uid_t)uid;
		found = 1;
	}
	fclose(f);
	return found;
}
