/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flood.c - raw TFTP packet tool for the adversarial tests and the
 * amplification figures. Loopback only: the server address must be in
 * 127.0.0.0/8 or ::1, and so must a source address given with -S; the
 * tool refuses anything else before it opens a socket. It never ACKs and
 * never completes a transfer: it is the attacker, not a client. Its two
 * modes stay in one file (some 1,500 lines) so that every send goes
 * through the one loopback guard (is_loopback, send_to).
 *
 * Mode "rrq" (the default): send N requests from M sockets (source ports),
 * round robin, as fast as possible or at -r per second, and count for T
 * seconds (from the first send) every datagram and byte that comes back,
 * per socket and per server transfer ID. Figures on the wire count the UDP
 * payload plus 28 (IPv4) or 48 (IPv6) bytes of IP and UDP headers, in both
 * directions. The "first packet" of a transfer is an OACK or DATA block 1:
 * first_max is the most copies of it any one transfer ID sent, and
 * first_last_ms the latest copy, in ms after its request was sent (a socket
 * that sends several requests dates a new transfer ID from its last one).
 *
 *   flood [common] [-n N] [-p M] [-r RATE] [-o OPTS] [-m MODE] [-T SECS]
 *         [--quiet-ms MS] [-v] FILE...
 *   -n N          requests in all (default 1); request i goes out from
 *                 socket k = i % M as its j = i / M th and asks for
 *                 FILE[(k + j) % nfiles], so each socket's requests
 *                 differ from one to the next
 *                 when there are several files (ptftpd then replaces the
 *                 socket's transfer; a repeat of one request while its
 *                 transfer starts is a retransmission, not a new one)
 *   -p M          sockets, i.e. source ports (default 1, at most 4096)
 *   -r RATE       requests per second (default 0: as fast as possible)
 *   -o OPTS       options as name=value,name=value (sent verbatim, so
 *                 "blksize=-1" or "tsize=" are possible); default none
 *   -m MODE       mode string (default octet)
 *   -T SECS       listen this long after the first send (default 5)
 *   --quiet-ms MS stop earlier, once everything is sent and nothing came
 *                 for MS ms (default 0: listen the whole T)
 *   -v            one line per socket too
 *
 * Output: one line "flood: key=value ..." with requests, sockets,
 * sent_pkts, sent_bytes (UDP payload), sent_wire, rx_pkts, rx_bytes,
 * rx_wire, amp_pkts (rx_pkts / sent_pkts), amp_wire (rx_wire / sent_wire),
 * rx_oack, rx_data, rx_error, rx_other, err0..err8 (ERROR codes seen),
 * tids (server transfer IDs seen), first_max, first_total, first_wait_ms
 * (the longest wait for a first copy, after its request), first_last_ms,
 * last_rx_ms (last datagram, after the first send), send_ms (time to send
 * all), send_fail (send errors, e.g. ENOBUFS), rx_dropped (datagrams the
 * kernel dropped on our full receive buffers, SO_RXQ_OVFL), sock_rx_min
 * and sock_rx_max (datagrams received per socket), and first_hist
 * ("copies:transfers,...").
 *
 * Mode "cases": send crafted datagrams, each from its own socket (so no
 * case sees another's session), all at once, then collect for --wait-ms
 * what comes back to each, and check it against the case's expectation.
 * An OACK or DATA is answered at once with ERROR 8 (OACK) or ERROR 0 (DATA)
 * so the server's session ends; nothing is ever ACKed.
 *
 *   flood cases [common] [-f FILE] [--wait-ms MS] [CASEFILE]
 *   -f FILE       a file that exists on the server (default flood.bin);
 *                 the built-in cases also ask for "flood-no-such-file"
 *   --wait-ms MS  how long to collect answers (default 600)
 *   CASEFILE      cases to run instead of the built-in ones; "-" lists
 *                 the built-in ones in this format and exits. One case a
 *                 line, "NAME EXPECT PAYLOAD", # starts a comment.
 *                 PAYLOAD escapes: \0 \n \t \\ \xHH, \F the -f file name,
 *                 \{N:TEXT} TEXT (escapes allowed, \} for "}") N times.
 *
 * EXPECT is a list of alternatives separated by "|": none (no answer at
 * all), any, error (any code), error:N, data, data:LEN (DATA 1 of LEN
 * bytes), oack, or oack:NAME[=VALUE],NAME... (exactly these options, with
 * these values when given). Whatever the expectation, an OACK is checked
 * against the request sent: it must come from a new port of the server's
 * address, carry only options the request named (case-insensitive), each
 * once, with a value in the RFC range and not above the largest the
 * request asked (timeout: equal to one asked); for anything that is not
 * an RRQ or a WRQ, no OACK or DATA at all. Output: one line a case,
 * "case NAME len=N -> ANSWER [ok]" or "... [FAIL: why]", then
 * "flood: cases=N ok=N failed=N".
 *
 * Common options:
 *   -H HOST       server address, 127.0.0.0/8 or ::1 (default 127.0.0.1)
 *   -P PORT       server port (required)
 *   -S ADDR       bind the sockets to this loopback source address
 *   --src-count K with -S (IPv4): spread the sockets over K consecutive
 *                 addresses from ADDR (default 1)
 *
 * Exit: 0 (rrq: done; cases: every case met its expectation), 1 (a case
 * failed, or a socket error), 2 (usage, or an address outside loopback).
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "num.h"
#include "tclient.h"
#include "tftp.h"

#define SOCKS_MAX	4096
#define REQ_MAX		2048		/* request built by rrq mode */
#define DGRAM_MAX	65535
#define HDR_V4		28		/* IPv4 + UDP headers */
#define HDR_V6		48		/* IPv6 + UDP headers */
#define CASES_MAX	256
#define ANS_MAX		8		/* answers kept per case */
#define OPT_MAX		400		/* options parsed from one request */
#define HIST_MAX	16

struct addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
};

static struct {
	const char	*host;
	unsigned	 port;
	const char	*src;
	unsigned	 src_count;
	/* rrq */
	unsigned	 n;
	unsigned	 m;
	double		 rate;
	const char	*opts;
	const char	*mode;
	double		 secs;
	unsigned	 quiet_ms;
	int		 verbose;
	char		**files;
	unsigned	 nfiles;
	/* cases */
	const char	*file;
	unsigned	 wait_ms;
	const char	*casefile;
} cfg = {
	.host = "127.0.0.1", .src_count = 1, .n = 1, .m = 1, .mode = "octet",
	.secs = 5, .file = "flood.bin", .wait_ms = 600,
};

static struct addr srv;
static unsigned hdr_len;
static uint8_t rxbuf[DGRAM_MAX + 1];

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("flood: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn))
usage(const char *why)
{
	fprintf(stderr, "flood: %s\n"
	    "usage: flood [rrq] -P port [-H host] [-S src [--src-count K]] "
	    "[-n N] [-p M]\n"
	    "             [-r rate] [-o name=val,..] [-m mode] [-T secs] "
	    "[--quiet-ms MS] [-v] FILE...\n"
	    "       flood cases -P port [-H host] [-S src] [-f file] "
	    "[--wait-ms MS] [CASEFILE|-]\n", why);
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
parse_u(const char *s, uint64_t max, const char *what)
{
	return tcio_arg_u64(s, 0, max, what, usage);
}

/* 1 if ss is in 127.0.0.0/8 or is ::1. IPv4-mapped addresses are refused
 * too: keep the rule simple to read. */
static int
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	}
	return 0;
}

/* A numeric loopback address and port into *a; exits otherwise. */
static void
parse_addr(const char *s, unsigned port, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (tcio_resolve(s, port, &a->ss, &a->len) != 0) {
		fprintf(stderr, "flood: %s: not a numeric address\n", s);
		exit(2);
	}
	if (!is_loopback(&a->ss)) {
		fprintf(stderr, "flood: %s: refused, loopback only "
		    "(127.0.0.0/8, ::1)\n", s);
		exit(2);
	}
}

/*
 * A non-blocking UDP socket of the server's family, bound to the source
 * address number k (-S, --src-count) if -S was given, with a large receive
 * buffer and drop counting. Exits on failure.
 */
static int
open_sock(unsigned k)
{
	int fd, one = 1, rcv = 1 << 20;

	fd = socket(srv.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		die("socket: %s", strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	if (cfg.src != NULL) {
		struct addr a;

		parse_addr(cfg.src, 0, &a);
		if (a.ss.ss_family != srv.ss.ss_family)
			usage("-S and -H must be of one family");
		if (a.ss.ss_family == AF_INET && cfg.src_count > 1) {
			struct sockaddr_in *s4 = (void *)&a.ss;

			s4->sin_addr.s_addr = htonl(ntohl(s4->sin_addr.s_addr) +
			    k % cfg.src_count);
			if (!is_loopback(&a.ss))
				usage("--src-count leaves 127.0.0.0/8");
		}
		if (bind(fd, (struct sockaddr *)&a.ss, a.len) == -1)
			die("bind %s: %s", cfg.src, strerror(errno));
	}
	return fd;
}

static ssize_t
send_to(int fd, const void *buf, size_t len, const struct sockaddr_storage *to,
    socklen_t tolen)
{
	if (!is_loopback(to)) {
		/* Cannot happen: every address here passed parse_addr or
		 * came from a loopback peer. Belt and braces. */
		fprintf(stderr, "flood: refusing to send outside loopback\n");
		exit(2);
	}
	return sendto(fd, buf, len, 0, (const struct sockaddr *)to, tolen);
}

/*
 * One datagram from fd into rxbuf; returns its length, or -1 when none is
 * waiting. *drops gets the kernel's drop counter when it comes along.
 */
static ssize_t
recv_one(int fd, struct sockaddr_storage *from, uint32_t *drops)
{
	struct iovec iov = { rxbuf, sizeof(rxbuf) };
	union {
		struct cmsghdr	 h;
		uint8_t		 b[CMSG_SPACE(sizeof(uint32_t))];
	} ctl;
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_name = from;
	mh.msg_namelen = sizeof(*from);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = &ctl;
	mh.msg_controllen = sizeof(ctl);
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n == -1)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
			memcpy(drops, CMSG_DATA(c), sizeof(*drops));
	return n;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* ------------------------------------------------------------------ */
/* rrq mode                                                             */

struct fsock {
	int		 fd;
	uint64_t	 last_req_ns;
	uint64_t	 rx_pkts;
	uint64_t	 rx_bytes;
	uint32_t	 drops;
	uint32_t	 reqs;
};

/* A server transfer ID seen by one socket. */
struct tid {
	uint32_t	 sock;		/* index + 1; 0: free entry */
	uint16_t	 port;
	uint32_t	 gen;		/* requests the socket had sent */
	uint32_t	 first_n;	/* copies of OACK / DATA 1 */
	uint64_t	 req_ns;	/* the request it answers */
	uint64_t	 first_ns;	/* first copy of the first packet */
	uint64_t	 last_first_ns;
};

static struct tid *tids;
static size_t tid_cap, tid_used;

static size_t
tid_hash(uint32_t sock, uint16_t port, uint32_t gen)
{
	uint64_t h = ((uint64_t)sock << 32 | (uint64_t)port << 16) ^ gen;

	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h ^ (h >> 29));
}

/*
 * The entry of (socket, server port, request generation): a server may
 * give a later transfer the port an earlier one had, and a socket's new
 * request ends its earlier transfer (ptftpd replaces it), so copies that
 * come after a socket's next request count for a new transfer.
 */
static struct tid *
tid_get(uint32_t sock, uint16_t port, uint32_t gen, uint64_t req_ns)
{
	size_t i, h;

	if (tid_used * 2 >= tid_cap) {
		struct tid *old = tids;
		size_t oldcap = tid_cap;

		tid_cap = tid_cap ? tid_cap * 2 : 4096;
		tids = calloc(tid_cap, sizeof(*tids));
		if (tids == NULL)
			die("out of memory");
		tid_used = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].sock != 0) {
				h = tid_hash(old[i].sock, old[i].port,
				    old[i].gen) & (tid_cap - 1);
				while (tids[h].sock != 0)
					h = (h + 1) & (tid_cap - 1);
				tids[h] = old[i];
				tid_used++;
			}
		free(old);
	}
	h = tid_hash(sock + 1, port, gen) & (tid_cap - 1);
	while (tids[h].sock != 0) {
		if (tids[h].sock == sock + 1 && tids[h].port == port &&
		    tids[h].gen == gen)
			return &tids[h];
		h = (h + 1) & (tid_cap - 1);
	}
	tids[h].sock = sock + 1;
	tids[h].port = port;
	tids[h].gen = gen;
	tids[h].req_ns = req_ns;
	tid_used++;
	return &tids[h];
}

static struct {
	uint64_t	sent_pkts, sent_bytes, send_fail;
	uint64_t	rx_pkts, rx_bytes, oack, data, error, other;
	uint64_t	err[10];
	uint64_t	first_total;
	uint64_t	last_rx_ns;
} tot;

/* RRQ for file with cfg.mode and cfg.opts into buf; returns its length. */
static size_t
build_rrq(uint8_t *buf, const char *file)
{
	size_t n = 0, l;
	const char *p;

#define PUT(s, len) do {						\
		if (n + (len) + 1 > REQ_MAX)				\
			usage("request longer than 2048 bytes");	\
		memcpy(buf + n, (s), (len));				\
		n += (len);						\
		buf[n++] = '\0';					\
	} while (0)
	buf[n++] = 0;
	buf[n++] = TFTP_RRQ;
	PUT(file, strlen(file));
	PUT(cfg.mode, strlen(cfg.mode));
	for (p = cfg.opts; p != NULL && *p != '\0'; ) {
		const char *eq = strchr(p, '='), *comma = strchr(p, ',');

		if (comma == NULL)
			comma = p + strlen(p);
		if (eq == NULL || eq > comma)
			usage("-o wants name=value,...");
		PUT(p, (size_t)(eq - p));
		l = (size_t)(comma - eq - 1);
		PUT(eq + 1, l);
		p = *comma == ',' ? comma + 1 : comma;
	}
#undef PUT
	return n;
}

static void
rrq_account(struct fsock *s, uint32_t si, const struct sockaddr_storage *from,
    size_t len, uint64_t now)
{
	unsigned op = len >= 2 ? get16(rxbuf) : 0xffff;

	s->rx_pkts++;
	s->rx_bytes += len;
	tot.rx_pkts++;
	tot.rx_bytes += len;
	tot.last_rx_ns = now;
	if (op == TFTP_OACK || (op == TFTP_DATA && len >= 4 &&
	    get16(rxbuf + 2) == 1)) {
		struct tid *t = tid_get(si, tcio_port(from), s->reqs,
		    s->last_req_ns);

		if (t->first_n++ == 0)
			t->first_ns = now;
		t->last_first_ns = now;
		tot.first_total++;
	}
	if (op == TFTP_OACK)
		tot.oack++;
	else if (op == TFTP_DATA)
		tot.data++;
	else if (op == TFTP_ERROR && len >= 4) {
		unsigned code = get16(rxbuf + 2);

		tot.error++;
		tot.err[code < 9 ? code : 9]++;
	} else
		tot.other++;
}

static void
rrq_drain(struct fsock *socks, uint32_t si, uint64_t *last_rx)
{
	struct sockaddr_storage from;
	ssize_t n;
	int round;

	for (round = 0; round < 4096; round++) {
		n = recv_one(socks[si].fd, &from, &socks[si].drops);
		if (n < 0)
			return;
		*last_rx = now_ns();
		rrq_account(&socks[si], si, &from, (size_t)n, *last_rx);
	}
}

static void
rrq_report(struct fsock *socks, uint64_t t0, uint64_t send_done)
{
	uint64_t sent_wire = tot.sent_bytes + tot.sent_pkts * hdr_len;
	uint64_t rx_wire = tot.rx_bytes + tot.rx_pkts * hdr_len;
	uint64_t rx_min = UINT64_MAX, rx_max = 0, drops = 0, hist[HIST_MAX];
	uint64_t first_last = 0, first_wait = 0;
	uint32_t first_max = 0;
	size_t i, ntids = 0;
	unsigned k;

	memset(hist, 0, sizeof(hist));
	for (i = 0; i < tid_cap; i++) {
		const struct tid *t = &tids[i];

		if (t->sock == 0)
			continue;
		ntids++;
		if (t->first_n > first_max)
			first_max = t->first_n;
		if (t->first_n > 0 && t->last_first_ns - t->req_ns > first_last)
			first_last = t->last_first_ns - t->req_ns;
		if (t->first_n > 0 && t->first_ns - t->req_ns > first_wait)
			first_wait = t->first_ns - t->req_ns;
		hist[t->first_n < HIST_MAX ? t->first_n : HIST_MAX - 1]++;
	}
	for (k = 0; k < cfg.m; k++) {
		if (socks[k].rx_pkts < rx_min)
			rx_min = socks[k].rx_pkts;
		if (socks[k].rx_pkts > rx_max)
			rx_max = socks[k].rx_pkts;
		drops += socks[k].drops;
		if (cfg.verbose)
			printf("sock %u reqs=%u rx_pkts=%" PRIu64 " rx_bytes=%"
			    PRIu64 " dropped=%u\n", k, socks[k].reqs,
			    socks[k].rx_pkts, socks[k].rx_bytes, socks[k].drops);
	}
	printf("flood: requests=%" PRIu64 " sockets=%u sent_pkts=%" PRIu64
	    " sent_bytes=%" PRIu64 " sent_wire=%" PRIu64 " rx_pkts=%" PRIu64
	    " rx_bytes=%" PRIu64 " rx_wire=%" PRIu64 " amp_pkts=%.2f"
	    " amp_wire=%.2f rx_oack=%" PRIu64 " rx_data=%" PRIu64
	    " rx_error=%" PRIu64 " rx_other=%" PRIu64,
	    tot.sent_pkts, cfg.m, tot.sent_pkts, tot.sent_bytes, sent_wire,
	    tot.rx_pkts, tot.rx_bytes, rx_wire,
	    tot.sent_pkts ? (double)tot.rx_pkts / (double)tot.sent_pkts : 0.0,
	    sent_wire ? (double)rx_wire / (double)sent_wire : 0.0,
	    tot.oack, tot.data, tot.error, tot.other);
	for (k = 0; k < 9; k++)
		printf(" err%u=%" PRIu64, k, tot.err[k]);
	printf(" tids=%zu first_max=%u first_total=%" PRIu64
	    " first_wait_ms=%.1f first_last_ms=%.1f last_rx_ms=%.1f"
	    " send_ms=%.1f send_fail=%" PRIu64 " rx_dropped=%" PRIu64
	    " sock_rx_min=%" PRIu64 " sock_rx_max=%" PRIu64 " first_hist=",
	    ntids, first_max, tot.first_total, (double)first_wait / 1e6,
	    (double)first_last / 1e6,
	    tot.last_rx_ns ? (double)(tot.last_rx_ns - t0) / 1e6 : 0.0,
	    (double)(send_done - t0) / 1e6, tot.send_fail, drops,
	    rx_min == UINT64_MAX ? 0 : rx_min, rx_max);
	for (k = 1, i = 0; k < HIST_MAX; k++)
		if (hist[k] != 0)
			printf("%s%u%s:%" PRIu64, i++ ? "," : "", k,
			    k == HIST_MAX - 1 ? "+" : "", hist[k]);
	printf("%s\n", i ? "" : "-");
}

/* Where a rrq run stands: what was sent, when. */
struct rrq_run {
	struct fsock	*socks;
	uint64_t	 t0;
	uint64_t	 sent;
	uint64_t	 last_send;
	uint64_t	 send_done;	/* when the last request went, 0 before */
	uint64_t	 last_rx;
};

/* When request number n is due (rate 0: at once). */
static uint64_t
rrq_due(const struct rrq_run *r, uint64_t n)
{
	return cfg.rate > 0 ? r->t0 + (uint64_t)((double)n * 1e9 /
	    cfg.rate) : r->t0;
}

/* Sends what is due, at most 64 before looking at replies. */
static void
rrq_send_due(struct rrq_run *r, uint64_t now)
{
	static uint8_t req[REQ_MAX];
	unsigned k;

	for (k = 0; k < 64 && r->sent < cfg.n; k++) {
		struct fsock *s = &r->socks[r->sent % cfg.m];
		size_t len;

		if (rrq_due(r, r->sent) > now)
			break;
		len = build_rrq(req, cfg.files[(r->sent % cfg.m +
		    r->sent / cfg.m) % cfg.nfiles]);
		if (send_to(s->fd, req, len, &srv.ss, srv.len) == -1) {
			if (errno == EAGAIN || errno == ENOBUFS ||
			    errno == EINTR) {
				tot.send_fail++;
				break;	/* retry after reading */
			}
			die("sendto: %s", strerror(errno));
		}
		s->last_req_ns = now_ns();
		s->reqs++;
		tot.sent_pkts++;
		tot.sent_bytes += len;
		r->last_send = s->last_req_ns;
		if (++r->sent == cfg.n)
			r->send_done = r->last_send;
	}
}

/* How long to wait for replies; -1: the run is over (--quiet-ms). */
static int
rrq_wait_ms(const struct rrq_run *r, uint64_t end)
{
	uint64_t now, last, due;
	int wait_ms;

	if (r->sent < cfg.n) {
		now = now_ns();
		due = cfg.rate > 0 ? rrq_due(r, r->sent) : 0;
		return due > now ? (int)((due - now) / 1000000) : 0;
	}
	last = r->last_rx > r->last_send ? r->last_rx : r->last_send;
	now = now_ns();	/* after the sends */
	if (cfg.quiet_ms > 0 && now > last &&
	    now - last >= cfg.quiet_ms * 1000000ull)
		return -1;
	wait_ms = (int)((end - now) / 1000000) + 1;
	if (cfg.quiet_ms > 0 && wait_ms > 50)
		wait_ms = 50;
	return wait_ms;
}

/* cfg.m sockets in a new epoll set (tag: socket index); returns the set. */
static int
rrq_open(struct fsock *socks)
{
	struct epoll_event ev;
	unsigned k;
	int ep;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("setup: %s", strerror(errno));
	for (k = 0; k < cfg.m; k++) {
		socks[k].fd = open_sock(k);
		ev.events = EPOLLIN;
		ev.data.u32 = k;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, socks[k].fd, &ev) == -1)
			die("epoll_ctl: %s", strerror(errno));
	}
	return ep;
}

static int
rrq_main(void)
{
	struct epoll_event evs[256];
	struct rrq_run r;
	uint64_t end;
	unsigned k;
	int ep, n, i, wait_ms;

	if (cfg.nfiles == 0)
		usage("no FILE");
	if (cfg.m == 0 || cfg.m > SOCKS_MAX)
		usage("-p must be 1..4096");
	memset(&r, 0, sizeof(r));
	r.socks = calloc(cfg.m, sizeof(*r.socks));
	if (r.socks == NULL)
		die("setup: %s", strerror(errno));
	ep = rrq_open(r.socks);
	r.t0 = r.last_rx = now_ns();
	end = r.t0 + (uint64_t)(cfg.secs * 1e9);
	while (now_ns() < end) {
		rrq_send_due(&r, now_ns());
		if ((wait_ms = rrq_wait_ms(&r, end)) < 0)
			break;
		n = epoll_wait(ep, evs, 256, wait_ms);
		if (n == -1 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++)
			rrq_drain(r.socks, evs[i].data.u32, &r.last_rx);
	}
	if (r.send_done == 0)
		r.send_done = r.last_send;
	rrq_report(r.socks, r.t0, r.send_done);
	for (k = 0; k < cfg.m; k++)
		close(r.socks[k].fd);
	close(ep);
	free(r.socks);
	free(tids);
	return 0;
}

/* ------------------------------------------------------------------ */
/* cases mode                                                           */

struct answer {
	unsigned	 op;		/* 0xffff: shorter than 2 bytes */
	unsigned	 a;		/* block or error code */
	size_t		 len;
	int		 from_listen;	/* came from the port we sent to */
	int		 same_host;
	uint64_t	 at_ns;		/* arrival, after the send */
	char		 text[160];	/* summary for the report line */
	char		 why[160];	/* a rule broken, "" if none */
};

struct xcase {
	char		*name;
	char		*expect;
	uint8_t		*pkt;
	size_t		 len;
	int		 fd;
	uint32_t	 drops;
	struct answer	 ans[ANS_MAX];
	unsigned	 nans;
	unsigned	 more;		/* answers past ANS_MAX */
	int		 closed;	/* sent our ERROR to its TID */
	uint64_t	 sent_ns;
};

static struct xcase cases[CASES_MAX];
static unsigned ncases;

/* Growable byte buffer for building payloads. */
struct bbuf {
	uint8_t	*p;
	size_t	 n, cap;
};

static void
bb_put(struct bbuf *b, const void *s, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->n + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			die("out of memory");
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void
bb_str(struct bbuf *b, const char *s)
{
	bb_put(b, s, strlen(s));
}

static void
bb_byte(struct bbuf *b, unsigned c)
{
	uint8_t x = (uint8_t)c;

	bb_put(b, &x, 1);
}

static void
bb_rep(struct bbuf *b, const char *s, size_t slen, unsigned times)
{
	unsigned i;

	for (i = 0; i < times; i++)
		bb_put(b, s, slen);
}

/*
 * Decode the escaped payload text s (up to stop, exclusive; NUL ends it
 * too) into b. Returns the position after the text, or NULL on an error.
 */
static const char *
unescape(struct bbuf *b, const char *s, int stop)
{
	while (*s != '\0' && *s != stop) {
		if (*s != '\\') {
			bb_byte(b, (unsigned char)*s++);
			continue;
		}
		s++;
		switch (*s) {
		case '0': bb_byte(b, 0); s++; break;
		case 'n': bb_byte(b, '\n'); s++; break;
		case 't': bb_byte(b, '\t'); s++; break;
		case '\\': bb_byte(b, '\\'); s++; break;
		case '}': bb_byte(b, '}'); s++; break;
		case 'F': bb_str(b, cfg.file); s++; break;
		case 'x': {
			int h = addr_hex(s[1]), l = h < 0 ? -1 : addr_hex(s[2]);

			if (l < 0)
				return NULL;
			bb_byte(b, (unsigned)(h << 4 | l));
			s += 3;
			break;
		}
		case '{': {
			char *end;
			unsigned long times = strtoul(s + 1, &end, 10);
			struct bbuf inner = { NULL, 0, 0 };

			if (end == s + 1 || *end != ':' || times > 100000)
				return NULL;
			s = unescape(&inner, end + 1, '}');
			if (s == NULL || *s != '}') {
				free(inner.p);
				return NULL;
			}
			s++;
			bb_rep(b, (const char *)inner.p, inner.n,
			    (unsigned)times);
			free(inner.p);
			break;
		}
		default:
			return NULL;
		}
	}
	return s;
}

static void
add_case(const char *name, const char *expect, const char *payload)
{
	struct bbuf b = { NULL, 0, 0 };
	const char *end;
	struct xcase *c;

	if (ncases == CASES_MAX)
		die("more than %d cases", CASES_MAX);
	end = unescape(&b, payload, 0);
	if (end == NULL || *end != '\0')
		die("case %s: bad payload escape", name);
	if (b.n > DGRAM_MAX)
		die("case %s: %zu bytes is more than a datagram", name, b.n);
	c = &cases[ncases++];
	c->name = strdup(name);
	c->expect = strdup(expect);
	c->pkt = b.p;
	c->len = b.n;
	c->fd = -1;
	if (c->name == NULL || c->expect == NULL)
		die("out of memory");
}

/*
 * The built-in cases, in the case file format. \F is the existing file.
 * A request longer than the server's receive buffer (1024 bytes in
 * ptftpd, RFC 2347 caps a request at 512) may be dropped as truncated:
 * those expect silence or ERROR 4.
 */
static const char *const builtin[][3] = {
	/* Not requests, to the listen port: silence (no reflection). */
	{ "empty", "none", "" },
	{ "one_byte", "none", "\\0" },
	{ "data_to_listen", "none", "\\0\\x03\\0\\x01hello" },
	{ "ack_to_listen", "none", "\\0\\x04\\0\\0" },
	{ "ack_short", "none", "\\0\\x04" },
	{ "error_to_listen", "none", "\\0\\x05\\0\\0oops\\0" },
	{ "error8_to_listen", "none", "\\0\\x05\\0\\x08\\0" },
	{ "oack_to_listen", "none", "\\0\\x06blksize\\0" "512\\0" },
	{ "opcode_0", "none", "\\0\\0\\F\\0octet\\0" },
	{ "opcode_7", "none", "\\0\\x07\\F\\0octet\\0" },
	{ "opcode_65535", "none", "\\xff\\xff\\F\\0octet\\0" },
	{ "opcode_256", "none", "\\x01\\x01\\F\\0octet\\0" },
	{ "big_junk_65507", "none", "\\xde\\xad\\{65505:J}" },
	{ "big_rrq_65507", "none|error:4", "\\0\\x01\\F\\0octet\\0"
	    "\\{65000:\\0}" },
	/* Malformed requests: ERROR 4. */
	{ "rrq_opcode_only", "error:4", "\\0\\x01" },
	{ "wrq_opcode_only", "error:4", "\\0\\x02" },
	{ "rrq_name_no_nul", "error:4", "\\0\\x01\\F" },
	{ "rrq_mode_no_nul", "error:4", "\\0\\x01\\F\\0octet" },
	{ "rrq_no_mode", "error:4", "\\0\\x01\\F\\0" },
	{ "rrq_empty_name", "error:4", "\\0\\x01\\0octet\\0" },
	{ "rrq_empty_mode", "error:4", "\\0\\x01\\F\\0\\0" },
	{ "rrq_bad_mode", "error:4", "\\0\\x01\\F\\0binary\\0" },
	{ "rrq_mode_prefix", "error:4", "\\0\\x01\\F\\0oct\\0" },
	{ "rrq_mode_longer", "error:4", "\\0\\x01\\F\\0octets\\0" },
	{ "rrq_mail", "error:4", "\\0\\x01\\F\\0mail\\0" },
	{ "rrq_nul_then_junk", "error:4",
	    "\\0\\x01\\F\\0junk\\xff\\x01\\0octet\\0" },
	{ "rrq_name_600", "error:4", "\\0\\x01\\{600:a}\\0octet\\0" },
	{ "rrq_name_2000", "none|error:4", "\\0\\x01\\{2000:a}\\0octet\\0" },
	{ "rrq_name_4000", "none|error:4", "\\0\\x01\\{4000:a}\\0octet\\0" },
	{ "wrq_bad_mode", "error:4", "\\0\\x02up\\0binary\\0" },
	/* Requests the server can serve or refuse by name. */
	{ "rrq_plain", "data:512", "\\0\\x01\\F\\0octet\\0" },
	{ "rrq_mode_case", "data", "\\0\\x01\\F\\0OcTeT\\0" },
	{ "rrq_netascii", "data", "\\0\\x01\\F\\0NETASCII\\0" },
	{ "rrq_trailing_junk", "data", "\\0\\x01\\F\\0octet\\0junk" },
	{ "rrq_nul_padding", "data", "\\0\\x01\\F\\0octet\\0\\0\\0\\0\\0" },
	{ "rrq_missing", "error:1", "\\0\\x01flood-no-such-file\\0octet\\0" },
	{ "rrq_missing_opts", "error:1", "\\0\\x01flood-no-such-file\\0octet"
	    "\\0tsize\\0" "0\\0blksize\\0" "1468\\0" },
	{ "rrq_name_255", "error:1|error:2", "\\0\\x01\\{255:n}\\0octet\\0" },
	{ "rrq_name_256", "error:1|error:2", "\\0\\x01\\{256:n}\\0octet\\0" },
	{ "rrq_name_512", "error:1|error:2",
	    "\\0\\x01\\{127:abc/}zzzz\\0octet\\0" },
	{ "wrq_disabled", "error:2", "\\0\\x02upload.bin\\0octet\\0" },
	/* Odd options: clamped or ignored, never an OACK out of bounds. */
	{ "opt_300_small", "oack:tsize", "\\0\\x01\\F\\0octet\\0"
	    "\\{300:a\\0\\0}tsize\\0" "0\\0" },
	{ "opt_300_big", "none|error:4|oack|data", "\\0\\x01\\F\\0octet\\0"
	    "\\{300:option\\0" "1\\0}" },
	{ "opt_300_unknown", "data", "\\0\\x01\\F\\0octet\\0"
	    "\\{150:u\\0" "1\\0}" },
	{ "opt_repeat_blksize", "oack:blksize=1024", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0" "1024\\0blksize\\0" "2048\\0BLKSIZE\\0" "512\\0" },
	{ "opt_repeat_tsize", "oack:tsize", "\\0\\x01\\F\\0octet\\0"
	    "tsize\\0" "0\\0tsize\\0" "0\\0TSIZE\\0" "0\\0" },
	{ "opt_repeat_all", "oack:blksize,tsize,windowsize,timeout",
	    "\\0\\x01\\F\\0octet\\0\\{2:blksize\\0" "1024\\0tsize\\0" "0\\0"
	    "windowsize\\0" "4\\0timeout\\0" "3\\0}" },
	{ "opt_first_invalid", "oack:blksize=1024", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0x\\0blksize\\0" "1024\\0" },
	{ "opt_upper_case", "oack:blksize=1024", "\\0\\x01\\F\\0octet\\0"
	    "BlKsIzE\\0" "1024\\0" },
	{ "blksize_huge", "oack:blksize", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0" "99999999999999999999\\0" },
	{ "blksize_65465", "oack:blksize", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0" "65465\\0" },
	{ "blksize_8", "oack:blksize=8", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0" "8\\0" },
	{ "blksize_7", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0" "7\\0" },
	{ "blksize_0", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0" "0\\0" },
	{ "blksize_negative", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0-512\\0" },
	{ "blksize_empty", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0\\0" },
	{ "blksize_no_value", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0" },
	{ "blksize_space", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0 512\\0" },
	{ "blksize_hex", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0" "0x400\\0" },
	{ "blksize_plus", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "blksize\\0+1024\\0" },
	{ "blksize_leading_zeros", "oack:blksize=1024",
	    "\\0\\x01\\F\\0octet\\0blksize\\0\\{900:0}1024\\0" },
	{ "tsize_huge", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "tsize\\0" "99999999999999999999\\0" },
	{ "tsize_negative", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "tsize\\0-1\\0" },
	{ "tsize_nonzero", "oack:tsize", "\\0\\x01\\F\\0octet\\0"
	    "tsize\\0" "12345\\0" },
	{ "timeout_0", "data:512", "\\0\\x01\\F\\0octet\\0timeout\\0" "0\\0" },
	{ "timeout_256", "data:512", "\\0\\x01\\F\\0octet\\0timeout\\0"
	    "256\\0" },
	{ "timeout_1", "oack:timeout=1", "\\0\\x01\\F\\0octet\\0timeout\\0"
	    "1\\0" },
	{ "windowsize_0", "data:512", "\\0\\x01\\F\\0octet\\0windowsize\\0"
	    "0\\0" },
	{ "windowsize_65536", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "windowsize\\0" "65536\\0" },
	{ "windowsize_huge", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "windowsize\\0" "99999999999999999999\\0" },
	{ "windowsize_65535", "oack:windowsize", "\\0\\x01\\F\\0octet\\0"
	    "windowsize\\0" "65535\\0" },
	{ "unknown_options", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "multicast\\0\\0foo\\0bar\\0rollover\\0" "0\\0" },
	{ "option_empty_name", "data:512", "\\0\\x01\\F\\0octet\\0\\0"
	    "512\\0" },
	{ "option_high_bytes", "data:512", "\\0\\x01\\F\\0octet\\0"
	    "blk\\xffsize\\0" "512\\0" },
	{ "all_options_and_junk", "oack:blksize,timeout,tsize,windowsize",
	    "\\0\\x01\\F\\0octet\\0x\\0y\\0blksize\\0" "1468\\0timeout\\0"
	    "2\\0tsize\\0" "0\\0windowsize\\0" "8\\0z" },
};

static void
load_builtin(void)
{
	size_t i;

	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		add_case(builtin[i][0], builtin[i][1], builtin[i][2]);
}

static void
list_builtin(void)
{
	size_t i;

	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		printf("%s %s %s\n", builtin[i][0], builtin[i][1],
		    builtin[i][2]);
}

static void
load_casefile(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[8192], *name, *expect, *payload, *save;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
			continue;
		name = strtok_r(line, " \t", &save);
		expect = strtok_r(NULL, " \t", &save);
		payload = save;
		if (name == NULL || expect == NULL)
			die("%s: bad line for %s", path, name ? name : "?");
		payload += strspn(payload, " \t");
		add_case(name, expect, payload);
	}
	fclose(f);
}

/* A request's options: name (lower case) and the values asked. */
struct ropt {
	char		 name[32];
	uint64_t	 max;		/* largest numeric value asked */
	int		 numeric;	/* some value was plain digits */
	uint64_t	 vals[8];	/* numeric values, for timeout */
	unsigned	 nvals;
};

struct rinfo {
	int		 is_req;	/* opcode RRQ or WRQ */
	struct ropt	 opt[OPT_MAX];
	unsigned	 nopt;
};

static void
lower_copy(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < cap; i++)
		dst[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	dst[i] = '\0';
}

/* What the case's datagram asked for, read as leniently as a server may. */
static void
req_info(const struct xcase *c, struct rinfo *ri)
{
	const uint8_t *p = c->pkt, *end = c->pkt + c->len, *z;
	int field = 0;

	memset(ri, 0, sizeof(*ri));
	if (c->len < 2 || p[0] != 0 || (p[1] != TFTP_RRQ && p[1] != TFTP_WRQ))
		return;
	ri->is_req = 1;
	p += 2;
	/* file, mode, then name/value pairs */
	while (p < end && (z = memchr(p, 0, (size_t)(end - p))) != NULL) {
		const uint8_t *v, *vz;

		if (field < 2) {
			field++;
			p = z + 1;
			continue;
		}
		v = z + 1;
		if (v >= end || (vz = memchr(v, 0, (size_t)(end - v))) == NULL)
			break;
		if (ri->nopt < OPT_MAX) {
			char name[32];
			struct ropt *o = NULL;
			uint64_t val;
			unsigned k;

			lower_copy(name, sizeof(name), (const char *)p,
			    (size_t)(z - p));
			for (k = 0; k < ri->nopt; k++)
				if (strcmp(ri->opt[k].name, name) == 0)
					o = &ri->opt[k];
			if (o == NULL) {
				o = &ri->opt[ri->nopt++];
				memcpy(o->name, name, sizeof(name));
			}
			if (num_dec((const char *)v, (size_t)(vz - v),
			    &val) != NUM_BAD) {
				if (!o->numeric || val > o->max)
					o->max = val;
				o->numeric = 1;
				if (o->nvals < 8)
					o->vals[o->nvals++] = val;
			}
		}
		p = vz + 1;
	}
}

/* Check an OACK in rxbuf[0..len) against ri; describes it in a->text and
 * the first rule it breaks in a->why. */
static void
check_oack(const struct rinfo *ri, size_t len, struct answer *a)
{
	const uint8_t *p = rxbuf + 2, *end = rxbuf + len, *z, *v, *vz;
	char seen[OPT_MAX][32];
	unsigned nseen = 0, k;
	size_t tl;

	snprintf(a->text, sizeof(a->text), "OACK");
	if (!ri->is_req)
		snprintf(a->why, sizeof(a->why), "OACK to a non-request");
	while (p < end) {
		char name[32], val[32];
		const struct ropt *o = NULL;
		uint64_t x = 0;
		int num;

		if ((z = memchr(p, 0, (size_t)(end - p))) == NULL ||
		    (v = z + 1) >= end ||
		    (vz = memchr(v, 0, (size_t)(end - v))) == NULL) {
			if (a->why[0] == '\0')
				snprintf(a->why, sizeof(a->why),
				    "OACK with a truncated option");
			break;
		}
		lower_copy(name, sizeof(name), (const char *)p,
		    (size_t)(z - p));
		lower_copy(val, sizeof(val), (const char *)v,
		    (size_t)(vz - v));
		tl = strlen(a->text);
		snprintf(a->text + tl, sizeof(a->text) - tl, " %s=%s", name,
		    val);
		num = num_dec((const char *)v, (size_t)(vz - v), &x) != NUM_BAD;
		for (k = 0; k < ri->nopt; k++)
			if (strcmp(ri->opt[k].name, name) == 0)
				o = &ri->opt[k];
		for (k = 0; k < nseen; k++)
			if (strcmp(seen[k], name) == 0 && a->why[0] == '\0')
				snprintf(a->why, sizeof(a->why),
				    "option %s twice in the OACK", name);
		if (nseen < OPT_MAX)
			memcpy(seen[nseen++], name, sizeof(name));
		if (a->why[0] != '\0') {
			/* keep the first reason */
		} else if (o == NULL) {
			snprintf(a->why, sizeof(a->why),
			    "OACK option %s was not asked for", name);
		} else if (!num) {
			snprintf(a->why, sizeof(a->why),
			    "OACK %s value is not a number", name);
		} else if (strcmp(name, "blksize") == 0 &&
		    (x < 8 || x > 65464 || !o->numeric || x > o->max)) {
			snprintf(a->why, sizeof(a->why),
			    "OACK blksize %" PRIu64 " out of range or above "
			    "the %" PRIu64 " asked", x, o->max);
		} else if (strcmp(name, "windowsize") == 0 &&
		    (x < 1 || x > 65535 || !o->numeric || x > o->max)) {
			snprintf(a->why, sizeof(a->why),
			    "OACK windowsize %" PRIu64 " out of range or above "
			    "the %" PRIu64 " asked", x, o->max);
		} else if (strcmp(name, "timeout") == 0) {
			int ok = 0;

			for (k = 0; k < o->nvals; k++)
				ok |= o->vals[k] == x;
			if (!ok || x < 1 || x > 255)
				snprintf(a->why, sizeof(a->why),
				    "OACK timeout %" PRIu64 " not as asked", x);
		}
		p = vz + 1;
	}
}

/* Record what rxbuf[0..len) from `from` is, for case c. */
static void
case_answer(struct xcase *c, const struct rinfo *ri,
    const struct sockaddr_storage *from, size_t len)
{
	struct answer *a;
	unsigned op = len >= 2 ? get16(rxbuf) : 0xffff;

	if (c->nans == ANS_MAX) {
		c->more++;
		return;
	}
	a = &c->ans[c->nans++];
	memset(a, 0, sizeof(*a));
	a->op = op;
	a->len = len;
	a->a = len >= 4 ? get16(rxbuf + 2) : 0;
	a->at_ns = now_ns() - c->sent_ns;
	a->from_listen = tcio_port(from) == tcio_port(&srv.ss);
	a->same_host = tcio_same_host(from, &srv.ss);
	switch (op) {
	case TFTP_ERROR: {
		char msg[64];
		size_t i;

		for (i = 0; i + 4 < len && rxbuf[4 + i] != 0 &&
		    i < sizeof(msg) - 1; i++)
			msg[i] = rxbuf[4 + i] >= 32 && rxbuf[4 + i] < 127 ?
			    (char)rxbuf[4 + i] : '?';
		msg[i] = '\0';
		snprintf(a->text, sizeof(a->text), "ERROR %u \"%s\"", a->a,
		    msg);
		if (len < 5 || rxbuf[len - 1] != 0)
			snprintf(a->why, sizeof(a->why),
			    "ERROR not NUL-terminated");
		break;
	}
	case TFTP_OACK:
		check_oack(ri, len, a);
		if (a->from_listen && a->why[0] == '\0')
			snprintf(a->why, sizeof(a->why),
			    "OACK from the listen port");
		break;
	case TFTP_DATA:
		snprintf(a->text, sizeof(a->text), "DATA %u len=%zu", a->a,
		    len >= 4 ? len - 4 : 0);
		if (!ri->is_req)
			snprintf(a->why, sizeof(a->why),
			    "DATA to a non-request");
		else if (a->from_listen)
			snprintf(a->why, sizeof(a->why),
			    "DATA from the listen port");
		else if (a->a != 1)
			snprintf(a->why, sizeof(a->why),
			    "first DATA is block %u", a->a);
		break;
	default:
		snprintf(a->text, sizeof(a->text), "opcode %u len=%zu", op,
		    len);
		snprintf(a->why, sizeof(a->why), "unexpected opcode");
		break;
	}
	if (!a->same_host && a->why[0] == '\0')
		snprintf(a->why, sizeof(a->why),
		    "answer from another address");
	/* End the server's session at once: ERROR 8 to an OACK (a size
	 * probe ends like that), ERROR 0 to DATA (a client closing). */
	if ((op == TFTP_OACK || op == TFTP_DATA) && !c->closed &&
	    is_loopback(from)) {
		static const uint8_t e8[] = { 0, 5, 0, 8, 'f', 'l', 'o', 'o',
		    'd', 0 };
		static const uint8_t e0[] = { 0, 5, 0, 0, 'f', 'l', 'o', 'o',
		    'd', 0 };

		(void)send_to(c->fd, op == TFTP_OACK ? e8 : e0, sizeof(e8),
		    from, from->ss_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
		c->closed = 1;
	}
}

/* Does the first answer match one alternative of the expectation? */
static int
expect_alt(const struct xcase *c, const char *alt, size_t n)
{
	const struct answer *a = c->nans ? &c->ans[0] : NULL;
	char buf[256];

	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, alt, n);
	buf[n] = '\0';
	if (strcmp(buf, "none") == 0)
		return c->nans == 0;
	if (a == NULL)
		return 0;
	if (strcmp(buf, "any") == 0)
		return 1;
	if (strcmp(buf, "error") == 0)
		return a->op == TFTP_ERROR;
	if (strncmp(buf, "error:", 6) == 0)
		return a->op == TFTP_ERROR && a->a == (unsigned)atoi(buf + 6);
	if (strcmp(buf, "data") == 0)
		return a->op == TFTP_DATA;
	if (strncmp(buf, "data:", 5) == 0)
		return a->op == TFTP_DATA &&
		    a->len - 4 == (size_t)strtoull(buf + 5, NULL, 10);
	if (strcmp(buf, "oack") == 0)
		return a->op == TFTP_OACK;
	if (strncmp(buf, "oack:", 5) == 0 && a->op == TFTP_OACK) {
		/* exactly the listed names, values where given */
		char want[256], *tok, *save, got[160];
		unsigned nwant = 0, ngot = 0;
		const char *t;

		snprintf(want, sizeof(want), "%s", buf + 5);
		snprintf(got, sizeof(got), "%s", a->text);
		for (t = got; (t = strchr(t, ' ')) != NULL; t++)
			ngot++;
		for (tok = strtok_r(want, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			char pat[80];
			const char *hit;
			size_t pl;

			nwant++;
			snprintf(pat, sizeof(pat), " %s%s", tok,
			    strchr(tok, '=') ? "" : "=");
			pl = strlen(pat);
			hit = strstr(got, pat);
			if (hit == NULL)
				return 0;
			/* a value given must be the whole value */
			if (strchr(tok, '=') && hit[pl] != ' ' &&
			    hit[pl] != '\0')
				return 0;
		}
		return nwant == ngot;
	}
	return 0;
}

static int
expect_ok(const struct xcase *c)
{
	const char *p = c->expect, *bar;

	for (;;) {
		bar = strchr(p, '|');
		if (expect_alt(c, p, bar ? (size_t)(bar - p) : strlen(p)))
			return 1;
		if (bar == NULL)
			return 0;
		p = bar + 1;
	}
}

/* Every case's socket in a new epoll set, its datagram sent; returns
 * the set. ri[i] gets what case i's request asked for. */
static int
cases_send(struct rinfo *ri)
{
	struct epoll_event ev;
	unsigned i;
	int ep;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("setup: %s", strerror(errno));
	for (i = 0; i < ncases; i++) {
		struct xcase *c = &cases[i];

		req_info(c, &ri[i]);
		c->fd = open_sock(i);
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
			die("epoll_ctl: %s", strerror(errno));
		c->sent_ns = now_ns();
		if (send_to(c->fd, c->pkt, c->len, &srv.ss, srv.len) == -1)
			die("case %s: sendto: %s", c->name, strerror(errno));
	}
	return ep;
}

/* Collects answers for --wait-ms. */
static void
cases_collect(int ep, const struct rinfo *ri)
{
	struct epoll_event evs[64];
	uint64_t end = now_ns() + (uint64_t)cfg.wait_ms * 1000000ull, now;
	int n, k;

	while ((now = now_ns()) < end) {
		n = epoll_wait(ep, evs, 64, (int)((end - now) / 1000000) + 1);
		if (n == -1 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (k = 0; k < n; k++) {
			struct xcase *c = &cases[evs[k].data.u32];
			struct sockaddr_storage from;
			ssize_t len;

			while ((len = recv_one(c->fd, &from, &c->drops)) >= 0)
				case_answer(c, &ri[evs[k].data.u32], &from,
				    (size_t)len);
		}
	}
}

/* The case's report line; returns 1 if it met its expectation. Frees
 * the case. */
static int
case_report(struct xcase *c)
{
	const char *why = NULL;
	unsigned j;

	printf("case %s len=%zu ->", c->name, c->len);
	if (c->nans == 0)
		printf(" none");
	for (j = 0; j < c->nans; j++) {
		printf("%s %s", j ? " +" : "", c->ans[j].text);
		if (cfg.verbose)
			printf(" @%.1fms", (double)c->ans[j].at_ns / 1e6);
		if (why == NULL && c->ans[j].why[0] != '\0')
			why = c->ans[j].why;
	}
	if (c->more)
		printf(" + %u more", c->more);
	if (why == NULL && !expect_ok(c))
		why = "not the expected answer";
	if (why == NULL)
		printf(" [ok]\n");
	else
		printf(" [FAIL: %s; expected %s]\n", why, c->expect);
	close(c->fd);
	free(c->name);
	free(c->expect);
	free(c->pkt);
	return why == NULL;
}

static int
cases_main(void)
{
	struct rinfo *ri;
	unsigned i, ok = 0;
	int ep;

	if (cfg.casefile != NULL && strcmp(cfg.casefile, "-") == 0) {
		list_builtin();
		return 0;
	}
	if (cfg.casefile != NULL)
		load_casefile(cfg.casefile);
	else
		load_builtin();
	ri = calloc(ncases ? ncases : 1, sizeof(*ri));
	if (ri == NULL)
		die("setup: %s", strerror(errno));
	ep = cases_send(ri);
	cases_collect(ep, ri);
	for (i = 0; i < ncases; i++)
		ok += (unsigned)case_report(&cases[i]);
	printf("flood: cases=%u ok=%u failed=%u\n", ncases, ok, ncases - ok);
	free(ri);
	close(ep);
	return ok < ncases ? 1 : 0;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "quiet-ms", required_argument, NULL, 'q' },
		{ "wait-ms", required_argument, NULL, 'W' },
		{ "src-count", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	int c, cases_mode = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "cases") == 0) {
		cases_mode = 1;
		argv[1] = argv[0];
		argc--;
		argv++;
	} else if (argc > 1 && strcmp(argv[1], "rrq") == 0) {
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	while ((c = getopt_long(argc, argv, "H:P:S:n:p:r:o:m:T:vf:", lopts,
	    NULL)) != -1) {
		switch (c) {
		case 'H': cfg.host = optarg; break;
		case 'P': cfg.port = (unsigned)parse_u(optarg, 65535, "-P"); break;
		case 'S': cfg.src = optarg; break;
		case 'K': cfg.src_count = (unsigned)parse_u(optarg, 65536,
		    "--src-count"); break;
		case 'n': cfg.n = (unsigned)parse_u(optarg, 10000000, "-n"); break;
		case 'p': cfg.m = (unsigned)parse_u(optarg, SOCKS_MAX, "-p"); break;
		case 'r': cfg.rate = (double)parse_u(optarg, 10000000, "-r"); break;
		case 'o': cfg.opts = optarg; break;
		case 'm': cfg.mode = optarg; break;
		case 'T': cfg.secs = (double)parse_u(optarg, 3600, "-T"); break;
		case 'q': cfg.quiet_ms = (unsigned)parse_u(optarg, 3600000,
		    "--quiet-ms"); break;
		case 'v': cfg.verbose = 1; break;
		case 'f': cfg.file = optarg; break;
		case 'W': cfg.wait_ms = (unsigned)parse_u(optarg, 600000,
		    "--wait-ms"); break;
		default: usage("unknown option");
		}
	}
	if (cases_mode && optind < argc && strcmp(argv[optind], "-") == 0) {
		list_builtin();
		return 0;
	}
	if (cfg.port == 0)
		usage("-P is required");
	parse_addr(cfg.host, cfg.port, &srv);
	hdr_len = srv.ss.ss_family == AF_INET6 ? HDR_V6 : HDR_V4;
	if (cfg.src_count == 0)
		cfg.src_count = 1;
	if (cases_mode) {
		if (optind < argc)
			cfg.casefile = argv[optind];
		return cases_main();
	}
	cfg.files = argv + optind;
	cfg.nfiles = (unsigned)(argc - optind);
	return rrq_main();
}
