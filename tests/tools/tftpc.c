/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tftpc.c - TFTP test client for the integration tests. One process, one
 * epoll loop, many concurrent read (RRQ) transfers, each on its own UDP
 * socket. It checks the server, it does not trust it: every reply comes
 * from the address the request went to, OACKs carry only options that were
 * asked for and within the asked bounds, DATA is never longer than the
 * block size, the content is compared byte for byte with the expected file
 * as it arrives, and the length must match at the end. Loss, duplicates,
 * stalls, size probes and stranger packets are injected on demand, and
 * deterministically (one seeded PRNG per transfer).
 *
 * Receiving (RFC 1350/2347/7440): ACK 0 answers an OACK; a DATA 1 without
 * OACK means the server took no option. The TID is the source port of the
 * first reply, other ports get ERROR 5. Every windowsize-th in-order block
 * and the short last one are ACKed; on a gap the last in-order block is
 * ACKed once; a repeat of the last ACKed block is ACKed again; blocks are
 * counted in 64 bits, the wire number wraps 65535 -> 0. The timer resends
 * the last ACK (or the request) after --timeout-ms, at most --retries
 * times since the last progress.
 *
 * The protocol rules above are tclient.c's (shared with the load
 * generator); this file adds the test's checks, injections and loop. It
 * stays one file of some 1,200 lines: most of it is what only a test
 * client does (drops, stalls, the probe, a stranger's TID, a repeated
 * request, -o, expected errors), all around the one struct xfer.
 *
 * It does not serve, write to a server (except --wrq, which must fail), or
 * convert netascii: the test gives the expected netascii bytes as -e.
 *
 * Usage:
 *   tftpc [options] FILE...
 *   -H HOST          server address, IPv4 or IPv6 literal (default 127.0.0.1)
 *   -P PORT          server port (default 69)
 *   -b N[,N...]      blksize to request; 0 = do not ask (default 0)
 *   -w N[,N...]      windowsize to request; 0 = do not ask (default 0)
 *   -t               ask tsize 0; the OACK's tsize must match -e/-E (octet)
 *   -T SECS          ask the timeout option; the OACK must echo it exactly
 *   -m MODE          octet (default), netascii or mail
 *   -n N             concurrent transfers (default 1)
 *   -c N             number of transfers (default 1)
 *   -e FILE          expected content (one remote FILE only)
 *   -E DIR           expected content of remote name X is DIR/X (leading
 *                    slashes of X stripped)
 *   -o FILE          write what was received to FILE (count 1 only)
 *   -x CODE          expect the server to answer ERROR CODE
 *   -v               one line per transfer on stdout
 *   --trace          every packet sent, received or dropped, on stderr
 *   --drop-ack N,..  do not send the first ACK of these absolute block
 *                    numbers (0 is the ACK of the OACK): simulated loss
 *   --drop-data-rate PCT  drop PCT percent of received DATA (seeded)
 *   --dup-rate PCT   send PCT percent of ACKs twice (seeded)
 *   --seed S         PRNG seed (default 1); transfer i uses S and i
 *   --stop-after N   ACK the OACK and N DATA packets, then go silent and
 *                    count what the server resends (rexmit_seen) until it
 *                    has been quiet for --quiet-ms; N = 0 never ACKs the
 *                    first packet. Passes if the server gives up.
 *   --quiet-ms MS    silence that ends a --stop-after transfer (default 3000)
 *   --max-rexmit N   fail a transfer that saw more than N resent packets
 *   --probe          EDK2 style: RRQ with tsize 0 (and -b/-w), read the
 *                    OACK, send ERROR 8, then the real RRQ from the same
 *                    source port
 *   --foreign-tid    after DATA 1, send ACK 1 to the server's transfer port
 *                    from a second socket; that socket must get ERROR 5 and
 *                    the transfer must still complete
 *   --wrq            send a WRQ instead; expect an ERROR (-x to pin the code)
 *   --dup-rrq        send each request twice back to back (a retransmitted
 *                    RRQ); fails if a second transfer ID ever answers
 *   --timeout-ms MS  client retransmit timeout (default 1000)
 *   --retries N      client retransmits before giving up (default 6)
 *   --max-seconds S  time limit of the whole run (default 120)
 *
 * Transfer i asks for FILE[i % nfiles], blksize list[(i / nfiles) % nb] and
 * windowsize list[(i / (nfiles * nb)) % nw], so every combination shows up
 * once count >= nfiles * nb * nw.
 *
 * Output: "tftpc: ok=N failed=N errors=N bytes=N ms=N rexmit_seen=N" on
 * stdout: errors = transfers that ended with an ERROR from the server,
 * expected or not; rexmit_seen = packets that arrived again (DATA already
 * received, a repeated OACK; with --stop-after, what came after going
 * silent); ms = wall time of the run. One reason per failed transfer on
 * stderr. Exit 0 only if every transfer met its expectation, 1 if not, 2 on
 * a usage error.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

#include "tclient.h"
#include "tftp.h"

#define LIST_MAX	16
#define DROP_MAX	64
#define FILES_MAX	256
#define SLOTS_MAX	4096
#define LAST_MAX	(TFTP_NAME_MAX + 256)
#define RX_BURST	256		/* datagrams read per wakeup per socket */
#define FOREIGN_WAIT_MS	2000

enum xstate {
	X_FREE = 0,
	X_PROBE,		/* probe RRQ sent, waiting for its OACK */
	X_REQ,			/* RRQ/WRQ sent, waiting for the first reply */
	X_DATA,			/* receiving */
	X_LAST,			/* all received, final ACK "lost", must resend */
	X_STALL,		/* --stop-after: silent, counting resends */
	X_FOREIGN,		/* done, waiting for the stranger's ERROR 5 */
};

/* Expected content, read once per path and shared by transfers. */
struct body {
	char		*path;
	uint8_t		*data;
	uint64_t	 size;
};

struct xfer {
	enum xstate	 state;
	unsigned	 idx;			/* transfer number */
	unsigned	 slot;			/* index in slots[] */
	int		 fd;
	int		 ffd;			/* foreign-TID socket or -1 */
	int		 out_fd;
	const char	*file;
	const struct body *exp;
	struct tclient_ask ask;			/* what the request asks */
	struct tclient	 tc;			/* protocol state */
	struct sockaddr_storage tid;
	socklen_t	 tid_len;
	int		 locked;
	int		 probe_port;		/* TID of the probe, -1 if none */
	uint64_t	 bytes;
	uint64_t	 dropped_mask;		/* --drop-ack entries used */
	uint8_t		 last[LAST_MAX];	/* packet resent on timeout */
	size_t		 last_len;
	uint64_t	 deadline;
	unsigned	 tries;
	uint64_t	 start_ms;
	uint64_t	 last_rx_ms;
	uint64_t	 stall_ms;
	uint16_t	 stall_hi;		/* highest wire block seen */
	uint64_t	 rexmit_seen;
	uint64_t	 rng;
	int		 fsent;
	int		 fgot;
	unsigned	 strangers;		/* packets from another TID */
	uint64_t	 fsent_ms;
};

struct cfg {
	const char	*host;
	unsigned	 port;
	uint32_t	 blk[LIST_MAX];
	unsigned	 nblk;
	uint32_t	 win[LIST_MAX];
	unsigned	 nwin;
	int		 tsize;
	unsigned	 timeout_s;
	const char	*mode;
	unsigned	 conc;
	unsigned	 count;
	const char	*exp_file;
	const char	*exp_dir;
	const char	*out;
	int		 expect_err;		/* -1: expect success */
	int		 verbose;
	int		 trace;
	uint64_t	 drop_ack[DROP_MAX];
	unsigned	 ndrop;
	unsigned	 drop_data_pct;
	unsigned	 dup_pct;
	uint64_t	 seed;
	long long	 stop_after;		/* -1: off */
	unsigned	 quiet_ms;
	long long	 max_rexmit;		/* -1: off */
	int		 probe;
	int		 foreign;
	int		 wrq;
	int		 dup_rrq;
	unsigned	 timeout_ms;
	unsigned	 retries;
	unsigned	 max_seconds;
	char		*files[FILES_MAX];
	unsigned	 nfiles;
};

static struct cfg cfg;
static struct sockaddr_storage srv;
static socklen_t srv_len;
static int epfd = -1;
static struct xfer *slots;
static struct body bodies[FILES_MAX];
static unsigned nbodies;
static uint8_t rxbuf[TFTP_PKT_MAX + 64];
static unsigned trace_idx;		/* transfer being worked on */

static struct {
	uint64_t	ok, failed, errors, bytes, rexmit;
} tot;

static uint64_t
now_ms(void)
{
	return tcio_now_us() / 1000;
}

/* --trace: one line per packet; "what" is tx, rx, drop, ... */
static void
trace_pkt(unsigned idx, const char *what, const uint8_t *p, size_t len)
{
	unsigned op, a;

	if (!cfg.trace)
		return;
	op = len >= 2 ? (unsigned)(p[0] << 8 | p[1]) : 0;
	a = len >= 4 ? (unsigned)(p[2] << 8 | p[3]) : 0;
	fprintf(stderr, "%" PRIu64 " #%u %s %s", now_ms() % 100000, idx, what,
	    tftp_opname(op));
	if (op == TFTP_DATA)
		fprintf(stderr, " %u len=%zu", a, len - TFTP_HDR_LEN);
	else if (op == TFTP_ACK || op == TFTP_ERROR)
		fprintf(stderr, " %u", a);
	fputc('\n', stderr);
}

static void __attribute__((noreturn))
usage(const char *why)
{
	fprintf(stderr, "tftpc: %s\n"
	    "usage: tftpc [-H host] [-P port] [-b N,..] [-w N,..] [-t] "
	    "[-T secs] [-m mode]\n"
	    "             [-n conc] [-c count] [-e file | -E dir] [-o out] "
	    "[-x code] [-v]\n"
	    "             [--drop-ack N,..] [--drop-data-rate PCT] "
	    "[--dup-rate PCT] [--seed S]\n"
	    "             [--stop-after N] [--quiet-ms MS] [--max-rexmit N] "
	    "[--probe]\n"
	    "             [--foreign-tid] [--wrq] [--timeout-ms MS] "
	    "[--retries N]\n"
	    "             [--max-seconds S] FILE...\n", why);
	exit(2);
}

/* Bounded unsigned parse of a whole string; exits on junk. */
static uint64_t
parse_u64(const char *s, uint64_t min, uint64_t max, const char *what)
{
	return tcio_arg_u64(s, min, max, what, usage);
}

/* "a,b,c" into out[]; returns the count. */
static unsigned
parse_list(const char *s, uint64_t *out, unsigned cap, uint64_t min,
    uint64_t max, const char *what)
{
	char buf[1024];
	char *tok, *save = NULL;
	unsigned n = 0;

	if (strlen(s) >= sizeof(buf))
		usage("list too long");
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (n == cap)
			usage("list too long");
		out[n++] = parse_u64(tok, min, max, what);
	}
	if (n == 0)
		usage("empty list");
	return n;
}

static void
xfer_fail(struct xfer *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reads a whole file once; later calls for the same path share it. */
static const struct body *
body_get(const char *path)
{
	struct body *b;
	struct stat st;
	ssize_t r;
	uint64_t off = 0;
	unsigned i;
	int fd;

	for (i = 0; i < nbodies; i++)
		if (strcmp(bodies[i].path, path) == 0)
			return &bodies[i];
	if (nbodies == FILES_MAX)
		return NULL;
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "tftpc: %s: cannot read expected file\n", path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	b = &bodies[nbodies];
	b->size = (uint64_t)st.st_size;
	b->data = malloc(b->size ? b->size : 1);
	b->path = strdup(path);
	if (b->data == NULL || b->path == NULL) {
		fprintf(stderr, "tftpc: out of memory\n");
		exit(2);
	}
	while (off < b->size) {
		r = read(fd, b->data + off, b->size - off);
		if (r <= 0) {
			fprintf(stderr, "tftpc: %s: short read\n", path);
			exit(2);
		}
		off += (uint64_t)r;
	}
	close(fd);
	nbodies++;
	return b;
}

static const struct body *
body_for(const char *file)
{
	char path[4096];

	if (cfg.exp_file != NULL)
		return body_get(cfg.exp_file);
	if (cfg.exp_dir == NULL)
		return NULL;
	while (*file == '/')
		file++;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", cfg.exp_dir, file) >=
	    sizeof(path))
		return NULL;
	return body_get(path);
}

static int
sock_open(unsigned tag, size_t rcvbuf)
{
	struct epoll_event ev;
	int fd;

	fd = socket(srv.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return -1;
	tcio_rcvbuf(fd, (int)rcvbuf);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = tag;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
sock_close(int *fd)
{
	if (*fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, *fd, NULL);
		close(*fd);
		*fd = -1;
	}
}

static void
send_to(int fd, const struct sockaddr_storage *to, socklen_t to_len,
    const uint8_t *p, size_t len)
{
	trace_pkt(trace_idx, "tx", p, len);
	/* Loopback UDP: a failed send is simply a lost packet. */
	(void)sendto(fd, p, len, 0, (const struct sockaddr *)to, to_len);
}

/* Sends to the locked TID, or to the server's request port before that. */
static void
xfer_send(struct xfer *x, const uint8_t *p, size_t len)
{
	if (x->locked)
		send_to(x->fd, &x->tid, x->tid_len, p, len);
	else
		send_to(x->fd, &srv, srv_len, p, len);
}

/* Remembers p as the packet to resend on timeout, and arms the timer. */
static void
xfer_set_last(struct xfer *x, const uint8_t *p, size_t len)
{
	memcpy(x->last, p, len);
	x->last_len = len;
	x->deadline = now_ms() + cfg.timeout_ms;
}

static void
xfer_send_error(struct xfer *x, uint16_t code, const char *msg)
{
	uint8_t pkt[128];
	size_t n;

	n = tftp_encode_error(pkt, sizeof(pkt), code, msg);
	if (n > 0 && x->locked)
		xfer_send(x, pkt, n);
}

/*
 * ACKs the last in-order block (tclient_ack). A first ACK listed in
 * --drop-ack is not sent (simulated loss) but is still the packet the
 * timer resends. Returns 1 if it went on the wire.
 */
static int
xfer_ack(struct xfer *x, int first)
{
	uint64_t blk = tclient_ack(&x->tc);
	uint8_t pkt[8];
	size_t n;
	unsigned i;

	n = tftp_encode_ack(pkt, sizeof(pkt), (uint16_t)blk);
	xfer_set_last(x, pkt, n);
	if (first) {
		for (i = 0; i < cfg.ndrop && i < DROP_MAX; i++) {
			if (cfg.drop_ack[i] == blk &&
			    !(x->dropped_mask & (1ULL << i))) {
				x->dropped_mask |= 1ULL << i;
				trace_pkt(x->idx, "drop", pkt, n);
				return 0;
			}
		}
	}
	xfer_send(x, pkt, n);
	if (tclient_rng_pct(&x->rng, cfg.dup_pct))
		xfer_send(x, pkt, n);
	return 1;
}

static void
xfer_end(struct xfer *x, int ok, int got_error)
{
	uint64_t ms = now_ms() - x->start_ms;

	if (ok)
		tot.ok++;
	else
		tot.failed++;
	if (got_error)
		tot.errors++;
	tot.bytes += x->bytes;
	tot.rexmit += x->rexmit_seen;
	if (cfg.verbose)
		printf("tftpc: #%u file=\"%s\" blksize=%u windowsize=%u "
		    "result=%s bytes=%" PRIu64 " ms=%" PRIu64
		    " rexmit_seen=%" PRIu64 "%s\n", x->idx, x->file,
		    x->tc.blksize, x->tc.window, ok ? "ok" : "failed", x->bytes,
		    ms,
		    x->rexmit_seen, x->state == X_STALL ? " stalled" : "");
	sock_close(&x->fd);
	sock_close(&x->ffd);
	if (x->out_fd >= 0)
		close(x->out_fd);
	x->out_fd = -1;
	x->state = X_FREE;
}

static void
xfer_fail(struct xfer *x, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tftpc: #%u file=\"%s\" blksize=%u windowsize=%u "
	    "block=%" PRIu64 ": ", x->idx, x->file, x->ask.blksize,
	    x->ask.windowsize, x->tc.next);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* Tell the server, so it does not keep resending to nobody. */
	xfer_send_error(x, TFTP_EUNDEF, "test client gave up");
	xfer_end(x, 0, 0);
}

/* The transfer got everything; checks what is still pending. */
static void
xfer_complete(struct xfer *x)
{
	if (cfg.dup_rrq && x->strangers > 0) {
		xfer_fail(x, "%u packets from a second transfer ID: the "
		    "repeated request started a second session", x->strangers);
		return;
	}
	if (cfg.max_rexmit >= 0 && x->rexmit_seen > (uint64_t)cfg.max_rexmit) {
		xfer_fail(x, "saw %" PRIu64 " resent packets, more than %lld",
		    x->rexmit_seen, cfg.max_rexmit);
		return;
	}
	if (x->ffd >= 0 && !x->fgot) {
		x->state = X_FOREIGN;
		x->deadline = x->fsent_ms + FOREIGN_WAIT_MS;
		return;
	}
	xfer_end(x, 1, 0);
}

static void
xfer_send_req(struct xfer *x, int probe)
{
	uint8_t pkt[LAST_MAX];
	size_t n;

	x->ask.tsize = cfg.tsize || probe;
	n = tclient_request(pkt, sizeof(pkt), cfg.wrq ? TFTP_WRQ : TFTP_RRQ,
	    x->file, cfg.mode, &x->ask);
	if (n == 0) {
		xfer_fail(x, "request does not encode (name too long?)");
		return;
	}
	xfer_set_last(x, pkt, n);
	send_to(x->fd, &srv, srv_len, pkt, n);
	if (cfg.dup_rrq)
		send_to(x->fd, &srv, srv_len, pkt, n);
}

static void
xfer_start(struct xfer *x, unsigned slot, unsigned idx)
{
	unsigned nb = cfg.nblk, nw = cfg.nwin, nf = cfg.nfiles;
	size_t rcv;

	memset(x, 0, sizeof(*x));
	trace_idx = idx;
	x->idx = idx;
	x->slot = slot;
	x->fd = x->ffd = x->out_fd = -1;
	x->probe_port = -1;
	x->file = cfg.files[idx % nf];
	x->ask.blksize = cfg.blk[(idx / nf) % nb];
	x->ask.windowsize = cfg.win[(idx / (nf * nb)) % nw];
	x->ask.timeout_s = cfg.timeout_s;
	tclient_init(&x->tc);
	x->start_ms = x->last_rx_ms = now_ms();
	x->rng = cfg.seed * 0x100000001b3ULL + idx;
	x->state = X_REQ;
	rcv = (size_t)(x->ask.blksize ? x->ask.blksize : 512) *
	    (x->ask.windowsize ? x->ask.windowsize : 1) * 2 + 65536;
	if (rcv > (8u << 20))
		rcv = 8u << 20;
	x->fd = sock_open(slot * 2, rcv);
	if (x->fd < 0) {
		xfer_fail(x, "socket: %s", strerror(errno));
		return;
	}
	if (!cfg.wrq && cfg.expect_err < 0) {
		x->exp = body_for(x->file);
		if ((cfg.exp_file || cfg.exp_dir) && x->exp == NULL) {
			xfer_fail(x, "no expected content");
			return;
		}
	}
	if (cfg.out != NULL) {
		x->out_fd = open(cfg.out, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644);
		if (x->out_fd < 0) {
			xfer_fail(x, "%s: %s", cfg.out, strerror(errno));
			return;
		}
	}
	if (cfg.probe && !cfg.wrq) {
		x->state = X_PROBE;
		xfer_send_req(x, 1);
	} else {
		xfer_send_req(x, 0);
	}
}

/* Enters --stop-after silence; the packet that triggered it is not a resend. */
static void
xfer_stall(struct xfer *x, uint64_t now)
{
	x->state = X_STALL;
	x->stall_ms = now;
	x->stall_hi = (uint16_t)(x->tc.next - 1);
	x->deadline = now + cfg.quiet_ms;
}

/* A resend seen while stalled; past --max-rexmit there is no need to wait. */
static void
stall_resend(struct xfer *x)
{
	x->rexmit_seen++;
	if (cfg.max_rexmit >= 0 && x->rexmit_seen > (uint64_t)cfg.max_rexmit)
		xfer_complete(x);
}

static int
stall_due(uint64_t received)
{
	return cfg.stop_after >= 0 && received >= (uint64_t)cfg.stop_after;
}

static void
on_oack(struct xfer *x, const uint8_t *p, size_t len,
    const struct tftp_msg *m, uint64_t now)
{
	char why[TCLIENT_WHY_LEN];
	const uint64_t *tsize = NULL;
	int probe = x->state == X_PROBE;

	if (x->state == X_STALL) {
		stall_resend(x);
		return;
	}
	if (x->state != X_PROBE && x->state != X_REQ) {
		/* Our ACK 0 was lost: the server resends its OACK. */
		x->rexmit_seen++;
		if (x->state == X_DATA && x->tc.next == 1)
			xfer_ack(x, 0);
		return;
	}
	if (cfg.wrq || cfg.expect_err >= 0) {
		xfer_fail(x, "expected ERROR, got OACK");
		return;
	}
	/* netascii changes the length: tsize is only checked for octet. */
	if (x->exp != NULL && strcmp(cfg.mode, "octet") == 0)
		tsize = &x->exp->size;
	if (tclient_oack(&x->tc, &x->ask, p, len, &m->u.oack, tsize, why) !=
	    TCLIENT_OACK_OK) {
		xfer_fail(x, "%s", why);
		return;
	}
	if (probe && !(m->u.oack.set & TFTP_OPT_TSIZE)) {
		xfer_fail(x, "probe OACK without tsize");
		return;
	}
	if (probe) {
		/* EDK2: size learnt, abort with 8, ask again, same port. */
		xfer_send_error(x, TFTP_EOPTNEG, "User aborted the transfer");
		x->probe_port = tcio_port(&x->tid);
		x->locked = 0;
		tclient_init(&x->tc);
		x->state = X_REQ;
		x->tries = 0;
		xfer_send_req(x, 0);
		return;
	}
	x->state = X_DATA;
	x->tries = 0;
	if (stall_due(0)) {
		xfer_stall(x, now);
		return;
	}
	xfer_ack(x, 1);
}

/* Second socket, as a stranger, pokes the transfer port with an ACK. */
static void
foreign_poke(struct xfer *x)
{
	uint8_t pkt[8];
	size_t n;

	x->ffd = sock_open(x->slot * 2 + 1, 65536);
	if (x->ffd < 0) {
		xfer_fail(x, "foreign socket: %s", strerror(errno));
		return;
	}
	n = tftp_encode_ack(pkt, sizeof(pkt), 1);
	send_to(x->ffd, &x->tid, x->tid_len, pkt, n);
	x->fsent = 1;
	x->fsent_ms = now_ms();
}

/* An in-order block: verify, store, maybe ACK. */
static void
on_data_inorder(struct xfer *x, const uint8_t *d, size_t len, uint64_t now)
{
	char why[TCLIENT_WHY_LEN];
	enum tclient_take t;

	if (x->exp != NULL && tclient_verify(x->exp->data, x->exp->size,
	    tclient_offset(&x->tc), d, len, len < x->tc.blksize, why) != 0) {
		xfer_fail(x, "%s", why);
		return;
	}
	if (x->out_fd >= 0 && len > 0 &&
	    write(x->out_fd, d, len) != (ssize_t)len) {
		xfer_fail(x, "write %s: %s", cfg.out, strerror(errno));
		return;
	}
	t = tclient_take(&x->tc, len);
	x->bytes += len;
	x->tries = 0;
	x->deadline = now + cfg.timeout_ms;
	if (cfg.foreign && !x->fsent) {
		foreign_poke(x);
		if (x->state == X_FREE)
			return;
	}
	if (stall_due(x->tc.next - 2)) {
		xfer_stall(x, now);
		return;
	}
	if (t == TCLIENT_TAKE_LAST) {
		if (xfer_ack(x, 1))
			xfer_complete(x);
		else
			x->state = X_LAST;
	} else if (t == TCLIENT_TAKE_ACK) {
		xfer_ack(x, 1);
	}
}

static void
on_data(struct xfer *x, const struct tftp_msg *m, uint64_t now)
{
	char why[TCLIENT_WHY_LEN];
	uint16_t blk = m->u.data.block, d;

	if (x->state == X_PROBE) {
		xfer_fail(x, "probe: DATA instead of an OACK");
		return;
	}
	if (cfg.wrq || cfg.expect_err >= 0) {
		xfer_fail(x, "expected ERROR, got DATA %u", blk);
		return;
	}
	if (tclient_data_check(&x->tc, blk, m->u.data.len, why) != 0) {
		xfer_fail(x, "%s", why);
		return;
	}
	if (x->state == X_REQ)
		x->state = X_DATA;
	if (x->state == X_STALL) {
		/* The rest of a window in flight is new, not a resend. */
		d = (uint16_t)(blk - x->stall_hi);
		if (d != 0 && d < 0x8000)
			x->stall_hi = blk;
		else
			stall_resend(x);
		return;
	}
	if (tclient_rng_pct(&x->rng, cfg.drop_data_pct)) {
		trace_pkt(x->idx, "drop", m->u.data.data - TFTP_HDR_LEN,
		    m->u.data.len + TFTP_HDR_LEN);
		return;			/* simulated loss */
	}
	if (x->state == X_LAST) {
		/* The final block again: our last ACK was "lost". */
		x->rexmit_seen++;
		if (blk == (uint16_t)(x->tc.next - 1)) {
			xfer_send(x, x->last, x->last_len);
			xfer_complete(x);
		}
		return;
	}
	switch (tclient_data_step(&x->tc, blk)) {
	case TCLIENT_NEW:
		on_data_inorder(x, m->u.data.data, m->u.data.len, now);
		break;
	case TCLIENT_GAP:
		xfer_ack(x, 0);
		break;
	case TCLIENT_WAIT:
		break;
	case TCLIENT_OLD_ACK:
		x->rexmit_seen++;
		xfer_ack(x, 0);
		break;
	case TCLIENT_OLD:
		x->rexmit_seen++;
		break;
	}
}

static void
on_error(struct xfer *x, const struct tftp_msg *m)
{
	char text[512];

	if (x->state == X_STALL) {
		/* The server gave up and said so: that is a pass too. */
		xfer_complete(x);
		return;
	}
	if (cfg.expect_err >= 0 && m->u.error.code == cfg.expect_err &&
	    x->bytes == 0) {
		x->locked = 0;		/* do not answer an ERROR */
		xfer_end(x, 1, 1);
		return;
	}
	if (cfg.wrq && cfg.expect_err < 0) {
		x->locked = 0;
		xfer_end(x, 1, 1);
		return;
	}
	x->locked = 0;
	tclient_error_text(m, text, sizeof(text));
	fprintf(stderr, "tftpc: #%u file=\"%s\": %s%s\n", x->idx, x->file,
	    text, cfg.expect_err >= 0 ? " (not the expected code)" : "");
	xfer_end(x, 0, 1);
}

/* One datagram on a transfer's main socket. */
static void
on_packet(struct xfer *x, const uint8_t *p, size_t len,
    const struct sockaddr_storage *from, socklen_t from_len, uint64_t now)
{
	struct tftp_msg m;
	uint8_t err[64];
	size_t n;
	int rc;

	if (!tcio_same_host(from, &srv))
		return;		/* not from the server's address: ignore */
	if (x->locked && (from_len != x->tid_len ||
	    memcmp(from, &x->tid, from_len) != 0)) {
		if (tcio_port(from) == x->probe_port)
			return;	/* late packet of the aborted probe */
		/* RFC 1350: a stranger gets ERROR 5, the transfer goes on. */
		x->strangers++;
		n = tftp_encode_error(err, sizeof(err), TFTP_EBADID,
		    "Unknown transfer ID");
		send_to(x->fd, from, from_len, err, n);
		return;
	}
	if (!x->locked) {
		if (tcio_port(from) == x->probe_port)
			return;
		memcpy(&x->tid, from, from_len);
		x->tid_len = from_len;
		x->locked = 1;
	}
	x->last_rx_ms = now;
	if (x->state == X_STALL)
		x->deadline = now + cfg.quiet_ms;
	rc = tftp_decode(p, len, &m);
	if (rc != 0) {
		xfer_fail(x, "malformed packet from the server (%zu bytes)",
		    len);
		return;
	}
	switch (m.op) {
	case TFTP_OACK:
		on_oack(x, p, len, &m, now);
		break;
	case TFTP_DATA:
		on_data(x, &m, now);
		break;
	case TFTP_ERROR:
		on_error(x, &m);
		break;
	case TFTP_ACK:
		if (cfg.wrq) {
			xfer_fail(x, "WRQ accepted (ACK %u)", m.u.ack.block);
			break;
		}
		/* FALLTHROUGH */
	default:
		xfer_fail(x, "unexpected %s from the server",
		    tftp_opname(m.op));
		break;
	}
}

/* One datagram on the stranger's socket: must be ERROR 5 from the TID. */
static void
on_foreign_packet(struct xfer *x, const uint8_t *p, size_t len,
    const struct sockaddr_storage *from, socklen_t from_len)
{
	struct tftp_msg m;

	if (from_len != x->tid_len || memcmp(from, &x->tid, from_len) != 0)
		return;
	if (tftp_decode(p, len, &m) != 0 || m.op != TFTP_ERROR) {
		xfer_fail(x, "stranger got something other than an ERROR");
		return;
	}
	if (m.u.error.code != TFTP_EBADID) {
		xfer_fail(x, "stranger got ERROR %u, not 5", m.u.error.code);
		return;
	}
	x->fgot = 1;
	if (x->state == X_FOREIGN)
		xfer_end(x, 1, 0);
}

static void
on_readable(struct xfer *x, int foreign)
{
	struct sockaddr_storage from;
	socklen_t from_len;
	ssize_t r;
	unsigned i;

	for (i = 0; i < RX_BURST && x->state != X_FREE; i++) {
		from_len = sizeof(from);
		r = recvfrom(foreign ? x->ffd : x->fd, rxbuf, sizeof(rxbuf), 0,
		    (struct sockaddr *)&from, &from_len);
		if (r < 0)
			break;
		trace_idx = x->idx;
		trace_pkt(x->idx, foreign ? "rx-stranger" : "rx", rxbuf,
		    (size_t)r);
		if (foreign)
			on_foreign_packet(x, rxbuf, (size_t)r, &from, from_len);
		else
			on_packet(x, rxbuf, (size_t)r, &from, from_len,
			    now_ms());
	}
}

static void
on_timer(struct xfer *x, uint64_t now)
{
	trace_idx = x->idx;
	switch (x->state) {
	case X_STALL:
		xfer_complete(x);
		return;
	case X_FOREIGN:
		xfer_fail(x, "stranger got no ERROR 5 within %u ms",
		    FOREIGN_WAIT_MS);
		return;
	default:
		break;
	}
	if (x->tries >= cfg.retries) {
		xfer_fail(x, "timeout: no progress after %u retransmits "
		    "(state %d, %" PRIu64 " bytes)", x->tries, x->state,
		    x->bytes);
		return;
	}
	x->tries++;
	xfer_send(x, x->last, x->last_len);
	x->deadline = now + cfg.timeout_ms;
	if (x->state == X_LAST)
		xfer_complete(x);
}

static const struct option lopts[] = {
	{ "drop-ack", required_argument, NULL, 1 },
	{ "drop-data-rate", required_argument, NULL, 2 },
	{ "dup-rate", required_argument, NULL, 3 },
	{ "seed", required_argument, NULL, 4 },
	{ "stop-after", required_argument, NULL, 5 },
	{ "quiet-ms", required_argument, NULL, 6 },
	{ "max-rexmit", required_argument, NULL, 7 },
	{ "probe", no_argument, NULL, 8 },
	{ "foreign-tid", no_argument, NULL, 9 },
	{ "wrq", no_argument, NULL, 10 },
	{ "timeout-ms", required_argument, NULL, 11 },
	{ "retries", required_argument, NULL, 12 },
	{ "max-seconds", required_argument, NULL, 13 },
	{ "trace", no_argument, NULL, 14 },
	{ "dup-rrq", no_argument, NULL, 15 },
	{ NULL, 0, NULL, 0 },
};

static void
cfg_defaults(void)
{
	cfg.host = "127.0.0.1";
	cfg.port = 69;
	cfg.blk[0] = 0;
	cfg.nblk = 1;
	cfg.win[0] = 0;
	cfg.nwin = 1;
	cfg.mode = "octet";
	cfg.conc = 1;
	cfg.count = 1;
	cfg.expect_err = -1;
	cfg.seed = 1;
	cfg.stop_after = -1;
	cfg.quiet_ms = 3000;
	cfg.max_rexmit = -1;
	cfg.timeout_ms = 1000;
	cfg.retries = 6;
	cfg.max_seconds = 120;
}

/* -b/-w: a list of sizes into out[]; returns the count. */
static unsigned
parse_sizes(const char *s, uint32_t *out, uint64_t max, const char *what)
{
	uint64_t tmp[LIST_MAX];
	unsigned i, n;

	n = parse_list(s, tmp, LIST_MAX, 0, max, what);
	for (i = 0; i < n; i++)
		out[i] = (uint32_t)tmp[i];
	return n;
}

/* One short option; 0 if c is not one. */
static int
parse_short(int c, const char *arg)
{
	switch (c) {
	case 'H': cfg.host = arg; break;
	case 'P': cfg.port = parse_u64(arg, 1, 65535, "-P"); break;
	case 'b':
		cfg.nblk = parse_sizes(arg, cfg.blk, TFTP_BLKSIZE_MAX, "-b");
		break;
	case 'w':
		cfg.nwin = parse_sizes(arg, cfg.win, TFTP_WINDOWSIZE_MAX, "-w");
		break;
	case 't': cfg.tsize = 1; break;
	case 'T': cfg.timeout_s = parse_u64(arg, 1, 255, "-T"); break;
	case 'm': cfg.mode = arg; break;
	case 'n': cfg.conc = parse_u64(arg, 1, SLOTS_MAX, "-n"); break;
	case 'c': cfg.count = parse_u64(arg, 1, 10000000, "-c"); break;
	case 'e': cfg.exp_file = arg; break;
	case 'E': cfg.exp_dir = arg; break;
	case 'o': cfg.out = arg; break;
	case 'x': cfg.expect_err = parse_u64(arg, 0, 65535, "-x"); break;
	case 'v': cfg.verbose = 1; break;
	default: return 0;
	}
	return 1;
}

/* One long option (lopts); 0 if c is not one. */
static int
parse_long(int c, const char *arg)
{
	switch (c) {
	case 1:
		cfg.ndrop = parse_list(arg, cfg.drop_ack, DROP_MAX, 0,
		    UINT64_MAX, "--drop-ack");
		break;
	case 2: cfg.drop_data_pct = parse_u64(arg, 0, 99, "rate"); break;
	case 3: cfg.dup_pct = parse_u64(arg, 0, 100, "rate"); break;
	case 4: cfg.seed = parse_u64(arg, 0, UINT64_MAX, "--seed"); break;
	case 5:
		cfg.stop_after = (long long)parse_u64(arg, 0, 1u << 30,
		    "--stop-after");
		break;
	case 6: cfg.quiet_ms = parse_u64(arg, 10, 600000, "--quiet-ms"); break;
	case 7:
		cfg.max_rexmit = (long long)parse_u64(arg, 0, 1u << 30,
		    "--max-rexmit");
		break;
	case 8: cfg.probe = 1; break;
	case 9: cfg.foreign = 1; break;
	case 10: cfg.wrq = 1; break;
	case 11:
		cfg.timeout_ms = parse_u64(arg, 10, 600000, "--timeout-ms");
		break;
	case 12: cfg.retries = parse_u64(arg, 0, 1000, "--retries"); break;
	case 13:
		cfg.max_seconds = parse_u64(arg, 1, 86400, "--max-seconds");
		break;
	case 14: cfg.trace = 1; break;
	case 15: cfg.dup_rrq = 1; break;
	default: return 0;
	}
	return 1;
}

static void
parse_args(int argc, char **argv)
{
	unsigned i;
	int c;

	cfg_defaults();
	while ((c = getopt_long(argc, argv, "H:P:b:w:tT:m:n:c:e:E:o:x:v",
	    lopts, NULL)) != -1)
		if (!parse_short(c, optarg) && !parse_long(c, optarg))
			usage("unknown option");
	if (optind >= argc)
		usage("no FILE");
	for (; optind < argc; optind++) {
		if (cfg.nfiles == FILES_MAX)
			usage("too many files");
		cfg.files[cfg.nfiles++] = argv[optind];
	}
	if (cfg.exp_file && (cfg.exp_dir || cfg.nfiles > 1))
		usage("-e takes one FILE and no -E");
	if (cfg.out && cfg.count > 1)
		usage("-o needs -c 1");
	if (cfg.conc > cfg.count)
		cfg.conc = cfg.count;
	for (i = 0; i < cfg.nblk; i++)
		if (cfg.blk[i] != 0 && cfg.blk[i] < TFTP_BLKSIZE_MIN)
			usage("-b: blksize below 8");
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[256];
	uint64_t start, now, end, next_dl;
	unsigned started = 0, active, i;
	int n, k, wait;
	struct xfer *x;

	setvbuf(stdout, NULL, _IOLBF, 0);

	parse_args(argc, argv);
	if (tcio_resolve(cfg.host, cfg.port, &srv, &srv_len) != 0)
		usage("-H wants an IPv4 or IPv6 literal");
	epfd = epoll_create1(EPOLL_CLOEXEC);
	slots = calloc(cfg.conc, sizeof(*slots));
	if (epfd < 0 || slots == NULL) {
		fprintf(stderr, "tftpc: setup failed: %s\n", strerror(errno));
		return 2;
	}
	start = now_ms();
	end = start + (uint64_t)cfg.max_seconds * 1000;
	for (;;) {
		now = now_ms();
		active = 0;
		next_dl = end;
		for (i = 0; i < cfg.conc; i++) {
			x = &slots[i];
			if (x->state != X_FREE && now >= end)
				xfer_fail(x, "run time limit of %u s reached",
				    cfg.max_seconds);
			else if (x->state != X_FREE && now >= x->deadline)
				on_timer(x, now);
			if (x->state == X_FREE && started < cfg.count &&
			    now < end)
				xfer_start(x, i, started++);
			if (x->state == X_FREE)
				continue;
			active++;
			if (x->deadline < next_dl)
				next_dl = x->deadline;
		}
		if (active == 0 && started >= cfg.count)
			break;
		now = now_ms();
		wait = next_dl > now ? (int)(next_dl - now) : 0;
		n = epoll_wait(epfd, evs, 256, wait);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "tftpc: epoll_wait: %s\n", strerror(errno));
			return 2;
		}
		for (k = 0; k < n; k++) {
			i = evs[k].data.u32 / 2;
			/* A slot freed in this batch has its sockets closed. */
			if (i < cfg.conc && slots[i].state != X_FREE)
				on_readable(&slots[i], evs[k].data.u32 & 1);
		}
	}
	if (started < cfg.count)
		fprintf(stderr, "tftpc: %u transfers never started (time "
		    "limit)\n", cfg.count - started);
	printf("tftpc: ok=%" PRIu64 " failed=%" PRIu64 " errors=%" PRIu64
	    " bytes=%" PRIu64 " ms=%" PRIu64 " rexmit_seen=%" PRIu64 "\n",
	    tot.ok, tot.failed, tot.errors, tot.bytes, now_ms() - start,
	    tot.rexmit);
	return tot.failed == 0 && tot.ok == cfg.count ? 0 : 1;
}
