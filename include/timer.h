/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timer.h - deadlines for thousands of sessions: a binary min-heap of
 * nodes embedded in their owners (container_of), each node knowing its
 * heap index so update and cancel are O(log n). Pure: the caller supplies
 * the storage array, nothing is allocated, no clock is read.
 */
#ifndef PTFTPD_TIMER_H
#define PTFTPD_TIMER_H

#include <stdint.h>

#define TIMER_NONE	UINT32_MAX

struct timer_node {
	uint64_t	deadline_ms;
	uint32_t	idx;		/* heap index, TIMER_NONE if not queued */
};

struct timer_heap {
	struct timer_node	**v;
	uint32_t		  n;
	uint32_t		  cap;
};

void	timer_init(struct timer_heap *h, struct timer_node **storage,
	    uint32_t cap);
void	timer_node_init(struct timer_node *t);
/* Insert or move t to deadline_ms. Returns 0, or -1 if the heap is full. */
int	timer_set(struct timer_heap *h, struct timer_node *t,
	    uint64_t deadline_ms);
/* Remove t if queued; harmless otherwise. */
void	timer_cancel(struct timer_heap *h, struct timer_node *t);
/* Earliest node or NULL. O(1). */
struct timer_node *timer_first(const struct timer_heap *h);
/* Remove and return the earliest node with deadline <= now, or NULL. */
struct timer_node *timer_pop_expired(struct timer_heap *h, uint64_t now);
/* ms until the first deadline (0 if due), or -1 if the heap is empty,
 * clamped to INT32_MAX: ready for epoll_wait. */
int	timer_wait_ms(const struct timer_heap *h, uint64_t now);

#endif
