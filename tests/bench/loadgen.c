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
 * transfer. It is not a test of the server's corner cases (tests/tools/
 * tftpc.c is): it ignores strangers instead of answering ERROR 5, does not
 * dally after the last ACK and does not check OACK option names.
 *
 * It owns no server and no files; the bench script starts those.
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
 *                       transfer
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
 *   -v                  one reason per failed transfer on stderr (first 20
 *                       are always shown)
 *
 * Output, one line on stdout:
 *   transfers=N ok=N failed=N timeouts=N bytes=N secs=F tps=F mibps=F
 *   p50_ms=F p99_ms=F errors=N mismatch=N gaveup=N unfinished=N
 *   rexmit_seen=N peak_active=N lat=xfer|first
 * transfers: started; bytes: payload of the ok transfers; timeouts: client
 * retransmit timer firings (RRQ or ACK resent); errors: transfers ended by
 * an ERROR from the server; mismatch: content or size differed; gaveup:
 * ended after --retries timeouts; rexmit_seen: duplicate DATA received.
 * Exit 0 if every transfer completed and verified, 1 if not, 2 on usage or
 * setup errors.
 */
#include <sys/epoll.h>
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

#include "tftp.h"

#define CONC_MAX	20000u
#define RX_BATCH	16		/* datagrams per recvmmsg */
#define RX_ROUNDS	4		/* recvmmsg calls per readable event */
#define EVENTS_MAX	512
#define NIL		UINT32_MAX
#define FAIL_SHOWN	20

enum lstate {
	L_FREE = 0,
	L_REQ,			/* RRQ sent, no reply yet */
	L_DATA,			/* receiving */
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
	uint32_t	 gen;		/* epoll tag check after slot reuse */
	uint32_t	 hidx;		/* heap position or NIL */
	uint8_t		 state;
	bool		 locked;	/* TID known and socket connected */
	bool		 ack_pending;	/* --slow-ack-ms: ACK waits for ack_due */
	bool		 ack_final;	/* the pending ACK ends the transfer */
	bool		 got_first;
	uint32_t	 blksize;
	uint32_t	 window;
	uint32_t	 win_cnt;	/* in-order blocks since the last ACK */
	uint32_t	 tries;
	uint64_t	 next;		/* absolute number of the block wanted */
	uint64_t	 gap_acked;	/* `next` a gap ACK was sent for */
	uint64_t	 start_us;
	uint64_t	 deadline_us;	/* retransmit */
	uint64_t	 ack_due_us;
	uint64_t	 key_us;	/* heap key: <= the real wake time */
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
};

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
static uint8_t		 req_pkt[TFTP_NAME_MAX + 128];
static size_t		 req_len;
static int		 rcvbuf;	/* 0: kernel default */
static uint64_t		 rng_state;

static struct {
	uint64_t	started, ok, failed, timeouts, bytes, errors, mismatch;
	uint64_t	gaveup, unfinished, local, rexmit_seen, shown;
	uint32_t	active, peak_active;
} tot;

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
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
	    "               [--drop-data-pct P] [--seed S] [-v] FILE\n", why);
	exit(2);
}

/* Bounded unsigned parse of a whole string; exits on junk. */
static uint64_t
parse_u64(const char *s, uint64_t min, uint64_t max, const char *what)
{
	char		*end;
	unsigned long long v;
	char		 msg[128];

	errno = 0;
	if (s == NULL || *s < '0' || *s > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	return v;
bad:
	snprintf(msg, sizeof(msg), "%s: bad value \"%s\" (%" PRIu64 "..%"
	    PRIu64 ")", what, s ? s : "", min, max);
	usage(msg);
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

/* ---- sessions ------------------------------------------------------- */

static void
sess_end(struct lsess *s, enum lend how, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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
			uint64_t d = now_us() - s->start_us;

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
			    PRIu64 ": ", idx, s->next);
			va_start(ap, fmt);
			vfprintf(stderr, fmt, ap);
			va_end(ap);
			fputc('\n', stderr);
		}
		/* Tell the server so it does not resend to a closed port. */
		if (s->locked && how != END_ERROR) {
			uint8_t	 pkt[64];
			size_t	 n = tftp_encode_error(pkt, sizeof(pkt),
			    TFTP_EUNDEF, "loadgen gave up");

			(void)send(s->fd, pkt, n, MSG_DONTWAIT);
		}
	}
	timer_remove(s);
	if (s->fd >= 0)
		close(s->fd);	/* also leaves the epoll set */
	s->fd = -1;
	s->state = L_FREE;
	s->gen++;
	free_list[free_n++] = (uint32_t)idx;
	tot.active--;
}

static void
sess_send(struct lsess *s, const uint8_t *p, size_t len)
{
	if (s->locked)
		(void)send(s->fd, p, len, MSG_DONTWAIT);
	else
		(void)sendto(s->fd, p, len, MSG_DONTWAIT,
		    (const struct sockaddr *)&srv, srv_len);
}

static void
sess_send_ack(struct lsess *s, uint64_t blk)
{
	uint8_t	 pkt[4];

	tftp_encode_ack(pkt, sizeof(pkt), (uint16_t)blk);
	sess_send(s, pkt, sizeof(pkt));
	s->win_cnt = 0;
}

/* The ACK of next-1 is due: now, or --slow-ack-ms later. */
static void
sess_ack_due(struct lsess *s, bool final, uint64_t now)
{
	if (cfg.slow_ack_ms == 0) {
		sess_send_ack(s, s->next - 1);
		if (final)
			sess_end(s, END_OK, NULL);
		return;
	}
	s->ack_pending = true;
	s->ack_final = final;
	s->ack_due_us = now + (uint64_t)cfg.slow_ack_ms * 1000;
	s->win_cnt = 0;
	timer_touch(s);
}

static void
sess_start(uint64_t now)
{
	uint32_t	 i = free_list[--free_n];
	struct lsess	*s = &ss[i];
	struct epoll_event ev;
	int		 fd;

	tot.started++;
	tot.active++;
	if (tot.active > tot.peak_active)
		tot.peak_active = tot.active;
	s->state = L_REQ;
	s->locked = s->ack_pending = s->ack_final = s->got_first = false;
	s->blksize = TFTP_BLKSIZE_DEFAULT;
	s->window = 1;
	s->win_cnt = s->tries = 0;
	s->next = 1;
	s->gap_acked = 0;
	s->start_us = now;
	s->deadline_us = now + (uint64_t)cfg.timeout_ms * 1000;
	s->hidx = NIL;
	fd = socket(srv.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	s->fd = fd;
	if (fd < 0) {
		sess_end(s, END_LOCAL, "socket: %s", strerror(errno));
		return;
	}
	/* A window of big blocks arrives in one burst. */
	if (rcvbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)s->gen << 32 | i;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		sess_end(s, END_LOCAL, "epoll_ctl: %s", strerror(errno));
		return;
	}
	timer_touch(s);
	sess_send(s, req_pkt, req_len);
}

/* Same IP address as the server (the port is the server's TID). */
static bool
same_host(const struct sockaddr_storage *a)
{
	if (a->ss_family != srv.ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)&srv)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)&srv)->sin6_addr, 16) == 0;
}

static uint64_t	 first_n;	/* first-reply latencies recorded */

static void
sess_record_first(struct lsess *s, uint64_t now)
{
	uint64_t d;

	if (s->got_first)
		return;
	s->got_first = true;
	if (!cfg.first_lat || lat_us == NULL || first_n >= cfg.total)
		return;
	d = now - s->start_us;
	lat_us[first_n++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static void
on_oack(struct lsess *s, const struct tftp_opts *o, uint64_t now)
{
	unsigned asked = 0;

	if (s->state != L_REQ) {
		/* Our ACK 0 was lost, the server resent its OACK. */
		tot.rexmit_seen++;
		if (s->next == 1 && !s->ack_pending)
			sess_send_ack(s, 0);
		return;
	}
	if (cfg.blksize)
		asked |= TFTP_OPT_BLKSIZE;
	if (cfg.window)
		asked |= TFTP_OPT_WINDOWSIZE;
	if (cfg.tsize)
		asked |= TFTP_OPT_TSIZE;
	if (asked == 0 || (o->set & ~asked) != 0) {
		sess_end(s, END_MISMATCH, "OACK with options not asked for");
		return;
	}
	if (o->set & TFTP_OPT_BLKSIZE) {
		if (o->blksize < TFTP_BLKSIZE_MIN || o->blksize > cfg.blksize) {
			sess_end(s, END_MISMATCH, "OACK blksize %u", o->blksize);
			return;
		}
		s->blksize = o->blksize;
	}
	if (o->set & TFTP_OPT_WINDOWSIZE) {
		if (o->windowsize < 1 || o->windowsize > cfg.window) {
			sess_end(s, END_MISMATCH, "OACK windowsize %u",
			    o->windowsize);
			return;
		}
		s->window = o->windowsize;
	}
	if ((o->set & TFTP_OPT_TSIZE) && o->tsize != exp_size) {
		sess_end(s, END_MISMATCH, "OACK tsize %" PRIu64 ", expected %"
		    PRIu64, o->tsize, exp_size);
		return;
	}
	s->state = L_DATA;
	s->tries = 0;
	s->deadline_us = now + (uint64_t)cfg.timeout_ms * 1000;
	sess_ack_due(s, false, now);
}

/* An in-order block: verify it at its offset, ACK at the window's end. */
static void
on_data_inorder(struct lsess *s, const uint8_t *d, size_t len, uint64_t now)
{
	uint64_t off = (s->next - 1) * (uint64_t)s->blksize;
	bool	 final = len < s->blksize;

	if (off + len > exp_size) {
		sess_end(s, END_MISMATCH, "more than the %" PRIu64
		    " expected bytes", exp_size);
		return;
	}
	if (len > 0 && memcmp(exp_data + off, d, len) != 0) {
		size_t i = 0;

		while (i < len && exp_data[off + i] == d[i])
			i++;
		sess_end(s, END_MISMATCH, "content differs at offset %" PRIu64,
		    off + i);
		return;
	}
	if (final && off + len != exp_size) {
		sess_end(s, END_MISMATCH, "ended at %" PRIu64 " bytes, "
		    "expected %" PRIu64, off + len, exp_size);
		return;
	}
	s->next++;
	s->win_cnt++;
	s->tries = 0;
	s->deadline_us = now + (uint64_t)cfg.timeout_ms * 1000;
	if (final || s->win_cnt >= s->window)
		sess_ack_due(s, final, now);
	/* Otherwise the deadline only moved later: the heap fixes it lazily. */
}

/* splitmix64: deterministic loss injection for --drop-data-pct. */
static bool
rng_drop(void)
{
	uint64_t z;

	if (cfg.drop_pct == 0)
		return false;
	z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31)) % 100 < cfg.drop_pct;
}

static void
on_data(struct lsess *s, uint16_t blk, const uint8_t *d, size_t len,
    uint64_t now)
{
	uint16_t delta = (uint16_t)(blk - (uint16_t)s->next);

	if (s->state == L_REQ) {
		/* No OACK: the server took none of our options (RFC 2347),
		 * so blksize 512 and window 1 are in force. */
		if (blk != 1) {
			sess_end(s, END_MISMATCH, "first DATA is block %u", blk);
			return;
		}
		s->state = L_DATA;
	}
	if (len > s->blksize) {
		sess_end(s, END_MISMATCH, "DATA %u has %zu bytes, blksize %u",
		    blk, len, s->blksize);
		return;
	}
	if (s->ack_pending)
		return;		/* slow mode: the window is complete */
	if (rng_drop())
		return;		/* simulated loss */
	if (delta == 0) {
		on_data_inorder(s, d, len, now);
	} else if (delta < 0x8000) {
		/* RFC 7440: a block is missing; ACK the last in-order one,
		 * once per gap: the rest of this window is dropped. */
		if (s->gap_acked != s->next) {
			s->gap_acked = s->next;
			sess_send_ack(s, s->next - 1);
		}
	} else {
		/* Already have it: the server resent (our ACK was lost or
		 * late). ACK again at the end of what it resent. */
		tot.rexmit_seen++;
		if (blk == (uint16_t)(s->next - 1))
			sess_send_ack(s, s->next - 1);
	}
}

static void
on_packet(struct lsess *s, const uint8_t *p, size_t len,
    const struct sockaddr_storage *from, socklen_t from_len, uint64_t now)
{
	struct tftp_msg	 m;

	if (!s->locked) {
		if (!same_host(from))
			return;
		/* The server's transfer port is the TID: connect, so the
		 * kernel filters strangers and a duplicate session. */
		if (connect(s->fd, (const struct sockaddr *)from, from_len) < 0) {
			sess_end(s, END_LOCAL, "connect: %s", strerror(errno));
			return;
		}
		s->locked = true;
	}
	sess_record_first(s, now);
	if (tftp_decode(p, len, &m) != 0) {
		sess_end(s, END_MISMATCH, "malformed packet (%zu bytes)", len);
		return;
	}
	switch (m.op) {
	case TFTP_OACK:
		on_oack(s, &m.u.oack, now);
		break;
	case TFTP_DATA:
		on_data(s, m.u.data.block, m.u.data.data, m.u.data.len, now);
		break;
	case TFTP_ERROR:
		s->locked = false;	/* no answer to an ERROR */
		sess_end(s, END_ERROR, "ERROR %u \"%s\"", m.u.error.code,
		    m.u.error.msg);
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
		}
		n = recvmmsg(s->fd, rx_msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;	/* EAGAIN, or an ICMP error: the timer copes */
		{
			uint64_t now = now_us();

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
				    rx_msgs[i].msg_hdr.msg_namelen, now);
			}
		}
		if (n < RX_BATCH)
			return;
	}
}

/* The session's wake time came: a slow ACK, or a retransmit timeout. */
static void
on_timer(struct lsess *s, uint64_t now)
{
	if (s->ack_pending && now >= s->ack_due_us) {
		s->ack_pending = false;
		sess_send_ack(s, s->next - 1);
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
			    s->state == L_REQ ? "no reply to RRQ" : "data");
			return;
		}
		s->tries++;
		tot.timeouts++;
		if (s->state == L_REQ)
			sess_send(s, req_pkt, req_len);
		else
			sess_send_ack(s, s->next - 1);
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
resolve_server(void)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&srv;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&srv;
	char			 host[128];
	size_t			 n = strlen(cfg.host);

	if (n >= sizeof(host))
		usage("host too long");
	if (cfg.host[0] == '[' && n > 2 && cfg.host[n - 1] == ']') {
		memcpy(host, cfg.host + 1, n - 2);
		host[n - 2] = '\0';
	} else {
		memcpy(host, cfg.host, n + 1);
	}
	memset(&srv, 0, sizeof(srv));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)cfg.port);
		srv_len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)cfg.port);
		srv_len = sizeof(*s6);
	} else {
		usage("-H wants an IPv4 or IPv6 literal");
	}
}

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
	struct tftp_opts o;

	memset(&o, 0, sizeof(o));
	if (cfg.blksize) {
		o.set |= TFTP_OPT_BLKSIZE;
		o.blksize = cfg.blksize;
	}
	if (cfg.window) {
		o.set |= TFTP_OPT_WINDOWSIZE;
		o.windowsize = cfg.window;
	}
	if (cfg.tsize) {
		o.set |= TFTP_OPT_TSIZE;
		o.tsize = 0;
	}
	req_len = tftp_encode_req(req_pkt, sizeof(req_pkt), TFTP_RRQ, cfg.file,
	    "octet", &o);
	if (req_len == 0)
		usage("file name too long");
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

static void
parse_args(int argc, char **argv)
{
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
		{ NULL, 0, NULL, 0 },
	};
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
	while ((c = getopt_long(argc, argv, "H:P:c:n:e:b:w:v", lopts,
	    NULL)) != -1) {
		switch (c) {
		case 'H': cfg.host = optarg; break;
		case 'P': cfg.port = parse_u64(optarg, 1, 65535, "-P"); break;
		case 'c':
			cfg.conc = parse_u64(optarg, 1, CONC_MAX, "-c");
			break;
		case 'n':
			cfg.total = parse_u64(optarg, 1, 100000000, "-n");
			break;
		case 'e': cfg.exp_path = optarg; break;
		case 'b':
			cfg.blksize = parse_u64(optarg, 0, TFTP_BLKSIZE_MAX,
			    "-b");
			if (cfg.blksize != 0 && cfg.blksize < TFTP_BLKSIZE_MIN)
				usage("-b: blksize below 8");
			break;
		case 'w':
			cfg.window = parse_u64(optarg, 0, 65535, "-w");
			break;
		case 'v': cfg.verbose = true; break;
		case 1: plain = true; break;
		case 2:
			cfg.slow_ack_ms = parse_u64(optarg, 0, 60000,
			    "--slow-ack-ms");
			break;
		case 3: cfg.first_lat = true; break;
		case 4:
			cfg.timeout_ms = parse_u64(optarg, 10, 600000,
			    "--timeout-ms");
			break;
		case 5:
			cfg.retries = parse_u64(optarg, 0, 1000, "--retries");
			break;
		case 6:
			cfg.start_rate = parse_u64(optarg, 0, 10000000,
			    "--start-rate");
			break;
		case 7:
			cfg.max_seconds = parse_u64(optarg, 1, 86400,
			    "--max-seconds");
			break;
		case 8: cfg.tsize = false; break;
		case 9:
			cfg.drop_pct = parse_u64(optarg, 0, 50,
			    "--drop-data-pct");
			break;
		case 10:
			cfg.seed = parse_u64(optarg, 0, UINT64_MAX, "--seed");
			break;
		case 11:
			cfg.duration_s = parse_u64(optarg, 1, 86400,
			    "--duration");
			break;
		default: usage("unknown option");
		}
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

int
main(int argc, char **argv)
{
	struct epoll_event evs[EVENTS_MAX];
	uint64_t	 t0, now, end, last_done, nlat, stop_start;
	uint32_t	 i;
	size_t		 bufsz;
	double		 secs;
	int		 n, k, wait;

	parse_args(argc, argv);
	resolve_server();
	map_expected();
	build_request();
	raise_nofile();

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
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (rx_bufs == NULL || ss == NULL || heap == NULL ||
	    free_list == NULL || lat_us == NULL || epfd < 0) {
		fprintf(stderr, "loadgen: setup: %s\n", strerror(errno));
		return 2;
	}
	for (i = 0; i < cfg.conc; i++) {
		ss[i].fd = -1;
		ss[i].hidx = NIL;
		free_list[cfg.conc - 1 - i] = i;
	}
	free_n = cfg.conc;

	t0 = last_done = now_us();
	end = t0 + (uint64_t)cfg.max_seconds * 1000000;
	stop_start = cfg.duration_s ? t0 + (uint64_t)cfg.duration_s * 1000000 :
	    UINT64_MAX;
	for (;;) {
		uint64_t allowed = UINT64_MAX, next_t;

		now = now_us();
		if (now >= end)
			break;
		if (cfg.start_rate)
			allowed = (now - t0) * cfg.start_rate / 1000000 + 1;
		if (now >= stop_start)
			allowed = 0;
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
		now = now_us();
		wait = next_t > now ? (int)((next_t - now + 999) / 1000) : 0;
		n = epoll_wait(epfd, evs, EVENTS_MAX, wait);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "loadgen: epoll_wait: %s\n",
			    strerror(errno));
			return 2;
		}
		for (k = 0; k < n; k++) {
			uint32_t idx = (uint32_t)evs[k].data.u64;
			uint32_t gen = (uint32_t)(evs[k].data.u64 >> 32);

			/* An event for a slot that was reused since. */
			if (ss[idx].state != L_FREE && ss[idx].gen == gen)
				on_readable(&ss[idx]);
		}
	}
	last_done = now_us();
	for (i = 0; i < cfg.conc; i++)
		if (ss[i].state != L_FREE)
			sess_end(&ss[i], END_UNFINISHED, NULL);
	if (tot.unfinished > 0 ||
	    (tot.started < cfg.total && cfg.duration_s == 0))
		fprintf(stderr, "loadgen: time limit of %u s: %" PRIu64
		    " unfinished, %" PRIu64 " never started\n",
		    cfg.max_seconds, tot.unfinished, cfg.total - tot.started);
	secs = (double)(last_done - t0) / 1e6;
	if (secs <= 0)
		secs = 1e-6;
	nlat = cfg.first_lat ? first_n : tot.ok;
	if (nlat > cfg.total)
		nlat = cfg.total;
	qsort(lat_us, nlat, sizeof(*lat_us), cmp_u32);
	printf("transfers=%" PRIu64 " ok=%" PRIu64 " failed=%" PRIu64
	    " timeouts=%" PRIu64 " bytes=%" PRIu64 " secs=%.3f tps=%.3f"
	    " mibps=%.2f p50_ms=%.3f p99_ms=%.3f errors=%" PRIu64
	    " mismatch=%" PRIu64 " gaveup=%" PRIu64 " unfinished=%" PRIu64
	    " rexmit_seen=%" PRIu64 " peak_active=%u lat=%s\n",
	    tot.started, tot.ok, tot.failed, tot.timeouts, tot.bytes, secs,
	    (double)tot.ok / secs, (double)tot.bytes / secs / 1048576.0,
	    pct_ms(lat_us, nlat, 50), pct_ms(lat_us, nlat, 99), tot.errors,
	    tot.mismatch, tot.gaveup, tot.unfinished, tot.rexmit_seen,
	    tot.peak_active, cfg.first_lat ? "first" : "xfer");
	fflush(stdout);
	return tot.failed == 0 && tot.ok == tot.started &&
	    (tot.started == cfg.total || cfg.duration_s != 0) ? 0 : 1;
}
