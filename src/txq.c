/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * txq.c - a worker's send queue: everything a worker sends waits here as
 * header + body iovecs (no copy of file bytes) until the end of an event
 * batch, then leaves by sendmmsg (epoll: TXQ_BATCH datagrams a call, one
 * socket at a time) or as one SENDMSG SQE each (io_uring: submitted by
 * the loop's next wait). A window of equal blocks leaves as UDP GSO
 * trains of at most TXQ_GSO_SEGS segments and TXQ_GSO_BYTES; a train the
 * kernel refuses goes again one datagram per block (epoll), and the
 * whole queue stops using GSO after an EIO. Counts tx_pkts, tx_bytes and
 * gso_sends.
 *
 * It does not know sessions: a transfer is a struct txq_dest (socket,
 * slot, addresses) and a struct sess for the spans of its blocks. It
 * leaves to its owner, through struct txq_hooks, what needs the worker:
 * ending a transfer whose file faulted, turning GSO off for one
 * transfer, and the user data of an SQE. It allocates nothing; it
 * neither arms receives nor reaps completions (wio_uring.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/udp.h>

#include "log.h"
#include "net.h"
#include "ring.h"
#include "sess.h"
#include "stats.h"
#include "tftp.h"
#include "txq.h"

void
txq_init(struct txq *q, struct stats_slot *st, bool gso,
    const struct txq_hooks *hooks)
{
	q->hooks = *hooks;
	q->st = st;
	q->ring = NULL;
	q->gso = gso;
	q->n = 0;
	q->gson = 0;
}

void
txq_use_ring(struct txq *q, struct ring *r)
{
	q->ring = r;
}

/* Count entries mm[from, from+n) as sent: datagrams (a GSO send's
 * segments each), payload bytes and GSO sends. */
static void
txq_count(struct txq *q, unsigned from, unsigned n)
{
	uint64_t	 bytes = 0, pkts = 0, gso = 0;
	unsigned	 i;

	for (i = from; i < from + n; i++) {
		bytes += q->bytes[i];
		pkts += q->segs[i];
		gso += q->segs[i] > 1;
	}
	STATS_ADD(q->st, tx_pkts, pkts);
	STATS_ADD(q->st, tx_bytes, bytes);
	if (gso > 0)
		STATS_ADD(q->st, gso_sends, gso);
}

/*
 * The kernel refused a GSO send with err: EIO, the device cannot
 * checksum the segments (no more GSO from this queue); EINVAL or
 * EMSGSIZE, not to this peer (a segment above the path MTU, say): the
 * owner turns it off for that transfer.
 */
void
txq_gso_refused(struct txq *q, int err)
{
	if (err == EIO && q->gso) {
		q->gso = false;
		log_warnx("UDP GSO refused (EIO): plain sends from now on");
	}
}

/* epoll: entry i, a GSO send, was refused: its datagrams one by one. */
static void
txq_gso_resend(struct txq *q, unsigned i, int err)
{
	struct msghdr	 h = q->mm[i].msg_hdr;
	unsigned	 k;

	q->hooks.gso_refused(q->hooks.ctx, q->sess[i]);
	txq_gso_refused(q, err);
	h.msg_controllen -= TXQ_GSO_CMSG;
	if (h.msg_controllen == 0)
		h.msg_control = NULL;
	for (k = 0; k < q->segs[i]; k++) {
		h.msg_iov = q->mm[i].msg_hdr.msg_iov + 2 * k;
		h.msg_iovlen = 2;
		if (sendmsg(q->fdv[i], &h, MSG_DONTWAIT) == -1)
			break;		/* loss: the timer resends */
		STATS_ADD(q->st, tx_pkts, 1);
		STATS_ADD(q->st, tx_bytes, h.msg_iov[1].iov_len);
	}
}

/*
 * io_uring: every queued datagram becomes a SENDMSG SQE, counted as sent
 * now (a failed one is taken back when its completion comes). The SQEs
 * are submitted by txq_flush, or by the loop's wait at the end of a
 * turn; the kernel reads the entries during that submit (MSG_DONTWAIT:
 * never later), and nothing is queued between this and the submit.
 */
void
txq_to_ring(struct txq *q)
{
	unsigned	 n = q->n, i;

	q->n = 0;
	q->gson = 0;
	for (i = 0; i < n; i++) {
		const struct msghdr	*h = &q->mm[i].msg_hdr;
		unsigned		 segs = q->segs[i];

		if (h->msg_iovlen == 0 || ring_send(q->ring, q->fdv[i], h,
		    q->hooks.send_ud(q->hooks.ctx, q->sess[i], q->bytes[i],
		    segs > 1 ? segs : 0)) == -1)
			continue;	/* dropped, or no SQE: loss */
		txq_count(q, i, 1);
	}
}

/*
 * Send everything queued: one sendmmsg per TXQ_BATCH datagrams. A full
 * socket buffer (EAGAIN, ENOBUFS) counts as loss: the timers resend.
 * Re-entrant through the fault hook (the queue is emptied first).
 */
void
txq_flush(struct txq *q)
{
	unsigned	 n = q->n, i = 0, j;
	int		 fd = q->fdv[0], r;

	if (q->ring != NULL) {
		txq_to_ring(q);
		(void)ring_submit(q->ring);
		return;
	}
	q->n = 0;
	q->gson = 0;
	while (i < n) {
		/* Entries with no iovec were dropped (below): send the run
		 * up to the next one, never an empty datagram. */
		if (q->mm[i].msg_hdr.msg_iovlen == 0) {
			i++;
			continue;
		}
		for (j = i; j < n && q->mm[j].msg_hdr.msg_iovlen != 0; j++)
			;
		r = sendmmsg(fd, q->mm + i, j - i, MSG_DONTWAIT);
		if (r > 0) {
			txq_count(q, i, (unsigned)r);
			i += (unsigned)r;
		} else if (r == -1 && errno == EINTR) {
			continue;
		} else if (r == -1 && q->segs[i] > 1 && (errno == EIO ||
		    errno == EINVAL || errno == EMSGSIZE)) {
			txq_gso_resend(q, i, errno);
			i++;
		} else if (r == -1 && errno == EFAULT) {
			uint32_t	 bad = q->sess[i];

			/* Drop the faulting transfer's other datagrams:
			 * its body is released when it ends. */
			for (j = i; j < n; j++)
				if (q->sess[j] == bad)
					q->mm[j].msg_hdr.msg_iovlen = 0;
			q->hooks.fault(q->hooks.ctx, bad);
		} else {
			break;		/* EAGAIN, ENOBUFS, ...: loss */
		}
	}
}

void
txq_flush_before(struct txq *q, int fd)
{
	if (q->n > 0 && (q->ring != NULL || q->fdv[q->n - 1] == fd))
		txq_flush(q);
}

/*
 * Take the next entry for a datagram to d (flushing first when the queue
 * is full or holds another socket's datagrams) and address it; the
 * destination is copied, since the slot may be reused before the flush.
 * Returns the entry's index, with iov[0] pointing at its own payload
 * buffer (TXQ_CTL_MAX bytes), one iovec.
 */
static unsigned
txq_add(struct txq *q, const struct txq_dest *d)
{
	struct msghdr	*h;
	unsigned	 i;

	if (q->n == (q->ring != NULL ? TXQ_MAX : TXQ_BATCH) ||
	    (q->ring == NULL && q->n > 0 && q->fdv[q->n - 1] != d->fd))
		txq_flush(q);
	i = q->n++;
	q->fdv[i] = d->fd;
	q->segs[i] = 1;
	q->bytes[i] = 0;
	q->sess[i] = d->slot;
	q->to[i] = *d->peer;
	h = &q->mm[i].msg_hdr;
	memset(h, 0, sizeof(*h));
	h->msg_name = &q->to[i];
	h->msg_namelen = net_sslen(d->peer);
	h->msg_iov = q->iov[i];
	h->msg_iovlen = 1;
	q->iov[i][0].iov_base = q->pay[i];
	if (d->local != NULL)
		net_set_source(h, q->ctl[i].b, d->local);
	return i;
}

void
txq_add_ctl(struct txq *q, const struct txq_dest *d, const void *buf,
    size_t len)
{
	unsigned	 i = txq_add(q, d);

	/* Joins the queue behind the transfer's DATA, in order. */
	memcpy(q->pay[i], buf, len);
	q->iov[i][0].iov_len = len;
}

uint32_t
txq_gso_segs(const struct txq *q, const struct txq_dest *d, uint32_t blksize)
{
	uint32_t	 n;

	if (!q->gso || d->gso_off)
		return 1;
	n = TXQ_GSO_BYTES / (blksize + TFTP_HDR_LEN);
	return n > TXQ_GSO_SEGS ? TXQ_GSO_SEGS : n > 0 ? n : 1;
}

/*
 * Queue blocks [first, first+n) of s, n >= 2, as one UDP GSO send: the
 * iovecs interleave each block's 4-byte header and its body slice (no
 * copy), and a UDP_SEGMENT cmsg of blksize + 4 has the kernel cut the
 * train into datagrams. Every block but the file's last is blksize long,
 * and the last may only end a train: the kernel's last segment may be
 * shorter (down to a bare header).
 */
static void
txq_send_gso(struct txq *q, const struct txq_dest *d, const struct sess *s,
    const uint8_t *data, uint64_t first, uint32_t n)
{
	struct msghdr	*h;
	struct cmsghdr	*c;
	struct iovec	*iov;
	uint32_t	 k, bytes = 0;
	uint16_t	 seg = (uint16_t)(s->blksize + TFTP_HDR_LEN);
	unsigned	 i, g;

	if (q->gson == TXQ_GSO_MAX)
		txq_flush(q);
	i = txq_add(q, d);
	g = q->gson++;
	iov = q->gsoiov[g];
	for (k = 0; k < n; k++) {
		uint64_t	 off;
		uint32_t	 len;

		sess_block_span(s, first + k, &off, &len);
		tftp_put_data_hdr(q->gsohdr[g][k], (uint16_t)(first + k));
		iov[2 * k].iov_base = q->gsohdr[g][k];
		iov[2 * k].iov_len = TFTP_HDR_LEN;
		iov[2 * k + 1].iov_base = (void *)(data + off);
		iov[2 * k + 1].iov_len = len;
		bytes += len;
	}
	h = &q->mm[i].msg_hdr;
	h->msg_iov = iov;
	h->msg_iovlen = 2 * n;
	q->segs[i] = (uint8_t)n;
	q->bytes[i] = bytes;
	/* After the source address (single port mode), if any. */
	c = (struct cmsghdr *)(void *)(q->ctl[i].b + h->msg_controllen);
	memset(c, 0, TXQ_GSO_CMSG);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	h->msg_control = q->ctl[i].b;
	h->msg_controllen += TXQ_GSO_CMSG;
}

/*
 * A run of two or more blocks as GSO sends (txq_gso_segs blocks at most
 * each), a single block as the 4-byte header in the entry's buffer and
 * the body slice as a second iovec (no copy). The queue is flushed when
 * full, when another socket comes, at the end of each event batch and
 * before a transfer ends.
 */
void
txq_send_blocks(struct txq *q, const struct txq_dest *d, const struct sess *s,
    const uint8_t *data, uint64_t first, uint32_t count)
{
	uint32_t	 k = 0, segmax = txq_gso_segs(q, d, s->blksize);

	while (k < count) {
		unsigned	 i;
		uint64_t	 off;
		uint32_t	 len, n = count - k;

		if (n > segmax)
			n = segmax;
		if (n >= 2) {
			txq_send_gso(q, d, s, data, first + k, n);
			k += n;
			continue;
		}
		i = txq_add(q, d);
		sess_block_span(s, first + k, &off, &len);
		tftp_put_data_hdr(q->pay[i], (uint16_t)(first + k));
		q->iov[i][0].iov_len = TFTP_HDR_LEN;
		k++;
		if (len == 0)
			continue;
		q->iov[i][1].iov_base = (void *)(data + off);
		q->iov[i][1].iov_len = len;
		q->bytes[i] = len;
		q->mm[i].msg_hdr.msg_iovlen = 2;
	}
}
