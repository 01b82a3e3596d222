/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_timer.c - unit tests for the deadline heap (src/timer.c): order,
 * moves, cancels, capacity, wait times, and a randomized run that checks
 * the heap property and every node's index after each operation. Links
 * timer.o only.
 */
#include <stdint.h>
#include <stdlib.h>

#include <check.h>

#include "timer.h"
#include "testutil.h"

#define NNODES	64

static struct timer_node *storage[NNODES];
static struct timer_node nodes[NNODES];
static struct timer_heap heap;

static void
setup(void)
{
	size_t i;

	timer_init(&heap, storage, NNODES);
	for (i = 0; i < NNODES; i++)
		timer_node_init(&nodes[i]);
}

/*
 * Heap order holds and every queued node knows its index. Plain ifs, not
 * one ck_assert per element: in fork mode each ck_assert is a write to
 * Check's pipe, too slow for the randomized test under ASan.
 */
static void
check_heap(const struct timer_heap *h)
{
	uint32_t i;

	for (i = 0; i < h->n; i++) {
		if (h->v[i] == NULL || h->v[i]->idx != i)
			ck_abort_msg("heap slot %u: bad node or index", i);
		if (i > 0 && h->v[(i - 1) / 2]->deadline_ms >
		    h->v[i]->deadline_ms)
			ck_abort_msg("heap order broken at slot %u", i);
	}
}

START_TEST(timer_empty_has_no_first)
{
	ck_assert_ptr_null(timer_first(&heap));
	ck_assert_ptr_null(timer_pop_expired(&heap, UINT64_MAX));
	ck_assert_int_eq(timer_wait_ms(&heap, 0), -1);
}
END_TEST

START_TEST(timer_pop_in_deadline_order)
{
	static const uint64_t dl[] = { 50, 10, 40, 30, 20, 60, 0, 70 };
	uint64_t prev = 0;
	size_t i;
	struct timer_node *t;

	for (i = 0; i < sizeof(dl) / sizeof(dl[0]); i++)
		ck_assert_int_eq(timer_set(&heap, &nodes[i], dl[i]), 0);
	check_heap(&heap);
	ck_assert_ptr_eq(timer_first(&heap), &nodes[6]);
	for (i = 0; (t = timer_pop_expired(&heap, UINT64_MAX)) != NULL; i++) {
		ck_assert(t->deadline_ms >= prev);
		ck_assert_uint_eq(t->idx, TIMER_NONE);
		prev = t->deadline_ms;
		check_heap(&heap);
	}
	ck_assert_uint_eq(i, sizeof(dl) / sizeof(dl[0]));
	ck_assert_uint_eq(heap.n, 0);
}
END_TEST

START_TEST(timer_pop_only_expired)
{
	timer_set(&heap, &nodes[0], 100);
	timer_set(&heap, &nodes[1], 200);
	ck_assert_ptr_null(timer_pop_expired(&heap, 99));
	ck_assert_ptr_eq(timer_pop_expired(&heap, 100), &nodes[0]);
	ck_assert_ptr_null(timer_pop_expired(&heap, 150));
	ck_assert_ptr_eq(timer_pop_expired(&heap, 1000), &nodes[1]);
	ck_assert_ptr_null(timer_pop_expired(&heap, 1000));
}
END_TEST

START_TEST(timer_update_moves_node)
{
	timer_set(&heap, &nodes[0], 10);
	timer_set(&heap, &nodes[1], 20);
	timer_set(&heap, &nodes[2], 30);
	ck_assert_ptr_eq(timer_first(&heap), &nodes[0]);
	/* Later: the first node sinks. */
	ck_assert_int_eq(timer_set(&heap, &nodes[0], 40), 0);
	check_heap(&heap);
	ck_assert_uint_eq(heap.n, 3);
	ck_assert_ptr_eq(timer_first(&heap), &nodes[1]);
	/* Earlier: the last node rises to the top. */
	ck_assert_int_eq(timer_set(&heap, &nodes[0], 5), 0);
	check_heap(&heap);
	ck_assert_ptr_eq(timer_first(&heap), &nodes[0]);
	ck_assert_int_eq(timer_set(&heap, &nodes[2], 1), 0);
	check_heap(&heap);
	ck_assert_ptr_eq(timer_first(&heap), &nodes[2]);
	ck_assert_uint_eq(heap.n, 3);
}
END_TEST

START_TEST(timer_cancel_middle)
{
	size_t i;

	for (i = 0; i < 7; i++)
		timer_set(&heap, &nodes[i], 10 * (i + 1));
	timer_cancel(&heap, &nodes[3]);
	ck_assert_uint_eq(nodes[3].idx, TIMER_NONE);
	ck_assert_uint_eq(heap.n, 6);
	check_heap(&heap);
	for (i = 0; i < 7; i++) {
		struct timer_node *t;

		if (i == 3)
			continue;
		t = timer_pop_expired(&heap, UINT64_MAX);
		ck_assert_ptr_eq(t, &nodes[i]);
	}
	ck_assert_ptr_null(timer_first(&heap));
}
END_TEST

START_TEST(timer_cancel_last_and_only)
{
	timer_set(&heap, &nodes[0], 1);
	timer_set(&heap, &nodes[1], 2);
	timer_cancel(&heap, &nodes[1]);
	check_heap(&heap);
	ck_assert_uint_eq(heap.n, 1);
	timer_cancel(&heap, &nodes[0]);
	ck_assert_uint_eq(heap.n, 0);
	ck_assert_ptr_null(timer_first(&heap));
}
END_TEST

START_TEST(timer_cancel_unqueued_is_harmless)
{
	timer_set(&heap, &nodes[0], 1);
	timer_cancel(&heap, &nodes[1]);
	timer_cancel(&heap, &nodes[0]);
	timer_cancel(&heap, &nodes[0]);
	ck_assert_uint_eq(heap.n, 0);
	ck_assert_uint_eq(nodes[0].idx, TIMER_NONE);
}
END_TEST

START_TEST(timer_full_returns_error)
{
	struct timer_node *small[2];
	struct timer_heap h;

	timer_init(&h, small, 2);
	ck_assert_int_eq(timer_set(&h, &nodes[0], 3), 0);
	ck_assert_int_eq(timer_set(&h, &nodes[1], 2), 0);
	ck_assert_int_eq(timer_set(&h, &nodes[2], 1), -1);
	ck_assert_uint_eq(nodes[2].idx, TIMER_NONE);
	ck_assert_uint_eq(h.n, 2);
	/* Moving a queued node still works when full. */
	ck_assert_int_eq(timer_set(&h, &nodes[0], 0), 0);
	ck_assert_ptr_eq(timer_first(&h), &nodes[0]);
	check_heap(&h);
}
END_TEST

START_TEST(timer_wait_ms_until_first)
{
	timer_set(&heap, &nodes[0], 1500);
	ck_assert_int_eq(timer_wait_ms(&heap, 1000), 500);
	ck_assert_int_eq(timer_wait_ms(&heap, 1500), 0);
	ck_assert_int_eq(timer_wait_ms(&heap, 2000), 0);
	timer_set(&heap, &nodes[0], UINT64_MAX);
	ck_assert_int_eq(timer_wait_ms(&heap, 0), INT32_MAX);
}
END_TEST

/* Nodes that think they are queued; must equal the heap size. */
static uint32_t
count_queued(void)
{
	uint32_t i, n = 0;

	for (i = 0; i < NNODES; i++)
		n += nodes[i].idx != TIMER_NONE;
	return n;
}

/* xorshift64: a fixed-seed generator so a failure reproduces. */
static uint64_t
rnd_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

START_TEST(timer_heap_property_randomized)
{
	uint64_t seed = 0x9e3779b97f4a7c15u, now = 0;
	uint32_t pops = 0;
	int i;

	/* Checks are plain ifs for speed, see check_heap. */
	for (i = 0; i < 20000; i++) {
		uint64_t r = rnd_next(&seed);
		struct timer_node *t = &nodes[r % NNODES];
		struct timer_node *f;

		switch ((r >> 8) % 4) {
		case 0:
		case 1:
			if (timer_set(&heap, t, now + (r >> 16) % 1000) != 0 ||
			    heap.v[t->idx] != t)
				ck_abort_msg("op %d: set failed", i);
			break;
		case 2:
			timer_cancel(&heap, t);
			if (t->idx != TIMER_NONE)
				ck_abort_msg("op %d: cancel left idx", i);
			break;
		default:
			now += (r >> 16) % 50;
			f = timer_first(&heap);
			t = timer_pop_expired(&heap, now);
			if (t != NULL && (t != f || t->deadline_ms > now ||
			    t->idx != TIMER_NONE))
				ck_abort_msg("op %d: bad pop", i);
			if (t == NULL && f != NULL && f->deadline_ms <= now)
				ck_abort_msg("op %d: due node not popped", i);
			pops += t != NULL;
			break;
		}
		check_heap(&heap);
		if (count_queued() != heap.n)
			ck_abort_msg("op %d: queued count != heap size", i);
	}
	ck_assert_uint_gt(pops, 1000);
}
END_TEST

static Suite *
timer_suite(void)
{
	Suite *s = suite_create("timer");
	TCase *tc = tcase_create("heap");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, timer_empty_has_no_first);
	tcase_add_test(tc, timer_pop_in_deadline_order);
	tcase_add_test(tc, timer_pop_only_expired);
	tcase_add_test(tc, timer_update_moves_node);
	tcase_add_test(tc, timer_cancel_middle);
	tcase_add_test(tc, timer_cancel_last_and_only);
	tcase_add_test(tc, timer_cancel_unqueued_is_harmless);
	tcase_add_test(tc, timer_full_returns_error);
	tcase_add_test(tc, timer_wait_ms_until_first);
	tcase_add_test(tc, timer_heap_property_randomized);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(timer_suite());
}
