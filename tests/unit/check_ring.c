/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_ring.c - unit tests for the worker's io_uring (src/ring.c) on
 * loopback UDP sockets: the restriction list refuses every other opcode
 * and SQE flag, a multishot receive delivers datagrams with their sender
 * and says when one was truncated, a successful send posts nothing while
 * a faulting one reports -EFAULT with its user data, and a cancel ends the
 * receive. Where the kernel has no usable io_uring (sysctl, container
 * filter, kernel before 6.0) each test prints "SKIP <test>: <why>" and
 * is counted as skipped (tests/unit/skip.h): the worker then runs on
 * epoll, which the integration tests cover. Links ring.o only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "ring.h"
#include "skip.h"
#include "testutil.h"
#include "udp.h"

static struct ring	 r;
static bool		 have_ring;
static const char	*why;
static int		 sa = -1, sb = -1;	/* two bound loopback sockets */
static struct sockaddr_in addr_a, addr_b;

static int
bound_socket(struct sockaddr_in *sin)
{
	struct sockaddr_storage	ss;
	int			fd;

	fd = udp_socket_flags(&ss, SOCK_NONBLOCK | SOCK_CLOEXEC);
	memcpy(sin, &ss, sizeof(*sin));
	return fd;
}

static void
setup(void)
{
	have_ring = ring_init(&r, 64, 8, 600, &why) == 0;
	sa = bound_socket(&addr_a);
	sb = bound_socket(&addr_b);
}

static void
teardown(void)
{
	if (have_ring)
		ring_free(&r);
	close(sa);
	close(sb);
}

/* The next completion within about a second, or fail. */
static struct io_uring_cqe
next_cqe(void)
{
	struct io_uring_cqe	*c, copy;
	int			 i;

	memset(&copy, 0, sizeof(copy));
	for (i = 0; i < 100; i++) {
		if ((c = ring_peek(&r)) != NULL) {
			copy = *c;
			ring_seen(&r, c);
			return copy;
		}
		ck_assert_int_eq(ring_wait(&r, 10, NULL), 0);
	}
	ck_abort_msg("no completion within a second");
	return copy;
}

START_TEST(ring_refuses_other_ops_and_flags)
{
	struct io_uring_sqe	*sqe;
	struct io_uring_cqe	 c;

	if (!have_ring)
		CK_SKIP("no io_uring here: %s", why);
	sqe = ring_sqe(&r);
	ck_assert_ptr_nonnull(sqe);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, 11);
	sqe = ring_sqe(&r);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
	io_uring_sqe_set_data64(sqe, 12);
	/* An allowed op with a flag outside the list. */
	ck_assert_int_eq(ring_recv(&r, sa, 13, true), 0);
	sqe = io_uring_get_sqe(&r.uring);
	io_uring_prep_poll_add(sqe, sa, POLLIN);
	sqe->flags |= IOSQE_ASYNC;
	io_uring_sqe_set_data64(sqe, 14);
	ck_assert_int_eq(ring_submit(&r), 0);
	for (int seen = 0; seen != 0x16; ) {
		c = next_cqe();
		if (c.user_data == 13)	/* the receive: still armed */
			ck_abort_msg("receive completed: %d", c.res);
		ck_assert_uint_ge(c.user_data, 11);
		ck_assert_uint_le(c.user_data, 14);
		ck_assert_msg(c.res == -EACCES, "user data %llu: %d",
		    (unsigned long long)c.user_data, c.res);
		seen |= 1 << (c.user_data - 10);
	}
}
END_TEST

START_TEST(ring_receives_with_sender_and_truncation)
{
	static const size_t	 sizes[] = { 4, 600, 700 };
	uint8_t			 pkt[700];
	struct io_uring_cqe	 c;
	struct ring_dgram	 d;
	const struct sockaddr_in *from = (const void *)&d.from;
	int			 bid;
	size_t			 i;

	if (!have_ring)
		CK_SKIP("no io_uring here: %s", why);
	ck_assert_int_eq(ring_recv(&r, sa, 42, true), 0);
	ck_assert_int_eq(ring_submit(&r), 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(pkt, (int)i + 1, sizeof(pkt));
		ck_assert_int_eq(sendto(sb, pkt, sizes[i], 0,
		    (struct sockaddr *)&addr_a, sizeof(addr_a)),
		    (ssize_t)sizes[i]);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		c = next_cqe();
		ck_assert_uint_eq(c.user_data, 42);
		ck_assert(c.flags & IORING_CQE_F_MORE);
		ck_assert_int_eq(ring_dgram(&r, c.res, c.flags, &d, &bid), 1);
		ck_assert_int_ge(bid, 0);
		ck_assert_int_eq(from->sin_family, AF_INET);
		ck_assert_uint_eq(from->sin_port, addr_b.sin_port);
		ck_assert_uint_eq(d.len, sizes[i] > 600 ? 600 : sizes[i]);
		ck_assert(d.trunc == (sizes[i] > 600));
		ck_assert_uint_eq(d.data[0], i + 1);
		ck_assert_uint_eq(d.data[d.len - 1], i + 1);
		ring_give_back(&r, bid);
	}
	/* The cancel ends it: -ECANCELED, no more to come. */
	ck_assert_int_eq(ring_cancel(&r, 42, 43), 0);
	ck_assert_int_eq(ring_submit(&r), 0);
	c = next_cqe();
	while (c.user_data == 43)	/* the cancel's own, if posted */
		c = next_cqe();
	ck_assert_uint_eq(c.user_data, 42);
	ck_assert_int_eq(c.res, -ECANCELED);
	ck_assert(!(c.flags & IORING_CQE_F_MORE));
}
END_TEST

START_TEST(ring_buffers_run_dry_and_come_back)
{
	uint8_t			 pkt[4] = { 0, 4, 0, 1 };
	struct io_uring_cqe	 c;
	struct ring_dgram	 d;
	int			 bid, bids[8], i, got = 0;

	if (!have_ring)
		CK_SKIP("no io_uring here: %s", why);
	ck_assert_int_eq(ring_recv(&r, sa, 7, true), 0);
	ck_assert_int_eq(ring_submit(&r), 0);
	/* 9 datagrams for 8 buffers, none given back: the ninth ends the
	 * multishot with -ENOBUFS and waits in the socket. */
	for (i = 0; i < 9; i++)
		ck_assert_int_eq(sendto(sb, pkt, sizeof(pkt), 0,
		    (struct sockaddr *)&addr_a, sizeof(addr_a)), 4);
	for (;;) {
		c = next_cqe();
		ck_assert_uint_eq(c.user_data, 7);
		if (!(c.flags & IORING_CQE_F_MORE))
			break;
		ck_assert_int_eq(ring_dgram(&r, c.res, c.flags, &d, &bid), 1);
		ck_assert_int_lt(got, 8);
		bids[got++] = bid;
	}
	ck_assert_int_eq(got, 8);
	ck_assert_int_eq(c.res, -ENOBUFS);
	for (i = 0; i < got; i++)
		ring_give_back(&r, bids[i]);
	/* Armed again (not poll-first): the waiting datagram comes. */
	ck_assert_int_eq(ring_recv(&r, sa, 8, false), 0);
	ck_assert_int_eq(ring_submit(&r), 0);
	c = next_cqe();
	ck_assert_uint_eq(c.user_data, 8);
	ck_assert_int_eq(ring_dgram(&r, c.res, c.flags, &d, &bid), 1);
	ck_assert_uint_eq(d.len, 4);
	ring_give_back(&r, bid);
}
END_TEST

START_TEST(ring_send_success_is_silent_fault_is_reported)
{
	uint8_t			 hdr[4] = { 0, 3, 0, 1 }, buf[64];
	struct iovec		 iov[2];
	struct msghdr		 h;
	struct io_uring_cqe	 c, *cp;
	void			*gone;
	int			 i;

	if (!have_ring)
		CK_SKIP("no io_uring here: %s", why);
	memset(&h, 0, sizeof(h));
	h.msg_name = &addr_b;
	h.msg_namelen = sizeof(addr_b);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	h.msg_iov = iov;
	h.msg_iovlen = 1;
	ck_assert_int_eq(ring_send(&r, sa, &h, 5), 0);
	ck_assert_int_eq(ring_submit(&r), 0);
	for (i = 0; i < 100; i++) {
		if (recv(sb, buf, sizeof(buf), MSG_DONTWAIT) == 4)
			break;
		usleep(10000);
	}
	ck_assert_int_lt(i, 100);
	ck_assert_uint_eq(buf[1], 3);
	(void)ring_wait(&r, 20, NULL);
	cp = ring_peek(&r);
	ck_assert_msg(cp == NULL || r.skip == 0,
	    "a successful send posted a completion");
	if (cp != NULL)
		ring_seen(&r, cp);
	/* A body page that is gone (a file truncated under its mapping). */
	gone = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(gone, MAP_FAILED);
	iov[1].iov_base = gone;
	iov[1].iov_len = 512;
	h.msg_iovlen = 2;
	ck_assert_int_eq(ring_send(&r, sa, &h, 6), 0);
	ck_assert_int_eq(ring_submit(&r), 0);
	c = next_cqe();
	ck_assert_uint_eq(c.user_data, 6);
	ck_assert_int_eq(c.res, -EFAULT);
	munmap(gone, 4096);
}
END_TEST

static Suite *
ring_suite(void)
{
	Suite	*s = suite_create("ring");
	TCase	*tc = tcase_create("ring");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ring_refuses_other_ops_and_flags);
	tcase_add_test(tc, ring_receives_with_sender_and_truncation);
	tcase_add_test(tc, ring_buffers_run_dry_and_come_back);
	tcase_add_test(tc, ring_send_success_is_silent_fault_is_reported);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(ring_suite());
}
