/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_log.c - unit tests for the logger's pure parts (src/log.c): the
 * line rate limit (struct log_rate, time passed in) and log_safe(). It
 * does not test where lines go. Links log.o only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "log.h"
#include "testutil.h"

#define T0	5000000ull	/* some monotonic ms */

/* A fresh limit of per_sec lines a second, offered n lines from T0 on,
 * one a millisecond. */
static void
burst(struct log_rate *r, unsigned per_sec, unsigned n)
{
	uint64_t	sup;
	unsigned	i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++)
		(void)log_rate_allow(r, per_sec, T0 + i, &sup);
}

START_TEST(allows_n_lines_a_second)
{
	struct log_rate	 r;
	uint64_t	 sup;
	unsigned	 i, let = 0;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < 200; i++)
		if (log_rate_allow(&r, 20, T0 + i * 4, &sup))
			let++;
	/* 200 calls over 800 ms: one window. */
	ck_assert_uint_eq(let, 20);
	ck_assert_uint_eq(r.suppressed, 180);
}
END_TEST

START_TEST(held_back_count_reported_once_with_next_line)
{
	struct log_rate	 r;
	uint64_t	 sup;

	burst(&r, 10, 50);
	ck_assert(log_rate_allow(&r, 10, T0 + 1000, &sup));
	ck_assert_uint_eq(sup, 40);
	ck_assert(log_rate_allow(&r, 10, T0 + 1001, &sup));
	ck_assert_uint_eq(sup, 0);
}
END_TEST

START_TEST(flush_waits_for_the_window_to_end)
{
	struct log_rate	 r;
	uint64_t	 sup;

	burst(&r, 1, 5);
	ck_assert_uint_eq(log_rate_flush(&r, T0 + 999), 0);
	ck_assert_uint_eq(log_rate_flush(&r, T0 + 1000), 4);
	ck_assert_uint_eq(log_rate_flush(&r, T0 + 3000), 0);
	/* Reported by the flush: not again with the next line, which
	 * opens a window of its own. */
	ck_assert(log_rate_allow(&r, 1, T0 + 1001, &sup));
	ck_assert_uint_eq(sup, 0);
	ck_assert(!log_rate_allow(&r, 1, T0 + 1002, &sup));
}
END_TEST

START_TEST(nothing_held_back_flushes_nothing)
{
	struct log_rate	 r;
	uint64_t	 sup;

	memset(&r, 0, sizeof(r));
	ck_assert_uint_eq(log_rate_flush(&r, T0), 0);
	ck_assert(log_rate_allow(&r, 3, T0, &sup));
	ck_assert_uint_eq(log_rate_flush(&r, T0 + 5000), 0);
}
END_TEST

START_TEST(zero_per_second_holds_every_line)
{
	struct log_rate	 r;
	uint64_t	 sup, reported = 0;
	unsigned	 i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < 3000; i++) {
		ck_assert(!log_rate_allow(&r, 0, T0 + i, &sup));
		reported += sup;
	}
	reported += log_rate_flush(&r, T0 + 10000);
	/* Every line counted exactly once, reported at most once a
	 * second. */
	ck_assert_uint_eq(reported, 3000);
}
END_TEST

START_TEST(long_run_counts_every_line_once)
{
	struct log_rate	 r;
	uint64_t	 sup, reported = 0, let = 0;
	unsigned	 i;

	memset(&r, 0, sizeof(r));
	/* 10 s at one line every 3 ms, 5 a second allowed. */
	for (i = 0; i < 3334; i++) {
		if (log_rate_allow(&r, 5, T0 + i * 3ull, &sup))
			let++;
		reported += sup;
	}
	reported += log_rate_flush(&r, T0 + 20000);
	ck_assert_uint_eq(let + reported, 3334);
	ck_assert_uint_le(let, 5 * 11);
	ck_assert_uint_ge(let, 5 * 9);
}
END_TEST

START_TEST(safe_escapes_quotes_and_controls)
{
	char	 out[64];

	ck_assert_str_eq(log_safe(out, sizeof(out), "a\"b\\c\n\x01", 7),
	    "a\\x22b\\x5cc\\x0a\\x01");
	/* Cut before an escape, never inside one. */
	ck_assert_str_eq(log_safe(out, 6, "ab\ncd", 5), "ab");
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, allows_n_lines_a_second);
	tcase_add_test(tc, held_back_count_reported_once_with_next_line);
	tcase_add_test(tc, flush_waits_for_the_window_to_end);
	tcase_add_test(tc, nothing_held_back_flushes_nothing);
	tcase_add_test(tc, zero_per_second_holds_every_line);
	tcase_add_test(tc, long_run_counts_every_line_once);
	tcase_add_test(tc, safe_escapes_quotes_and_controls);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(log_suite());
}
