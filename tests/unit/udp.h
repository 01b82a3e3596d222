/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udp.h - a loopback UDP socket for the unit tests that send real
 * datagrams (check_admit, check_txq). It owns nothing else.
 */
#ifndef PTFTPD_TESTS_UDP_H
#define PTFTPD_TESTS_UDP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

/* A UDP socket bound to 127.0.0.1 on a kernel-chosen port; *addr is it. */
static inline int
udp_socket(struct sockaddr_storage *addr)
{
	struct sockaddr_in	*a4 = (struct sockaddr_in *)addr;
	socklen_t		 len = sizeof(*addr);
	int			 fd = socket(AF_INET, SOCK_DGRAM, 0);

	ck_assert_int_ne(fd, -1);
	memset(addr, 0, sizeof(*addr));
	a4->sin_family = AF_INET;
	a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)addr, sizeof(*a4)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	return fd;
}

#endif
