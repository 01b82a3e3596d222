/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ceiling.c - the least work a TFTP read server can do per packet: the
 * measuring stick of `make bench` (its "ceiling" rows), never installed
 * and never a server to run: no timers (nothing is ever retransmitted
 * unless the client asks again), no logging, no limits, no access checks,
 * no uploads, no netascii, IPv4 only, one process, one socket. Datagrams
 * come in by recvmmsg batches and every reply of a batch leaves by one
 * sendmmsg (a window of equal blocks as one UDP GSO send with -g); the
 * bodies are mmap'd files under the root, mapped once; DATA is a 4-byte
 * header and a slice of the mapping (no copy). It answers blksize,
 * tsize and windowsize (RFC 2348/2349/7440) with an OACK, a request with
 * no option with DATA 1 (RFC 1350); the block counter wraps; an ACK
 * below the last block sent (a gap, or the client's retransmitted ACK)
 * sends again from the block after it. A transfer is found by its
 * client's port alone (the bench's clients are all 127.0.0.1): a new
 * request from a port replaces that port's transfer.
 *
 * It owns nothing of ptftpd and shares no code with it but tftp.h's
 * constants: a bench server the way loadgen is a bench client.
 *
 * Usage: ceiling [-g] -P PORT ROOT   (listens on 127.0.0.1:PORT)
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define RX_BATCH	64
#define RX_LEN		1024
#define OUT_MAX		512		/* queued sends before a flush */
#define SEGS_MAX	64		/* UDP_MAX_SEGMENTS */
#define GSO_BYTES	(65535 - 8 - 40 - 20)
#define FILES_MAX	64
#define BLKSIZE_MAX	65464
#define WINDOW_MAX	64

struct file {
	char		 name[256];
	const uint8_t	*data;
	uint64_t	 size;
};

struct xfer {
	bool		 on;
	uint32_t	 addr;		/* network order */
	const struct file *f;
	uint32_t	 blksize, window;
	uint64_t	 nblocks, acked, sent;
};

struct out {
	struct mmsghdr	 mm[OUT_MAX];
	struct iovec	 iov[OUT_MAX][2 * SEGS_MAX];
	uint8_t		 hdr[OUT_MAX][SEGS_MAX][4];
	uint8_t		 pay[OUT_MAX][512];	/* OACK, ERROR */
	struct sockaddr_in to[OUT_MAX];
	union {
		struct cmsghdr	 a;
		uint8_t		 b[CMSG_SPACE(sizeof(uint16_t))];
	}		 ctl[OUT_MAX];
	unsigned	 n;
};

static int		 fd, rootfd;
static bool		 gso;
static struct file	 files[FILES_MAX];
static unsigned		 nfiles;
static struct xfer	 xf[65536];	/* by client port */
static struct out	 q;

static void
flush(void)
{
	unsigned	 i = 0;
	int		 r;

	while (i < q.n) {
		r = sendmmsg(fd, q.mm + i, q.n - i, 0);
		if (r <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			i++;		/* drop it: the client asks again */
			continue;
		}
		i += (unsigned)r;
	}
	q.n = 0;
}

static struct msghdr *
take(const struct sockaddr_in *to)
{
	struct msghdr	*h;

	if (q.n == OUT_MAX)
		flush();
	h = &q.mm[q.n].msg_hdr;
	memset(h, 0, sizeof(*h));
	q.to[q.n] = *to;
	h->msg_name = &q.to[q.n];
	h->msg_namelen = sizeof(*to);
	h->msg_iov = q.iov[q.n];
	q.n++;
	return h;
}

static void
send_pay(const struct sockaddr_in *to, const void *p, size_t len)
{
	struct msghdr	*h = take(to);
	unsigned	 i = q.n - 1;

	memcpy(q.pay[i], p, len);
	q.iov[i][0].iov_base = q.pay[i];
	q.iov[i][0].iov_len = len;
	h->msg_iovlen = 1;
}

static void
send_error(const struct sockaddr_in *to, uint16_t code, const char *msg)
{
	uint8_t	 b[128];
	size_t	 n = strlen(msg) + 1;

	b[0] = 0; b[1] = 5; b[2] = (uint8_t)(code >> 8); b[3] = (uint8_t)code;
	memcpy(b + 4, msg, n);
	send_pay(to, b, 4 + n);
}

/* Blocks [first, first+n) of x: one entry each, or one GSO train. */
static void
send_blocks(struct xfer *x, const struct sockaddr_in *to, uint64_t first,
    uint32_t n)
{
	uint32_t	 k, per = 1;

	if (gso) {
		per = GSO_BYTES / (x->blksize + 4);
		if (per > SEGS_MAX)
			per = SEGS_MAX;
		if (per == 0)
			per = 1;
	}
	while (n > 0) {
		uint32_t	 m = n < per ? n : per;
		struct msghdr	*h = take(to);
		unsigned	 i = q.n - 1;

		for (k = 0; k < m; k++) {
			uint64_t	 b = first + k, off = (b - 1) * x->blksize;
			uint64_t	 len = x->f->size - off;

			if (len > x->blksize)
				len = x->blksize;
			q.hdr[i][k][0] = 0;
			q.hdr[i][k][1] = 3;
			q.hdr[i][k][2] = (uint8_t)(b >> 8);
			q.hdr[i][k][3] = (uint8_t)b;
			q.iov[i][2 * k].iov_base = q.hdr[i][k];
			q.iov[i][2 * k].iov_len = 4;
			q.iov[i][2 * k + 1].iov_base =
			    (void *)(x->f->data + off);
			q.iov[i][2 * k + 1].iov_len = len;
		}
		h->msg_iovlen = 2 * m;
		if (m > 1) {
			struct cmsghdr	*c = &q.ctl[i].a;
			uint16_t	 seg = (uint16_t)(x->blksize + 4);

			memset(q.ctl[i].b, 0, sizeof(q.ctl[i].b));
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(c), &seg, sizeof(seg));
			h->msg_control = q.ctl[i].b;
			h->msg_controllen = sizeof(q.ctl[i].b);
		}
		first += m;
		n -= m;
	}
}

static void
send_window(struct xfer *x, const struct sockaddr_in *to)
{
	uint64_t	 last = x->acked + x->window;

	if (last > x->nblocks)
		last = x->nblocks;
	send_blocks(x, to, x->acked + 1, (uint32_t)(last - x->acked));
	x->sent = last;
}

static const struct file *
file_get(const char *name)
{
	struct stat	 st;
	struct file	*f;
	unsigned	 i;
	void		*p;
	int		 ffd;

	for (i = 0; i < nfiles; i++)
		if (strcmp(files[i].name, name) == 0)
			return &files[i];
	if (nfiles == FILES_MAX || strlen(name) >= sizeof(f->name) ||
	    strstr(name, "..") != NULL || name[0] == '/')
		return NULL;
	if ((ffd = openat(rootfd, name, O_RDONLY)) == -1)
		return NULL;
	if (fstat(ffd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(ffd);
		return NULL;
	}
	p = st.st_size > 0 ? mmap(NULL, (size_t)st.st_size, PROT_READ,
	    MAP_SHARED, ffd, 0) : (void *)"";
	close(ffd);
	if (p == MAP_FAILED)
		return NULL;
	f = &files[nfiles++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->data = p;
	f->size = (uint64_t)st.st_size;
	return f;
}

static void
on_rrq(const uint8_t *p, size_t len, const struct sockaddr_in *from)
{
	struct xfer	*x = &xf[ntohs(from->sin_port)];
	const char	*name, *mode, *end = (const char *)p + len;
	const char	*s = (const char *)p + 2;
	uint8_t		 oack[512];
	size_t		 ol = 2;
	bool		 opts = false;

	if (len < 4 || p[len - 1] != 0)
		return;
	name = s;
	s += strlen(s) + 1;
	if (s >= end)
		return;
	mode = s;
	s += strlen(s) + 1;
	if (strcasecmp(mode, "octet") != 0) {
		send_error(from, 4, "octet only");
		return;
	}
	memset(x, 0, sizeof(*x));
	if ((x->f = file_get(name)) == NULL) {
		send_error(from, 1, "File not found");
		return;
	}
	x->blksize = 512;
	x->window = 1;
	oack[0] = 0;
	oack[1] = 6;
	while (s < end) {
		const char	*k = s, *v;
		unsigned long	 n;
		char		 val[24];

		s += strlen(s) + 1;
		if (s >= end)
			break;
		v = s;
		s += strlen(s) + 1;
		n = strtoul(v, NULL, 10);
		if (strcasecmp(k, "blksize") == 0 && n >= 8) {
			x->blksize = n > BLKSIZE_MAX ? BLKSIZE_MAX : (uint32_t)n;
			snprintf(val, sizeof(val), "%u", x->blksize);
		} else if (strcasecmp(k, "windowsize") == 0 && n >= 1) {
			x->window = n > WINDOW_MAX ? WINDOW_MAX : (uint32_t)n;
			snprintf(val, sizeof(val), "%u", x->window);
		} else if (strcasecmp(k, "tsize") == 0) {
			snprintf(val, sizeof(val), "%llu",
			    (unsigned long long)x->f->size);
		} else {
			continue;
		}
		if (ol + strlen(k) + strlen(val) + 2 > sizeof(oack))
			break;
		memcpy(oack + ol, k, strlen(k) + 1);
		ol += strlen(k) + 1;
		memcpy(oack + ol, val, strlen(val) + 1);
		ol += strlen(val) + 1;
		opts = true;
	}
	x->on = true;
	x->addr = from->sin_addr.s_addr;
	x->nblocks = x->f->size / x->blksize + 1;
	x->acked = 0;
	if (opts) {
		x->sent = 0;		/* the OACK is block 0 */
		send_pay(from, oack, ol);
	} else {
		send_window(x, from);
	}
}

static void
on_ack(const uint8_t *p, size_t len, const struct sockaddr_in *from)
{
	struct xfer	*x = &xf[ntohs(from->sin_port)];
	uint16_t	 wire, back;
	uint64_t	 abs;

	if (len < 4 || !x->on || x->addr != from->sin_addr.s_addr)
		return;
	wire = (uint16_t)(p[2] << 8 | p[3]);
	back = (uint16_t)((uint16_t)x->sent - wire);
	if (back > x->sent - x->acked)
		return;			/* older than the window */
	abs = x->sent - back;
	if (abs == x->nblocks) {
		x->on = false;		/* the last block: done */
		return;
	}
	x->acked = abs;
	send_window(x, from);
}

int
main(int argc, char **argv)
{
	static uint8_t		 buf[RX_BATCH][RX_LEN];
	static struct mmsghdr	 mm[RX_BATCH];
	static struct iovec	 iov[RX_BATCH];
	static struct sockaddr_in from[RX_BATCH];
	struct sockaddr_in	 sa;
	int			 c, port = 0, one = 1, big = 4 << 20, i, n;

	while ((c = getopt(argc, argv, "gP:")) != -1) {
		switch (c) {
		case 'g': gso = true; break;
		case 'P': port = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || port <= 0 || port > 65535) {
usage:
		fprintf(stderr, "usage: ceiling [-g] -P PORT ROOT\n");
		return 2;
	}
	if ((rootfd = open(argv[optind], O_RDONLY | O_DIRECTORY)) == -1) {
		perror(argv[optind]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		perror("bind");
		return 1;
	}
	for (i = 0; i < RX_BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = RX_LEN;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &from[i];
	}
	for (;;) {
		for (i = 0; i < RX_BATCH; i++)
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
		n = recvmmsg(fd, mm, RX_BATCH, MSG_WAITFORONE, NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("recvmmsg");
			return 1;
		}
		for (i = 0; i < n; i++) {
			const uint8_t	*p = buf[i];
			size_t		 len = mm[i].msg_len;

			if (len < 4 || len >= RX_LEN || p[0] != 0 ||
			    from[i].sin_family != AF_INET)
				continue;
			if (p[1] == 1)
				on_rrq(p, len, &from[i]);
			else if (p[1] == 4)
				on_ack(p, len, &from[i]);
		}
		flush();
	}
}
