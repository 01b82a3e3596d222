/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * txq.h - a worker's send queue: DATA, OACK, ACK and ERROR datagrams
 * waiting for one sendmmsg (epoll) or one submit of SENDMSG SQEs
 * (io_uring), windows as UDP GSO trains. See txq.c.
 */
#ifndef PTFTPD_TXQ_H
#define PTFTPD_TXQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "net.h"
#include "tftp.h"

struct ring;
struct sess;
struct stats_slot;

#define TXQ_BATCH	64	/* DATA packets per sendmmsg */
#define TXQ_MAX		256	/* queue room: io_uring sends a turn's worth */
#define TXQ_CTL_MAX	128	/* OACK/ACK/ERROR short enough to queue */
/* UDP GSO (session.gso): a window's blocks leave as one send the kernel
 * cuts into datagrams of blksize + 4 bytes (the last may be shorter). At
 * most UDP_MAX_SEGMENTS (64) segments, and the whole train must fit one
 * IP datagram's length field: 65535 less the UDP and the largest IP
 * header (8 + 40), with room to spare for IP options. */
#define TXQ_GSO_SEGS	64
#define TXQ_GSO_BYTES	(65535 - 8 - 40 - 20)
#define TXQ_GSO_MAX	32	/* GSO sends queued at once */
#define TXQ_GSO_CMSG	CMSG_SPACE(sizeof(uint16_t))

/* Where a transfer's datagrams go; the queue copies what it keeps. */
struct txq_dest {
	int				 fd;
	uint32_t			 slot;	/* the worker's session slot */
	const struct sockaddr_storage	*peer;
	const struct sockaddr_storage	*local;	/* source address to set
						 * (single port), or NULL */
	bool				 gso_off;	/* plain sends only */
};

/* What the queue asks of its owner (the worker), all with ctx. */
struct txq_hooks {
	void		*ctx;
	/* A datagram of slot faulted (EFAULT: a file truncated under its
	 * mapping): end that transfer. May call txq_flush again. */
	void		(*fault)(void *ctx, uint32_t slot);
	/* The kernel refused a GSO send of slot: plain sends for it. */
	void		(*gso_refused)(void *ctx, uint32_t slot);
	/* io_uring: the user data of a send SQE of slot. */
	uint64_t	(*send_ud)(void *ctx, uint32_t slot, uint32_t bytes,
			    unsigned segs);
};

struct txq {
	struct txq_hooks	 hooks;
	struct stats_slot	*st;		/* tx counters, or NULL */
	struct ring		*ring;		/* NULL: epoll, sendmmsg */
	/* gso: this worker still uses UDP GSO (off after an EIO: the
	 * device cannot checksum the segments). */
	bool			 gso;
	/* The entries: with epoll all go to one socket (in single port
	 * mode the listen socket, so the ACKs of many transfers read by
	 * one recvmmsg are answered by one sendmmsg); with io_uring each
	 * is an SQE of its own socket. */
	unsigned		 n;
	struct mmsghdr		 mm[TXQ_MAX];
	struct iovec		 iov[TXQ_MAX][2];
	uint32_t		 sess[TXQ_MAX];		/* slot of each */
	int			 fdv[TXQ_MAX];		/* socket of each */
	uint8_t			 segs[TXQ_MAX];		/* datagrams: >1 GSO */
	uint32_t		 bytes[TXQ_MAX];	/* DATA payload */
	uint8_t			 pay[TXQ_MAX][TXQ_CTL_MAX];	/* OACK, ACK */
	struct sockaddr_storage	 to[TXQ_MAX];
	union {
		struct cmsghdr	 align;
		uint8_t		 b[NET_PKTINFO_SPACE + TXQ_GSO_CMSG];
	}			 ctl[TXQ_MAX];		/* source, GSO size */
	/* GSO sends: an entry's iovecs interleave the 4-byte headers kept
	 * here and the body slices. */
	unsigned		 gson;
	struct iovec		 gsoiov[TXQ_GSO_MAX][2 * TXQ_GSO_SEGS];
	uint8_t			 gsohdr[TXQ_GSO_MAX][TXQ_GSO_SEGS]
				    [TFTP_HDR_LEN];
};

/* An empty queue on epoll (sendmmsg); gso: session.gso. */
void	txq_init(struct txq *q, struct stats_slot *st, bool gso,
	    const struct txq_hooks *hooks);
/* From now on every entry leaves as an SQE on r. */
void	txq_use_ring(struct txq *q, struct ring *r);

/* Queue a short packet (len <= TXQ_CTL_MAX, copied) for d. */
void	txq_add_ctl(struct txq *q, const struct txq_dest *d, const void *buf,
	    size_t len);
/* Before a packet for fd that does not go through the queue: flush what
 * would otherwise leave after it. */
void	txq_flush_before(struct txq *q, int fd);
/* Blocks of s the next GSO send for d may carry: 1 when GSO is off. */
uint32_t txq_gso_segs(const struct txq *q, const struct txq_dest *d,
	    uint32_t blksize);
/* Queue DATA blocks [first, first+count) of s, whose body is data (no
 * copy): runs of two or more as GSO trains, single blocks as a header
 * and a body slice. Flushes when the queue is full or another socket's
 * datagrams wait (epoll). */
void	txq_send_blocks(struct txq *q, const struct txq_dest *d,
	    const struct sess *s, const uint8_t *data, uint64_t first,
	    uint32_t count);

/* Send everything queued (epoll: sendmmsg; io_uring: SQEs, submitted).
 * A full socket buffer counts as loss. Re-entrant through the fault
 * hook (the queue is emptied first). */
void	txq_flush(struct txq *q);
/* io_uring: every entry becomes a SENDMSG SQE, not yet submitted. */
void	txq_to_ring(struct txq *q);
/* The kernel refused a GSO send with err: EIO turns GSO off for the
 * whole queue (logged once). */
void	txq_gso_refused(struct txq *q, int err);

#endif
