/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_wio.c - unit tests for the I/O backend interface (include/wio.h)
 * on loopback UDP sockets, both backends: what comes back from a wait and
 * a reap (a watched fd's tag, a transfer's readiness on epoll, its
 * datagrams with their sender on io_uring, the epoll set through the
 * ring), that a disarmed transfer hands nothing back, that drain and
 * backlog are empty on epoll, that wio_submit sends what the queue
 * holds, and that a send failing on the ring comes back as
 * WIO_SEND_FAILED with its slot, generation, bytes and -EFAULT. Where the
 * kernel has no usable io_uring the io_uring tests print "SKIP <test>:
 * <why>" (tests/unit/skip.h). Links the backends and what they call
 * (ring, txq, sess, tftp, net, log).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "sess.h"
#include "skip.h"
#include "testutil.h"
#include "tftp.h"
#include "txq.h"
#include "udp.h"
#include "wio.h"

#define TAG_A		((1ull << 32) | 5)
#define SLOT		7u
#define GEN		((1u << WIO_GEN_BITS) + 3)	/* masked: 3 */

static struct wio		 io;
static struct txq		 q;
static int			 fa = -1, fb = -1, fc = -1;
static struct sockaddr_storage	 aa, ab, ac;

/* What a reap handed back, in order. */
#define EV_MAX	16
static struct wio_ev		 got[EV_MAX];
static char			 got_data[EV_MAX][64];
static struct sockaddr_storage	 got_from[EV_MAX];
static unsigned			 n_got;

static void
collect(void *ctx, const struct wio_ev *ev)
{
	(void)ctx;
	if (n_got == EV_MAX)
		return;
	got[n_got] = *ev;
	if (ev->what == WIO_DGRAM) {
		ck_assert_uint_lt(ev->len, sizeof(got_data[0]));
		memcpy(got_data[n_got], ev->data, ev->len);
		got_data[n_got][ev->len] = '\0';
		got_from[n_got] = *ev->from;
	}
	n_got++;
}

static void	hook_fault(void *ctx, uint32_t slot) { (void)ctx; (void)slot; }
static void	hook_refused(void *ctx, uint32_t slot) { (void)ctx; (void)slot; }

static uint64_t
hook_ud(void *ctx, uint32_t slot, uint32_t bytes, unsigned segs)
{
	(void)ctx;
	return wio_send_ud(slot, GEN, bytes, segs);
}

static const struct txq_hooks	 hooks = { .ctx = NULL,
    .fault = hook_fault, .gso_refused = hook_refused, .send_ud = hook_ud };

static void
setup(void)
{
	txq_init(&q, NULL, false, &hooks);
	ck_assert_int_eq(wio_init(&io, &q), 0);
	fa = udp_socket(&aa);
	fb = udp_socket(&ab);
	fc = udp_socket(&ac);
	n_got = 0;
}

static void
teardown(void)
{
	wio_fini(&io);
	close(fa);
	close(fb);
	close(fc);
}

static void
send_to(int from, const struct sockaddr_storage *to, const char *s)
{
	ck_assert_int_eq(sendto(from, s, strlen(s), 0,
	    (const struct sockaddr *)to, sizeof(struct sockaddr_in)),
	    (ssize_t)strlen(s));
}

/* Wait and reap until an event of kind what is there (or 20 waits of at
 * most 100 ms each); returns its index or fails. */
static unsigned
reap_until(enum wio_what what)
{
	unsigned	 i, k;

	for (k = 0; k < 20; k++) {
		for (i = 0; i < n_got; i++)
			if (got[i].what == what)
				return i;
		ck_assert_int_eq(wio_wait(&io, 100, NULL), 0);
		wio_reap(&io, collect, NULL);
	}
	for (i = 0; i < n_got; i++)
		if (got[i].what == what)
			return i;
	ck_abort_msg("no event %d after 20 waits", (int)what);
	return 0;
}

static bool
use_uring(const char **why)
{
	return wio_use_uring(&io, 64, why) == 0;
}

START_TEST(epoll_watch_and_arm_hand_back_tag_and_slot)
{
	const char	*what = NULL;
	unsigned	 i;

	ck_assert(!wio_is_uring(&io));
	ck_assert_str_eq(wio_wait_name(&io), "epoll_pwait");
	ck_assert_int_eq(wio_watch(&io, fa, TAG_A), 0);
	/* No datagram delivery on epoll: readiness, 0. */
	ck_assert_int_eq(wio_arm(&io, fb, SLOT, GEN, WIO_DGRAMS, &what), 0);
	send_to(fc, &aa, "req");
	send_to(fc, &ab, "ack");
	i = reap_until(WIO_READY);
	ck_assert_uint_eq(got[i].tag, TAG_A);
	i = reap_until(WIO_READABLE);
	ck_assert_uint_eq(got[i].slot, SLOT);
	/* Level-triggered: unread, both come again. */
	n_got = 0;
	ck_assert_int_eq(wio_wait(&io, 100, NULL), 0);
	wio_reap(&io, collect, NULL);
	ck_assert_uint_eq(n_got, 2);
	/* Unwatched and closed: nothing more. */
	ck_assert_int_eq(wio_unwatch(&io, fa), 0);
	wio_disarm(&io, SLOT);
	close(fb);
	fb = -1;
	n_got = 0;
	ck_assert_int_eq(wio_wait(&io, 10, NULL), 0);
	wio_reap(&io, collect, NULL);
	ck_assert_uint_eq(n_got, 0);
}
END_TEST

START_TEST(epoll_drain_and_backlog_are_empty)
{
	const char	*what = NULL;

	ck_assert_int_eq(wio_arm(&io, fb, SLOT, GEN, 0, &what), 0);
	send_to(fc, &ab, "ack");
	ck_assert_int_eq(wio_wait(&io, 1000, NULL), 0);
	/* The socket keeps its datagram: the worker reads it itself. */
	wio_drain(&io, SLOT, collect, NULL);
	ck_assert_uint_eq(n_got, 0);
	ck_assert(!wio_backlog(&io));
	wio_reap(&io, collect, NULL);
	ck_assert_uint_eq(n_got, 1);
	ck_assert_int_eq(got[0].what, WIO_READABLE);
}
END_TEST

START_TEST(epoll_arm_failure_says_what)
{
	const char	*what = NULL;

	ck_assert_int_eq(wio_arm(&io, fb, SLOT, GEN, 0, &what), 0);
	ck_assert_int_eq(wio_arm(&io, fb, SLOT, GEN, 0, &what), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_str_eq(what, "epoll_ctl");
}
END_TEST

/* The end of a turn sends the queue: on epoll at once, on io_uring at
 * the next wait. */
static void
submit_sends_queue(void)
{
	struct txq_dest	 d = { .fd = fa, .slot = SLOT, .peer = &ab };
	char		 buf[16];
	ssize_t		 n;

	txq_add_ctl(&q, &d, "oack", 4);
	wio_submit(&io);
	if (wio_is_uring(&io))
		ck_assert_int_eq(wio_wait(&io, 0, NULL), 0);
	n = recv(fb, buf, sizeof(buf), 0);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(memcmp(buf, "oack", 4), 0);
}

START_TEST(epoll_submit_sends_queue)
{
	submit_sends_queue();
}
END_TEST

START_TEST(uring_submit_sends_queue)
{
	const char	*why;

	if (!use_uring(&why))
		CK_SKIP("io_uring: %s", why);
	submit_sends_queue();
}
END_TEST

START_TEST(uring_dgrams_come_with_sender_and_set_through_ring)
{
	const char		*why, *what = NULL;
	struct sockaddr_in	*from;
	unsigned		 i;

	if (!use_uring(&why))
		CK_SKIP("io_uring: %s", why);
	ck_assert(wio_is_uring(&io));
	ck_assert_str_eq(wio_wait_name(&io), "io_uring_enter");
	ck_assert_int_eq(wio_watch(&io, fa, TAG_A), 0);
	ck_assert_int_eq(wio_arm(&io, fb, SLOT, GEN, WIO_DGRAMS, &what), 1);
	send_to(fc, &ab, "ack 1");
	i = reap_until(WIO_DGRAM);
	ck_assert_uint_eq(got[i].slot, SLOT);
	ck_assert_uint_eq(got[i].gen, GEN & WIO_GEN_MASK);
	ck_assert_str_eq(got_data[i], "ack 1");
	ck_assert(!got[i].trunc);
	from = (struct sockaddr_in *)&got_from[i];
	ck_assert_uint_eq(from->sin_port, ((struct sockaddr_in *)&ac)->sin_port);
	/* The epoll set, one POLL_ADD on the ring. */
	send_to(fc, &aa, "req");
	i = reap_until(WIO_READY);
	ck_assert_uint_eq(got[i].tag, TAG_A);
	/* Uploads (no WIO_DGRAMS) stay in the epoll set. */
	ck_assert_int_eq(wio_arm(&io, fc, SLOT + 1, GEN, 0, &what), 0);
	send_to(fa, &ac, "data");
	i = reap_until(WIO_READABLE);
	ck_assert_uint_eq(got[i].slot, SLOT + 1);
}
END_TEST

START_TEST(uring_disarmed_hands_nothing_back)
{
	const char	*why, *what = NULL;
	char		 buf[16];
	unsigned	 k, i;

	if (!use_uring(&why))
		CK_SKIP("io_uring: %s", why);
	ck_assert_int_eq(wio_arm(&io, fb, SLOT, GEN, WIO_DGRAMS, &what), 1);
	send_to(fc, &ab, "one");
	(void)reap_until(WIO_DGRAM);
	wio_disarm(&io, SLOT);
	wio_flush(&io);		/* submits the cancel */
	send_to(fc, &ab, "two");
	n_got = 0;
	for (k = 0; k < 5; k++) {
		ck_assert_int_eq(wio_wait(&io, 20, NULL), 0);
		wio_reap(&io, collect, NULL);
	}
	for (i = 0; i < n_got; i++)
		ck_assert_int_ne(got[i].what, WIO_DGRAM);
	/* The receive was cancelled, not just ignored: the datagram is
	 * still in the socket (a pooled socket's next user reads it). */
	ck_assert_int_eq(recv(fb, buf, sizeof(buf), MSG_DONTWAIT), 3);
	ck_assert_int_eq(memcmp(buf, "two", 3), 0);
	/* Not on the ring any more: drain has nothing to do for it. */
	wio_drain(&io, SLOT, collect, NULL);
	ck_assert(!wio_backlog(&io));
}
END_TEST

START_TEST(uring_failed_send_comes_back_with_its_slot)
{
	const char	*why;
	struct txq_dest	 d = { .fd = fa, .slot = SLOT, .peer = &ab };
	struct sess	 s;
	uint8_t		*body;
	unsigned	 i;

	if (!use_uring(&why))
		CK_SKIP("io_uring: %s", why);
	/* A body the kernel cannot read: the send faults (EFAULT). */
	body = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(body != MAP_FAILED);
	memset(&s, 0, sizeof(s));
	s.blksize = 512;
	s.size = 512;
	txq_send_blocks(&q, &d, &s, body, 1, 1);
	wio_submit(&io);
	i = reap_until(WIO_SEND_FAILED);
	ck_assert_int_eq(got[i].res, -EFAULT);
	ck_assert_uint_eq(got[i].slot, SLOT);
	ck_assert_uint_eq(got[i].gen, GEN & WIO_GEN_MASK);
	ck_assert_uint_eq(got[i].bytes, 512);
	ck_assert_uint_eq(got[i].segs, 0);
	munmap(body, 4096);
}
END_TEST

static Suite *
wio_suite(void)
{
	Suite	*su = suite_create("wio");
	TCase	*tc = tcase_create("epoll");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, epoll_watch_and_arm_hand_back_tag_and_slot);
	tcase_add_test(tc, epoll_drain_and_backlog_are_empty);
	tcase_add_test(tc, epoll_arm_failure_says_what);
	tcase_add_test(tc, epoll_submit_sends_queue);
	suite_add_tcase(su, tc);
	tc = tcase_create("uring");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, uring_submit_sends_queue);
	tcase_add_test(tc, uring_dgrams_come_with_sender_and_set_through_ring);
	tcase_add_test(tc, uring_disarmed_hands_nothing_back);
	tcase_add_test(tc, uring_failed_send_comes_back_with_its_slot);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return unit_run(wio_suite());
}
