/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wio_uring.c - the io_uring backend of a worker's I/O (wio.h), over
 * ring.c: a read transfer's socket has a multishot receive into the
 * ring's provided buffers (armed again after a turn's completions when
 * it ends: the pool ran dry for a moment, an error), every datagram the
 * send queue holds leaves as a SENDMSG SQE (txq_to_ring), and one
 * io_uring_enter per turn submits them and waits. The epoll set
 * (wio_epoll.c: listen sockets, control pipe, spawner, uploads) is one
 * one-shot POLL_ADD on the ring, armed again each turn; when it is among
 * a wait's completions the set's events are handed back first, before
 * the datagrams.
 *
 * It owns the ring, the per-slot receive state and the layout of a
 * completion's user data; it hands back records (struct wio_ev) and
 * decides nothing about a transfer: the worker does, and counts.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "txq.h"
#include "wio.h"

/* SQEs, provided receive buffers and their payload room: the ACKs and
 * ERRORs of read transfers (uploads stay on epoll); a longer datagram
 * from the peer is dropped as malformed. 2048 x 648 bytes. */
#define RING_ENTRIES	1024
#define RING_BUFS	2048
#define RING_PAYLOAD	600
#define RING_REAP_MAX	256	/* completions per turn: then requests */
/*
 * A completion's user data: op (2 bits), payload bytes of a send (17,
 * for the counters if it fails), slot (20), the datagrams of a GSO send
 * (7: 0 for a plain one) and the slot's generation (WIO_GEN_BITS, 18),
 * so a late completion for a reused slot is told apart.
 */
#define UD_RECV		0u
#define UD_SEND		1u
#define UD_CANCEL	2u
#define UD_EPOLL	3u	/* exactly 3: the epoll set is readable */
#define UD_GEN_SHIFT	46
#define UD_SLOT(ud)	((uint32_t)((ud) >> 19) & 0xfffff)
#define UD_GEN(ud)	((uint32_t)((ud) >> UD_GEN_SHIFT))

static const struct wio_ops	wio_uring_ops;

static uint64_t
wio_uring_ud(uint32_t slot, uint32_t gen, unsigned op, uint32_t bytes,
    unsigned segs)
{
	return (uint64_t)(gen & WIO_GEN_MASK) << UD_GEN_SHIFT |
	    (uint64_t)(segs & 0x7f) << 39 | (uint64_t)slot << 19 |
	    (uint64_t)(bytes & 0x1ffff) << 2 | op;
}

uint64_t
wio_send_ud(uint32_t slot, uint32_t gen, uint32_t bytes, unsigned segs)
{
	return wio_uring_ud(slot, gen, UD_SEND, bytes, segs);
}

int
wio_use_uring(struct wio *io, uint32_t cap, const char **why)
{
	struct wio_uring	*u = &io->u;
	uint32_t		 i;

	*why = "no memory";
	u->rx = calloc(cap, sizeof(*u->rx));
	u->rearm = calloc(cap, sizeof(*u->rearm));
	if (u->rx == NULL || u->rearm == NULL || ring_init(&u->ring,
	    RING_ENTRIES, RING_BUFS, RING_PAYLOAD, why) == -1) {
		free(u->rx);
		free(u->rearm);
		memset(u, 0, sizeof(*u));
		return -1;
	}
	for (i = 0; i < cap; i++)
		u->rx[i].fd = -1;
	u->cap = cap;
	u->rearm_n = 0;
	u->ep_armed = false;
	io->ops = &wio_uring_ops;
	txq_use_ring(io->txq, &u->ring);
	return 0;
}

/* Read transfers (WIO_DGRAMS) on the ring, armed before their first DATA
 * is queued (so submitted first); the rest in the epoll set. */
static int
wio_uring_arm(struct wio *io, int fd, uint32_t slot, uint32_t gen,
    unsigned flags, const char **what)
{
	struct wio_rx	*rx = &io->u.rx[slot];

	if (!(flags & WIO_DGRAMS))
		return wio_epoll_arm(io, fd, slot, what);
	if (ring_recv(&io->u.ring, fd, wio_uring_ud(slot, gen, UD_RECV, 0, 0),
	    true) == -1) {
		*what = "io_uring: arming a receive";
		errno = EBUSY;
		return -1;
	}
	rx->fd = fd;
	rx->gen = gen & WIO_GEN_MASK;
	rx->armed = true;
	return 1;
}

/* A multishot receive holds the socket open: cancel it too. The cancel
 * is issued before anything a next user of a pooled socket sends (SQEs
 * go in order), so their replies cannot reach the old receive. */
static void
wio_uring_disarm(struct wio *io, uint32_t slot)
{
	struct wio_rx	*rx = &io->u.rx[slot];

	if (rx->fd == -1)
		return;
	if (rx->armed)
		(void)ring_cancel(&io->u.ring, wio_uring_ud(slot, rx->gen,
		    UD_RECV, 0, 0), UD_CANCEL);
	rx->fd = -1;
	rx->armed = false;
}

/*
 * Submit what the last turn queued and sleep until a completion, a
 * signal (runmask in force meanwhile, as with epoll_pwait) or the
 * timeout. The epoll set is one of the completions, a one-shot POLL_ADD
 * armed again each turn: it completes at once while events are left, as
 * a level-triggered epoll_wait would. When it is among the completions,
 * the set's events are handed back first (wio_uring_reap), before the
 * datagrams: a new request's first DATA does not wait behind a turn of
 * ACKs. Measured at 1,000 clients, p99 RRQ-to-first-DATA: 2.7 ms this
 * way, 12.9 ms when the events were handled in arrival order among the
 * completions (medians of 5 runs). Only a POLL_ADD completion already
 * posted is seen: a request that came while the wait returned for a
 * transfer's ACKs is handed back one turn later.
 */
static int
wio_uring_wait(struct wio *io, int timeout_ms, const sigset_t *runmask)
{
	struct wio_uring	*u = &io->u;
	struct io_uring_cqe	*cqe;
	unsigned		 head;

	u->ep_ready = false;
	if (!u->ep_armed && ring_poll(&u->ring, io->e.ep, UD_EPOLL) == 0)
		u->ep_armed = true;
	if (ring_wait(&u->ring, timeout_ms, runmask) == -1)
		return -1;
	io_uring_for_each_cqe(&u->ring.uring, head, cqe)
		if (cqe->user_data == UD_EPOLL) {
			u->ep_ready = true;
			break;
		}
	return 0;
}

/* A receive completion: a datagram for a read transfer, in a provided
 * buffer given back once handled. When the multishot ended it goes on
 * the re-arm list. */
static void
wio_uring_recv(struct wio *io, uint64_t ud, int res, uint32_t flags,
    wio_fn *fn, void *ctx)
{
	struct wio_uring	*u = &io->u;
	struct wio_rx		*rx = NULL;
	struct ring_dgram	 d;
	struct wio_ev		 ev;
	uint32_t		 slot = UD_SLOT(ud);
	int			 bid, k;

	if (slot < u->cap && u->rx[slot].fd != -1 &&
	    u->rx[slot].gen == UD_GEN(ud))
		rx = &u->rx[slot];
	k = ring_dgram(&u->ring, res, flags, &d, &bid);
	if (rx != NULL && !(flags & IORING_CQE_F_MORE)) {
		rx->armed = false;
		if (!rx->rearm) {
			rx->rearm = true;
			u->rearm[u->rearm_n++] = slot;
		}
	}
	if (rx != NULL && k != 0) {
		memset(&ev, 0, sizeof(ev));
		ev.what = k == 1 ? WIO_DGRAM : WIO_BAD;
		ev.slot = slot;
		ev.gen = UD_GEN(ud);
		if (k == 1) {
			ev.data = d.data;
			ev.len = d.len;
			ev.trunc = d.trunc;
			ev.from = &d.from;
		}
		fn(ctx, &ev);
	}
	ring_give_back(&u->ring, bid);
}

/* A send's failure (a success posts nothing). */
static void
wio_uring_sent(uint64_t ud, int res, wio_fn *fn, void *ctx)
{
	struct wio_ev	 ev;

	if (res >= 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.what = WIO_SEND_FAILED;
	ev.slot = UD_SLOT(ud);
	ev.gen = UD_GEN(ud);
	ev.res = res;
	ev.bytes = (uint32_t)(ud >> 2) & 0x1ffff;
	ev.segs = (unsigned)(ud >> 39) & 0x7f;
	fn(ctx, &ev);
}

/* Up to max completions, then the receives to re-arm. */
static void
wio_uring_reap_cq(struct wio *io, uint32_t max, wio_fn *fn, void *ctx)
{
	struct wio_uring	*u = &io->u;
	struct io_uring_cqe	*cqe;
	uint32_t		 i, n;

	for (n = 0; n < max && (cqe = ring_peek(&u->ring)) != NULL; n++) {
		uint64_t	 ud = cqe->user_data;
		int		 res = cqe->res;
		uint32_t	 flags = cqe->flags;

		/* Seen first: a handler may submit. */
		ring_seen(&u->ring, cqe);
		if (ud == UD_EPOLL) {
			/* Its events were handed back first; one that came
			 * since fires again when re-armed. */
			u->ep_armed = false;
		} else if ((ud & 3) == UD_RECV) {
			wio_uring_recv(io, ud, res, flags, fn, ctx);
		} else if ((ud & 3) == UD_SEND) {
			wio_uring_sent(ud, res, fn, ctx);
		}
	}
	for (i = 0; i < u->rearm_n; i++) {
		struct wio_rx	*rx = &u->rx[u->rearm[i]];

		rx->rearm = false;
		if (rx->fd != -1 && !rx->armed && ring_recv(&u->ring, rx->fd,
		    wio_uring_ud(u->rearm[i], rx->gen, UD_RECV, 0, 0),
		    false) == 0)
			rx->armed = true;
	}
	u->rearm_n = 0;
}

static void
wio_uring_reap(struct wio *io, wio_fn *fn, void *ctx)
{
	if (io->u.ep_ready) {
		int	 k = epoll_wait(io->e.ep, io->e.evs, WIO_EVENTS_MAX, 0);

		io->u.ep_ready = false;
		if (k > 0)
			wio_epoll_hand(io, k, fn, ctx);
	}
	wio_uring_reap_cq(io, RING_REAP_MAX, fn, ctx);
}

/* On the ring, what came for slot may be a completion already (the
 * set's events are handed back before the completions): hand back
 * those there are now. */
static void
wio_uring_drain(struct wio *io, uint32_t slot, wio_fn *fn, void *ctx)
{
	if (slot < io->u.cap && io->u.rx[slot].fd != -1)
		wio_uring_reap_cq(io, io_uring_cq_ready(&io->u.ring.uring),
		    fn, ctx);
}

static bool
wio_uring_backlog(struct wio *io)
{
	return ring_peek(&io->u.ring) != NULL;
}

/* Every SQE that names a socket is submitted before its number can be
 * reused: always submit. */
static void
wio_uring_flush(struct wio *io)
{
	txq_flush(io->txq);
}

/* The next wait submits. */
static void
wio_uring_submit(struct wio *io)
{
	txq_to_ring(io->txq);
}

static void
wio_uring_fini(struct wio *io)
{
	ring_free(&io->u.ring);
	free(io->u.rx);
	free(io->u.rearm);
	io->u.rx = NULL;
	io->u.rearm = NULL;
	io->u.cap = 0;
}

static const struct wio_ops	wio_uring_ops = {
	.wait_name = "io_uring_enter",
	.arm = wio_uring_arm,
	.disarm = wio_uring_disarm,
	.wait = wio_uring_wait,
	.reap = wio_uring_reap,
	.drain = wio_uring_drain,
	.backlog = wio_uring_backlog,
	.flush = wio_uring_flush,
	.submit = wio_uring_submit,
	.fini = wio_uring_fini,
};
