/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wio.h - a worker's I/O backend: one interface, two backends behind it,
 * as redis's ae.c picks ae_epoll.c. wio_epoll.c: an epoll set, a transfer
 * socket read by the worker one datagram per readiness, the send queue
 * out by sendmmsg. wio_uring.c (ring.c underneath): a multishot receive
 * per read transfer's socket, every queued datagram a SENDMSG SQE, one
 * io_uring_enter per loop turn, and the epoll set as one POLL_ADD on the
 * ring. A worker starts on epoll (wio_init) and moves to io_uring
 * (wio_use_uring) where the kernel lets it.
 *
 * The backend does not know the worker. The worker names what it watches
 * with a tag (wio_watch: listen sockets, the control pipe, the spawner)
 * and a transfer by its slot and the slot's generation (wio_arm); what
 * happened comes back as records (struct wio_ev) handed to the worker's
 * function, one at a time, in this order each turn: the epoll set's
 * events first, then the ring's completions (io_uring). The worker keeps
 * the loop, the sessions, the timers and every decision.
 *
 * A turn: wio_wait (block with the run mask until events, a signal or
 * the deadline; io_uring also submits what wio_submit queued), wio_reap
 * (hand back the turn's events), then the worker's timers, then
 * wio_submit (what the send queue holds leaves, or is queued for the
 * next wait).
 */
#ifndef PTFTPD_WIO_H
#define PTFTPD_WIO_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "ring.h"

struct txq;

#define WIO_EVENTS_MAX	256	/* epoll events per wait */
/* A transfer's generation as events carry it: the low WIO_GEN_BITS of
 * the worker's, enough to tell a late completion for a reused slot
 * (one comes within a turn or so, not 262,144 reuses later). Slots are
 * below 2^20 (max_per_worker <= 1,000,000). */
#define WIO_GEN_BITS	18
#define WIO_GEN_MASK	((1u << WIO_GEN_BITS) - 1)
#define WIO_SLOT_MAX	(1u << 20)
/* Tags of wio_watch must leave this bit clear: the backend's own. */
#define WIO_TAG_SLOT	(1ull << 63)

enum wio_what {
	WIO_READY,	/* a watched fd is readable: tag */
	WIO_READABLE,	/* a transfer socket armed without WIO_DGRAMS is
			 * readable (the worker reads it): slot */
	WIO_DGRAM,	/* a datagram for transfer (slot, gen): data, len,
			 * trunc, from */
	WIO_BAD,	/* a receive for (slot, gen) brought no valid
			 * datagram */
	WIO_SEND_FAILED,	/* a queued send of (slot, gen) failed: res
				 * (-errno), its payload bytes and its
				 * datagrams (segs, 0: a plain send) */
};

/* One event or completion. Pointers are valid during the call only. */
struct wio_ev {
	enum wio_what			 what;
	uint64_t			 tag;
	uint32_t			 slot;
	uint32_t			 gen;	/* & WIO_GEN_MASK */
	int				 res;
	uint32_t			 bytes;
	unsigned			 segs;
	const uint8_t			*data;
	size_t				 len;
	bool				 trunc;	/* longer than the buffer */
	const struct sockaddr_storage	*from;
};

typedef void	wio_fn(void *ctx, const struct wio_ev *ev);

/* wio_arm flags. */
#define WIO_DGRAMS	1u	/* hand datagrams over (io_uring), not
				 * readiness: a read transfer's ACKs */

struct wio_ops;

/* io_uring: a transfer socket with a multishot receive on the ring. */
struct wio_rx {
	int		 fd;		/* -1: not on the ring */
	uint32_t	 gen;
	bool		 armed;		/* its multishot receive is up */
	bool		 rearm;		/* on the re-arm list */
};

/* The epoll set (both backends have one). */
struct wio_epoll {
	int			 ep;
	int			 n;		/* events of the last wait */
	struct epoll_event	 evs[WIO_EVENTS_MAX];
};

/* io_uring's own state (wio_uring.c). */
struct wio_uring {
	struct ring	 ring;
	bool		 ep_armed;	/* the set's POLL_ADD is in flight */
	bool		 ep_ready;	/* ... and completed by this wait */
	struct wio_rx	*rx;		/* per slot */
	uint32_t	 cap;
	uint32_t	*rearm;		/* slots whose receive ended */
	uint32_t	 rearm_n;
};

struct wio {
	const struct wio_ops	*ops;
	struct txq		*txq;		/* what wio_submit sends */
	struct wio_epoll	 e;
	struct wio_uring	 u;
};

/* The backend's operations (wio_epoll.c, wio_uring.c); call them through
 * the wio_* functions below. */
struct wio_ops {
	const char	*wait_name;	/* the system call wio_wait makes */
	int	(*arm)(struct wio *, int fd, uint32_t slot, uint32_t gen,
		    unsigned flags, const char **what);
	void	(*disarm)(struct wio *, uint32_t slot);
	int	(*wait)(struct wio *, int timeout_ms, const sigset_t *runmask);
	void	(*reap)(struct wio *, wio_fn *fn, void *ctx);
	void	(*drain)(struct wio *, uint32_t slot, wio_fn *fn, void *ctx);
	bool	(*backlog)(struct wio *);
	void	(*flush)(struct wio *);
	void	(*submit)(struct wio *);
	void	(*fini)(struct wio *);
};

/* The epoll backend, with an empty set; q is the send queue wio_flush
 * and wio_submit send. Returns 0, or -1 with errno. */
int	wio_init(struct wio *io, struct txq *q);
/* Move to io_uring for `cap` transfer slots: 0, or -1 with *why (what
 * this kernel refuses, or "no memory") and the backend still epoll. */
int	wio_use_uring(struct wio *io, uint32_t cap, const char **why);
/* Undo both. Safe on a zeroed or half-initialised io (e.ep -1). */
void	wio_fini(struct wio *io);
/* Is the backend io_uring? (The seccomp filter's SANDBOX_URING.) */
bool	wio_is_uring(const struct wio *io);
/* The system call wio_wait makes, for its error message. */
const char *wio_wait_name(const struct wio *io);

/* Watch fd for input: WIO_READY events with tag (bit 63 clear). 0 or -1
 * with errno. wio_unwatch stops it (close does it too). */
int	wio_watch(struct wio *io, int fd, uint64_t tag);
int	wio_unwatch(struct wio *io, int fd);

/*
 * Watch transfer socket fd of (slot, gen) for input. With WIO_DGRAMS on
 * io_uring its datagrams come as WIO_DGRAM events and 1 is returned;
 * otherwise readiness comes as WIO_READABLE and 0 is returned. -1 with
 * errno and *what (the call that failed) when it cannot.
 */
static inline int
wio_arm(struct wio *io, int fd, uint32_t slot, uint32_t gen, unsigned flags,
    const char **what)
{
	return io->ops->arm(io, fd, slot, gen, flags, what);
}

/* The transfer in slot ends: stop its receive before its socket is
 * closed or pooled (a pooled socket is armed again by its next user).
 * Nothing it receives afterwards is handed back. */
static inline void
wio_disarm(struct wio *io, uint32_t slot)
{
	io->ops->disarm(io, slot);
}

/* Block until events, a signal (runmask in force meanwhile) or
 * timeout_ms (-1: none). 0, or -1 with errno (EINTR: a signal). */
static inline int
wio_wait(struct wio *io, int timeout_ms, const sigset_t *runmask)
{
	return io->ops->wait(io, timeout_ms, runmask);
}

/* Hand this turn's events to fn: the epoll set's first, then (io_uring)
 * up to a turn's worth of completions. fn may call any wio function. */
static inline void
wio_reap(struct wio *io, wio_fn *fn, void *ctx)
{
	io->ops->reap(io, fn, ctx);
}

/* Transfer slot is about to be replaced: hand to fn what has already
 * arrived for it (io_uring: the completions there are now, other
 * transfers' among them; epoll: nothing, its socket holds them). */
static inline void
wio_drain(struct wio *io, uint32_t slot, wio_fn *fn, void *ctx)
{
	io->ops->drain(io, slot, fn, ctx);
}

/* Completions are left after wio_reap (its cap): the timers may wait. */
static inline bool
wio_backlog(struct wio *io)
{
	return io->ops->backlog(io);
}

/* Send what the queue holds now and, on io_uring, submit every queued
 * SQE: before a transfer ends (its body is released, its socket number
 * may be reused). */
static inline void
wio_flush(struct wio *io)
{
	io->ops->flush(io);
}

/* End of a turn: epoll sends the queue (sendmmsg); io_uring turns it
 * into SQEs that the next wio_wait submits. */
static inline void
wio_submit(struct wio *io)
{
	io->ops->submit(io);
}

/* For the backends: hand the epoll set's events evs[0, n) to fn. */
void	wio_epoll_hand(struct wio *io, int n, wio_fn *fn, void *ctx);
/* For the backends: add fd of slot to the set (WIO_READABLE). */
int	wio_epoll_arm(struct wio *io, int fd, uint32_t slot,
	    const char **what);
/* The user data of a send SQE of (slot, gen): txq's send_ud hook. */
uint64_t wio_send_ud(uint32_t slot, uint32_t gen, uint32_t bytes,
	    unsigned segs);

#endif
