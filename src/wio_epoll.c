/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wio_epoll.c - the epoll backend of a worker's I/O (wio.h), and the
 * epoll set that both backends have: the fds watched by tag (listen
 * sockets, control pipe, spawner) and the transfer sockets armed for
 * readiness (every transfer here; on io_uring the uploads). One
 * epoll_pwait per turn with the run mask; the events go to the worker as
 * WIO_READY (a tag) or WIO_READABLE (a slot), and the worker reads the
 * socket itself. The send queue leaves by sendmmsg (txq_flush).
 *
 * It owns the set and its event array, nothing of a transfer: closing a
 * socket takes it out of the set, so disarm has nothing to do. It does
 * not read or send a datagram itself (the worker, txq.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "txq.h"
#include "wio.h"

static const struct wio_ops	wio_epoll_ops;

int
wio_init(struct wio *io, struct txq *q)
{
	memset(io, 0, sizeof(*io));
	io->ops = &wio_epoll_ops;
	io->txq = q;
	if ((io->e.ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	return 0;
}

void
wio_fini(struct wio *io)
{
	if (io->ops == NULL)		/* never initialised */
		return;
	io->ops->fini(io);
	if (io->e.ep != -1)
		close(io->e.ep);
	io->e.ep = -1;
}

bool
wio_is_uring(const struct wio *io)
{
	return io->ops != NULL && io->ops != &wio_epoll_ops;
}

const char *
wio_wait_name(const struct wio *io)
{
	return io->ops->wait_name;
}

int
wio_watch(struct wio *io, int fd, uint64_t tag)
{
	struct epoll_event	 ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(io->e.ep, EPOLL_CTL_ADD, fd, &ev);
}

int
wio_unwatch(struct wio *io, int fd)
{
	return epoll_ctl(io->e.ep, EPOLL_CTL_DEL, fd, NULL);
}

int
wio_epoll_arm(struct wio *io, int fd, uint32_t slot, const char **what)
{
	struct epoll_event	 ev = { .events = EPOLLIN,
	    .data.u64 = WIO_TAG_SLOT | slot };

	if (epoll_ctl(io->e.ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		*what = "epoll_ctl";
		return -1;
	}
	return 0;
}

void
wio_epoll_hand(struct wio *io, int n, wio_fn *fn, void *ctx)
{
	struct wio_ev	 ev;
	int		 i;

	memset(&ev, 0, sizeof(ev));
	for (i = 0; i < n; i++) {
		uint64_t	 tag = io->e.evs[i].data.u64;

		if (tag & WIO_TAG_SLOT) {
			ev.what = WIO_READABLE;
			ev.tag = 0;
			ev.slot = (uint32_t)tag;
		} else {
			ev.what = WIO_READY;
			ev.tag = tag;
			ev.slot = 0;
		}
		fn(ctx, &ev);
	}
}

static int
wio_epoll_arm_op(struct wio *io, int fd, uint32_t slot, uint32_t gen,
    unsigned flags, const char **what)
{
	(void)gen;
	(void)flags;
	return wio_epoll_arm(io, fd, slot, what);
}

/* close() takes the socket out of the set. */
static void
wio_epoll_disarm(struct wio *io, uint32_t slot)
{
	(void)io;
	(void)slot;
}

static int
wio_epoll_wait(struct wio *io, int timeout_ms, const sigset_t *runmask)
{
	int	 n = epoll_pwait(io->e.ep, io->e.evs, WIO_EVENTS_MAX,
	    timeout_ms, runmask);

	io->e.n = n > 0 ? n : 0;
	return n == -1 ? -1 : 0;
}

static void
wio_epoll_reap(struct wio *io, wio_fn *fn, void *ctx)
{
	int	 n = io->e.n;

	io->e.n = 0;
	wio_epoll_hand(io, n, fn, ctx);
}

/* A socket holds its datagrams: the worker reads them itself. */
static void
wio_epoll_drain(struct wio *io, uint32_t slot, wio_fn *fn, void *ctx)
{
	(void)io;
	(void)slot;
	(void)fn;
	(void)ctx;
}

static bool
wio_epoll_backlog(struct wio *io)
{
	(void)io;
	return false;
}

static void
wio_epoll_flush(struct wio *io)
{
	if (io->txq->n > 0)
		txq_flush(io->txq);
}

static void
wio_epoll_submit(struct wio *io)
{
	txq_flush(io->txq);
}

static void
wio_epoll_fini(struct wio *io)
{
	(void)io;
}

static const struct wio_ops	wio_epoll_ops = {
	.wait_name = "epoll_pwait",
	.arm = wio_epoll_arm_op,
	.disarm = wio_epoll_disarm,
	.wait = wio_epoll_wait,
	.reap = wio_epoll_reap,
	.drain = wio_epoll_drain,
	.backlog = wio_epoll_backlog,
	.flush = wio_epoll_flush,
	.submit = wio_epoll_submit,
	.fini = wio_epoll_fini,
};
