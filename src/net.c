/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * net.c - the socket layer. It owns socket options, pktinfo parsing and
 * the choice of the local address a reply leaves from; it knows nothing
 * of TFTP. Everything here is a thin wrapper: -1 with errno on failure,
 * the caller logs with context.
 *
 * Why pktinfo: a provisioning server is multi-homed and often listens on
 * 0.0.0.0. A reply must come from the address the client sent to, or the
 * client (PXE ROMs above all) drops it. Legacy PXE ROMs may also send the
 * RRQ to a broadcast address; IPv4's ipi_spec_dst is then the interface
 * address, so we never answer from a broadcast address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

static int
net_setint(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

socklen_t
net_sslen(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

/*
 * Listen socket for one worker slot. Returns the fd or -1 (errno kept,
 * fd closed). Costs a handful of syscalls, once per slot and address.
 */
int
net_listen(const struct sockaddr_storage *ss, socklen_t len, uint32_t rcvbuf)
{
	int	 fd, saved;

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if (net_setint(fd, SOL_SOCKET, SO_REUSEPORT, 1) == -1)
		goto fail;
	if (ss->ss_family == AF_INET6) {
		if (net_setint(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == -1 ||
		    net_setint(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) == -1)
			goto fail;
	} else if (net_setint(fd, IPPROTO_IP, IP_PKTINFO, 1) == -1)
		goto fail;
	/* Size for a burst of RRQs from a rack booting at once. The
	 * kernel caps SO_RCVBUF at rmem_max; SO_RCVBUFFORCE passes that
	 * cap when we are root, and we fall back quietly when not. */
	if (rcvbuf > 0 &&
	    net_setint(fd, SOL_SOCKET, SO_RCVBUFFORCE, (int)rcvbuf) == -1)
		(void)net_setint(fd, SOL_SOCKET, SO_RCVBUF, (int)rcvbuf);
	if (bind(fd, (const struct sockaddr *)ss, len) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
net_rx_init(struct net_rx *rx, size_t bufsz)
{
	memset(rx, 0, sizeof(*rx));
	rx->bufsz = bufsz;
	rx->bufs = malloc(bufsz * NET_BATCH);
	return rx->bufs == NULL ? -1 : 0;
}

void
net_rx_free(struct net_rx *rx)
{
	free(rx->bufs);
	rx->bufs = NULL;
}

/*
 * One recvmmsg of up to NET_BATCH datagrams. Returns the count, 0 when
 * the socket is drained (EAGAIN), or -1. A datagram longer than bufsz is
 * truncated (MSG_TRUNC in its flags); requests are far shorter.
 */
int
net_rx_recv(int fd, struct net_rx *rx)
{
	int	 i, n;

	for (i = 0; i < NET_BATCH; i++) {
		struct msghdr	*h = &rx->msgs[i].msg_hdr;

		rx->iov[i].iov_base = net_rx_buf(rx, i);
		rx->iov[i].iov_len = rx->bufsz;
		h->msg_name = &rx->peer[i];
		h->msg_namelen = sizeof(rx->peer[i]);
		h->msg_iov = &rx->iov[i];
		h->msg_iovlen = 1;
		h->msg_control = rx->ctl[i];
		h->msg_controllen = NET_CTL_LEN;
		h->msg_flags = 0;
	}
	n = recvmmsg(fd, rx->msgs, NET_BATCH, MSG_DONTWAIT, NULL);
	if (n == -1)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
	return n;
}

int
net_rx_local(const struct net_rx *rx, int i, struct sockaddr_storage *local)
{
	const struct msghdr	*h = &rx->msgs[i].msg_hdr;
	struct cmsghdr		*c;

	memset(local, 0, sizeof(*local));
	for (c = CMSG_FIRSTHDR(h); c != NULL;
	    c = CMSG_NXTHDR((struct msghdr *)h, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo	 pi;
			struct sockaddr_in	*sin = (void *)local;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			sin->sin_family = AF_INET;
			sin->sin_addr = pi.ipi_spec_dst;
			return 0;
		}
		if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo	 pi;
			struct sockaddr_in6	*sin6 = (void *)local;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = pi.ipi6_addr;
			/* Link-local needs its interface to bind. */
			if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				sin6->sin6_scope_id = pi.ipi6_ifindex;
			return 0;
		}
	}
	return -1;
}

static void
net_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

/*
 * Transfer socket bound to the request's local address. With a port
 * range, tries each port of the range at most once, starting after the
 * last one handed out. Returns the fd or -1 (EADDRINUSE when the range is
 * exhausted).
 */
int
net_session_socket(const struct sockaddr_storage *local, uint16_t port_min,
    uint16_t port_max, uint32_t *hint)
{
	struct sockaddr_storage	 ss = *local;
	uint32_t		 span, i;
	int			 fd, saved;

	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (ss.ss_family == AF_INET6 &&
	    net_setint(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == -1)
		goto fail;
	if (port_min == 0) {
		net_set_port(&ss, 0);
		if (bind(fd, (struct sockaddr *)&ss, net_sslen(&ss)) == -1)
			goto fail;
		return fd;
	}
	span = (uint32_t)port_max - port_min + 1;
	for (i = 0; i < span; i++) {
		uint32_t	 p = port_min + (*hint + i) % span;

		net_set_port(&ss, (uint16_t)p);
		if (bind(fd, (struct sockaddr *)&ss, net_sslen(&ss)) == 0) {
			*hint = (*hint + i + 1) % span;
			return fd;
		}
		if (errno != EADDRINUSE)
			goto fail;
	}
	errno = EADDRINUSE;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Put a pktinfo cmsg naming `local` as the source address into h, using
 * ctl (NET_PKTINFO_SPACE bytes). Nothing is added when local is NULL or of
 * another family than the destination. O(1), no syscall.
 */
void
net_set_source(struct msghdr *h, void *ctl, const struct sockaddr_storage *local)
{
	struct cmsghdr	*c = ctl;

	h->msg_control = NULL;
	h->msg_controllen = 0;
	if (local == NULL || h->msg_name == NULL ||
	    local->ss_family != ((struct sockaddr *)h->msg_name)->sa_family)
		return;
	memset(ctl, 0, NET_PKTINFO_SPACE);
	h->msg_control = ctl;
	if (local->ss_family == AF_INET) {
		struct in_pktinfo	 pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		h->msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo		 pi;
		const struct sockaddr_in6	*l6 = (const void *)local;

		memset(&pi, 0, sizeof(pi));
		pi.ipi6_addr = l6->sin6_addr;
		pi.ipi6_ifindex = l6->sin6_scope_id;
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		h->msg_controllen = CMSG_SPACE(sizeof(pi));
	}
}

/*
 * Reply on a listen socket with the source address forced to `local`
 * (pktinfo cmsg). Returns sendmsg's result.
 */
ssize_t
net_send_from(int fd, const void *buf, size_t len,
    const struct sockaddr_storage *peer, const struct sockaddr_storage *local)
{
	struct iovec	 iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		struct cmsghdr	 align;
		uint8_t		 b[NET_PKTINFO_SPACE];
	} ctl;
	struct msghdr	 h;

	memset(&h, 0, sizeof(h));
	h.msg_name = (void *)peer;
	h.msg_namelen = net_sslen(peer);
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	net_set_source(&h, ctl.b, local);
	return sendmsg(fd, &h, MSG_DONTWAIT);
}

bool
net_same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

char *
net_ntop(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char	 a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}
