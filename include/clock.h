/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clock.h - the one monotonic clock of the impure modules: milliseconds
 * since an arbitrary start, as every `now` and deadline in ptftpd. Pure
 * modules (tftp, sess, timer) never call it; they are handed `now`.
 */
#ifndef PTFTPD_CLOCK_H
#define PTFTPD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ms; a vDSO call, no syscall. */
static inline uint64_t
clock_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
