/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timer.c - deadlines as a binary min-heap of nodes embedded in their
 * owners. Owns the heap order and each node's idx (its slot in the heap
 * array, TIMER_NONE when not queued), which is what makes moving and
 * cancelling a node O(log n) without a search. It does not own the
 * storage array (the caller supplies it, sized for the most sessions it
 * will run), the nodes, or the clock: `now` is always passed in. Pure: no
 * syscalls, no allocation, no globals. Nodes with equal deadlines come out
 * in no particular order.
 */
#include <stddef.h>
#include <stdint.h>

#include "timer.h"

static void
timer_place(struct timer_heap *h, uint32_t i, struct timer_node *t)
{
	h->v[i] = t;
	t->idx = i;
}

/* Move the node at i towards the root while it is earlier than its
 * parent. Returns its final index. */
static uint32_t
timer_sift_up(struct timer_heap *h, uint32_t i)
{
	struct timer_node *t = h->v[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (h->v[parent]->deadline_ms <= t->deadline_ms)
			break;
		timer_place(h, i, h->v[parent]);
		i = parent;
	}
	timer_place(h, i, t);
	return i;
}

/* Move the node at i towards the leaves while a child is earlier. */
static void
timer_sift_down(struct timer_heap *h, uint32_t i)
{
	struct timer_node *t = h->v[i];

	for (;;) {
		uint64_t l = 2 * (uint64_t)i + 1, c;

		if (l >= h->n)
			break;
		c = l;
		if (l + 1 < h->n &&
		    h->v[l + 1]->deadline_ms < h->v[l]->deadline_ms)
			c = l + 1;
		if (t->deadline_ms <= h->v[c]->deadline_ms)
			break;
		timer_place(h, i, h->v[c]);
		i = (uint32_t)c;
	}
	timer_place(h, i, t);
}

/* Restore the heap around index i after its deadline changed. */
static void
timer_fix(struct timer_heap *h, uint32_t i)
{
	if (timer_sift_up(h, i) == i)
		timer_sift_down(h, i);
}

/* Empty heap over storage[0..cap). The caller keeps storage alive. O(1). */
void
timer_init(struct timer_heap *h, struct timer_node **storage, uint32_t cap)
{
	h->v = storage;
	h->n = 0;
	/* TIMER_NONE marks "not queued", so it can never be a real index. */
	h->cap = cap == TIMER_NONE ? cap - 1 : cap;
}

/* Mark t as not queued. Call once before the node is first used. O(1). */
void
timer_node_init(struct timer_node *t)
{
	t->deadline_ms = 0;
	t->idx = TIMER_NONE;
}

/*
 * Queue t at deadline_ms, or move it there if already queued. Returns 0,
 * or -1 if t is not queued and the heap is full (t is left unchanged).
 * O(log n).
 */
int
timer_set(struct timer_heap *h, struct timer_node *t, uint64_t deadline_ms)
{
	if (t->idx != TIMER_NONE) {
		t->deadline_ms = deadline_ms;
		timer_fix(h, t->idx);
		return 0;
	}
	if (h->n >= h->cap)
		return -1;
	t->deadline_ms = deadline_ms;
	timer_place(h, h->n, t);
	h->n++;
	timer_sift_up(h, h->n - 1);
	return 0;
}

/* Unqueue t; harmless if it is not queued. O(log n). */
void
timer_cancel(struct timer_heap *h, struct timer_node *t)
{
	uint32_t i = t->idx;
	struct timer_node *last;

	if (i == TIMER_NONE || i >= h->n || h->v[i] != t)
		return;
	t->idx = TIMER_NONE;
	last = h->v[--h->n];
	h->v[h->n] = NULL;
	if (last == t)
		return;
	timer_place(h, i, last);
	timer_fix(h, i);
}

/* The earliest queued node, still queued, or NULL if empty. O(1). */
struct timer_node *
timer_first(const struct timer_heap *h)
{
	return h->n > 0 ? h->v[0] : NULL;
}

/*
 * Unqueue and return the earliest node whose deadline is <= now, or NULL
 * if none is due. Call in a loop to drain every due node. O(log n).
 */
struct timer_node *
timer_pop_expired(struct timer_heap *h, uint64_t now)
{
	struct timer_node *t = timer_first(h);

	if (t == NULL || t->deadline_ms > now)
		return NULL;
	timer_cancel(h, t);
	return t;
}

/*
 * Milliseconds from now until the first deadline: 0 if it is due, -1 if
 * nothing is queued, at most INT32_MAX (an epoll_wait timeout). O(1).
 */
int
timer_wait_ms(const struct timer_heap *h, uint64_t now)
{
	const struct timer_node *t = timer_first(h);
	uint64_t d;

	if (t == NULL)
		return -1;
	if (t->deadline_ms <= now)
		return 0;
	d = t->deadline_ms - now;
	return d > INT32_MAX ? INT32_MAX : (int)d;
}
