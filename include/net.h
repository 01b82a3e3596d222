/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * net.h - sockets: SO_REUSEPORT listen sockets that report the local
 * address of each request (IP_PKTINFO / IPV6_RECVPKTINFO), batched receive
 * with recvmmsg, per-transfer sockets bound to that local address, and
 * replies sent from a chosen local address. Wrappers return -1 with errno;
 * callers log.
 */
#ifndef PTFTPD_NET_H
#define PTFTPD_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define NET_BATCH	32	/* datagrams per recvmmsg on a listen socket */
#define NET_CTL_LEN	64	/* room for one pktinfo cmsg */

/* A receive batch: NET_BATCH buffers of bufsz bytes, owned by the caller. */
struct net_rx {
	struct mmsghdr		 msgs[NET_BATCH];
	struct iovec		 iov[NET_BATCH];
	struct sockaddr_storage	 peer[NET_BATCH];
	uint8_t			 ctl[NET_BATCH][NET_CTL_LEN];
	uint8_t			*bufs;
	size_t			 bufsz;
};

/* Bind a non-blocking UDP socket to ss with SO_REUSEPORT and pktinfo on;
 * IPv6 sockets are V6ONLY. rcvbuf 0 keeps the kernel default. */
int	net_listen(const struct sockaddr_storage *ss, socklen_t len,
	    uint32_t rcvbuf);

/* Allocate the batch buffers. -1 on ENOMEM. */
int	net_rx_init(struct net_rx *rx, size_t bufsz);
void	net_rx_free(struct net_rx *rx);
/* One recvmmsg; returns datagrams received (0 when none), or -1. */
int	net_rx_recv(int fd, struct net_rx *rx);
/* Datagram i of the last batch: bytes, length, peer, local address. */
static inline uint8_t *
net_rx_buf(const struct net_rx *rx, int i)
{
	return rx->bufs + (size_t)i * rx->bufsz;
}
/*
 * The local address datagram i was received on (port 0), from pktinfo.
 * For IPv4 this is the interface address the kernel would answer from
 * (ipi_spec_dst), never a broadcast address. Returns 0, or -1 if the
 * datagram carried no pktinfo.
 */
int	net_rx_local(const struct net_rx *rx, int i,
	    struct sockaddr_storage *local);

/*
 * A transfer socket: non-blocking UDP bound to `local` (its port ignored),
 * port chosen by the kernel when port_min == 0, else the first free port
 * of [port_min, port_max] starting at *hint (updated). Not connected, so
 * packets from a foreign TID reach us and get ERROR 5. Returns fd or -1.
 */
int	net_session_socket(const struct sockaddr_storage *local,
	    uint16_t port_min, uint16_t port_max, uint32_t *hint);

/* Room for one pktinfo cmsg of either family. */
#define NET_PKTINFO_SPACE	CMSG_SPACE(sizeof(struct in6_pktinfo))

/* Set h's source address to local (pktinfo cmsg in ctl); see net.c. */
void	net_set_source(struct msghdr *h, void *ctl,
	    const struct sockaddr_storage *local);

/* sendmsg from listen socket fd with the source address set to local
 * (pktinfo), so replies leave from the address the client used. */
ssize_t	net_send_from(int fd, const void *buf, size_t len,
	    const struct sockaddr_storage *peer,
	    const struct sockaddr_storage *local);

socklen_t net_sslen(const struct sockaddr_storage *ss);
/* Same family, address and port. */
bool	net_same_peer(const struct sockaddr_storage *a,
	    const struct sockaddr_storage *b);
/* "1.2.3.4:69" or "[::1]:69" into buf. Returns buf. */
char	*net_ntop(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
