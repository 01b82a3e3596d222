/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_tclient.c - unit tests for the pure part of the test clients'
 * shared protocol (tests/tools/tclient.c): the request's options, the OACK
 * check (refusal of options not asked for, repeats, values out of the
 * asked bounds, a wrong tsize), DATA classification and the ACK numbers
 * of windows, gaps, resends and the 16-bit rollover, byte verification and
 * error text. Packets are built with tftp.o's encoders or by hand (for
 * what an encoder would never write). Links tclient.o, tftp.o and num.o:
 * no sockets, so tcio.o is left out on purpose.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "../tools/tclient.h"
#include "tftp.h"
#include "testutil.h"

static struct tclient c;
static char why[TCLIENT_WHY_LEN];

static void
setup(void)
{
	tclient_init(&c);
	why[0] = '\0';
}

/* An OACK built by tftp.o from o, decoded again, offered to c. */
static enum tclient_oack
offer(const struct tclient_ask *ask, const struct tftp_opts *o,
    const uint64_t *tsize)
{
	uint8_t pkt[512];
	struct tftp_msg m;
	size_t n;

	n = tftp_encode_oack(pkt, sizeof(pkt), o);
	ck_assert_uint_gt(n, 2);
	ck_assert_int_eq(tftp_decode(pkt, n, &m), 0);
	ck_assert_int_eq(m.op, TFTP_OACK);
	return tclient_oack(&c, ask, pkt, n, &m.u.oack, tsize, why);
}

/* An OACK from raw option bytes ("name\0value\0..."), n of them. */
static enum tclient_oack
offer_raw(const struct tclient_ask *ask, const char *opts, size_t n)
{
	uint8_t pkt[512] = { 0, TFTP_OACK };
	struct tftp_msg m;

	memcpy(pkt + 2, opts, n);
	memset(&m, 0, sizeof(m));
	(void)tftp_decode(pkt, n + 2, &m);
	return tclient_oack(&c, ask, pkt, n + 2, &m.u.oack, NULL, why);
}

/* Takes full blocks until `next` is want (blksize 512 in force). */
static void
advance_to(uint64_t want)
{
	while (c.next < want) {
		ck_assert_int_eq(tclient_data_step(&c, (uint16_t)c.next),
		    TCLIENT_NEW);
		(void)tclient_take(&c, c.blksize);
	}
}

START_TEST(request_carries_only_the_asked_options)
{
	struct tclient_ask ask = { .blksize = 1468, .tsize = true };
	struct tftp_msg m;
	uint8_t pkt[256];
	size_t n;

	n = tclient_request(pkt, sizeof(pkt), TFTP_RRQ, "pxelinux.0", "octet",
	    &ask);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(tftp_decode(pkt, n, &m), 0);
	ck_assert_int_eq(m.op, TFTP_RRQ);
	ck_assert_str_eq(m.u.req.file, "pxelinux.0");
	ck_assert_uint_eq(m.u.req.opts.set, TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE);
	ck_assert_uint_eq(m.u.req.opts.blksize, 1468);
	ck_assert_uint_eq(m.u.req.opts.tsize, 0);
	ck_assert(tclient_asked(&ask));
	memset(&ask, 0, sizeof(ask));
	ck_assert(!tclient_asked(&ask));
	n = tclient_request(pkt, sizeof(pkt), TFTP_WRQ, "f", "netascii", &ask);
	ck_assert_int_eq(tftp_decode(pkt, n, &m), 0);
	ck_assert_int_eq(m.op, TFTP_WRQ);
	ck_assert_uint_eq(m.u.req.opts.set, 0);
	ck_assert_uint_eq(tclient_request(pkt, 8, TFTP_RRQ, "long-name",
	    "octet", &ask), 0);
}
END_TEST

START_TEST(oack_grants_are_put_in_force)
{
	struct tclient_ask ask = { .blksize = 1468, .windowsize = 16,
	    .tsize = true };
	struct tftp_opts o = { .set = TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE |
	    TFTP_OPT_TSIZE, .blksize = 1024, .windowsize = 8, .tsize = 4242 };
	uint64_t size = 4242;

	ck_assert_int_eq(offer(&ask, &o, &size), TCLIENT_OACK_OK);
	ck_assert_uint_eq(c.blksize, 1024);
	ck_assert_uint_eq(c.window, 8);
	ck_assert(c.started);
	ck_assert_uint_eq(tclient_ack(&c), 0);	/* ACK 0 answers an OACK */
	/* The same OACK again: our ACK 0 was lost. */
	ck_assert_int_eq(offer(&ask, &o, &size), TCLIENT_OACK_AGAIN);
}
END_TEST

START_TEST(oack_refuses_an_option_not_asked_for)
{
	struct tclient_ask ask = { .blksize = 1468 };
	struct tftp_opts o = { .set = TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE,
	    .blksize = 1468, .windowsize = 4 };

	ck_assert_int_eq(offer(&ask, &o, NULL), TCLIENT_OACK_BAD);
	ck_assert_ptr_nonnull(strstr(why, "\"windowsize\" that was not asked"));
	ck_assert(!c.started);
	ck_assert_uint_eq(c.blksize, TFTP_BLKSIZE_DEFAULT);
}
END_TEST

START_TEST(oack_refuses_an_unknown_option_decode_drops)
{
	struct tclient_ask ask = { .blksize = 1468 };
	static const char opts[] = "blksize\0" "1468\0" "x-vendor\0" "1";

	ck_assert_int_eq(offer_raw(&ask, opts, sizeof(opts)),
	    TCLIENT_OACK_BAD);
	ck_assert_ptr_nonnull(strstr(why, "x-vendor"));
}
END_TEST

START_TEST(oack_refuses_repeats_and_broken_lists)
{
	struct tclient_ask ask = { .blksize = 1468 };
	static const char rep[] = "blksize\0" "512\0" "BLKSIZE\0" "512";
	static const char noval[] = "blksize";

	ck_assert_int_eq(offer_raw(&ask, rep, sizeof(rep)), TCLIENT_OACK_BAD);
	ck_assert_str_eq(why, "OACK repeats an option");
	ck_assert_int_eq(offer_raw(&ask, noval, sizeof(noval)),
	    TCLIENT_OACK_BAD);
	ck_assert_str_eq(why, "OACK option without a value");
	ck_assert_int_eq(offer_raw(&ask, "", 0), TCLIENT_OACK_BAD);
	ck_assert_str_eq(why, "empty OACK");
}
END_TEST

START_TEST(oack_to_a_request_without_options_is_refused)
{
	struct tclient_ask none = { 0 };
	struct tftp_opts o = { .set = TFTP_OPT_BLKSIZE, .blksize = 512 };

	ck_assert_int_eq(offer(&none, &o, NULL), TCLIENT_OACK_BAD);
	ck_assert_str_eq(why, "OACK to a request without options");
}
END_TEST

START_TEST(oack_values_outside_the_asked_bounds_are_refused)
{
	struct tclient_ask ask = { .blksize = 1024, .windowsize = 4,
	    .timeout_s = 3, .tsize = true };
	struct tftp_opts big = { .set = TFTP_OPT_BLKSIZE, .blksize = 1025 };
	struct tftp_opts win = { .set = TFTP_OPT_WINDOWSIZE, .windowsize = 5 };
	struct tftp_opts tmo = { .set = TFTP_OPT_TIMEOUT, .timeout_s = 2 };
	struct tftp_opts tsz = { .set = TFTP_OPT_TSIZE, .tsize = 300000 };
	uint64_t size = 300001;

	ck_assert_int_eq(offer(&ask, &big, NULL), TCLIENT_OACK_BAD);
	ck_assert_str_eq(why, "OACK blksize 1025 out of range");
	ck_assert_int_eq(offer(&ask, &win, NULL), TCLIENT_OACK_BAD);
	ck_assert_str_eq(why, "OACK windowsize 5 out of range");
	ck_assert_int_eq(offer(&ask, &tmo, NULL), TCLIENT_OACK_BAD);
	ck_assert_str_eq(why, "OACK timeout differs from the one asked");
	ck_assert_int_eq(offer(&ask, &tsz, &size), TCLIENT_OACK_BAD);
	ck_assert_str_eq(why, "OACK tsize 300000, expected 300001");
	/* No expected size: any tsize is taken. */
	ck_assert_int_eq(offer(&ask, &tsz, NULL), TCLIENT_OACK_OK);
}
END_TEST

START_TEST(data_without_oack_must_start_at_block_1)
{
	ck_assert_int_eq(tclient_data_check(&c, 2, 512, why), -1);
	ck_assert_str_eq(why, "first DATA is block 2, not 1");
	ck_assert(!c.started);
	ck_assert_int_eq(tclient_data_check(&c, 1, 512, why), 0);
	ck_assert(c.started);
	ck_assert_uint_eq(c.blksize, 512);	/* RFC 2347: defaults stay */
	ck_assert_uint_eq(c.window, 1);
}
END_TEST

START_TEST(data_longer_than_the_block_size_is_refused)
{
	c.started = true;
	c.blksize = 1024;
	ck_assert_int_eq(tclient_data_check(&c, 1, 1024, why), 0);
	ck_assert_int_eq(tclient_data_check(&c, 1, 1025, why), -1);
	ck_assert_str_eq(why, "DATA 1 has 1025 bytes, blksize is 1024");
}
END_TEST

START_TEST(window_acks_every_nth_block_and_the_short_last)
{
	c.started = true;
	c.window = 4;
	ck_assert_int_eq(tclient_take(&c, 512), TCLIENT_TAKE_MORE);
	ck_assert_int_eq(tclient_take(&c, 512), TCLIENT_TAKE_MORE);
	ck_assert_int_eq(tclient_take(&c, 512), TCLIENT_TAKE_MORE);
	ck_assert_int_eq(tclient_take(&c, 512), TCLIENT_TAKE_ACK);
	ck_assert_uint_eq(tclient_ack(&c), 4);
	ck_assert_uint_eq(c.win_cnt, 0);
	ck_assert_uint_eq(tclient_offset(&c), 4 * 512);
	ck_assert_int_eq(tclient_take(&c, 512), TCLIENT_TAKE_MORE);
	ck_assert_int_eq(tclient_take(&c, 100), TCLIENT_TAKE_LAST);
	ck_assert_uint_eq(tclient_ack(&c), 6);
}
END_TEST

START_TEST(gap_is_acked_once_at_the_last_inorder_block)
{
	c.started = true;
	c.window = 8;
	advance_to(3);
	ck_assert_int_eq(tclient_data_step(&c, 5), TCLIENT_GAP);
	ck_assert_uint_eq(tclient_ack(&c), 2);
	ck_assert_int_eq(tclient_data_step(&c, 6), TCLIENT_WAIT);
	ck_assert_int_eq(tclient_data_step(&c, 7), TCLIENT_WAIT);
	/* The server resends from 3: the gap closes, a new one is new. */
	ck_assert_int_eq(tclient_data_step(&c, 3), TCLIENT_NEW);
	(void)tclient_take(&c, 512);
	ck_assert_int_eq(tclient_data_step(&c, 6), TCLIENT_GAP);
}
END_TEST

START_TEST(resent_block_is_reacked_only_if_it_is_the_last_we_have)
{
	c.started = true;
	advance_to(5);
	ck_assert_int_eq(tclient_data_step(&c, 4), TCLIENT_OLD_ACK);
	ck_assert_uint_eq(tclient_ack(&c), 4);
	ck_assert_int_eq(tclient_data_step(&c, 2), TCLIENT_OLD);
	ck_assert_int_eq(tclient_data_step(&c, 0), TCLIENT_OLD);
}
END_TEST

START_TEST(rollover_after_65535)
{
	c.started = true;
	advance_to(65535);
	ck_assert_int_eq(tclient_data_step(&c, 65535), TCLIENT_NEW);
	ck_assert_int_eq(tclient_take(&c, 512), TCLIENT_TAKE_ACK);
	ck_assert_uint_eq(tclient_ack(&c), 65535);
	/* The wire number wraps to 0; the absolute one goes on. */
	ck_assert_int_eq(tclient_data_step(&c, 0), TCLIENT_NEW);
	ck_assert_uint_eq(tclient_offset(&c), 65535ULL * 512);
	ck_assert_int_eq(tclient_take(&c, 512), TCLIENT_TAKE_ACK);
	ck_assert_uint_eq(tclient_ack(&c), 65536);
	ck_assert_uint_eq((uint16_t)65536, 0);
	ck_assert_int_eq(tclient_data_step(&c, 1), TCLIENT_NEW);
	ck_assert_int_eq(tclient_data_step(&c, 0), TCLIENT_OLD_ACK);
	ck_assert_int_eq(tclient_data_step(&c, 65535), TCLIENT_OLD);
	ck_assert_int_eq(tclient_data_step(&c, 3), TCLIENT_GAP);
}
END_TEST

START_TEST(verify_names_the_first_differing_byte)
{
	uint8_t exp[1000], got[100];
	size_t i;

	for (i = 0; i < sizeof(exp); i++)
		exp[i] = (uint8_t)(i * 7);
	memcpy(got, exp + 512, sizeof(got));
	ck_assert_int_eq(tclient_verify(exp, sizeof(exp), 512, got,
	    sizeof(got), false, why), 0);
	got[37] ^= 1;
	ck_assert_int_eq(tclient_verify(exp, sizeof(exp), 512, got,
	    sizeof(got), false, why), -1);
	ck_assert_str_eq(why, "content differs at offset 549");
	ck_assert_int_eq(tclient_verify(NULL, 0, 512, got, sizeof(got), true,
	    why), 0);
}
END_TEST

START_TEST(verify_refuses_too_many_or_too_few_bytes)
{
	uint8_t exp[600] = { 0 }, got[100] = { 0 };

	ck_assert_int_eq(tclient_verify(exp, sizeof(exp), 512, got, 100,
	    false, why), -1);
	ck_assert_str_eq(why, "received more than the 600 expected bytes");
	ck_assert_int_eq(tclient_verify(exp, sizeof(exp), 512, got, 50,
	    true, why), -1);
	ck_assert_str_eq(why, "got 562 bytes, expected 600");
	ck_assert_int_eq(tclient_verify(exp, sizeof(exp), 512, got, 88,
	    true, why), 0);
	/* An empty file ends with an empty block 1. */
	ck_assert_int_eq(tclient_verify(exp, 0, 0, got, 0, true, why), 0);
}
END_TEST

START_TEST(error_text_decodes_code_and_escapes_the_message)
{
	static const uint8_t pkt[] = { 0, TFTP_ERROR, 0, 1, 'n', 'o', '\n',
	    '"', 0x80, 0 };
	struct tftp_msg m;
	char text[64], tiny[16];

	ck_assert_int_eq(tftp_decode(pkt, sizeof(pkt), &m), 0);
	ck_assert_int_eq(m.op, TFTP_ERROR);
	tclient_error_text(&m, text, sizeof(text));
	ck_assert_str_eq(text, "ERROR 1 \"no\\x0a\\x22\\x80\"");
	tclient_error_text(&m, tiny, sizeof(tiny));
	ck_assert_str_eq(tiny, "ERROR 1 \"no\"");	/* cut, still closed */
}
END_TEST

START_TEST(rng_is_seeded_and_zero_percent_draws_nothing)
{
	uint64_t a = 42, b = 42, st = 7;
	unsigned i, hits = 0;

	ck_assert_uint_eq(tclient_rng(&a), tclient_rng(&b));
	ck_assert(!tclient_rng_pct(&st, 0));
	ck_assert_uint_eq(st, 7);
	for (i = 0; i < 1000; i++)
		hits += tclient_rng_pct(&st, 10);
	ck_assert_uint_gt(hits, 50);
	ck_assert_uint_lt(hits, 150);
	ck_assert(tclient_rng_pct(&st, 100));
}
END_TEST

static Suite *
tclient_suite(void)
{
	Suite *s = suite_create("tclient");
	TCase *tc = tcase_create("client");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, request_carries_only_the_asked_options);
	tcase_add_test(tc, oack_grants_are_put_in_force);
	tcase_add_test(tc, oack_refuses_an_option_not_asked_for);
	tcase_add_test(tc, oack_refuses_an_unknown_option_decode_drops);
	tcase_add_test(tc, oack_refuses_repeats_and_broken_lists);
	tcase_add_test(tc, oack_to_a_request_without_options_is_refused);
	tcase_add_test(tc, oack_values_outside_the_asked_bounds_are_refused);
	tcase_add_test(tc, data_without_oack_must_start_at_block_1);
	tcase_add_test(tc, data_longer_than_the_block_size_is_refused);
	tcase_add_test(tc, window_acks_every_nth_block_and_the_short_last);
	tcase_add_test(tc, gap_is_acked_once_at_the_last_inorder_block);
	tcase_add_test(tc,
	    resent_block_is_reacked_only_if_it_is_the_last_we_have);
	tcase_add_test(tc, rollover_after_65535);
	tcase_add_test(tc, verify_names_the_first_differing_byte);
	tcase_add_test(tc, verify_refuses_too_many_or_too_few_bytes);
	tcase_add_test(tc, error_text_decodes_code_and_escapes_the_message);
	tcase_add_test(tc, rng_is_seeded_and_zero_percent_draws_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(tclient_suite());
}
