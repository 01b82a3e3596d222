/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udp.h - a loopback UDP socket for the unit tests that send real
 * datagrams (check_admit, check_txq, check_ring). It owns nothing else.
 */
#ifndef PTFTPD_TESTS_UDP_H
#define PTFTPD_TESTS_UDP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

/*
 * A UDP socket bound to 127.0.0.1 on a kernel-chosen port; *addr is it.
 * flags: SOCK_NONBLOCK, SOCK_CLOEXEC or 0.
 */
static inline int
udp_socket_flags(struct sockaddr_storage *addr, int flags)
{
	struct sockaddr_in	*a4 = (struct sockaddr_in *)addr;
	socklen_t		 len = sizeof(*addr);
	int			 fd = socket(AF_INET, SOCK_DGRAM | flags, 0);

	ck_assert_int_ne(fd, -1);
	memset(addr, 0, sizeof(*addr));
	a4->sin_family = AF_INET;
	a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)addr, sizeof(*a4)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	return fd;
}

static inline int
udp_socket(struct sockaddr_storage *addr)
{
	return udp_socket_flags(addr, 0);
}

#endif
