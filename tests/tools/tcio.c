/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tcio.c - the I/O half of the test clients' shared code (tclient.h):
 * what tftpc and loadgen both do with addresses, sockets, the clock and
 * the command line, written once. It holds no state and owns no socket;
 * the protocol is in tclient.c, the event loops stay in each program.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "num.h"
#include "tclient.h"

int
tcio_resolve(const char *host, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char h[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);

	if (n >= sizeof(h))
		return -1;
	/* "[::1]" as well as "::1". */
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
	} else {
		memcpy(h, host, n + 1);
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, h, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
	} else {
		return -1;
	}
	return 0;
}

bool
tcio_same_host(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr,
	    sizeof(struct in6_addr)) == 0;
}

int
tcio_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

void
tcio_rcvbuf(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes,
	    sizeof(bytes)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes,
		    sizeof(bytes));
}

uint64_t
tcio_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
tcio_arg_u64(const char *s, uint64_t min, uint64_t max, const char *what,
    void (*usage)(const char *))
{
	uint64_t v;
	char msg[128];

	if (s != NULL && num_parse_u64(s, min, max, &v) == 0)
		return v;
	snprintf(msg, sizeof(msg), "%s: bad value \"%s\" (%" PRIu64 "..%"
	    PRIu64 ")", what, s ? s : "", min, max);
	usage(msg);
	return 0;	/* not reached: usage exits */
}
