/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_txq.c - unit tests for the send queue (src/txq.c): how a window
 * is packed into entries and UDP GSO trains (64 segments, 64 KiB, a
 * short or empty last block, block numbers across the 16-bit rollover,
 * plain sends when GSO is off, the source address cmsg before the GSO
 * one), checked on the queue without sending; then real sends on
 * loopback UDP sockets: what arrives, the counters, a flush when another
 * socket comes or the batch is full, and a faulting body ending only its
 * own transfer through the fault hook. Links txq.o and what it calls
 * (sess, tftp, net, ring, log); it owns no other module's tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "sess.h"
#include "stats.h"
#include "tftp.h"
#include "txq.h"
#include "udp.h"
#include "testutil.h"

static struct txq		 q;
static struct stats_slot	 st;
static struct sockaddr_storage	 peer, local;
static unsigned			 n_fault, n_refused;
static uint32_t			 last_fault;

static void
hook_fault(void *ctx, uint32_t slot)
{
	(void)ctx;
	n_fault++;
	last_fault = slot;
}

static void
hook_refused(void *ctx, uint32_t slot)
{
	(void)ctx;
	(void)slot;
	n_refused++;
}

static uint64_t
hook_ud(void *ctx, uint32_t slot, uint32_t bytes, unsigned segs)
{
	(void)ctx;
	return (uint64_t)slot << 32 | (uint64_t)bytes << 8 | segs;
}

static const struct txq_hooks	 hooks = { .ctx = NULL,
    .fault = hook_fault, .gso_refused = hook_refused, .send_ud = hook_ud };

static void
setup(void)
{
	struct sockaddr_in	*p4 = (struct sockaddr_in *)&peer;

	memset(&st, 0, sizeof(st));
	txq_init(&q, &st, true, &hooks);
	n_fault = n_refused = 0;
	last_fault = UINT32_MAX;
	memset(&peer, 0, sizeof(peer));
	p4->sin_family = AF_INET;
	p4->sin_port = htons(4000);
	p4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	local = peer;
	((struct sockaddr_in *)&local)->sin_port = 0;
}

/* A destination on socket fd (no socket needed while nothing flushes). */
static struct txq_dest
dest(int fd, uint32_t slot, bool shared)
{
	struct txq_dest	 d = { .fd = fd, .slot = slot, .peer = &peer,
	    .local = shared ? &local : NULL, .gso_off = false };

	return d;
}

static struct sess
body_sess(uint32_t blksize, uint64_t size)
{
	struct sess	 s;

	memset(&s, 0, sizeof(s));
	s.blksize = blksize;
	s.size = size;
	return s;
}

static uint16_t
hdr_block(const void *p)
{
	const uint8_t	*b = p;

	ck_assert_uint_eq(b[0] << 8 | b[1], TFTP_DATA);
	return (uint16_t)(b[2] << 8 | b[3]);
}

/* The UDP_SEGMENT size of entry i, 0 when it has none. */
static unsigned
gso_size(unsigned i)
{
	struct msghdr	*h = &q.mm[i].msg_hdr;
	struct cmsghdr	*c;
	uint16_t	 seg;

	for (c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_SEGMENT) {
			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
			return seg;
		}
	return 0;
}

/*
 * Entry i is a train of n blocks from block first (absolute): headers in
 * order (16-bit numbers), body slices at their offsets in data, and the
 * payload bytes counted. Returns the payload bytes.
 */
static uint32_t
check_train(unsigned i, const uint8_t *data, uint32_t blksize, uint64_t size,
    uint64_t first, unsigned n)
{
	const struct msghdr	*h = &q.mm[i].msg_hdr;
	uint32_t		 bytes = 0;
	unsigned		 k;

	ck_assert_uint_eq(h->msg_iovlen, 2 * n);
	ck_assert_uint_eq(q.segs[i], n);
	ck_assert_uint_eq(gso_size(i), blksize + TFTP_HDR_LEN);
	for (k = 0; k < n; k++) {
		uint64_t	 off = (first + k - 1) * blksize;
		uint64_t	 len = size - off < blksize ? size - off :
		    blksize;

		ck_assert_uint_eq(h->msg_iov[2 * k].iov_len, TFTP_HDR_LEN);
		ck_assert_uint_eq(hdr_block(h->msg_iov[2 * k].iov_base),
		    (uint16_t)(first + k));
		ck_assert_ptr_eq(h->msg_iov[2 * k + 1].iov_base, data + off);
		ck_assert_uint_eq(h->msg_iov[2 * k + 1].iov_len, len);
		bytes += (uint32_t)len;
	}
	ck_assert_uint_eq(q.bytes[i], bytes);
	ck_assert_uint_le(bytes + n * TFTP_HDR_LEN, TXQ_GSO_BYTES);
	return bytes;
}

START_TEST(txq_gso_segs_by_blksize)
{
	struct txq_dest	 d = dest(-1, 0, false);

	ck_assert_uint_eq(txq_gso_segs(&q, &d, 512), 64);	/* count cap */
	ck_assert_uint_eq(txq_gso_segs(&q, &d, 1428), 45);	/* 64 KiB */
	ck_assert_uint_eq(txq_gso_segs(&q, &d, 8192), 7);
	ck_assert_uint_eq(txq_gso_segs(&q, &d, 65464), 1);	/* none fit */
	ck_assert_uint_le(45 * (1428 + TFTP_HDR_LEN), TXQ_GSO_BYTES);
	ck_assert_uint_gt(46 * (1428 + TFTP_HDR_LEN), TXQ_GSO_BYTES);
	d.gso_off = true;
	ck_assert_uint_eq(txq_gso_segs(&q, &d, 512), 1);
	d.gso_off = false;
	q.gso = false;
	ck_assert_uint_eq(txq_gso_segs(&q, &d, 512), 1);
}
END_TEST

/*
 * A window cut into trains at 64 segments or at 64 KiB, whichever comes
 * first: block size, file size in blocks, blocks sent from block 1, the
 * session id, and the blocks in each train (0: no more trains).
 */
static const struct split_case {
	uint32_t	blksize;
	unsigned	file_blocks, window;
	uint32_t	sess;
	unsigned	train[4];
} split_cases[] = {
	{ 512, 300, 200, 7, { 64, 64, 64, 8 } },	/* 64 segments */
	{ 8192, 16, 16, 0, { 7, 7, 2 } },		/* 64 KiB */
};

START_TEST(txq_window_splits)
{
	static uint8_t		 data[300 * 512];
	const struct split_case	*c = &split_cases[_i];
	uint64_t		 size = (uint64_t)c->file_blocks * c->blksize;
	struct sess		 s = body_sess(c->blksize, size);
	struct txq_dest		 d = dest(-1, c->sess, false);
	uint64_t		 first = 1;
	unsigned		 i;

	ck_assert_uint_le(size, sizeof(data));
	txq_send_blocks(&q, &d, &s, data, 1, c->window);
	for (i = 0; i < 4 && c->train[i] != 0; i++) {
		check_train(i, data, c->blksize, size, first, c->train[i]);
		ck_assert_uint_eq(q.sess[i], c->sess);
		ck_assert_int_eq(q.fdv[i], -1);
		ck_assert(memcmp(q.mm[i].msg_hdr.msg_name, &peer,
		    sizeof(struct sockaddr_in)) == 0);
		first += c->train[i];
	}
	ck_assert_uint_eq(first - 1, c->window);
	ck_assert_uint_eq(q.n, i);
	ck_assert_uint_eq(q.gson, i);
	ck_assert_uint_eq(st.tx_pkts, 0);	/* nothing sent yet */
}
END_TEST

START_TEST(txq_short_last_block_ends_train)
{
	static uint8_t	 data[10 * 512 + 100];
	struct sess	 s = body_sess(512, sizeof(data));
	struct txq_dest	 d = dest(-1, 0, false);

	txq_send_blocks(&q, &d, &s, data, 1, 11);
	ck_assert_uint_eq(q.n, 1);
	ck_assert_uint_eq(check_train(0, data, 512, sizeof(data), 1, 11),
	    sizeof(data));
	ck_assert_uint_eq(q.mm[0].msg_hdr.msg_iov[21].iov_len, 100);
}
END_TEST

/* A body of whole blocks ends with an empty one: a bare header, in a
 * train (the kernel's last segment) or alone. */
START_TEST(txq_empty_last_block)
{
	static uint8_t	 data[4 * 512];
	struct sess	 s = body_sess(512, sizeof(data));
	struct txq_dest	 d = dest(-1, 0, false);

	txq_send_blocks(&q, &d, &s, data, 3, 3);
	ck_assert_uint_eq(q.n, 1);
	ck_assert_uint_eq(check_train(0, data, 512, sizeof(data), 3, 3),
	    1024);
	ck_assert_uint_eq(q.mm[0].msg_hdr.msg_iov[5].iov_len, 0);
	txq_send_blocks(&q, &d, &s, data, 5, 1);
	ck_assert_uint_eq(q.n, 2);
	ck_assert_uint_eq(q.mm[1].msg_hdr.msg_iovlen, 1);
	ck_assert_uint_eq(q.iov[1][0].iov_len, TFTP_HDR_LEN);
	ck_assert_uint_eq(hdr_block(q.iov[1][0].iov_base), 5);
	ck_assert_uint_eq(q.bytes[1], 0);
	ck_assert_uint_eq(q.segs[1], 1);
	ck_assert_uint_eq(gso_size(1), 0);
}
END_TEST

/* An empty body (a netascii or generated buffer of 0 bytes): block 1 is
 * a bare header. */
START_TEST(txq_empty_buffer_body)
{
	static const uint8_t	 nothing[1];
	struct sess		 s = body_sess(512, 0);
	struct txq_dest		 d = dest(-1, 0, false);

	txq_send_blocks(&q, &d, &s, nothing, 1, 1);
	ck_assert_uint_eq(q.n, 1);
	ck_assert_uint_eq(q.mm[0].msg_hdr.msg_iovlen, 1);
	ck_assert_uint_eq(hdr_block(q.pay[0]), 1);
}
END_TEST

START_TEST(txq_window_across_rollover)
{
	uint64_t	 size = 70000ull * 8;
	uint8_t		*data = malloc(size);
	struct sess	 s = body_sess(8, size);
	struct txq_dest	 d = dest(-1, 0, false);
	const uint8_t	*b;

	ck_assert_ptr_nonnull(data);
	txq_send_blocks(&q, &d, &s, data, 65533, 6);
	ck_assert_uint_eq(q.n, 1);
	check_train(0, data, 8, size, 65533, 6);
	b = q.mm[0].msg_hdr.msg_iov[6].iov_base;	/* block 65536 */
	ck_assert_uint_eq(hdr_block(b), 0);
	ck_assert_ptr_eq(q.mm[0].msg_hdr.msg_iov[7].iov_base,
	    data + 65535ull * 8);
	/* GSO off: one entry per block, the same numbers. */
	txq_init(&q, &st, false, &hooks);
	txq_send_blocks(&q, &d, &s, data, 65535, 3);
	ck_assert_uint_eq(q.n, 3);
	ck_assert_uint_eq(hdr_block(q.pay[0]), 65535);
	ck_assert_uint_eq(hdr_block(q.pay[1]), 0);
	ck_assert_uint_eq(hdr_block(q.pay[2]), 1);
	ck_assert_ptr_eq(q.iov[2][1].iov_base, data + 65536ull * 8);
	ck_assert_uint_eq(q.mm[2].msg_hdr.msg_iovlen, 2);
	ck_assert_uint_eq(q.bytes[2], 8);
	free(data);
}
END_TEST

START_TEST(txq_gso_off_for_transfer_sends_plain)
{
	static uint8_t	 data[3 * 512];
	struct sess	 s = body_sess(512, sizeof(data));
	struct txq_dest	 d = dest(-1, 0, false);
	unsigned	 i;

	d.gso_off = true;
	txq_send_blocks(&q, &d, &s, data, 1, 3);
	ck_assert_uint_eq(q.n, 3);
	ck_assert_uint_eq(q.gson, 0);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(q.mm[i].msg_hdr.msg_iovlen, 2);
		ck_assert_uint_eq(q.segs[i], 1);
		ck_assert_uint_eq(gso_size(i), 0);
		ck_assert_ptr_eq(q.iov[i][1].iov_base, data + i * 512);
	}
}
END_TEST

/* Single port mode: the source address (pktinfo) comes first, the GSO
 * size after it; a short packet is copied with its source. */
START_TEST(txq_source_then_gso_cmsg)
{
	static uint8_t	 data[4 * 512];
	static const uint8_t ack[] = { 0, TFTP_ACK, 0, 1 };
	struct sess	 s = body_sess(512, sizeof(data));
	struct txq_dest	 d = dest(-1, 0, true);
	struct cmsghdr	*c;
	struct msghdr	*h;

	txq_add_ctl(&q, &d, ack, sizeof(ack));
	txq_send_blocks(&q, &d, &s, data, 1, 4);
	ck_assert_uint_eq(q.n, 2);
	h = &q.mm[0].msg_hdr;
	ck_assert_uint_eq(h->msg_iovlen, 1);
	ck_assert_uint_eq(h->msg_iov[0].iov_len, sizeof(ack));
	ck_assert(memcmp(h->msg_iov[0].iov_base, ack, sizeof(ack)) == 0);
	c = CMSG_FIRSTHDR(h);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->cmsg_type, IP_PKTINFO);
	h = &q.mm[1].msg_hdr;
	c = CMSG_FIRSTHDR(h);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->cmsg_level, IPPROTO_IP);
	ck_assert_int_eq(c->cmsg_type, IP_PKTINFO);
	c = CMSG_NXTHDR(h, c);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->cmsg_level, SOL_UDP);
	ck_assert_int_eq(c->cmsg_type, UDP_SEGMENT);
	ck_assert_uint_eq(gso_size(1), 516);
	check_train(1, data, 512, sizeof(data), 1, 4);
}
END_TEST

/* Read one datagram (waiting at most 5 s for it); its length, -1: none. */
static ssize_t
recv_one(int fd, uint8_t *buf, size_t len)
{
	struct pollfd	 p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 5000) != 1)
		return -1;
	return recv(fd, buf, len, MSG_DONTWAIT);
}

static bool
nothing_waits(int fd)
{
	struct pollfd	 p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

/* A window sent for real: a GSO train cut by the kernel (or, where it
 * refuses, sent again plainly) and a queued ACK, in order, counted. */
START_TEST(txq_flush_sends_window_on_loopback)
{
	static uint8_t	 data[4 * 512 + 10], buf[1024];
	struct sess	 s = body_sess(512, sizeof(data));
	struct txq_dest	 d;
	int		 tx, rx;
	unsigned	 k;
	static const uint8_t ack[] = { 0, TFTP_ACK, 0, 9 };

	for (k = 0; k < sizeof(data); k++)
		data[k] = (uint8_t)(k * 7);
	tx = udp_socket(&local);
	rx = udp_socket(&peer);
	d = dest(tx, 3, false);
	txq_send_blocks(&q, &d, &s, data, 1, 5);
	txq_add_ctl(&q, &d, ack, sizeof(ack));
	txq_flush(&q);
	ck_assert_uint_eq(q.n, 0);
	for (k = 1; k <= 5; k++) {
		size_t	 want = k < 5 ? 512 : 10;

		ck_assert_int_eq(recv_one(rx, buf, sizeof(buf)),
		    (ssize_t)(TFTP_HDR_LEN + want));
		ck_assert_uint_eq(hdr_block(buf), k);
		ck_assert(memcmp(buf + TFTP_HDR_LEN, data + (k - 1) * 512,
		    want) == 0);
	}
	ck_assert_int_eq(recv_one(rx, buf, sizeof(buf)), sizeof(ack));
	ck_assert(memcmp(buf, ack, sizeof(ack)) == 0);
	ck_assert(nothing_waits(rx));
	ck_assert_uint_eq(st.tx_pkts, 6);
	ck_assert_uint_eq(st.tx_bytes, sizeof(data));
	ck_assert_uint_eq(st.gso_sends + n_refused, 1);
	ck_assert_uint_eq(n_fault, 0);
	close(tx);
	close(rx);
}
END_TEST

/* With epoll all entries share one socket: another socket's datagram
 * flushes the queue first; the 65th entry flushes a full batch. */
START_TEST(txq_flushes_on_other_socket_and_full_batch)
{
	static uint8_t	 data[70 * 8], buf[64];
	struct sess	 s = body_sess(8, sizeof(data));
	struct txq_dest	 a, b;
	int		 tx1, tx2, rx;
	unsigned	 k;

	tx1 = udp_socket(&local);
	tx2 = udp_socket(&local);
	rx = udp_socket(&peer);
	q.gso = false;
	a = dest(tx1, 1, false);
	b = dest(tx2, 2, false);
	txq_send_blocks(&q, &a, &s, data, 1, 2);
	ck_assert_uint_eq(q.n, 2);
	txq_send_blocks(&q, &b, &s, data, 1, 1);
	ck_assert_uint_eq(q.n, 1);		/* a's two went first */
	ck_assert_int_eq(q.fdv[0], tx2);
	for (k = 0; k < 2; k++)
		ck_assert_int_eq(recv_one(rx, buf, sizeof(buf)), 12);
	ck_assert(nothing_waits(rx));
	txq_send_blocks(&q, &b, &s, data, 2, TXQ_BATCH);
	ck_assert_uint_eq(q.n, 1);		/* the batch left, one waits */
	for (k = 0; k < TXQ_BATCH; k++)
		ck_assert_int_eq(recv_one(rx, buf, sizeof(buf)), 12);
	ck_assert(nothing_waits(rx));
	ck_assert_uint_eq(st.tx_pkts, 2 + TXQ_BATCH);
	txq_flush(&q);
	ck_assert_int_eq(recv_one(rx, buf, sizeof(buf)), 12);
	ck_assert_uint_eq(hdr_block(buf), TXQ_BATCH + 1);
	ck_assert_uint_eq(st.tx_pkts, 3 + TXQ_BATCH);
	close(tx1);
	close(tx2);
	close(rx);
}
END_TEST

/* A body the kernel cannot read (a file truncated under its mapping):
 * EFAULT ends that transfer through the fault hook and drops its other
 * datagrams; another transfer's ACK on the same socket still leaves. */
START_TEST(txq_fault_ends_only_that_transfer)
{
	static const uint8_t ack[] = { 0, TFTP_ACK, 0, 1 };
	static uint8_t	 buf[64];
	long		 pg = sysconf(_SC_PAGESIZE);
	uint8_t		*gone;
	struct sess	 s;
	struct txq_dest	 a, b;
	int		 tx, rx;

	gone = mmap(NULL, (size_t)pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	ck_assert(gone != MAP_FAILED);
	s = body_sess(512, (uint64_t)pg);
	tx = udp_socket(&local);
	rx = udp_socket(&peer);
	a = dest(tx, 4, false);
	b = dest(tx, 5, false);
	q.gso = false;
	txq_send_blocks(&q, &a, &s, gone, 1, 1);
	txq_add_ctl(&q, &b, ack, sizeof(ack));
	txq_send_blocks(&q, &a, &s, gone, 2, 1);
	txq_flush(&q);
	ck_assert_uint_eq(n_fault, 1);
	ck_assert_uint_eq(last_fault, 4);
	ck_assert_int_eq(recv_one(rx, buf, sizeof(buf)), sizeof(ack));
	ck_assert(memcmp(buf, ack, sizeof(ack)) == 0);
	ck_assert(nothing_waits(rx));
	ck_assert_uint_eq(st.tx_pkts, 1);
	munmap(gone, (size_t)pg);
	close(tx);
	close(rx);
}
END_TEST

static Suite *
txq_suite(void)
{
	Suite	*s = suite_create("txq");
	TCase	*tc = tcase_create("pack");
	TCase	*tn = tcase_create("send");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, txq_gso_segs_by_blksize);
	tcase_add_loop_test(tc, txq_window_splits, 0,
	    sizeof(split_cases) / sizeof(split_cases[0]));
	tcase_add_test(tc, txq_short_last_block_ends_train);
	tcase_add_test(tc, txq_empty_last_block);
	tcase_add_test(tc, txq_empty_buffer_body);
	tcase_add_test(tc, txq_window_across_rollover);
	tcase_add_test(tc, txq_gso_off_for_transfer_sends_plain);
	tcase_add_test(tc, txq_source_then_gso_cmsg);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tn, setup, NULL);
	tcase_add_test(tn, txq_flush_sends_window_on_loopback);
	tcase_add_test(tn, txq_flushes_on_other_socket_and_full_batch);
	tcase_add_test(tn, txq_fault_ends_only_that_transfer);
	suite_add_tcase(s, tn);
	return s;
}

int
main(void)
{
	return unit_run(txq_suite());
}
