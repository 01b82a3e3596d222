/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * loadgen.c - TFTP load generator for the benchmark (make bench) and a
 * verifying client for test_loadgen.sh. One process, one epoll loop, up to
 * 20,000 concurrent read transfers, each on its own UDP socket (its own
 * source port, as a booting rack would look). It is a correct RFC 1350 /
 * 2347 / 2348 / 2349 / 7440 client: options in the RRQ, OACK checked and
 * acknowledged with ACK 0, absolute block numbers so the 16-bit counter
 * rolls over (65535 -> 0), windows with gap recovery (ACK the last
 * in-order block, once per gap), retransmission of the RRQ or the last ACK
 * on timeout, and every DATA payload compared byte for byte with the
 * expected file (mapped once) at its offset. A mismatch fails the
 * transfer. The protocol itself (request, OACK check, block numbers,
 * windows, verification) is tests/tools/tclient.c, shared with tftpc;
 * this file owns the load: many sessions, their timers and the I/O. It is
 * not a test of the server's corner cases (tests/tools/tftpc.c is): it
 * ignores strangers instead of answering ERROR 5 and does not dally after
 * the last ACK. It stays one file of some 1,700 lines: the two I/O
 * backends below share the session table, the timer heap, the counters
 * and the prebuilt packets, which a split would turn into globals in a
 * header.
 *
 * It owns no server and no files; the bench script starts those.
 *
 * Two I/O backends move the bytes; the protocol code is the same. epoll:
 * a readiness event, then recvmmsg, per socket; sendto/send per packet.
 * io_uring (the default where the kernel allows it): one multishot
 * RECVMSG per session socket into a shared ring of provided buffers, every
 * send (RRQ, ACK, ERROR) and every close an SQE, and one io_uring_enter
 * per loop turn that submits them all and waits for completions or the
 * next timer. Per packet that is a CQE and an SQE instead of two or three
 * syscalls. It needs kernel 6.0 (multishot recvmsg); without it, or when
 * io_uring is disabled (sysctl, seccomp), loadgen says so on stderr and
 * uses epoll.
 *
 * Usage: loadgen [options] -e EXPECTED REMOTE-FILE
 *   -H HOST             server, IPv4 or IPv6 literal (default 127.0.0.1)
 *   -P PORT             server port (default 69)
 *   -c N                concurrent transfers (default 1, at most 20000)
 *   -n N                transfers in total (default 1)
 *   -e FILE             expected content (mmap'ed once); required
 *   -b N                blksize to ask for; 0: do not ask (default 1468)
 *   -w N                windowsize to ask for; 0: do not ask (default 0)
 *   --no-tsize          do not ask for tsize (asked by default, 0; an
 *                       OACK's tsize must equal the expected size)
 *   --plain             no options at all (RFC 1350: blksize 512, lockstep)
 *   --slow-ack-ms MS    send each ACK only MS ms after it became due (holds
 *                       many sessions open: S6)
 *   --first-data-latency  p50/p99 are RRQ -> first OACK/DATA, not the whole
 *                       transfer (app clock: RRQ start to the loop seeing
 *                       the reply); kp50/kp99 the same from the RRQ's
 *                       sendto to the kernel's receive timestamp of the
 *                       reply (SO_TIMESTAMPNS): without our own backlog
 *   --timeout-ms MS     client retransmit timeout (default 1000)
 *   --retries N         retransmits without progress before giving up (5)
 *   --start-rate N      start at most N transfers per second (0: no limit)
 *   --duration S        start no new transfer after S seconds; the ones in
 *                       flight finish (so -n is only a cap): equal run
 *                       times for fast and slow servers
 *   --max-seconds S     bound of the whole run (default 60); transfers still
 *                       running then count as unfinished (and as failed)
 *   --drop-data-pct P   drop P percent of received DATA as if lost (seeded
 *                       PRNG, --seed S): exercises gap recovery and resends
 *   --io uring|epoll    I/O backend (default uring, epoll where io_uring
 *                       is not available)
 *   -v                  one reason per failed transfer on stderr (first 20
 *                       are always shown)
 *
 * Output, one line on stdout:
 *   transfers=N ok=N failed=N timeouts=N bytes=N secs=F tps=F mibps=F
 *   p50_ms=F p99_ms=F errors=N mismatch=N gaveup=N unfinished=N
 *   rexmit_seen=N peak_active=N lat=xfer|first
 * and with --first-data-latency also
 *   kp50_ms=F kp99_ms=F kts_missing=N
 * and last lg_cpu_s=F, the load generator's own CPU seconds (user + sys)
 * transfers: started; bytes: payload of the ok transfers; timeouts: client
 * retransmit timer firings (RRQ or ACK resent); errors: transfers ended by
 * an ERROR from the server; mismatch: content or size differed; gaveup:
 * ended after --retries timeouts; rexmit_seen: duplicate DATA received;
 * kts_missing: first replies without a kernel timestamp (their kernel
 * sample is the app one).
 * Exit 0 if every transfer completed and verified, 1 if not, 2 on usage or
 * setup errors.
 */
#include <sys/epoll.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "../tools/tclient.h"
#include "tftp.h"

#define CONC_MAX	20000u
#define RX_BATCH	16		/* datagrams per recvmmsg */
#define RX_ROUNDS	4		/* recvmmsg calls per readable event */
#define EVENTS_MAX	512
#define NIL		UINT32_MAX
#define FAIL_SHOWN	20

enum lstate {
	L_FREE = 0,
	L_BUSY,			/* a transfer: tc.started says how far */
};

enum lend {
	END_OK,
	END_ERROR,		/* server sent ERROR */
	END_MISMATCH,		/* wrong content, size, block or option */
	END_GAVEUP,		/* retries exhausted */
	END_UNFINISHED,		/* --max-seconds reached */
	END_LOCAL,		/* socket or send failure here */
};

struct lsess {
	int		 fd;
	uint32_t	 gen;		/* epoll/io_uring tag check after reuse */
	uint32_t	 hidx;		/* heap position or NIL */
	uint8_t		 state;
	bool		 locked;	/* TID known and socket connected */
	bool		 ack_pending;	/* --slow-ack-ms: ACK waits for ack_due */
	bool		 ack_final;	/* the pending ACK ends the transfer */
	bool		 got_first;
	bool		 rx_armed;	/* io_uring: multishot recv in flight */
	bool		 rx_rearm;	/* io_uring: on the re-arm list */
	uint32_t	 tries;
	struct tclient	 tc;		/* blocks, window, options in force */
	uint64_t	 start_us;
	uint64_t	 deadline_us;	/* retransmit */
	uint64_t	 ack_due_us;
	uint64_t	 key_us;	/* heap key: <= the real wake time */
	uint64_t	 rrq_rt_ns;	/* CLOCK_REALTIME at the first RRQ */
};

struct cfg {
	const char	*host;
	unsigned	 port;
	unsigned	 conc;
	uint64_t	 total;
	const char	*exp_path;
	const char	*file;
	uint32_t	 blksize;	/* 0: not asked */
	uint32_t	 window;	/* 0: not asked */
	bool		 tsize;
	bool		 first_lat;
	bool		 verbose;
	unsigned	 slow_ack_ms;
	unsigned	 timeout_ms;
	unsigned	 retries;
	unsigned	 start_rate;
	unsigned	 max_seconds;
	unsigned	 duration_s;	/* 0: until -n started */
	unsigned	 drop_pct;
	uint64_t	 seed;
	int		 io;		/* IO_URING or IO_EPOLL */
};

enum { IO_URING, IO_EPOLL };

static struct cfg	 cfg;
static struct sockaddr_storage srv;
static socklen_t	 srv_len;
static int		 epfd = -1;
static const uint8_t	*exp_data;
static uint64_t		 exp_size;
static struct lsess	*ss;
static uint32_t		*heap;
static uint32_t		 heap_n;
static uint32_t		*free_list;
static uint32_t		 free_n;
static uint32_t		*lat_us;	/* one per started transfer */
static uint32_t		*klat_us;	/* the same from kernel timestamps */
static struct tclient_ask ask;	/* the options every RRQ asks */
static uint8_t		 req_pkt[TFTP_NAME_MAX + 128];
static size_t		 req_len;
static int		 rcvbuf;	/* 0: kernel default */
static uint64_t		 rng_state;
static bool		 use_uring;
/* Every packet we send, built once: a send from the ring reads its bytes
 * when the SQE is issued, so they must outlive the call that queued it. */
static uint8_t		 ack_pkts[65536 * 4];
static uint8_t		 err_pkt[64];
static size_t		 err_len;

static struct {
	uint64_t	started, ok, failed, timeouts, bytes, errors, mismatch;
	uint64_t	gaveup, unfinished, local, rexmit_seen, shown;
	uint64_t	kts_missing;
	uint32_t	active, peak_active;
} tot;

/* The clock of SO_TIMESTAMPNS. */
static uint64_t
rt_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void __attribute__((noreturn))
usage(const char *why)
{
	fprintf(stderr, "loadgen: %s\n"
	    "usage: loadgen [-H host] [-P port] [-c conc] [-n total] "
	    "-e expected\n"
	    "               [-b blksize] [-w windowsize] [--no-tsize] "
	    "[--plain]\n"
	    "               [--slow-ack-ms MS] [--first-data-latency] "
	    "[--timeout-ms MS]\n"
	    "               [--retries N] [--start-rate N] "
	    "[--duration S] [--max-seconds S]\n"
	    "               [--drop-data-pct P] [--seed S] [--io uring|epoll] "
	    "[-v] FILE\n", why);
	exit(2);
}

/* Bounded unsigned parse of a whole string; exits on junk. */
static uint64_t
parse_u64(const char *s, uint64_t min, uint64_t max, const char *what)
{
	return tcio_arg_u64(s, min, max, what, usage);
}

/* ---- timer heap: slot indices ordered by key_us ------------------------
 * A session's real wake time only moves later while data flows, so most
 * packets just store a new deadline; the heap is fixed when the stale
 * (earlier) key comes up (lazy increase). An earlier time sifts up. */

static uint64_t
sess_wake(const struct lsess *s)
{
	if (s->ack_pending && s->ack_due_us < s->deadline_us)
		return s->ack_due_us;
	return s->deadline_us;
}

static void
heap_swap(uint32_t a, uint32_t b)
{
	uint32_t t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	ss[heap[a]].hidx = a;
	ss[heap[b]].hidx = b;
}

static void
heap_up(uint32_t i)
{
	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (ss[heap[p]].key_us <= ss[heap[i]].key_us)
			break;
		heap_swap(i, p);
		i = p;
	}
}

static void
heap_down(uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < heap_n && ss[heap[l]].key_us < ss[heap[m]].key_us)
			m = l;
		if (r < heap_n && ss[heap[r]].key_us < ss[heap[m]].key_us)
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

/* Call after changing a deadline: keeps key_us <= the real wake time. */
static void
timer_touch(struct lsess *s)
{
	uint64_t t = sess_wake(s);

	if (s->hidx == NIL) {
		s->key_us = t;
		s->hidx = heap_n;
		heap[heap_n++] = (uint32_t)(s - ss);
		heap_up(s->hidx);
	} else if (t < s->key_us) {
		s->key_us = t;
		heap_up(s->hidx);
	}
}

static void
timer_remove(struct lsess *s)
{
	uint32_t i = s->hidx;

	if (i == NIL)
		return;
	s->hidx = NIL;
	if (i == --heap_n)
		return;
	heap[i] = heap[heap_n];
	ss[heap[i]].hidx = i;
	heap_up(i);
	heap_down(ss[heap[i]].hidx);
}

/* ---- io_uring: queueing -------------------------------------------------
 * user_data is generation << 32 | slot << 2 | op, so a completion for a
 * slot that was reused since is recognised and dropped. Received bytes
 * land in provided buffers (one ring of them for all sessions, returned
 * as soon as the CQE is handled), so a late completion for an old
 * session never writes into anything a new one owns; sends only point at
 * packets that never change (req_pkt, ack_pkts, err_pkt). */

#define UD_RECV		0u
#define UD_SEND		1u
#define UD_CANCEL	2u
#define UD_CLOSE	3u
#define UD_PROBE	(~(uint64_t)0 - 8)	/* no slot has this index */
#define UR_BGID		1
#define UR_NAMELEN	32	/* a sockaddr_in6, rounded for the cmsg */
#define UR_POOL_BYTES	(64u << 20)
#define UR_BATCH	16	/* completions waited for, at most ... */
#define UR_BATCH_US	50	/* ... for at most this long */
#define UR_PORTS_BUSY	4096	/* bound sockets: flush closes first */
#define UR_MANY		1024	/* sessions: see TASKRUN_FLAG in ur_init */

static struct io_uring	 ring;
static unsigned		 ur_skip;	/* IOSQE_CQE_SKIP_SUCCESS, if known */
static struct io_uring_buf_ring *ur_br;
static size_t		 ur_br_len;
static uint8_t		*ur_bufs;
static size_t		 ur_bufsz;	/* one provided buffer */
static unsigned		 ur_nbufs;
static struct msghdr	 ur_rxmsg;	/* multishot layout: name, cmsg room */
static struct msghdr	 ur_rrqmsg;	/* the RRQ to the server's port */
static struct iovec	 ur_rrqiov;
static uint32_t		*ur_rearm;	/* slots whose multishot ended */
static uint32_t		 ur_rearm_n;
static uint32_t		 ur_closing;	/* closes queued since the last wait */
static bool		 ur_trf;	/* IORING_SETUP_TASKRUN_FLAG */

static uint64_t
ud_make(const struct lsess *s, unsigned op)
{
	return (uint64_t)s->gen << 32 | (uint64_t)(s - ss) << 2 | op;
}

static void
ur_submit(void)
{
	int r = io_uring_submit(&ring);

	if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
		fprintf(stderr, "loadgen: io_uring_submit: %s\n", strerror(-r));
		exit(2);
	}
}

/* An SQE; a full submission queue is submitted first. */
static struct io_uring_sqe *
ur_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (sqe == NULL) {
		ur_submit();
		sqe = io_uring_get_sqe(&ring);
		if (sqe == NULL) {
			fprintf(stderr, "loadgen: io_uring: submission queue "
			    "stays full\n");
			exit(2);
		}
	}
	return sqe;
}

/* The session's one receive: every datagram a CQE, until it ends. */
static void
ur_arm_recv(struct lsess *s)
{
	struct io_uring_sqe *sqe = ur_sqe();

	io_uring_prep_recvmsg_multishot(sqe, s->fd, &ur_rxmsg, 0);
	sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = UR_BGID;
	io_uring_sqe_set_data64(sqe, ud_make(s, UD_RECV));
	s->rx_armed = true;
}

/* p stays valid (see above); MSG_DONTWAIT: a full socket buffer drops the
 * packet, as sendto does in the epoll backend. */
static void
ur_send(struct lsess *s, const uint8_t *p, size_t len)
{
	struct io_uring_sqe *sqe = ur_sqe();

	if (s->locked)
		io_uring_prep_send(sqe, s->fd, p, len, MSG_DONTWAIT);
	else
		io_uring_prep_sendmsg(sqe, s->fd, &ur_rrqmsg, MSG_DONTWAIT);
	sqe->flags |= ur_skip;
	io_uring_sqe_set_data64(sqe, ud_make(s, UD_SEND));
}

/* Cancel the receive, then close: both run after the sends queued before
 * them (SQEs are issued in order), and the fd stays ours until then, so
 * no new socket can get its number while an SQE still names it. */
static void
ur_close(struct lsess *s)
{
	struct io_uring_sqe *sqe;

	if (s->rx_armed) {
		sqe = ur_sqe();
		io_uring_prep_cancel64(sqe, ud_make(s, UD_RECV), 0);
		sqe->flags |= ur_skip;
		io_uring_sqe_set_data64(sqe, ud_make(s, UD_CANCEL));
		s->rx_armed = false;
	}
	sqe = ur_sqe();
	io_uring_prep_close(sqe, s->fd);
	sqe->flags |= ur_skip;
	io_uring_sqe_set_data64(sqe, ud_make(s, UD_CLOSE));
	ur_closing++;
}

/* A socket keeps its port until its cancelled receive has completed (task
 * work, run in io_uring_enter), so the sockets of a turn's ended sessions
 * could still be bound when the new ones bind theirs: up to 2 x -c ports,
 * and with -c 19000 the ephemeral range (28,232 by default) ran out and
 * RRQs were never sent. So, when many are bound, the closes and all the
 * task_work pending are carried out before new sessions start. */
static void
ur_flush_closes(void)
{
	int r, i;

	if (ur_closing == 0 || tot.active + ur_closing < UR_PORTS_BUSY)
		return;
	ur_closing = 0;
	r = io_uring_submit_and_get_events(&ring);
	for (i = 0; r >= 0 && i < 10000 && ur_trf &&
	    (IO_URING_READ_ONCE(*ring.sq.kflags) & IORING_SQ_TASKRUN); i++)
		r = io_uring_get_events(&ring);
	if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
		fprintf(stderr, "loadgen: io_uring_enter: %s\n", strerror(-r));
		exit(2);
	}
}

/* ---- sessions ------------------------------------------------------- */

static void
sess_end(struct lsess *s, enum lend how, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Now, with a syscall. */
static void
sess_send_now(struct lsess *s, const uint8_t *p, size_t len)
{
	if (s->locked)
		(void)send(s->fd, p, len, MSG_DONTWAIT);
	else
		(void)sendto(s->fd, p, len, MSG_DONTWAIT,
		    (const struct sockaddr *)&srv, srv_len);
}

/* p: req_pkt, an ack_pkts entry or err_pkt (they never change). */
static void
sess_send(struct lsess *s, const uint8_t *p, size_t len)
{
	/* Not yet locked, only the RRQ is ever sent (ur_rrqmsg). */
	if (use_uring && (s->locked || p == req_pkt))
		ur_send(s, p, len);
	else
		sess_send_now(s, p, len);
}

static void
sess_end(struct lsess *s, enum lend how, const char *fmt, ...)
{
	uint64_t	 idx = (uint64_t)(s - ss);
	va_list		 ap;

	switch (how) {
	case END_OK:
		tot.ok++;
		tot.bytes += exp_size;
		if (!cfg.first_lat && lat_us != NULL &&
		    tot.ok - 1 < cfg.total) {
			uint64_t d = tcio_now_us() - s->start_us;

			lat_us[tot.ok - 1] = d > UINT32_MAX ? UINT32_MAX :
			    (uint32_t)d;
		}
		break;
	case END_ERROR:
		tot.errors++;
		break;
	case END_MISMATCH:
		tot.mismatch++;
		break;
	case END_GAVEUP:
		tot.gaveup++;
		break;
	case END_UNFINISHED:
		tot.unfinished++;
		break;
	case END_LOCAL:
		tot.local++;
		break;
	}
	if (how != END_OK) {
		tot.failed++;
		if (fmt != NULL && (cfg.verbose || tot.shown < FAIL_SHOWN)) {
			tot.shown++;
			fprintf(stderr, "loadgen: slot %" PRIu64 " block %"
			    PRIu64 ": ", idx, s->tc.next);
			va_start(ap, fmt);
			vfprintf(stderr, fmt, ap);
			va_end(ap);
			fputc('\n', stderr);
		}
		/* Tell the server so it does not resend to a closed port. */
		if (s->locked && how != END_ERROR)
			sess_send(s, err_pkt, err_len);
	}
	timer_remove(s);
	if (s->fd >= 0 && use_uring)
		ur_close(s);
	else if (s->fd >= 0)
		close(s->fd);	/* also leaves the epoll set */
	s->fd = -1;
	s->state = L_FREE;
	s->gen++;
	free_list[free_n++] = (uint32_t)idx;
	tot.active--;
}

/* The ACK of the last in-order block (the wire number wraps). */
static void
sess_send_ack(struct lsess *s)
{
	uint16_t blk = (uint16_t)tclient_ack(&s->tc);

	sess_send(s, ack_pkts + 4 * (size_t)blk, 4);
}

/* The ACK of next-1 is due: now, or --slow-ack-ms later. */
static void
sess_ack_due(struct lsess *s, bool final, uint64_t now)
{
	if (cfg.slow_ack_ms == 0) {
		sess_send_ack(s);
		if (final)
			sess_end(s, END_OK, NULL);
		return;
	}
	s->ack_pending = true;
	s->ack_final = final;
	s->ack_due_us = now + (uint64_t)cfg.slow_ack_ms * 1000;
	s->tc.win_cnt = 0;	/* the window is closed until it goes */
	timer_touch(s);
}

static void
sess_start(uint64_t now)
{
	uint32_t	 i = free_list[--free_n];
	struct lsess	*s = &ss[i];
	struct epoll_event ev;
	int		 fd, one = 1;

	tot.started++;
	tot.active++;
	if (tot.active > tot.peak_active)
		tot.peak_active = tot.active;
	s->state = L_BUSY;
	s->locked = s->ack_pending = s->ack_final = s->got_first = false;
	s->rx_armed = s->rx_rearm = false;
	s->tries = 0;
	tclient_init(&s->tc);
	s->start_us = now;
	s->deadline_us = now + (uint64_t)cfg.timeout_ms * 1000;
	s->hidx = NIL;
	s->rrq_rt_ns = 0;
	fd = socket(srv.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && use_uring && (errno == EMFILE || errno == ENFILE)) {
		/* The closes still queued in the ring free some. */
		ur_submit();
		fd = socket(srv.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
	}
	s->fd = fd;
	if (fd < 0) {
		sess_end(s, END_LOCAL, "socket: %s", strerror(errno));
		return;
	}
	if (rcvbuf > 0)
		tcio_rcvbuf(fd, rcvbuf);
	if (cfg.first_lat && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS,
	    &one, sizeof(one)) < 0) {
		sess_end(s, END_LOCAL, "SO_TIMESTAMPNS: %s", strerror(errno));
		return;
	}
	if (use_uring) {
		ur_arm_recv(s);
	} else {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)s->gen << 32 | i;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			sess_end(s, END_LOCAL, "epoll_ctl: %s",
			    strerror(errno));
			return;
		}
	}
	timer_touch(s);
	if (cfg.first_lat) {
		/* The kernel latency starts here, not when a batch of
		 * queued SQEs is submitted. */
		s->rrq_rt_ns = rt_ns();
		sess_send_now(s, req_pkt, req_len);
	} else {
		sess_send(s, req_pkt, req_len);
	}
}

static uint64_t	 first_n;	/* first-reply latencies recorded */

/* kts_ns: the kernel's receive time of the reply (CLOCK_REALTIME), 0 if
 * the datagram came without one. */
static void
sess_record_first(struct lsess *s, uint64_t now, uint64_t kts_ns)
{
	uint64_t d, k;

	if (s->got_first)
		return;
	s->got_first = true;
	if (!cfg.first_lat || lat_us == NULL || first_n >= cfg.total)
		return;
	d = now - s->start_us;
	if (kts_ns == 0 || s->rrq_rt_ns == 0) {
		k = d;
		tot.kts_missing++;
	} else {
		k = kts_ns > s->rrq_rt_ns ? (kts_ns - s->rrq_rt_ns) / 1000 : 0;
	}
	klat_us[first_n] = k > UINT32_MAX ? UINT32_MAX : (uint32_t)k;
	lat_us[first_n++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static void
on_oack(struct lsess *s, const uint8_t *p, size_t len,
    const struct tftp_opts *o, uint64_t now)
{
	char	 why[TCLIENT_WHY_LEN];

	switch (tclient_oack(&s->tc, &ask, p, len, o, &exp_size, why)) {
	case TCLIENT_OACK_AGAIN:
		/* Our ACK 0 was lost, the server resent its OACK. */
		tot.rexmit_seen++;
		if (s->tc.next == 1 && !s->ack_pending)
			sess_send_ack(s);
		return;
	case TCLIENT_OACK_BAD:
		sess_end(s, END_MISMATCH, "%s", why);
		return;
	case TCLIENT_OACK_OK:
		break;
	}
	s->tries = 0;
	s->deadline_us = now + (uint64_t)cfg.timeout_ms * 1000;
	sess_ack_due(s, false, now);
}

/* An in-order block: verify it at its offset, ACK at the window's end. */
static void
on_data_inorder(struct lsess *s, const uint8_t *d, size_t len, uint64_t now)
{
	char	 why[TCLIENT_WHY_LEN];
	enum tclient_take t;

	if (tclient_verify(exp_data, exp_size, tclient_offset(&s->tc), d, len,
	    len < s->tc.blksize, why) != 0) {
		sess_end(s, END_MISMATCH, "%s", why);
		return;
	}
	t = tclient_take(&s->tc, len);
	s->tries = 0;
	s->deadline_us = now + (uint64_t)cfg.timeout_ms * 1000;
	if (t != TCLIENT_TAKE_MORE)
		sess_ack_due(s, t == TCLIENT_TAKE_LAST, now);
	/* Otherwise the deadline only moved later: the heap fixes it lazily. */
}

static void
on_data(struct lsess *s, uint16_t blk, const uint8_t *d, size_t len,
    uint64_t now)
{
	char	 why[TCLIENT_WHY_LEN];

	if (tclient_data_check(&s->tc, blk, len, why) != 0) {
		sess_end(s, END_MISMATCH, "%s", why);
		return;
	}
	if (s->ack_pending)
		return;		/* slow mode: the window is complete */
	if (tclient_rng_pct(&rng_state, cfg.drop_pct))
		return;		/* simulated loss */
	switch (tclient_data_step(&s->tc, blk)) {
	case TCLIENT_NEW:
		on_data_inorder(s, d, len, now);
		break;
	case TCLIENT_GAP:	/* the rest of this window is dropped */
		sess_send_ack(s);
		break;
	case TCLIENT_WAIT:
		break;
	case TCLIENT_OLD_ACK:	/* our ACK was lost or late */
		tot.rexmit_seen++;
		sess_send_ack(s);
		break;
	case TCLIENT_OLD:
		tot.rexmit_seen++;
		break;
	}
}

static void
on_packet(struct lsess *s, const uint8_t *p, size_t len,
    const struct sockaddr_storage *from, socklen_t from_len, uint64_t kts_ns,
    uint64_t now)
{
	struct tftp_msg	 m;
	char		 text[512];

	if (!s->locked) {
		if (!tcio_same_host(from, &srv))
			return;
		/* The server's transfer port is the TID: connect, so the
		 * kernel filters strangers and a duplicate session. */
		if (connect(s->fd, (const struct sockaddr *)from, from_len) < 0) {
			sess_end(s, END_LOCAL, "connect: %s", strerror(errno));
			return;
		}
		s->locked = true;
	}
	sess_record_first(s, now, kts_ns);
	if (tftp_decode(p, len, &m) != 0) {
		sess_end(s, END_MISMATCH, "malformed packet (%zu bytes)", len);
		return;
	}
	switch (m.op) {
	case TFTP_OACK:
		on_oack(s, p, len, &m.u.oack, now);
		break;
	case TFTP_DATA:
		on_data(s, m.u.data.block, m.u.data.data, m.u.data.len, now);
		break;
	case TFTP_ERROR:
		s->locked = false;	/* no answer to an ERROR */
		tclient_error_text(&m, text, sizeof(text));
		sess_end(s, END_ERROR, "%s", text);
		break;
	default:
		sess_end(s, END_MISMATCH, "unexpected %s", tftp_opname(m.op));
		break;
	}
}

static uint8_t			*rx_bufs;
static size_t			 rx_cap;
static struct mmsghdr		 rx_msgs[RX_BATCH];
static struct iovec		 rx_iov[RX_BATCH];
static struct sockaddr_storage	 rx_from[RX_BATCH];
static union {
	struct cmsghdr	 align;
	uint8_t		 b[CMSG_SPACE(sizeof(struct timespec))];
}				 rx_ctrl[RX_BATCH];

static uint64_t
cmsg_kts(const struct cmsghdr *c)
{
	struct timespec ts;

	if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS ||
	    c->cmsg_len < CMSG_LEN(sizeof(ts)))
		return 0;
	memcpy(&ts, CMSG_DATA(c), sizeof(ts));
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* SCM_TIMESTAMPNS of a recvmsg/recvmmsg, 0 if there is none. */
static uint64_t
msg_kts(struct msghdr *mh)
{
	struct cmsghdr	*c;
	uint64_t	 t;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c))
		if ((t = cmsg_kts(c)) != 0)
			return t;
	return 0;
}

static void
on_readable(struct lsess *s)
{
	uint32_t gen = s->gen;
	int	 round, n, i;

	for (round = 0; round < RX_ROUNDS; round++) {
		for (i = 0; i < RX_BATCH; i++) {
			rx_iov[i].iov_base = rx_bufs + (size_t)i * rx_cap;
			rx_iov[i].iov_len = rx_cap;
			memset(&rx_msgs[i].msg_hdr, 0, sizeof(struct msghdr));
			rx_msgs[i].msg_hdr.msg_iov = &rx_iov[i];
			rx_msgs[i].msg_hdr.msg_iovlen = 1;
			rx_msgs[i].msg_hdr.msg_name = &rx_from[i];
			rx_msgs[i].msg_hdr.msg_namelen = sizeof(rx_from[i]);
			if (cfg.first_lat) {
				rx_msgs[i].msg_hdr.msg_control = &rx_ctrl[i];
				rx_msgs[i].msg_hdr.msg_controllen =
				    sizeof(rx_ctrl[i]);
			}
		}
		n = recvmmsg(s->fd, rx_msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;	/* EAGAIN, or an ICMP error: the timer copes */
		{
			uint64_t now = tcio_now_us();

			for (i = 0; i < n; i++) {
				if (s->gen != gen || s->state == L_FREE)
					return;
				if (rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
					sess_end(s, END_MISMATCH,
					    "datagram larger than %zu", rx_cap);
					return;
				}
				on_packet(s, rx_bufs + (size_t)i * rx_cap,
				    rx_msgs[i].msg_len, &rx_from[i],
				    rx_msgs[i].msg_hdr.msg_namelen,
				    cfg.first_lat && !s->got_first ?
				    msg_kts(&rx_msgs[i].msg_hdr) : 0, now);
			}
		}
		if (n < RX_BATCH)
			return;
	}
}

/* ---- io_uring: completions -------------------------------------------- */

/* A datagram in provided buffer buf (res bytes, layout of ur_rxmsg). */
static void
ur_on_datagram(struct lsess *s, uint8_t *buf, int res, uint64_t now)
{
	struct io_uring_recvmsg_out	*o;
	struct sockaddr_storage		 from;
	struct cmsghdr			*c;
	socklen_t			 from_len = 0;
	uint64_t			 kts = 0;

	o = io_uring_recvmsg_validate(buf, res, &ur_rxmsg);
	if (o == NULL) {
		sess_end(s, END_LOCAL, "recvmsg: %d bytes, no header", res);
		return;
	}
	if (o->flags & MSG_TRUNC) {
		sess_end(s, END_MISMATCH, "datagram larger than %zu", rx_cap);
		return;
	}
	memset(&from, 0, sizeof(from));
	if (!s->locked) {
		from_len = o->namelen < UR_NAMELEN ? o->namelen : UR_NAMELEN;
		memcpy(&from, io_uring_recvmsg_name(o), from_len);
	}
	if (cfg.first_lat && !s->got_first)
		for (c = io_uring_recvmsg_cmsg_firsthdr(o, &ur_rxmsg);
		    c != NULL && kts == 0;
		    c = io_uring_recvmsg_cmsg_nexthdr(o, &ur_rxmsg, c))
			kts = cmsg_kts(c);
	on_packet(s, io_uring_recvmsg_payload(o, &ur_rxmsg),
	    io_uring_recvmsg_payload_length(o, res, &ur_rxmsg), &from,
	    from_len, kts, now);
}

static void
ur_on_recv(struct lsess *s, uint32_t gen, int res, uint32_t flags)
{
	bool		 live = s->state != L_FREE && s->gen == gen;
	uint16_t	 bid = 0;
	uint8_t		*buf = NULL;

	if (flags & IORING_CQE_F_BUFFER) {
		bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
		buf = ur_bufs + (size_t)bid * ur_bufsz;
	}
	if (live && !(flags & IORING_CQE_F_MORE)) {
		/* The multishot ended (no buffer left, an ICMP error, ...):
		 * armed again once this batch of CQEs is handled. */
		s->rx_armed = false;
		if (!s->rx_rearm) {
			s->rx_rearm = true;
			ur_rearm[ur_rearm_n++] = (uint32_t)(s - ss);
		}
	}
	if (live && res >= 0 && buf != NULL) {
		ur_on_datagram(s, buf, res, tcio_now_us());
	} else if (live && res < 0) {
		switch (-res) {
		case ENOBUFS:		/* the pool ran dry for a moment */
		case ECANCELED:
		case EINTR:
		case EAGAIN:
		case ECONNREFUSED:	/* ICMP: the timer copes, as in */
		case EHOSTUNREACH:	/* the epoll backend */
		case ENETUNREACH:
			break;
		default:
			sess_end(s, END_LOCAL, "recvmsg: %s", strerror(-res));
			break;
		}
	}
	if (buf != NULL) {
		io_uring_buf_ring_add(ur_br, buf, (unsigned)ur_bufsz, bid,
		    io_uring_buf_ring_mask(ur_nbufs), 0);
		io_uring_buf_ring_advance(ur_br, 1);
	}
}

/* Every CQE there is; each is marked seen before it is handled, so the
 * handlers may submit (a full SQ) without the CQ filling up. */
static void
ur_reap(void)
{
	struct io_uring_cqe	*cqe;
	uint64_t		 ud;
	uint32_t		 idx, flags, i;
	int			 res;

	while (io_uring_peek_cqe(&ring, &cqe) == 0 && cqe != NULL) {
		ud = cqe->user_data;
		res = cqe->res;
		flags = cqe->flags;
		io_uring_cqe_seen(&ring, cqe);
		idx = (uint32_t)ud >> 2;
		if ((ud & 3) != UD_RECV || idx >= cfg.conc) {
			/* A failed send is dropped as sendto's error is. */
			continue;
		}
		ur_on_recv(&ss[idx], (uint32_t)(ud >> 32), res, flags);
	}
	for (i = 0; i < ur_rearm_n; i++) {
		struct lsess *s = &ss[ur_rearm[i]];

		s->rx_rearm = false;
		if (s->state != L_FREE && !s->rx_armed && s->fd >= 0)
			ur_arm_recv(s);
	}
	ur_rearm_n = 0;
}

/* How many completions to wait for. While many replies are due, a quarter
 * of them (at most UR_BATCH) for at most UR_BATCH_US, then whatever came:
 * this process sleeps and is woken less often, and the server pays for
 * every wake-up in its sends (measured: windowed runs, where replies come
 * in bursts, were slower than with epoll when every reply woke us).
 * Lock-step or not, each active session owes at least one reply, unless
 * its ACK is held back (--slow-ack-ms: no batching then). */
static unsigned
ur_wait_nr(void)
{
	uint64_t	 due = 0;
	uint32_t	 j;

	if (cfg.slow_ack_ms != 0)
		return 1;
	if (heap_n >= 4 * UR_BATCH)
		return UR_BATCH;
	for (j = 0; j < heap_n; j++) {
		const struct lsess *x = &ss[heap[j]];

		due += x->tc.started && x->tc.window > x->tc.win_cnt ?
		    x->tc.window - x->tc.win_cnt : 1;
	}
	due /= 4;
	return due < 1 ? 1 : due > UR_BATCH ? UR_BATCH : (unsigned)due;
}

/* Submit what is queued, wait for completions or until next_t. */
static void
ur_wait(uint64_t next_t)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe	*cqe;
	uint64_t		 now = tcio_now_us(), d;
	unsigned		 nr = 1;
	int			 r;

	ur_closing = 0;		/* this enter carries them out */
	/* Whole milliseconds, as epoll_wait: timers due close together are
	 * handled in one turn, not one enter each. */
	d = next_t > now ? (next_t - now + 999) / 1000 * 1000 : 0;
	if (d > UR_BATCH_US && (nr = ur_wait_nr()) > 1)
		d = UR_BATCH_US;
	ts.tv_sec = (long long)(d / 1000000);
	ts.tv_nsec = (long long)(d % 1000000) * 1000;
	r = io_uring_submit_and_wait_timeout(&ring, &cqe, nr, &ts, NULL);
	if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN &&
	    r != -EBUSY) {
		fprintf(stderr, "loadgen: io_uring_enter: %s\n", strerror(-r));
		exit(2);
	}
	ur_reap();
}

/* The session's wake time came: a slow ACK, or a retransmit timeout. */
static void
on_timer(struct lsess *s, uint64_t now)
{
	if (s->ack_pending && now >= s->ack_due_us) {
		s->ack_pending = false;
		sess_send_ack(s);
		if (s->ack_final) {
			sess_end(s, END_OK, NULL);
			return;
		}
		s->deadline_us = now + (uint64_t)cfg.timeout_ms * 1000;
	}
	if (now >= s->deadline_us) {
		if (s->tries >= cfg.retries) {
			sess_end(s, END_GAVEUP, "no progress after %u "
			    "retransmits (%s)", s->tries,
			    s->tc.started ? "data" : "no reply to RRQ");
			return;
		}
		s->tries++;
		tot.timeouts++;
		if (!s->tc.started)
			sess_send(s, req_pkt, req_len);
		else
			sess_send_ack(s);
		s->deadline_us = now + (uint64_t)cfg.timeout_ms * 1000;
	}
}

static void
timers_run(uint64_t now)
{
	while (heap_n > 0) {
		struct lsess	*s = &ss[heap[0]];
		uint64_t	 t;

		if (s->key_us > now)
			return;
		t = sess_wake(s);
		if (t <= now) {
			on_timer(s, now);
			if (s->state == L_FREE)
				continue;	/* removed itself */
			t = sess_wake(s);
		}
		s->key_us = t;
		heap_down(s->hidx);
	}
}

/* ---- setup and main --------------------------------------------------- */

static void
map_expected(void)
{
	struct stat	 st;
	int		 fd = open(cfg.exp_path, O_RDONLY | O_CLOEXEC);
	void		*p;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "loadgen: %s: cannot read expected file\n",
		    cfg.exp_path);
		exit(2);
	}
	exp_size = (uint64_t)st.st_size;
	if (exp_size == 0) {
		static const uint8_t empty[1];

		exp_data = empty;
	} else {
		p = mmap(NULL, exp_size, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "loadgen: mmap %s: %s\n", cfg.exp_path,
			    strerror(errno));
			exit(2);
		}
		exp_data = p;
	}
	close(fd);
}

static void
build_request(void)
{
	ask.blksize = cfg.blksize;
	ask.windowsize = cfg.window;
	ask.tsize = cfg.tsize;
	req_len = tclient_request(req_pkt, sizeof(req_pkt), TFTP_RRQ, cfg.file,
	    "octet", &ask);
	if (req_len == 0)
		usage("file name too long");
}

/* The packets sent from the ring: built once, never changed. */
static void
build_packets(void)
{
	uint32_t b;

	for (b = 0; b < 65536; b++)
		tftp_encode_ack(ack_pkts + 4 * b, 4, (uint16_t)b);
	err_len = tftp_encode_error(err_pkt, sizeof(err_pkt), TFTP_EUNDEF,
	    "loadgen gave up");
}

static unsigned
pow2_at_least(uint64_t n, unsigned cap)
{
	unsigned p = 1;

	while (p < n && p < cap)
		p <<= 1;
	return p;
}

/* Does the kernel do multishot recvmsg (6.0)? Arm one on an idle socket
 * and cancel it: -ECANCELED says yes, -EINVAL no. */
static bool
ur_probe(void)
{
	struct io_uring_sqe	*sqe;
	struct io_uring_cqe	*cqe;
	struct __kernel_timespec ts = { .tv_sec = 1 };
	int			 fd, res = -EINVAL, i;

	fd = socket(srv.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_recvmsg_multishot(sqe, fd, &ur_rxmsg, 0);
	sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = UR_BGID;
	io_uring_sqe_set_data64(sqe, UD_PROBE);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_cancel64(sqe, UD_PROBE, 0);
	io_uring_sqe_set_data64(sqe, UD_PROBE + 1);
	io_uring_submit(&ring);
	for (i = 0; i < 4; i++) {
		if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) != 0)
			break;
		if (cqe->user_data == UD_PROBE && !(cqe->flags &
		    IORING_CQE_F_MORE)) {
			res = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
			break;
		}
		io_uring_cqe_seen(&ring, cqe);
	}
	close(fd);
	/* The cancel's own CQE, if it is still to come, is ignored. */
	return res == -ECANCELED;
}

/* Sizes: one provided buffer (recvmsg_out, name, cmsg room, the
 * datagram) and how many; the queues' lengths. Returns the cmsg room. */
static size_t
ur_sizes(unsigned *sq, unsigned *cq)
{
	uint64_t	 want;
	unsigned	 cap;
	size_t		 ctrl;

	ctrl = cfg.first_lat ? CMSG_SPACE(sizeof(struct timespec)) : 0;
	ur_bufsz = (sizeof(struct io_uring_recvmsg_out) + UR_NAMELEN + ctrl +
	    rx_cap + 63) & ~(size_t)63;
	/* What one loop turn may receive: a window per session (the rest
	 * waits in the socket buffers), within a memory budget. */
	want = (uint64_t)cfg.conc * (cfg.window ? cfg.window : 1) + 64;
	cap = 32768;
	while (cap > 64 && (size_t)cap * ur_bufsz > UR_POOL_BYTES)
		cap >>= 1;
	ur_nbufs = pow2_at_least(want, cap);
	*sq = pow2_at_least(2 * (uint64_t)cfg.conc + 64, 32768);
	*cq = pow2_at_least((uint64_t)ur_nbufs + 4 * (uint64_t)cfg.conc + 256,
	    65536);
	return ctrl;
}

/* The ring with the best setup flags this kernel takes; 0 or -errno. */
static int
ur_setup(unsigned sq, unsigned cq)
{
	static const unsigned setups[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		    IORING_SETUP_SUBMIT_ALL,
		IORING_SETUP_SUBMIT_ALL,
		0,
	};
	struct io_uring_params	 p;
	unsigned		 i;
	int			 r = -EINVAL;

	for (i = 0; i < sizeof(setups) / sizeof(setups[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = setups[i] | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
		/* Deferred task_work runs only in io_uring_enter, and newer
		 * kernels (6.13) run at most 20 items a pass: with 10,000
		 * sessions and --slow-ack-ms 100, replies then waited 5 ms
		 * on average, 30 ms at worst (epoll: 0.8, 6), and cancelled
		 * receives kept their sockets (and ports) long after the
		 * close (ur_flush_closes). With this flag the kernel says
		 * when work is left and liburing's peek runs it before we
		 * sleep (0.3, 5). Only with many sessions or slow ACKs: in
		 * fast runs it costs throughput (-c 256 --plain, 1 KiB:
		 * 5-25% fewer transfers/s). */
		if ((p.flags & IORING_SETUP_DEFER_TASKRUN) &&
		    (cfg.slow_ack_ms || cfg.conc >= UR_MANY))
			p.flags |= IORING_SETUP_TASKRUN_FLAG;
		p.cq_entries = cq;
		r = io_uring_queue_init_params(sq, &ring, &p);
		if (r != -EINVAL)
			break;
	}
	if (r < 0)
		return r;
	ur_trf = (p.flags & IORING_SETUP_TASKRUN_FLAG) != 0;
	ur_skip = p.features & IORING_FEAT_CQE_SKIP ? IOSQE_CQE_SKIP_SUCCESS :
	    0;
	return 0;
}

/* The provided buffer ring, filled; false if the kernel has none. */
static bool
ur_buffers(void)
{
	struct io_uring_buf_reg	 reg;
	unsigned		 i;

	ur_br_len = ((size_t)ur_nbufs * sizeof(struct io_uring_buf) + 4095) &
	    ~(size_t)4095;
	ur_br = mmap(NULL, ur_br_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ur_bufs = mmap(NULL, (size_t)ur_nbufs * ur_bufsz,
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ur_rearm = calloc(cfg.conc, sizeof(*ur_rearm));
	if (ur_br == MAP_FAILED || ur_bufs == MAP_FAILED || ur_rearm == NULL) {
		fprintf(stderr, "loadgen: io_uring buffers: %s\n",
		    strerror(errno));
		exit(2);
	}
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)ur_br;
	reg.ring_entries = ur_nbufs;
	reg.bgid = UR_BGID;
	if (io_uring_register_buf_ring(&ring, &reg, 0) < 0)
		return false;
	io_uring_buf_ring_init(ur_br);
	for (i = 0; i < ur_nbufs; i++)
		io_uring_buf_ring_add(ur_br, ur_bufs + (size_t)i * ur_bufsz,
		    (unsigned)ur_bufsz, (unsigned short)i,
		    io_uring_buf_ring_mask(ur_nbufs), (int)i);
	io_uring_buf_ring_advance(ur_br, (int)ur_nbufs);
	return true;
}

/* The ring, the buffer pool and the fixed message layouts; false (and
 * why) if this kernel or sandbox does not allow them. */
static bool
ur_init(const char **why)
{
	unsigned	 sq, cq;
	size_t		 ctrl;
	int		 r;

	ctrl = ur_sizes(&sq, &cq);
	if ((r = ur_setup(sq, cq)) < 0) {
		*why = strerror(-r);
		return false;
	}
	if (!ur_buffers()) {
		*why = "no provided buffer rings (kernel 5.19)";
		goto fail;
	}
	ur_rxmsg.msg_namelen = UR_NAMELEN;
	ur_rxmsg.msg_controllen = ctrl;
	ur_rrqiov.iov_base = req_pkt;
	ur_rrqiov.iov_len = req_len;
	ur_rrqmsg.msg_name = &srv;
	ur_rrqmsg.msg_namelen = srv_len;
	ur_rrqmsg.msg_iov = &ur_rrqiov;
	ur_rrqmsg.msg_iovlen = 1;
	if (!ur_probe()) {
		*why = "no multishot recvmsg (kernel 6.0)";
		goto fail;
	}
	return true;
fail:
	io_uring_queue_exit(&ring);
	munmap(ur_br, ur_br_len);
	munmap(ur_bufs, (size_t)ur_nbufs * ur_bufsz);
	free(ur_rearm);
	ur_rearm = NULL;
	return false;
}

/* One socket per session: lift the soft fd limit to the hard one. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur != RLIM_INFINITY &&
		    cfg.conc + 16 > rl.rlim_cur) {
			fprintf(stderr, "loadgen: -c %u needs %u fds, the limit "
			    "is %llu\n", cfg.conc, cfg.conc + 16,
			    (unsigned long long)rl.rlim_cur);
			exit(2);
		}
	}
}

static const struct option lopts[] = {
	{ "plain", no_argument, NULL, 1 },
	{ "slow-ack-ms", required_argument, NULL, 2 },
	{ "first-data-latency", no_argument, NULL, 3 },
	{ "timeout-ms", required_argument, NULL, 4 },
	{ "retries", required_argument, NULL, 5 },
	{ "start-rate", required_argument, NULL, 6 },
	{ "max-seconds", required_argument, NULL, 7 },
	{ "no-tsize", no_argument, NULL, 8 },
	{ "drop-data-pct", required_argument, NULL, 9 },
	{ "seed", required_argument, NULL, 10 },
	{ "duration", required_argument, NULL, 11 },
	{ "io", required_argument, NULL, 12 },
	{ NULL, 0, NULL, 0 },
};

/* One short option; false if c is not one. */
static bool
parse_short(int c, const char *arg)
{
	switch (c) {
	case 'H': cfg.host = arg; break;
	case 'P': cfg.port = parse_u64(arg, 1, 65535, "-P"); break;
	case 'c': cfg.conc = parse_u64(arg, 1, CONC_MAX, "-c"); break;
	case 'n': cfg.total = parse_u64(arg, 1, 100000000, "-n"); break;
	case 'e': cfg.exp_path = arg; break;
	case 'b':
		cfg.blksize = parse_u64(arg, 0, TFTP_BLKSIZE_MAX, "-b");
		if (cfg.blksize != 0 && cfg.blksize < TFTP_BLKSIZE_MIN)
			usage("-b: blksize below 8");
		break;
	case 'w': cfg.window = parse_u64(arg, 0, 65535, "-w"); break;
	case 'v': cfg.verbose = true; break;
	default: return false;
	}
	return true;
}

/* One long option (lopts) but --plain; false if c is not one. */
static bool
parse_long(int c, const char *arg)
{
	switch (c) {
	case 2:
		cfg.slow_ack_ms = parse_u64(arg, 0, 60000, "--slow-ack-ms");
		break;
	case 3: cfg.first_lat = true; break;
	case 4:
		cfg.timeout_ms = parse_u64(arg, 10, 600000, "--timeout-ms");
		break;
	case 5: cfg.retries = parse_u64(arg, 0, 1000, "--retries"); break;
	case 6:
		cfg.start_rate = parse_u64(arg, 0, 10000000, "--start-rate");
		break;
	case 7:
		cfg.max_seconds = parse_u64(arg, 1, 86400, "--max-seconds");
		break;
	case 8: cfg.tsize = false; break;
	case 9: cfg.drop_pct = parse_u64(arg, 0, 50, "--drop-data-pct"); break;
	case 10: cfg.seed = parse_u64(arg, 0, UINT64_MAX, "--seed"); break;
	case 11:
		cfg.duration_s = parse_u64(arg, 1, 86400, "--duration");
		break;
	case 12:
		if (strcmp(arg, "uring") == 0)
			cfg.io = IO_URING;
		else if (strcmp(arg, "epoll") == 0)
			cfg.io = IO_EPOLL;
		else
			usage("--io: uring or epoll");
		break;
	default: return false;
	}
	return true;
}

static void
parse_args(int argc, char **argv)
{
	bool	 plain = false;
	int	 c;

	cfg.host = "127.0.0.1";
	cfg.port = 69;
	cfg.conc = 1;
	cfg.total = 1;
	cfg.blksize = 1468;
	cfg.tsize = true;
	cfg.timeout_ms = 1000;
	cfg.retries = 5;
	cfg.max_seconds = 60;
	cfg.seed = 1;
	cfg.io = IO_URING;
	while ((c = getopt_long(argc, argv, "H:P:c:n:e:b:w:v", lopts,
	    NULL)) != -1) {
		if (c == 1)
			plain = true;
		else if (!parse_short(c, optarg) && !parse_long(c, optarg))
			usage("unknown option");
	}
	if (optind + 1 != argc)
		usage("one remote FILE expected");
	cfg.file = argv[optind];
	if (cfg.exp_path == NULL)
		usage("-e EXPECTED is required: every transfer is verified");
	if (plain) {
		cfg.blksize = cfg.window = 0;
		cfg.tsize = false;
	}
	if (cfg.conc > cfg.total)
		cfg.conc = (unsigned)cfg.total;
	rng_state = cfg.seed * 0x100000001b3ULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the n sorted samples, in ms. */
static double
pct_ms(const uint32_t *v, uint64_t n, double p)
{
	uint64_t k;

	if (n == 0)
		return 0.0;
	k = (uint64_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1] / 1000.0;
}

/* Buffers, slots and the I/O backend, sized by cfg; exits on failure. */
static void
setup(void)
{
	size_t		 bufsz;
	uint32_t	 i;

	/* Room for a window of the largest block granted, twice, so the
	 * client is not where the loss is. */
	if (cfg.blksize && cfg.window) {
		bufsz = ((size_t)cfg.blksize + 64) * 2 * cfg.window + 65536;
		rcvbuf = bufsz > (8u << 20) ? (8 << 20) : (int)bufsz;
	} else if (cfg.blksize > 8192) {
		rcvbuf = (int)(cfg.blksize + 64) * 4 + 65536;
	}
	rx_cap = (cfg.blksize > TFTP_BLKSIZE_DEFAULT ? cfg.blksize :
	    TFTP_BLKSIZE_DEFAULT) + TFTP_HDR_LEN + 1;
	rx_bufs = malloc(rx_cap * RX_BATCH);
	ss = calloc(cfg.conc, sizeof(*ss));
	heap = calloc(cfg.conc, sizeof(*heap));
	free_list = calloc(cfg.conc, sizeof(*free_list));
	lat_us = calloc(cfg.total, sizeof(*lat_us));
	if (cfg.first_lat)
		klat_us = calloc(cfg.total, sizeof(*klat_us));
	if (rx_bufs == NULL || ss == NULL || heap == NULL ||
	    free_list == NULL || lat_us == NULL ||
	    (cfg.first_lat && klat_us == NULL)) {
		fprintf(stderr, "loadgen: setup: %s\n", strerror(errno));
		exit(2);
	}
	if (cfg.io == IO_URING) {
		const char *why = "?";

		use_uring = ur_init(&why);
		if (!use_uring)
			fprintf(stderr, "loadgen: io_uring unavailable (%s): "
			    "using epoll\n", why);
	}
	if (!use_uring && (epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		fprintf(stderr, "loadgen: epoll_create1: %s\n",
		    strerror(errno));
		exit(2);
	}
	for (i = 0; i < cfg.conc; i++) {
		ss[i].fd = -1;
		ss[i].hidx = NIL;
		free_list[cfg.conc - 1 - i] = i;
	}
	free_n = cfg.conc;
}

/* epoll: wait until next_t for readable sessions and read them. */
static void
epoll_turn(uint64_t next_t)
{
	struct epoll_event evs[EVENTS_MAX];
	uint64_t	 now = tcio_now_us();
	int		 n, k, wait;

	wait = next_t > now ? (int)((next_t - now + 999) / 1000) : 0;
	n = epoll_wait(epfd, evs, EVENTS_MAX, wait);
	if (n < 0 && errno != EINTR) {
		fprintf(stderr, "loadgen: epoll_wait: %s\n", strerror(errno));
		exit(2);
	}
	for (k = 0; k < n; k++) {
		uint32_t idx = (uint32_t)evs[k].data.u64;
		uint32_t gen = (uint32_t)(evs[k].data.u64 >> 32);

		/* An event for a slot that was reused since. */
		if (ss[idx].state != L_FREE && ss[idx].gen == gen)
			on_readable(&ss[idx]);
	}
}

/* How many transfers may have started by now (--start-rate,
 * --duration). */
static uint64_t
start_allowed(uint64_t t0, uint64_t now, uint64_t stop_start)
{
	uint64_t allowed = UINT64_MAX;

	if (cfg.start_rate)
		allowed = (now - t0) * cfg.start_rate / 1000000 + 1;
	if (now >= stop_start)
		allowed = 0;
	return allowed;
}

/* The loop: start, time out and serve sessions until all are done or the
 * time is up. Returns when it ended. */
static uint64_t
run(uint64_t t0)
{
	uint64_t	 now, next_t, allowed;
	uint64_t	 end = t0 + (uint64_t)cfg.max_seconds * 1000000;
	uint64_t	 stop_start = cfg.duration_s ? t0 +
	    (uint64_t)cfg.duration_s * 1000000 : UINT64_MAX;

	while ((now = tcio_now_us()) < end) {
		allowed = start_allowed(t0, now, stop_start);
		if (use_uring && free_n > 0 && tot.started < cfg.total &&
		    tot.started < allowed)
			ur_flush_closes();
		while (free_n > 0 && tot.started < cfg.total &&
		    tot.started < allowed)
			sess_start(now);
		if (tot.active == 0 && (tot.started >= cfg.total ||
		    now >= stop_start))
			break;
		timers_run(now);
		if (tot.active == 0 && (tot.started >= cfg.total ||
		    now >= stop_start))
			break;
		next_t = end;
		if (heap_n > 0 && ss[heap[0]].key_us < next_t)
			next_t = ss[heap[0]].key_us;
		if (free_n > 0 && tot.started < cfg.total &&
		    now < stop_start) {
			/* A slot is free: start now, or at the next tick of
			 * --start-rate. */
			if (tot.started < allowed)
				next_t = now;
			else if (now + 1000 < next_t)
				next_t = now + 1000;
		}
		if (use_uring)
			ur_wait(next_t);
		else
			epoll_turn(next_t);
	}
	return tcio_now_us();
}

/* The one output line (see the top of the file). */
static void
report(uint64_t t0, uint64_t last_done)
{
	struct rusage	 ru;
	uint64_t	 nlat;
	double		 secs;

	secs = (double)(last_done - t0) / 1e6;
	if (secs <= 0)
		secs = 1e-6;
	nlat = cfg.first_lat ? first_n : tot.ok;
	if (nlat > cfg.total)
		nlat = cfg.total;
	qsort(lat_us, nlat, sizeof(*lat_us), cmp_u32);
	if (klat_us != NULL)
		qsort(klat_us, nlat, sizeof(*klat_us), cmp_u32);
	printf("transfers=%" PRIu64 " ok=%" PRIu64 " failed=%" PRIu64
	    " timeouts=%" PRIu64 " bytes=%" PRIu64 " secs=%.3f tps=%.3f"
	    " mibps=%.2f p50_ms=%.3f p99_ms=%.3f errors=%" PRIu64
	    " mismatch=%" PRIu64 " gaveup=%" PRIu64 " unfinished=%" PRIu64
	    " rexmit_seen=%" PRIu64 " peak_active=%u lat=%s",
	    tot.started, tot.ok, tot.failed, tot.timeouts, tot.bytes, secs,
	    (double)tot.ok / secs, (double)tot.bytes / secs / 1048576.0,
	    pct_ms(lat_us, nlat, 50), pct_ms(lat_us, nlat, 99), tot.errors,
	    tot.mismatch, tot.gaveup, tot.unfinished, tot.rexmit_seen,
	    tot.peak_active, cfg.first_lat ? "first" : "xfer");
	if (cfg.first_lat)
		printf(" kp50_ms=%.3f kp99_ms=%.3f kts_missing=%" PRIu64,
		    pct_ms(klat_us, nlat, 50), pct_ms(klat_us, nlat, 99),
		    tot.kts_missing);
	/* Our own CPU (user + sys): on 2 cores a lock-step run saturates
	 * the load generator before the server. */
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		printf(" lg_cpu_s=%.3f", (double)(ru.ru_utime.tv_sec +
		    ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec +
		    ru.ru_stime.tv_usec) / 1e6);
	putchar('\n');
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	uint64_t	 t0, last_done;
	uint32_t	 i;

	parse_args(argc, argv);
	if (tcio_resolve(cfg.host, cfg.port, &srv, &srv_len) != 0)
		usage("-H wants an IPv4 or IPv6 literal");
	map_expected();
	build_request();
	build_packets();
	raise_nofile();
	setup();
	t0 = tcio_now_us();
	last_done = run(t0);
	for (i = 0; i < cfg.conc; i++)
		if (ss[i].state != L_FREE)
			sess_end(&ss[i], END_UNFINISHED, NULL);
	if (use_uring)
		ur_submit();	/* their ERRORs */
	if (tot.unfinished > 0 ||
	    (tot.started < cfg.total && cfg.duration_s == 0))
		fprintf(stderr, "loadgen: time limit of %u s: %" PRIu64
		    " unfinished, %" PRIu64 " never started\n",
		    cfg.max_seconds, tot.unfinished, cfg.total - tot.started);
	report(t0, last_done);
	return tot.failed == 0 && tot.ok == tot.started &&
	    (tot.started == cfg.total || cfg.duration_s != 0) ? 0 : 1;
}
