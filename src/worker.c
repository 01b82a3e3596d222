/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.c - the event loop of one worker process, and the glue between
 * net (sockets), fs (bodies), sess (protocol) and timer (deadlines).
 *
 * It owns: the preallocated session slots and their free list, the peer
 * table that maps a client address:port to its session, the retransmit
 * timers, the transfer log line, the busy check, the socket pool, single
 * port mode, drain, and the order of a request's way in: admission
 * (admit.c: rewrite and route, access lists, limits), then the content
 * (content.c: a file, a rendered template, a module's answer, a
 * program's output through the spawner, or an upload), then the
 * transfer.
 * It does not parse packets (tftp.c), decide protocol steps (sess.c),
 * open content or hold the file trees, template caches, modules and the
 * exec spawner (content.c), bind listen sockets (the supervisor did),
 * hold the datagrams waiting to be sent (txq.c: the send queue and its
 * GSO trains; it calls back here to end a transfer whose file faulted),
 * word, count and rate-limit refusals (admit.c), or wait for and reap
 * I/O (wio.h: the epoll set, and io_uring's receives, sends and
 * completions, in wio_epoll.c and wio_uring.c).
 *
 * Size: about 1,700 lines because single port mode and the socket pool
 * live here.
 *
 * Packet path: no allocation. Logging is one line per finished transfer
 * and one per refused request, the refusals at most
 * log.refusals_per_second a second (log_rate). Requests come in by recvmmsg
 * batches; each transfer has its own socket (its TID), or, in single port
 * mode, shares the listen socket and is found by the client's address and
 * port. Everything sent waits in one queue of header + body iovecs (no
 * copy of file bytes; txq.c). The loop is one turn of the backend:
 * wio_wait, wio_reap (each event or completion comes back as a struct
 * wio_ev that worker_event dispatches), the timers, wio_submit. With
 * epoll a transfer socket is read here one datagram per readiness and
 * the queue leaves by sendmmsg: a window at once, and in single port
 * mode the answers to a whole recvmmsg batch of ACKs at once. With
 * io_uring (`io_uring = true`, the default mode's read transfers) each
 * read transfer's datagrams come as completions, every queued datagram
 * is an SQE, and one io_uring_enter per turn submits and waits; the
 * epoll set's events (listen sockets, control pipe, spawner, uploads)
 * come before the turn's datagrams.
 *
 * Signals: TERM drains (stop reading the listen sockets, finish the
 * transfers, exit 0 when none is left or shutdown_timeout passed); INT
 * and QUIT stop at once. They stay blocked except inside epoll_pwait()
 * or io_uring_enter() (the same run mask), so no handler runs while a
 * session is half updated.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "admit.h"
#include "clock.h"
#include "conf.h"
#include "content.h"
#include "execd.h"
#include "fs.h"
#include "limit.h"
#include "log.h"
#include "net.h"
#include "priv.h"
#include "route.h"
#include "sandbox.h"
#include "sess.h"
#include "stats.h"
#include "tftp.h"
#include "timer.h"
#include "txq.h"
#include "wio.h"
#include "worker.h"

/* What the epoll set watches besides transfer sockets (wio_watch). */
#define TAG_LISTEN	(1ull << 32)
#define TAG_CTL		(3ull << 32)
#define TAG_EXECD	(4ull << 32)
#define TAG_MASK	(0xffffffffull << 32)
#define NIL		UINT32_MAX
#define RX_PER_EVENT	64	/* datagrams read per session event */
#define LISTEN_ROUNDS	8	/* recvmmsg batches per listen event */
#define EXPIRE_DEFER_MS	20	/* timers wait for queued input this long */
#define POOL_IDLE_MS	10000	/* a pooled socket unused this long closes */
#define POOL_SPREAD	64	/* pooled sockets to choose from, at least */
#define RND_N		64	/* random words drawn per getrandom */
_Static_assert(CONF_MAX_LIMIT_RULES == LIMIT_RULES_MAX,
    "limits.per_client rules must fit struct limit_conf");

/* An idle transfer socket, kept for the next transfer (socket_pool). */
struct wpool {
	int			 fd;
	uint64_t		 since_ms;	/* idle since */
	struct sockaddr_storage	 local;		/* bound to (port aside) */
	struct sockaddr_storage	 last;		/* its last transfer's peer */
};

/* One transfer: protocol state plus what the worker needs for I/O. */
struct wsess {
	struct sess		 s;
	struct timer_node	 tn;
	struct body		*body;
	struct fs		*fs;		/* the body's owner */
	struct fs_upload	*up;		/* WRQ: the file being written */
	const struct conf_route	*route;		/* NULL: the plain file tree */
	uint32_t		 job;		/* exec: job id while pending */
	struct tftp_req		 pend_req;	/* exec: the request */
	bool			 pending;	/* exec: waiting for the output */
	bool			 replaced;	/* ended by a new request from
						 * the same address and port */
	struct sockaddr_storage	 peer;
	struct sockaddr_storage	 local;
	struct sockaddr_storage	 prev;		/* pooled socket: its last
						 * peer (family 0: none) */
	int			 fd;		/* -1 when the slot is free */
	bool			 shared;	/* fd is a listen socket (single
						 * port mode): not ours to close */
	bool			 on_ring;	/* its datagrams come as WIO_DGRAM
						 * events (io_uring): its socket
						 * may be pooled */
	bool			 gso_off;	/* the kernel refused a GSO send
						 * to this peer: plain sends */
	uint32_t		 gen;		/* bumped at each allocation */
	uint32_t		 next;		/* peer chain, or free list */
	uint32_t		 hash;
	struct tftp_opts	 req_opts;	/* as requested, to spot */
	enum tftp_mode		 req_mode;	/* a retransmitted RRQ */
	uint16_t		 name_len;
	char			 name[TFTP_NAME_MAX + 1];
};

struct worker {
	const struct conf	*conf;
	unsigned		 id;
	uint64_t		 now_ms;	/* loop time, for the name cache */
	uint64_t		 expire_ms;	/* last worker_expire */
	uint64_t		 trim_ms;	/* next idle-body expiry pass */
	struct limit		 limit;
	/* What requests read: file trees, templates, modules, programs. */
	struct content		 ct;
	int			 exit_code;
	struct route_match	 rm;		/* scratch for route_match */
	char			 rname[TFTP_NAME_MAX + 1];	/* rewritten */
	int			 ctl_fd;
	const int		*lfds;
	unsigned		 nlfds;
	bool			 listening;
	bool			 draining;
	uint64_t		 drain_deadline_ms;
	struct wsess		*ss;		/* cap slots */
	uint32_t		 cap;
	uint32_t		 nactive;
	uint32_t		 free_head;
	uint32_t		*htab;		/* peer hash -> first slot */
	uint32_t		 hmask;
	uint64_t		 hseed;
	struct timer_heap	 timers;
	struct timer_node	**tstore;
	struct sess_limits	 lim;
	uint32_t		 port_hint;
	uint32_t		 rnd[RND_N];	/* for worker_random */
	uint32_t		 rnd_n;		/* words left in rnd */
	uint64_t		 rnd_x;		/* fallback state */
	struct stats_slot	*st;
	struct net_rx		 rx;
	uint8_t			*pkt;		/* one datagram, TFTP_PKT_MAX+1 */
	uint8_t			 ctlbuf[1024];	/* OACK and ERROR packets */
	struct txq		 txq;		/* the send queue (txq.c) */
	/* The I/O backend (wio.h): epoll, or io_uring (`io_uring = true`,
	 * the default mode's read transfers) where the kernel has it. */
	struct wio		 io;
	/* Sockets of ended read transfers on the ring, kept bound for the
	 * next transfers (session.socket_pool): no socket, bind and close
	 * per transfer. */
	struct wpool		*pool;		/* pool_n of them, no order */
	uint32_t		 pool_cap;	/* see worker_setup_io */
	uint32_t		 pool_n;
	/* Refusals: answered, counted, logged at most so many a second. */
	struct admit		 adm;
};

static volatile sig_atomic_t	got_term, got_stop;

static void	worker_end(struct worker *, struct wsess *, uint64_t);
static void	worker_event(void *, const struct wio_ev *);

static void
worker_on_signal(int sig)
{
	if (sig == SIGTERM)
		got_term = 1;
	else
		got_stop = 1;
}

/* The live transfer an event names (slot, gen & WIO_GEN_MASK), or
 * NULL: a late completion for an ended or reused slot. */
static struct wsess *
worker_ev_sess(struct worker *w, const struct wio_ev *ev)
{
	struct wsess	*ws;

	if (ev->slot >= w->cap)
		return NULL;
	ws = &w->ss[ev->slot];
	if (ws->fd == -1 || (ws->gen & WIO_GEN_MASK) != ev->gen)
		return NULL;
	return ws;
}

/* Seeded hash of address and port: a flood cannot aim at one chain. */
static uint32_t
worker_hash(const struct worker *w, const struct sockaddr_storage *ss)
{
	uint64_t	 h = w->hseed, words[3] = { 0, 0, 0 };
	unsigned	 i;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		memcpy(words, &s6->sin6_addr, 16);
		words[2] = s6->sin6_port;
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		words[0] = s4->sin_addr.s_addr;
		words[2] = s4->sin_port;
	}
	for (i = 0; i < 3; i++) {
		h ^= words[i];
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static struct wsess *
worker_lookup(struct worker *w, const struct sockaddr_storage *peer,
    uint32_t hash)
{
	uint32_t	 i;

	for (i = w->htab[hash & w->hmask]; i != NIL; i = w->ss[i].next)
		if (w->ss[i].hash == hash && net_same_peer(&w->ss[i].peer, peer))
			return &w->ss[i];
	return NULL;
}

static void
worker_unhash(struct worker *w, struct wsess *ws)
{
	uint32_t	*p = &w->htab[ws->hash & w->hmask];
	uint32_t	 me = (uint32_t)(ws - w->ss);

	while (*p != NIL && *p != me)
		p = &w->ss[*p].next;
	if (*p == me)
		*p = ws->next;
}

/* The log line of a finished transfer: stable key=value fields. */
static void
worker_log_done(struct worker *w, struct wsess *ws, uint64_t now)
{
	const struct sess	*s = &ws->s;
	char			 peer[64], name[TFTP_NAME_MAX * 4 + 1];
	char			 opts[48], err[16] = "", rtt[24] = "-";
	int64_t			 srtt8 = sess_srtt8(s);

	(void)w;
	if (!log_enabled(LOG_INFO))
		return;
	if (s->result != SESS_RES_OK && s->result != SESS_RES_PROBE)
		snprintf(err, sizeof(err), " error=%u", s->err_code);
	if (srtt8 >= 0)	/* 1/8 ms fixed point: three decimals are exact */
		snprintf(rtt, sizeof(rtt), "%lld.%03lld",
		    (long long)(srtt8 >> 3), (long long)(srtt8 & 7) * 125);
	log_info("peer=%s op=%s file=\"%s\" mode=%s opts=%s blksize=%u "
	    "windowsize=%u tsize=%llu result=%s%s bytes=%llu ms=%llu "
	    "rexmit=%u dupack=%u rtt_ms=%s gaps=%u",
	    net_ntop(&ws->peer, peer, sizeof(peer)), tftp_opname(s->op),
	    log_safe(name, sizeof(name), ws->name, ws->name_len),
	    tftp_modename(s->mode), admit_opts_str(&s->oack, opts,
	    sizeof(opts)), s->blksize, s->windowsize,
	    (unsigned long long)s->size, ws->replaced ? "replaced" :
	    sess_result_name(s->result), ws->replaced ? "" : err,
	    (unsigned long long)sess_acked_bytes(s),
	    (unsigned long long)(now - s->start_ms), s->n_rexmit, s->n_dup_ack,
	    rtt, s->n_gap);
}

/* Count a finished transfer: result, options, client error, histograms. */
static void
worker_count_done(struct worker *w, const struct wsess *ws, uint64_t now)
{
	struct stats_slot	*st = w->st;
	const struct sess	*s = &ws->s;

	switch (ws->replaced ? SESS_RES_NONE : s->result) {
	case SESS_RES_NONE:	/* replaced: counted as sess_replaced */
		break;
	case SESS_RES_OK:
		STATS_ADD(st, sess_ok, 1);
		break;
	case SESS_RES_PROBE:
		STATS_ADD(st, sess_probe, 1);
		break;
	case SESS_RES_ABORTED:
		STATS_ADD(st, sess_aborted, 1);
		break;
	case SESS_RES_TIMEOUT:
		STATS_ADD(st, sess_timeout, 1);
		break;
	default:
		STATS_ADD(st, sess_error, 1);
		break;
	}
	if (!ws->replaced &&
	    (s->result == SESS_RES_PROBE || s->result == SESS_RES_ABORTED)) {
		if (s->err_code == TFTP_EUNDEF)
			STATS_ADD(st, client_err0, 1);
		else if (s->err_code == TFTP_EOPTNEG)
			STATS_ADD(st, client_err8, 1);
		else
			STATS_ADD(st, client_err_other, 1);
	}
	STATS_ADD(st, opt_blksize, (s->oack.set & TFTP_OPT_BLKSIZE) != 0);
	STATS_ADD(st, opt_windowsize, (s->oack.set & TFTP_OPT_WINDOWSIZE) != 0);
	STATS_ADD(st, opt_tsize, (s->oack.set & TFTP_OPT_TSIZE) != 0);
	STATS_ADD(st, opt_timeout, (s->oack.set & TFTP_OPT_TIMEOUT) != 0);
	STATS_ADD(st, dup_acks, s->n_dup_ack);
	STATS_ADD(st, gap_repairs, s->n_gap);
	STATS_ADD(st, rexmit_early, s->n_fast);
	if (st != NULL)
		stats_observe(st, now - s->start_ms, sess_acked_bytes(s));
}

/* Undo worker_open. */
static void
worker_close_content(struct wsess *ws)
{
	content_close(ws->fs, &ws->body, &ws->up);
}

/* ws as content.c sees it: its route, name, mode and addresses. */
static void
worker_content_req(const struct wsess *ws, struct content_req *q)
{
	memset(q, 0, sizeof(*q));
	q->op = ws->s.op;
	q->mode = ws->s.mode;
	q->name = ws->name;
	q->route = ws->route;
	q->fs = ws->fs;
	q->peer = &ws->peer;
	q->local = &ws->local;
}

/* Release everything a transfer holds and return its slot. */
static void
worker_end(struct worker *w, struct wsess *ws, uint64_t now)
{
	/* Queued DATA points into the body and must leave before it is
	 * released; with io_uring, every SQE that names the socket must be
	 * submitted before its number can be reused. */
	wio_flush(&w->io);
	worker_log_done(w, ws, now);
	worker_count_done(w, ws, now);
	if (ws->route != NULL) {
		struct content_req	 q;

		worker_content_req(ws, &q);
		content_done(&w->ct, &q, &ws->s, now);
	}
	timer_cancel(&w->timers, &ws->tn);
	worker_unhash(w, ws);
	/* close() also removes the fd from the epoll set; a receive on
	 * the ring is cancelled first (it holds the socket open). */
	if (!ws->shared)
		wio_disarm(&w->io, (uint32_t)(ws - w->ss));
	if (ws->on_ring && w->pool_n < w->pool_cap) {
		/* Kept for another client; the cancel goes before anything
		 * the next transfer sends, so its replies cannot reach the
		 * old receive. */
		struct wpool	*p = &w->pool[w->pool_n++];

		p->fd = ws->fd;
		p->since_ms = now;
		p->local = ws->local;
		p->last = ws->peer;
	} else if (!ws->shared) {
		close(ws->fd);
	}
	ws->fd = -1;
	ws->shared = false;
	ws->on_ring = false;
	/* An upload still open here did not complete: discard it. */
	worker_close_content(ws);
	(void)limit_release(&w->limit, &ws->peer);
	ws->next = w->free_head;
	w->free_head = (uint32_t)(ws - w->ss);
	w->nactive--;
	STATS_SET(w->st, sess_active, w->nactive);
}

/* Where ws's datagrams go, for the send queue. */
static void
worker_dest(const struct worker *w, const struct wsess *ws,
    struct txq_dest *d)
{
	d->fd = ws->fd;
	d->slot = (uint32_t)(ws - w->ss);
	d->peer = &ws->peer;
	d->local = ws->shared ? &ws->local : NULL;
	d->gso_off = ws->gso_off;
}

static void
worker_send_ctl(struct worker *w, struct wsess *ws, size_t len)
{
	struct txq_dest	 d;

	if (len == 0)
		return;
	if (len <= TXQ_CTL_MAX) {
		/* Joins the queue behind the transfer's DATA, in order. */
		worker_dest(w, ws, &d);
		txq_add_ctl(&w->txq, &d, w->ctlbuf, len);
		return;
	}
	/* Keep a transfer's packets in order: queued DATA first. */
	txq_flush_before(&w->txq, ws->fd);
	/* From a listen socket, say which local address to answer from. */
	if (net_send_from(ws->fd, w->ctlbuf, len, &ws->peer,
	    ws->shared ? &ws->local : NULL) > 0)
		STATS_ADD(w->st, tx_pkts, 1);
}

/* Queue blocks [first, first+count) of ws (txq_send_blocks). */
static void
worker_send_blocks(struct worker *w, struct wsess *ws, uint64_t first,
    uint32_t count)
{
	struct txq_dest	 d;

	worker_dest(w, ws, &d);
	txq_send_blocks(&w->txq, &d, &ws->s, ws->body->data, first, count);
}

/*
 * The kernel refused a GSO send with err: EIO, the device cannot
 * checksum the segments (no more GSO in this worker, txq_gso_refused);
 * EINVAL or EMSGSIZE, not to this peer (a segment above the path MTU,
 * say): plain sends for this transfer. Nothing of the train left.
 */
static void
worker_gso_refused(struct worker *w, struct wsess *ws, int err)
{
	ws->gso_off = true;
	txq_gso_refused(&w->txq, err);
}

/*
 * A datagram of the queue faulted (EFAULT): the file was truncated under
 * its mapping. End that transfer with an error; its other queued
 * datagrams are dropped by the caller.
 */
static void
worker_tx_fault(struct worker *w, uint32_t slot)
{
	struct wsess	*ws = &w->ss[slot];

	if (ws->fd == -1)
		return;
	sess_fail(&ws->s, TFTP_EUNDEF);
	/* The ERROR goes out directly (the queue is being flushed). */
	(void)net_send_from(ws->fd, w->ctlbuf, tftp_encode_error(w->ctlbuf,
	    sizeof(w->ctlbuf), TFTP_EUNDEF, "File changed on server"),
	    &ws->peer, ws->shared ? &ws->local : NULL);
	worker_end(w, ws, clock_now_ms());
}

/* The send queue's hooks (struct txq_hooks), ctx the worker. */
static void
worker_txq_fault(void *ctx, uint32_t slot)
{
	worker_tx_fault(ctx, slot);
}

static void
worker_txq_gso_off(void *ctx, uint32_t slot)
{
	struct worker	*w = ctx;

	w->ss[slot].gso_off = true;
}

static uint64_t
worker_txq_ud(void *ctx, uint32_t slot, uint32_t bytes, unsigned segs)
{
	struct worker	*w = ctx;

	return wio_send_ud(slot, w->ss[slot].gen, bytes, segs);
}

/* A queued send failed (io_uring; a success posts nothing): take it back
 * from the counters; EFAULT is a file truncated under its mapping. A GSO
 * send the kernel refused: the transfer's window still out goes again as
 * plain datagrams, once (its other GSO sends of the turn failed alike). */
static void
worker_send_failed(struct worker *w, const struct wio_ev *ev)
{
	struct wsess	*ws;
	unsigned	 segs = ev->segs;
	int		 res = ev->res;

	STATS_ADD(w->st, tx_pkts, -(uint64_t)(segs > 1 ? segs : 1));
	STATS_ADD(w->st, tx_bytes, -(uint64_t)ev->bytes);
	if (segs > 1)
		STATS_ADD(w->st, gso_sends, -(uint64_t)1);
	if ((ws = worker_ev_sess(w, ev)) == NULL)
		return;
	if (res == -EFAULT) {
		worker_tx_fault(w, (uint32_t)(ws - w->ss));
	} else if (segs > 1 && !ws->gso_off && (res == -EIO ||
	    res == -EINVAL || res == -EMSGSIZE)) {
		worker_gso_refused(w, ws, -res);
		if (ws->s.state == SESS_SENDING && ws->s.sent > ws->s.acked)
			worker_send_blocks(w, ws, ws->s.acked + 1,
			    (uint32_t)(ws->s.sent - ws->s.acked));
	}
}

static const struct sess_tx	worker_tx_none;
static void	worker_sess_ready(struct worker *, struct wsess *, uint64_t);

/*
 * Upload side of a tx: write the block (before the packet buffer is
 * reused), and on the last one make the file final (fsync, rename)
 * BEFORE the ACK goes out, so an ACKed upload is on disk. On failure the
 * session ends with the ERROR sent here; returns -1 and the caller sends
 * nothing else.
 */
static int
worker_store(struct worker *w, struct wsess *ws, const struct sess_tx *tx)
{
	int	 code = 0;

	if (tx->flags & SESS_TX_WRITE)
		code = fs_upload_write(ws->up, tx->wr_off, tx->wr_data,
		    tx->wr_len);
	if (code == 0 && (tx->flags & SESS_TX_COMMIT)) {
		code = fs_upload_commit(ws->fs, ws->up);
		ws->up = NULL;		/* freed by commit, either way */
	}
	if (code == 0)
		return 0;
	if ((uint16_t)code == TFTP_EUNDEF) {
		char	 name[TFTP_NAME_MAX * 4 + 1];

		log_warn("upload of \"%s\"", log_safe(name, sizeof(name),
		    ws->name, ws->name_len));
	}
	sess_fail(&ws->s, (uint16_t)code);
	worker_send_ctl(w, ws, tftp_encode_error(w->ctlbuf, sizeof(w->ctlbuf),
	    (uint16_t)code, tftp_strerror((uint16_t)code)));
	return -1;
}

/* Carry out what the session asked for; end it if it is done. */
static void
worker_apply(struct worker *w, struct wsess *ws, const struct sess_tx *tx,
    uint64_t now)
{
	if (tx->rexmit)
		STATS_ADD(w->st, rexmit_pkts, (tx->flags & SESS_TX_DATA) ?
		    tx->blk_count : 1);
	if ((tx->flags & (SESS_TX_WRITE | SESS_TX_COMMIT)) &&
	    worker_store(w, ws, tx) == -1)
		tx = &worker_tx_none;
	if (tx->flags & SESS_TX_OACK)
		worker_send_ctl(w, ws, tftp_encode_oack(w->ctlbuf,
		    sizeof(w->ctlbuf), &ws->s.oack));
	if (tx->flags & SESS_TX_ACK)
		worker_send_ctl(w, ws, tftp_encode_ack(w->ctlbuf,
		    sizeof(w->ctlbuf), (uint16_t)tx->ack_block));
	if (tx->flags & SESS_TX_DATA)
		worker_send_blocks(w, ws, tx->blk_first, tx->blk_count);
	if (tx->flags & SESS_TX_ERROR)
		worker_send_ctl(w, ws, tftp_encode_error(w->ctlbuf,
		    sizeof(w->ctlbuf), tx->err_code, tx->err_msg));
	if (ws->s.state == SESS_DONE)
		worker_end(w, ws, now);
	else if (timer_set(&w->timers, &ws->tn, ws->s.deadline_ms) == -1) {
		/* Cannot happen: the heap holds one node per slot. */
		sess_fail(&ws->s, TFTP_EUNDEF);
		worker_end(w, ws, now);
	}
}

/* Take a free slot and prepare it for peer; NULL when all are busy. */
static struct wsess *
worker_alloc(struct worker *w, const struct sockaddr_storage *peer,
    uint32_t hash)
{
	struct wsess	*ws;

	if (w->free_head == NIL)
		return NULL;
	ws = &w->ss[w->free_head];
	w->free_head = ws->next;
	memset(&ws->s, 0, sizeof(ws->s));
	ws->replaced = false;
	ws->pending = false;
	ws->gso_off = false;
	ws->gen++;
	ws->peer = *peer;
	ws->hash = hash;
	ws->next = w->htab[hash & w->hmask];
	w->htab[hash & w->hmask] = (uint32_t)(ws - w->ss);
	w->nactive++;
	STATS_SET(w->st, sess_active, w->nactive);
	STATS_ADD(w->st, sess_started, 1);
	return ws;
}

/*
 * Policy before any file is opened (admit.c): rewrite the name, pick the
 * route, check the access lists and the per-client limits. Returns 0 with
 * the name in w->rm.name and the file tree to serve it from in *fs (the
 * limit is then taken: release it on every later failure), or -1 when
 * the request was answered (or deliberately not answered) there.
 */
static int
worker_admit(struct worker *w, int lfd, enum tftp_op op,
    const struct tftp_req *req, const struct sockaddr_storage *peer,
    const struct sockaddr_storage *local, struct fs **fs,
    const struct conf_route **route, uint64_t now)
{
	const struct conf_route	*r;

	if (admit_request(&w->adm, lfd, op, req, peer, local, w->rname,
	    sizeof(w->rname), &w->rm, &r, now) == -1)
		return -1;
	*fs = content_fs(&w->ct, r);
	*route = r;
	return 0;
}

/*
 * Open what an admitted request reads or writes (content.c): a body for
 * an RRQ, an upload for a WRQ, or an exec job (ws->pending, ws->job) for
 * the slot this request is about to take (the free list's head: nothing
 * allocates in between). Returns 0, or a TFTP error code with *msg.
 */
static int
worker_open(struct worker *w, enum tftp_op op, const struct tftp_req *req,
    const struct conf_route *r, struct fs *fs, struct wsess *ws,
    const char **msg)
{
	struct content_req	 q = { .op = op, .mode = req->mode,
	    .name = w->rm.name, .route = r, .m = &w->rm, .fs = fs,
	    .peer = &ws->peer, .local = &ws->local, .slot = w->free_head };
	struct content_out	 o;
	int			 code;

	code = content_open(&w->ct, &q, &o, msg);
	ws->body = o.body;
	ws->up = o.up;
	ws->job = o.job;
	ws->pending = o.pending;
	return code;
}

/*
 * Run the protocol's first step for a prepared slot and register its
 * socket. A request the session refuses (an upload whose tsize is over
 * the limit) is answered with the error and ends here.
 */
static void
worker_start(struct worker *w, struct wsess *ws, enum tftp_op op,
    const struct tftp_req *req, const struct conf_route *route, uint64_t now)
{
	struct sess_tx		 tx;
	const char		*what;
	int			 code;

	if (op == TFTP_RRQ)
		code = sess_start_read(&ws->s, req, ws->body->size, &w->lim,
		    now, &tx);
	else
		code = sess_start_write(&ws->s, req, route->write.max_bytes,
		    &w->lim, now, &tx);
	if (code != 0) {
		sess_fail(&ws->s, (uint16_t)code);
		worker_send_ctl(w, ws, tftp_encode_error(w->ctlbuf,
		    sizeof(w->ctlbuf), (uint16_t)code,
		    tftp_strerror((uint16_t)code)));
		worker_end(w, ws, now);
		return;
	}
	/* A read transfer's ACKs come as datagrams where the backend can
	 * (io_uring); armed before the first DATA is queued. */
	if (!ws->shared && (code = wio_arm(&w->io, ws->fd,
	    (uint32_t)(ws - w->ss), ws->gen, op == TFTP_RRQ ? WIO_DGRAMS : 0,
	    &what)) == -1) {
		admit_log_exhausted(&w->adm, what, errno);
		sess_fail(&ws->s, TFTP_EUNDEF);
		worker_end(w, ws, now);
		return;
	}
	ws->on_ring = !ws->shared && code == 1;
	worker_apply(w, ws, &tx, now);
}

/*
 * A uniform random number below n (n > 0): RFC 1350 wants transfer IDs
 * chosen at random. Words come from getrandom, RND_N at a time (one
 * syscall per 64 transfers); should it ever fail, a splitmix64 sequence
 * seeded from the hash seed and the clock stands in.
 */
static uint32_t
worker_random(struct worker *w, uint32_t n)
{
	if (w->rnd_n == 0) {
		if (getrandom(w->rnd, sizeof(w->rnd), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(w->rnd)) {
			unsigned	 i;

			w->rnd_x ^= w->hseed ^ clock_now_ms();
			for (i = 0; i < RND_N; i++) {
				uint64_t	 z = (w->rnd_x +=
				    0x9e3779b97f4a7c15ull);

				z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
				z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
				w->rnd[i] = (uint32_t)(z ^ (z >> 31));
			}
		}
		w->rnd_n = RND_N;
	}
	return (uint32_t)(((uint64_t)w->rnd[--w->rnd_n] * n) >> 32);
}

/*
 * A transfer socket bound to local, so that the next server TID cannot
 * be guessed from the last (issue 13: handed out in turn, 30 transfers
 * used 3 ports). From the pool only when at least POOL_SPREAD of its
 * sockets (or socket_pool, if fewer) are bound to local and were not
 * last used with this very address and port, and then one of those at
 * random (about uniformly); otherwise a new socket, on a port the kernel
 * picks at random, or from a port range starting at a random port (in
 * place of a pooled one, then closed: the range is shared; and if that
 * fails, a pooled socket after all, if there is one). So a
 * client that asks again from the same port (UEFI after its size probe)
 * never sees the same pair of TIDs twice in a row. Returns the fd, or
 * -1 with errno. *prev is set to a pooled socket's last peer, whose late
 * packets the new transfer drops without an ERROR. O(POOL_SPREAD)
 * mostly, O(pool_n) at worst; a new socket costs socket and bind (and
 * close later).
 */
static int
worker_socket(struct worker *w, const struct sockaddr_storage *local,
    const struct sockaddr_storage *peer, struct sockaddr_storage *prev)
{
	uint32_t	 spread = w->pool_cap < POOL_SPREAD ? w->pool_cap :
	    POOL_SPREAD, i, n = 0, pick = NIL;
	uint16_t	 pmin = w->conf->session.port_min;
	uint16_t	 pmax = w->conf->session.port_max;
	int		 fd;

	/* From a random place, the first candidate is the pick; the walk
	 * goes on only to see that there are `spread` of them (O(spread)
	 * while most sockets are candidates). A candidate after a run of
	 * others is a little likelier: the pool holds few of those. */
	if (spread > 0 && w->pool_n > 0) {
		uint32_t	 start = worker_random(w, w->pool_n);

		for (i = 0; i < w->pool_n && n < spread; i++) {
			uint32_t		 k = (start + i) % w->pool_n;
			const struct wpool	*p = &w->pool[k];

			if (!net_same_peer(&p->local, local) ||
			    net_same_peer(&p->last, peer))
				continue;
			if (n++ == 0)
				pick = k;
		}
	}
	if (n < spread || pick == NIL) {
		if (pmin != 0)
			w->port_hint = worker_random(w,
			    (uint32_t)pmax - pmin + 1);
		fd = net_session_socket(local, pmin, pmax, &w->port_hint);
		if (fd != -1 && pmin != 0 && pick != NIL) {
			/* A range's ports are scarce: the new socket takes
			 * the place of a pooled one, so the worker holds no
			 * more ports than by reusing it (idle ones would
			 * starve the other workers). */
			close(w->pool[pick].fd);
			w->pool[pick] = w->pool[--w->pool_n];
		}
		/* No port or descriptor left: a pooled one after all. */
		if (fd != -1 || pick == NIL)
			return fd;
	}
	fd = w->pool[pick].fd;
	*prev = w->pool[pick].last;
	w->pool[pick] = w->pool[--w->pool_n];
	return fd;
}

/* Close pooled sockets idle for POOL_IDLE_MS, or all. */
static void
worker_pool_trim(struct worker *w, uint64_t now, bool all)
{
	uint32_t	 i = 0;

	while (i < w->pool_n) {
		if (all || w->pool[i].since_ms + POOL_IDLE_MS <= now) {
			close(w->pool[i].fd);
			w->pool[i] = w->pool[--w->pool_n];
		} else {
			i++;
		}
	}
}

/*
 * A request from the address and port of a transfer under way: -1 when
 * it is that transfer's own request again (dropped), otherwise 0 once the
 * old transfer has ended (or when there was none).
 */
static int
worker_replace(struct worker *w, enum tftp_op op, const struct tftp_req *req,
    const struct sockaddr_storage *peer, uint32_t hash, uint64_t now)
{
	struct wsess	*ws = worker_lookup(w, peer, hash);

	/* Same address and port, the same request (file, mode and options),
	 * nothing ACKed yet: the client retransmitted its request because
	 * our first packet is late or lost. Our own timer resends; a second
	 * session would double the traffic. */
	if (ws != NULL && !ws->s.progressed && ws->s.op == op &&
	    admit_same_req(ws->name, ws->name_len, ws->req_mode, &ws->req_opts,
	    req)) {
		STATS_ADD(w->st, req_retransmit, 1);
		return -1;
	}
	if (ws != NULL && !ws->shared) {
		/* Otherwise the new request replaces the old transfer: UEFI
		 * PXE reuses its source port for the real download after
		 * the tsize probe. It sends ERROR 8 to the probe's transfer
		 * port and at once the real RRQ to the listen port, so read
		 * what waits for the old transfer first (what the backend
		 * has already received, then its socket): the probe then
		 * ends as a probe, not as a replaced transfer. */
		wio_drain(&w->io, (uint32_t)(ws - w->ss), worker_event, w);
		if ((ws = worker_lookup(w, peer, hash)) != NULL) {
			worker_sess_ready(w, ws, now);
			ws = worker_lookup(w, peer, hash);
		}
	}
	if (ws != NULL) {
		/* An upload already committed (dallying) stays a success. */
		if (sess_close(&ws->s)) {
			ws->replaced = true;
			STATS_ADD(w->st, sess_replaced, 1);
		}
		worker_end(w, ws, now);
	}
	return 0;
}

/* A fresh slot takes what worker_request prepared in tmp (content, file
 * tree, local address, a pooled socket's last peer) and its socket. */
static void
worker_fill(struct wsess *ws, int fd, bool shared, const struct wsess *tmp,
    const struct conf_route *route, const struct tftp_req *req)
{
	ws->fd = fd;
	ws->shared = shared;
	ws->pending = tmp->pending;
	ws->job = tmp->job;
	ws->body = tmp->body;
	ws->up = tmp->up;
	ws->fs = tmp->fs;
	ws->route = route;
	ws->local = tmp->local;
	ws->prev = tmp->prev;
	ws->req_opts = req->opts;
	ws->req_mode = req->mode;
	ws->name_len = (uint16_t)req->file_len;
	memcpy(ws->name, req->file, req->file_len);
	ws->name[req->file_len] = '\0';
	timer_node_init(&ws->tn);
}

/*
 * Start a transfer for an RRQ or a WRQ. The file is resolved and opened
 * before the first answer, so no ERROR ever follows an OACK because of a
 * missing file (GRUB and EDK2 cannot cope with that).
 */
static void
worker_request(struct worker *w, int lfd, enum tftp_op op,
    const struct tftp_req *req, const struct sockaddr_storage *peer,
    const struct sockaddr_storage *local, uint64_t now)
{
	uint32_t		 hash = worker_hash(w, peer);
	struct wsess		*ws;
	const struct conf_route	*route;
	struct wsess		 tmp;
	struct fs		*fs;
	const char		*msg;
	int			 code, fd;

	if (worker_replace(w, op, req, peer, hash, now) == -1)
		return;
	if (req->mode == TFTP_MODE_MAIL) {
		admit_refuse(&w->adm, lfd, op, req, peer, local, TFTP_EBADOP,
		    "badreq", "Mail mode not supported");
		return;
	}
	if (w->free_head == NIL) {
		/* Error 0, not 3: U-Boot and PXE ROMs retry on it. */
		STATS_ADD(w->st, refused_busy, 1);
		admit_refuse(&w->adm, lfd, op, req, peer, local, TFTP_EUNDEF,
		    "busy", "Server busy, try again");
		return;
	}
	if (worker_admit(w, lfd, op, req, peer, local, &fs, &route,
	    now) == -1)
		return;
	memset(&tmp, 0, sizeof(tmp));
	tmp.fs = fs;
	tmp.peer = *peer;
	tmp.local = *local;
	code = worker_open(w, op, req, route, fs, &tmp, &msg);
	if (code != 0) {
		(void)limit_release(&w->limit, peer);
		if ((uint16_t)code == TFTP_EUNDEF)	/* memory, fds, spawner */
			STATS_ADD(w->st, refused_busy, 1);
		admit_refuse(&w->adm, lfd, op, req, peer, local, (uint16_t)code,
		    admit_reason((uint16_t)code), msg);
		return;
	}
	/* Single port mode answers from the listen socket itself: no socket
	 * per transfer, and the client's address and port find the
	 * transfer. Otherwise a socket of its own is the transfer's TID. */
	tmp.prev.ss_family = AF_UNSPEC;
	fd = w->conf->single_port ? lfd : worker_socket(w, local, peer,
	    &tmp.prev);
	if (fd == -1) {
		admit_log_exhausted(&w->adm, "transfer socket", errno);
		worker_close_content(&tmp);
		(void)limit_release(&w->limit, peer);
		STATS_ADD(w->st, refused_busy, 1);
		admit_refuse(&w->adm, lfd, op, req, peer, local, TFTP_EUNDEF,
		    "busy", "Server busy, try again");
		return;
	}
	ws = worker_alloc(w, peer, hash);
	worker_fill(ws, fd, w->conf->single_port, &tmp, route, req);
	if (ws->pending) {
		/* Remember the request for when the output arrives, and
		 * give up (backstop) if the spawner never answers. */
		ws->pend_req = *req;
		ws->pend_req.file = ws->name;
		sess_pend(&ws->s, op, req->mode, now, now +
		    route->exec.timeout_ms + EXECD_KILL_GRACE_MS + 1000);
		(void)timer_set(&w->timers, &ws->tn, ws->s.deadline_ms);
		return;
	}
	worker_start(w, ws, op, req, route, now);
}

/* One decoded packet from a transfer's peer, whichever socket it came
 * in on. */
static void
worker_sess_input(struct worker *w, struct wsess *ws, const struct tftp_msg *m,
    uint64_t now)
{
	struct sess_tx	 tx;

	sess_input(&ws->s, m, now, &tx);
	if (tx.flags == 0 && ws->s.state != SESS_DONE) {
		/* Nothing to send; deadline unchanged unless the session
		 * moved it. */
		if (ws->s.deadline_ms != ws->tn.deadline_ms)
			(void)timer_set(&w->timers, &ws->tn, ws->s.deadline_ms);
		return;
	}
	worker_apply(w, ws, &tx, now);
}

/* A non-request packet on a listen socket: in single port mode, the
 * ACKs, DATA and ERRORs of our transfers; otherwise a stray, dropped. */
static void
worker_listen_other(struct worker *w, const struct tftp_msg *m,
    const struct sockaddr_storage *peer, uint64_t now)
{
	struct wsess	*ws = NULL;

	if (w->conf->single_port)
		ws = worker_lookup(w, peer, worker_hash(w, peer));
	if (ws == NULL || !ws->shared) {
		STATS_ADD(w->st, listen_stray, 1);
		return;
	}
	worker_sess_input(w, ws, m, now);
}

/* One datagram on a listen socket. Only RRQ and WRQ belong here; other
 * packet types are dropped without an answer, so the listen port cannot
 * be used to reflect traffic. */
static void
worker_listen_pkt(struct worker *w, int lfd, int i, uint64_t now)
{
	const struct msghdr	*h = &w->rx.msgs[i].msg_hdr;
	const uint8_t		*buf = net_rx_buf(&w->rx, i);
	size_t			 len = w->rx.msgs[i].msg_len;
	const struct sockaddr_storage *peer = &w->rx.peer[i];
	struct sockaddr_storage	 local;
	struct tftp_msg		 m;
	bool			 isreq, trunc;
	int			 code;

	STATS_ADD(w->st, rx_pkts, 1);
	STATS_ADD(w->st, rx_bytes, len);
	if (len < 2 || net_rx_local(&w->rx, i, &local) == -1) {
		STATS_ADD(w->st, req_malformed, 1);
		return;
	}
	isreq = buf[0] == 0 && (buf[1] == TFTP_RRQ || buf[1] == TFTP_WRQ);
	trunc = (h->msg_flags & MSG_TRUNC) != 0;
	code = tftp_decode(buf, len, &m);
	/* Longer than the buffer: a request is refused; of the rest only
	 * an ERROR (single port: a client ending its transfer with a long
	 * message) still means something, its code. */
	if (trunc && (code != 0 || m.op != TFTP_ERROR))
		code = TFTP_EBADOP;
	if (code != 0) {
		if (trunc && isreq)
			STATS_ADD(w->st, req_toolong, 1);
		else
			STATS_ADD(w->st, req_malformed, 1);
		/* Malformed or longer than the buffer (RFC 2347: 512
		 * bytes; an option value of 1,000 digits, a 2,000-byte
		 * name): one short ERROR (1:1, no amplification), or the
		 * client retries to its limit. Anything else: silence. */
		if (!isreq)
			return;
		admit_log_refused(&w->adm, buf[1], NULL, (const char *)buf + 2,
		    strnlen((const char *)buf + 2, len - 2 < 64 ? len - 2 :
		    64), peer, (uint16_t)code, trunc ? "toolong" : "badreq");
		admit_refuse_send(&w->adm, lfd, peer, &local, (uint16_t)code,
		    trunc ? "Request too long" : "Malformed request");
		return;
	}
	switch (m.op) {
	case TFTP_RRQ:
	case TFTP_WRQ:
		if (m.op == TFTP_RRQ)
			STATS_ADD(w->st, rrq, 1);
		else
			STATS_ADD(w->st, wrq, 1);
		/* A draining worker in single port mode still reads its
		 * listen sockets for its transfers' ACKs, but takes no new
		 * request: the client retries and finds the next worker. */
		if (!w->draining)
			worker_request(w, lfd, m.op, &m.u.req, peer, &local,
			    now);
		break;
	default:
		worker_listen_other(w, &m, peer, now);
		break;
	}
}

static void
worker_listen_ready(struct worker *w, int lfd, uint64_t now)
{
	int	 round, n, i;

	for (round = 0; round < LISTEN_ROUNDS && w->listening; round++) {
		n = net_rx_recv(lfd, &w->rx);
		if (n <= 0) {
			if (n == -1 && errno != EINTR)
				log_warn("recvmmsg");
			return;
		}
		for (i = 0; i < n; i++)
			worker_listen_pkt(w, lfd, i, now);
		txq_flush(&w->txq);
		if (n < NET_BATCH)
			return;
	}
}

/* One datagram on a transfer's own socket: the peer's ACK or ERROR, or a
 * stranger's packet, which gets ERROR 5 while the transfer goes on (RFC
 * 1350 section 4). trunc: it did not fit the buffer. */
static void
worker_sess_dgram(struct worker *w, struct wsess *ws, const uint8_t *buf,
    size_t len, bool trunc, const struct sockaddr_storage *from, uint64_t now)
{
	struct tftp_msg		 m;

	STATS_ADD(w->st, rx_pkts, 1);
	STATS_ADD(w->st, rx_bytes, len);
	if (!net_same_peer(from, &ws->peer)) {
		if (ws->prev.ss_family != AF_UNSPEC &&
		    net_same_peer(from, &ws->prev)) {
			/* A pooled socket's last client, late (a duplicate
			 * final ACK): that transfer is over, no ERROR. */
			STATS_ADD(w->st, late_pkts, 1);
			return;
		}
		STATS_ADD(w->st, foreign_tid, 1);
		size_t elen = tftp_encode_error(w->ctlbuf, sizeof(w->ctlbuf),
		    TFTP_EBADID, "Unknown transfer ID");

		(void)sendto(ws->fd, w->ctlbuf, elen, MSG_DONTWAIT,
		    (const struct sockaddr *)from, net_sslen(from));
		return;
	}
	/* Longer than the buffer (600 bytes on io_uring): only an ERROR
	 * still means something, its code (the message is cut). */
	if (tftp_decode(buf, len, &m) != 0 || (trunc && m.op != TFTP_ERROR)) {
		STATS_ADD(w->st, bad_pkts, 1);
		return;
	}
	worker_sess_input(w, ws, &m, now);
}

/* Datagrams waiting on a transfer socket in the epoll set (or on one
 * about to be replaced). */
static void
worker_sess_ready(struct worker *w, struct wsess *ws, uint64_t now)
{
	struct sockaddr_storage	 from;
	socklen_t		 flen;
	ssize_t			 n;
	int			 round, rounds;

	/* A reader's client sends one ACK per window: read one datagram per
	 * readiness and save the recvfrom that would only say EAGAIN (the
	 * epoll set is level-triggered: more wakes us again). An upload's
	 * sender may have a window of DATA queued: drain it. */
	rounds = ws->s.op == TFTP_WRQ ? RX_PER_EVENT : 1;
	for (round = 0; round < rounds; round++) {
		flen = sizeof(from);
		n = recvfrom(ws->fd, w->pkt, TFTP_PKT_MAX + 1, MSG_DONTWAIT,
		    (struct sockaddr *)&from, &flen);
		if (n == -1)
			return;		/* EAGAIN, or ICMP-driven errors */
		worker_sess_dgram(w, ws, w->pkt, (size_t)n,
		    n > (ssize_t)TFTP_PKT_MAX, &from, now);
		if (ws->fd == -1)
			return;		/* ended */
	}
}

static void	worker_ctl_ready(struct worker *, uint64_t);
static void	worker_execd_ready(struct worker *, uint64_t);
static void	worker_start_drain(struct worker *, uint64_t);

/* A datagram the backend received for a transfer (io_uring). */
static void
worker_dgram(struct worker *w, const struct wio_ev *ev, uint64_t now)
{
	struct wsess	*ws = worker_ev_sess(w, ev);

	if (ws == NULL || !ws->on_ring)
		return;
	if (ev->what == WIO_BAD)
		STATS_ADD(w->st, bad_pkts, 1);
	else
		worker_sess_dgram(w, ws, ev->data, ev->len, ev->trunc, ev->from,
		    now);
}

/* One event or completion from the backend (wio_reap, wio_drain), at
 * loop time. */
static void
worker_event(void *ctx, const struct wio_ev *ev)
{
	struct worker	*w = ctx;
	uint64_t	 now = w->now_ms;
	uint64_t	 tag = ev->tag & TAG_MASK;
	uint32_t	 idx = (uint32_t)ev->tag;

	switch (ev->what) {
	case WIO_READY:
		if (tag == TAG_LISTEN && w->listening)
			worker_listen_ready(w, w->lfds[idx], now);
		else if (tag == TAG_CTL)
			worker_ctl_ready(w, now);
		else if (tag == TAG_EXECD)
			worker_execd_ready(w, now);
		break;
	case WIO_READABLE:
		if (ev->slot < w->cap && w->ss[ev->slot].fd != -1)
			worker_sess_ready(w, &w->ss[ev->slot], now);
		break;
	case WIO_DGRAM:
	case WIO_BAD:
		worker_dgram(w, ev, now);
		break;
	case WIO_SEND_FAILED:
		worker_send_failed(w, ev);
		break;
	}
}

/* End a pending exec request with an ERROR from its transfer port. */
static void
worker_exec_fail(struct worker *w, struct wsess *ws, uint16_t code,
    const char *msg, uint64_t now)
{
	ws->pending = false;
	sess_fail(&ws->s, code);
	worker_send_ctl(w, ws, tftp_encode_error(w->ctlbuf, sizeof(w->ctlbuf),
	    code, msg));
	worker_end(w, ws, now);
}

/* One finished program: start the transfer with its output, or refuse. */
static void
worker_exec_done(struct worker *w, struct execd_done *d, uint64_t now)
{
	struct wsess		*ws = NULL;
	struct content_req	 q;
	struct body		*body;
	const char		*msg;
	uint32_t		 i;
	int			 code;

	i = content_job_slot(d->job);
	if (i < w->cap && w->ss[i].fd != -1 && w->ss[i].pending &&
	    w->ss[i].job == d->job)
		ws = &w->ss[i];
	if (ws == NULL) {		/* replaced or timed out meanwhile */
		content_exec_discard(d);
		return;
	}
	worker_content_req(ws, &q);
	q.mode = ws->pend_req.mode;
	if ((code = content_exec_body(&q, d, &body, &msg)) != 0) {
		worker_exec_fail(w, ws, (uint16_t)code, msg, now);
		return;
	}
	ws->pending = false;
	ws->body = body;
	timer_cancel(&w->timers, &ws->tn);
	worker_start(w, ws, TFTP_RRQ, &ws->pend_req, ws->route, now);
}

/* Completions from the spawner. If it is gone, nothing can run programs
 * any more (the filter forbids fork): fail what waits and drain (no new
 * request; the transfers under way, plain files above all, finish), then
 * exit 1 so the supervisor starts a fresh worker with a fresh spawner. */
static void
worker_execd_ready(struct worker *w, uint64_t now)
{
	struct execd_done	 d;
	int			 n, round;

	for (round = 0; round < RX_PER_EVENT; round++) {
		n = content_exec_read(&w->ct, &d);
		if (n == 1) {
			worker_exec_done(w, &d, now);
			continue;
		}
		if (n == 0)
			return;
		log_warn("exec spawner gone; draining this worker for a "
		    "fresh one");
		for (uint32_t i = 0; i < w->cap; i++)
			if (w->ss[i].fd != -1 && w->ss[i].pending)
				worker_exec_fail(w, &w->ss[i], TFTP_EUNDEF,
				    "Exec handler unavailable", now);
		(void)wio_unwatch(&w->io, content_exec_fd(&w->ct));
		content_exec_stop(&w->ct);
		w->exit_code = 1;
		worker_start_drain(w, now);
		return;
	}
}

static void
worker_expire(struct worker *w, uint64_t now)
{
	struct timer_node	*tn;
	struct sess_tx		 tx;

	while ((tn = timer_pop_expired(&w->timers, now)) != NULL) {
		struct wsess *ws = (struct wsess *)((char *)tn -
		    offsetof(struct wsess, tn));

		if (ws->pending) {
			worker_exec_fail(w, ws, TFTP_EUNDEF,
			    "Generator did not answer", now);
			continue;
		}
		sess_timeout(&ws->s, now, &tx);
		worker_apply(w, ws, &tx, now);
	}
}

/* Once a second: unmap file bodies idle for cache_idle_ms. */
static void
worker_trim_cache(struct worker *w, uint64_t now)
{
	if (now < w->trim_ms)
		return;
	w->trim_ms = now + 1000;
	admit_log_flush(&w->adm, now);
	if (w->pool != NULL)
		worker_pool_trim(w, now, false);
	content_trim(&w->ct, now);
}

/* Stop taking requests: the listen sockets leave the epoll set (the
 * supervisor keeps them open, so queued requests wait for the next
 * worker in the reuseport group instead of being lost). */
static void
worker_start_drain(struct worker *w, uint64_t now)
{
	unsigned	 i;

	if (w->draining)
		return;
	w->draining = true;
	STATS_SET(w->st, state, STATS_W_DRAINING);
	w->drain_deadline_ms = now + w->conf->shutdown_timeout_ms;
	/* Uploads already committed only linger to re-ACK a lost final
	 * DATA: nothing is left to deliver, they end now. */
	for (i = 0; i < w->cap; i++)
		if (w->ss[i].fd != -1 && w->ss[i].s.state == SESS_DALLY) {
			(void)sess_close(&w->ss[i].s);
			worker_end(w, &w->ss[i], now);
		}
	log_info("draining, %u transfers in flight", w->nactive);
	/* Single port mode: the listen sockets carry our transfers' ACKs;
	 * keep reading them (new requests are dropped). */
	if (w->conf->single_port)
		return;
	w->listening = false;
	/* Close our copies too: a socket the next generation does not
	 * share leaves the reuseport group once the supervisor has closed
	 * its copy, so no request is queued where nobody reads. */
	for (i = 0; i < w->nlfds; i++)
		close(w->lfds[i]);
}

static void
worker_ctl_ready(struct worker *w, uint64_t now)
{
	char	 c;
	ssize_t	 n = read(w->ctl_fd, &c, 1);

	if (n == 0) {
		/* The supervisor is gone: leave now so nothing stays bound
		 * to the service port without a parent. */
		got_stop = 1;
		return;
	}
	if (n == 1 && c == 'D')
		worker_start_drain(w, now);
}

/*
 * The I/O backend: the epoll set with the listen sockets, the control
 * pipe and the spawner; then the read transfers' sockets on io_uring
 * (`io_uring = true`, not in single port mode, where the listen sockets
 * carry every transfer and recvmmsg/sendmmsg batch them already), with
 * the socket pool. Where the kernel refuses, the worker says why and
 * stays on epoll.
 */
static int
worker_setup_io(struct worker *w)
{
	const struct conf	*c = w->conf;
	const char		*why = "no memory";
	unsigned		 i;

	if (wio_init(&w->io, &w->txq) == -1)
		return -1;
	for (i = 0; i < w->nlfds; i++)
		if (wio_watch(&w->io, w->lfds[i], TAG_LISTEN | i) == -1)
			return -1;
	if ((w->ctl_fd != -1 && wio_watch(&w->io, w->ctl_fd, TAG_CTL) == -1) ||
	    (content_exec_fd(&w->ct) != -1 && wio_watch(&w->io,
	    content_exec_fd(&w->ct), TAG_EXECD) == -1))
		return -1;
	w->listening = true;
	if (!c->io_uring || c->single_port)
		return 0;
	/* With a port range, idle pooled sockets hold ports the other
	 * workers may need: at most half the range, shared out. */
	w->pool_cap = c->session.socket_pool;
	if (c->session.port_min != 0) {
		uint32_t range = (uint32_t)c->session.port_max -
		    c->session.port_min + 1;

		if (w->pool_cap > range / (2 * c->workers))
			w->pool_cap = range / (2 * c->workers);
	}
	w->pool = calloc(w->pool_cap + 1, sizeof(*w->pool));
	if (w->pool == NULL || wio_use_uring(&w->io, w->cap, &why) == -1) {
		log_info("io_uring unavailable, transfers on epoll: %s", why);
		free(w->pool);
		w->pool = NULL;
		w->pool_cap = 0;
		return 0;
	}
	log_info("transfers on io_uring");
	return 0;
}

/*
 * Listen socket buffers: requests are short (RFC 2347: 512 bytes), but in
 * single port mode an upload's DATA of blksize bytes arrives there too.
 */
static size_t
worker_rx_size(const struct conf *c)
{
	size_t	 n = c->session.blksize_max + TFTP_HDR_LEN + 1;

	return c->single_port && n > 1024 ? n : 1024;
}

/* Preallocate every per-transfer structure: nothing is allocated per
 * request afterwards. calloc'd pages stay untouched until used. */
static int
worker_setup_slots(struct worker *w)
{
	uint32_t	 i, hsize = 1;

	w->cap = w->conf->session.max_per_worker;
	while (hsize < w->cap * 2)
		hsize <<= 1;
	w->hmask = hsize - 1;
	w->ss = calloc(w->cap, sizeof(*w->ss));
	w->htab = malloc(hsize * sizeof(*w->htab));
	w->tstore = calloc(w->cap, sizeof(*w->tstore));
	w->pkt = malloc(TFTP_PKT_MAX + 1);
	if (w->ss == NULL || w->htab == NULL || w->tstore == NULL ||
	    w->pkt == NULL || net_rx_init(&w->rx, worker_rx_size(w->conf)) == -1)
		return -1;
	for (i = 0; i < hsize; i++)
		w->htab[i] = NIL;
	for (i = 0; i < w->cap; i++) {
		w->ss[i].fd = -1;
		w->ss[i].next = i + 1 < w->cap ? i + 1 : NIL;
	}
	w->free_head = 0;
	timer_init(&w->timers, w->tstore, w->cap);
	if (getrandom(&w->hseed, sizeof(w->hseed), GRND_NONBLOCK) !=
	    sizeof(w->hseed))
		w->hseed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^
		    clock_now_ms();
	return 0;
}

static void
worker_free(struct worker *w)
{
	uint32_t	 i;
	uint64_t	 now = clock_now_ms();

	for (i = 0; w->ss != NULL && i < w->cap; i++)
		if (w->ss[i].fd != -1) {
			sess_fail(&w->ss[i].s, TFTP_EUNDEF);
			worker_end(w, &w->ss[i], now);
		}
	content_free(&w->ct);
	limit_free(&w->limit);
	if (w->pool != NULL)
		worker_pool_trim(w, now, true);
	free(w->pool);
	wio_fini(&w->io);
	net_rx_free(&w->rx);
	free(w->ss);
	free(w->htab);
	free(w->tstore);
	free(w->pkt);
}

static void
worker_signals(sigset_t *runmask)
{
	struct sigaction	 sa;
	sigset_t		 block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, runmask);
	sigdelset(runmask, SIGTERM);
	sigdelset(runmask, SIGINT);
	sigdelset(runmask, SIGQUIT);
}

static int
worker_setup_limit(struct worker *w)
{
	const struct conf_limits *cl = &w->conf->limits;
	struct limit_conf	 lc;
	uint64_t		 seed;
	unsigned		 i;

	memset(&lc, 0, sizeof(lc));
	lc.max_per_client = w->conf->session.max_per_client;
	lc.rate_per_client_milli = cl->rate_per_client_milli;
	lc.burst_per_client = cl->burst_per_client;
	lc.rate_global_milli = cl->rate_global_milli;
	lc.burst_global = cl->burst_global;
	lc.nrules = cl->n_rules;	/* CONF_MAX_LIMIT_RULES == LIMIT_RULES_MAX */
	for (i = 0; i < cl->n_rules; i++) {
		lc.rules[i].cidr.bits = (uint8_t)addr_cidr_mapped(
		    &cl->rules[i].client, lc.rules[i].cidr.addr);
		lc.rules[i].max_per_client = cl->rules[i].max;
	}
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = clock_now_ms() ^ (uint64_t)getpid() << 32;
	if (limit_init(&w->limit, &lc, w->conf->session.max_per_worker * 2 <
	    1024 ? 1024 : w->conf->session.max_per_worker * 2, seed) == -1) {
		log_warn("limits");
		return -1;
	}
	return 0;
}

static bool
worker_has_uploads(const struct conf *c)
{
	unsigned	 i;

	for (i = 0; i < c->n_routes; i++)
		if (c->routes[i].write.enabled)
			return true;
	return false;
}

static int
worker_init(struct worker *w, const struct worker_args *a)
{
	const struct conf	*c = a->conf;
	const char		*what;

	memset(w, 0, sizeof(*w));
	content_init(&w->ct, c, a->mods);
	w->conf = c;
	w->id = a->id;
	w->lfds = a->lfds;
	w->nlfds = a->nlfds;
	w->ctl_fd = a->ctl_fd;
	w->st = a->stats;
	{
		const struct txq_hooks	 h = { .ctx = w,
		    .fault = worker_txq_fault, .gso_refused = worker_txq_gso_off,
		    .send_ud = worker_txq_ud };

		txq_init(&w->txq, w->st, c->session.gso, &h);
	}
	admit_init(&w->adm, c, w->st, &w->limit, &w->now_ms, w->ctlbuf,
	    sizeof(w->ctlbuf));
	if (w->st != NULL)
		stats_worker_start(w->st, getpid(), a->gen);
	w->lim.blksize_max = c->session.blksize_max;
	w->lim.windowsize_max = c->session.windowsize_max;
	w->lim.timeout_ms = c->session.timeout_ms;
	w->lim.timeout_max_ms = c->session.timeout_max_ms;
	w->lim.retries = c->session.retries;
	w->lim.first_retries = c->session.first_retries;
	w->lim.rto_min_ms = c->session.rto_min_ms;
	/* Every path is opened before the privilege drop (content.c). */
	w->now_ms = clock_now_ms();
	if (content_open_roots(&w->ct, &w->now_ms) == -1 ||
	    worker_setup_limit(w) == -1)
		return -1;
	if (priv_drop(c->user, c->group, c->chroot, &what) == -1) {
		log_warn("dropping privileges: %s", what);
		return -1;
	}
	/* Backstop for the control pipe: a dead supervisor stops us. Set
	 * after the uid change, which clears it. */
	(void)prctl(PR_SET_PDEATHSIG, SIGQUIT);
	if (content_init_modules(&w->ct) == -1)
		return -1;
	if (worker_setup_slots(w) == -1 || worker_setup_io(w) == -1) {
		log_warn("setup");
		return -1;
	}
	/* Last: from here on only the calls the loop needs are allowed. */
	if (c->seccomp && sandbox_apply((worker_has_uploads(c) ?
	    SANDBOX_UPLOADS : 0) | (wio_is_uring(&w->io) ? SANDBOX_URING : 0),
	    &what) == -1) {
		log_warn("seccomp filter: %s", what);
		return -1;
	}
	return 0;
}

int
worker_main(const struct worker_args *a)
{
	struct worker		 w;
	sigset_t		 runmask;
	int			 rc = 0;

	{
		char tag[16];

		snprintf(tag, sizeof(tag), "w%u", a->id);
		log_set_tag(tag);
	}
	worker_signals(&runmask);
	if (worker_init(&w, a) == -1) {
		worker_free(&w);
		return 2;
	}
	/* Serving from the next wait on: tell the supervisor, which tells
	 * systemd READY=1 once every worker has said so. One atomic write
	 * (below PIPE_BUF); a full pipe only delays the READY. */
	if (a->ready_fd != -1) {
		pid_t	 self = getpid();

		if (write(a->ready_fd, &self, sizeof(self)) != sizeof(self))
			log_warn("ready pipe");
		close(a->ready_fd);
	}
	log_debug("serving %s, %u transfer slots", a->conf->root,
	    w.cap);
	while (!got_stop) {
		uint64_t	 now = clock_now_ms();
		int		 wait = timer_wait_ms(&w.timers, now);

		/* Wake at least once a second for the heartbeat. */
		STATS_SET(w.st, heartbeat_ms, now);
		if (wait == -1 || wait > 1000)
			wait = 1000;

		if (got_term)
			worker_start_drain(&w, now);
		if (w.draining) {
			if (w.nactive == 0 || now >= w.drain_deadline_ms)
				break;
			if (wait == -1 || (uint64_t)wait >
			    w.drain_deadline_ms - now)
				wait = (int)(w.drain_deadline_ms - now);
		}
		if (wio_wait(&w.io, wait, &runmask) == -1 && errno != EINTR) {
			log_warn("%s", wio_wait_name(&w.io));
			rc = 1;
			break;
		}
		now = clock_now_ms();
		w.now_ms = now;
		wio_reap(&w.io, worker_event, &w);
		/*
		 * Completions still queued (the reap is capped) may hold the
		 * ACKs the timers wait for: with an RTO of a few RTTs they
		 * would look lost. Read them first, deferring the timers by
		 * at most EXPIRE_DEFER_MS.
		 */
		if (!wio_backlog(&w.io) ||
		    now - w.expire_ms >= EXPIRE_DEFER_MS) {
			worker_expire(&w, now);
			w.expire_ms = now;
		}
		/* Sends now (epoll), or at the next wait (io_uring). */
		wio_submit(&w.io);
		worker_trim_cache(&w, now);
	}
	if (w.draining && w.nactive > 0)
		log_warnx("shutdown timeout, abandoning %u transfers",
		    w.nactive);
	worker_free(&w);
	STATS_SET(w.st, state, STATS_W_EXITED);
	return rc != 0 ? rc : w.exit_code;
}
