/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_limit.c - unit tests for the admission limits (src/limit.c):
 * per-client caps and their CIDR overrides, client and global token
 * buckets with time passed in, the client table's overflow verdict, slot
 * reuse, long-run accuracy and collision behaviour. Links limit.o only.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "addr.h"
#include "limit.h"
#include "testutil.h"

#define SEED	0x5eed5eed12345678ull

static struct limit lim;

static void
teardown(void)
{
	limit_free(&lim);
}

/* A client address, "10.1.2.3" or "2001:db8::1", port 2000. */
static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(2000);
	} else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(2000);
	} else {
		ck_abort_msg("bad test address %s", s);
	}
	return ss;
}

/* IPv4 client number i: 10.x.y.z. */
static struct sockaddr_storage
addr_v4n(uint32_t i)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x0a000000u | (i & 0xffffff));
	return ss;
}

static void
start(const struct limit_conf *c, uint32_t capacity)
{
	ck_assert_int_eq(limit_init(&lim, c, capacity, SEED), 0);
}

/* A block as the worker builds a rule: addr.c's parse, mapped form.
 * 0, or -1 for a bad block or one with host bits set. */
static int
limit_cidr_parse(struct limit_cidr *out, const char *s)
{
	struct addr_cidr	net;

	if (addr_cidr_parse(s, &net) != 0)
		return -1;
	out->bits = (uint8_t)addr_cidr_mapped(&net, out->addr);
	return 0;
}

static void
add_rule(struct limit_conf *c, const char *cidr, uint32_t max)
{
	ck_assert_int_eq(limit_cidr_parse(&c->rules[c->nrules].cidr, cidr), 0);
	c->rules[c->nrules++].max_per_client = max;
}

/* Admit and at once release: exercises the buckets, not the caps. */
static enum limit_verdict
admit_release(const struct sockaddr_storage *a, uint64_t now_ms)
{
	enum limit_verdict v = limit_admit(&lim, a, now_ms);

	if (v == LIMIT_OK)
		ck_assert_int_eq(limit_release(&lim, a), 0);
	return v;
}

START_TEST(per_client_cap_enforced)
{
	struct limit_conf c = { .max_per_client = 3 };
	struct sockaddr_storage a = addr("10.1.2.3");
	int i;

	start(&c, 1024);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(limit_admit(&lim, &a, 0), LIMIT_OK);
	ck_assert_int_eq(limit_admit(&lim, &a, 0), LIMIT_CLIENT_BUSY);
	ck_assert_int_eq(limit_admit(&lim, &a, 5000), LIMIT_CLIENT_BUSY);
	ck_assert_uint_eq(lim.count[LIMIT_OK], 3);
	ck_assert_uint_eq(lim.count[LIMIT_CLIENT_BUSY], 2);
}
END_TEST

START_TEST(release_frees_capacity)
{
	struct limit_conf c = { .max_per_client = 2 };
	struct sockaddr_storage a = addr("10.1.2.3");
	struct sockaddr_storage b = addr("10.1.2.4");

	start(&c, 1024);
	ck_assert_int_eq(limit_admit(&lim, &a, 0), LIMIT_OK);
	ck_assert_int_eq(limit_admit(&lim, &a, 0), LIMIT_OK);
	ck_assert_int_eq(limit_admit(&lim, &a, 0), LIMIT_CLIENT_BUSY);
	ck_assert_int_eq(limit_release(&lim, &a), 0);
	ck_assert_int_eq(limit_admit(&lim, &a, 1), LIMIT_OK);
	ck_assert_int_eq(limit_release(&lim, &a), 0);
	ck_assert_int_eq(limit_release(&lim, &a), 0);
	/* More releases than admissions, or for a stranger: refused. */
	ck_assert_int_eq(limit_release(&lim, &a), -1);
	ck_assert_int_eq(limit_release(&lim, &b), -1);
	ck_assert_int_eq(limit_admit(&lim, &a, 2), LIMIT_OK);
	ck_assert_int_eq(limit_admit(&lim, &a, 2), LIMIT_OK);
	ck_assert_int_eq(limit_admit(&lim, &a, 2), LIMIT_CLIENT_BUSY);
}
END_TEST

START_TEST(different_clients_independent)
{
	struct limit_conf c = { .max_per_client = 1,
	    .rate_per_client_milli = 1000, .burst_per_client = 2 };
	struct sockaddr_storage a = addr("10.1.2.3");
	struct sockaddr_storage b = addr("10.1.2.4");
	struct sockaddr_storage v6 = addr("2001:db8::3");

	start(&c, 1024);
	ck_assert_int_eq(limit_admit(&lim, &a, 0), LIMIT_OK);
	ck_assert_int_eq(limit_admit(&lim, &a, 0), LIMIT_CLIENT_BUSY);
	ck_assert_int_eq(limit_admit(&lim, &b, 0), LIMIT_OK);
	ck_assert_int_eq(limit_admit(&lim, &v6, 0), LIMIT_OK);
	/* Empty a's bucket; b's is untouched. */
	ck_assert_int_eq(limit_release(&lim, &a), 0);
	ck_assert_int_eq(admit_release(&a, 0), LIMIT_OK);
	ck_assert_int_eq(admit_release(&a, 0), LIMIT_CLIENT_RATE);
	ck_assert_int_eq(limit_release(&lim, &b), 0);
	ck_assert_int_eq(admit_release(&b, 0), LIMIT_OK);
}
END_TEST

START_TEST(v4_mapped_v6_is_same_client)
{
	struct limit_conf c = { .max_per_client = 1 };
	struct sockaddr_storage v4 = addr("10.1.2.3");
	struct sockaddr_storage mapped = addr("::ffff:10.1.2.3");
	struct sockaddr_storage compat = addr("::10.1.2.3");

	start(&c, 1024);
	ck_assert_int_eq(limit_admit(&lim, &v4, 0), LIMIT_OK);
	ck_assert_int_eq(limit_admit(&lim, &mapped, 0), LIMIT_CLIENT_BUSY);
	/* The deprecated IPv4-compatible form is a different address. */
	ck_assert_int_eq(limit_admit(&lim, &compat, 0), LIMIT_OK);
	ck_assert_int_eq(limit_release(&lim, &mapped), 0);
	ck_assert_int_eq(limit_admit(&lim, &mapped, 0), LIMIT_OK);
	ck_assert_int_eq(limit_admit(&lim, &v4, 0), LIMIT_CLIENT_BUSY);
}
END_TEST

/* Admit until refused; the number admitted. */
static uint32_t
fill(const char *client)
{
	struct sockaddr_storage a = addr(client);
	uint32_t n = 0;

	while (limit_admit(&lim, &a, 0) == LIMIT_OK && n < 100000)
		n++;
	return n;
}

START_TEST(cidr_override_raises_cap)
{
	struct limit_conf c = { .max_per_client = 2 };

	add_rule(&c, "10.20.0.0/16", 300);	/* the NATed rack */
	add_rule(&c, "10.0.0.0/8", 5);
	add_rule(&c, "10.20.30.0/24", 7);	/* shadowed: first wins */
	add_rule(&c, "2001:db8::/32", 0);	/* no cap */
	add_rule(&c, "::ffff:192.0.2.0/120", 9);	/* mapped form */
	start(&c, 1024);
	ck_assert_uint_eq(fill("10.20.30.40"), 300);
	ck_assert_uint_eq(fill("10.21.0.1"), 5);
	ck_assert_uint_eq(fill("192.168.1.1"), 2);
	ck_assert_uint_eq(fill("2001:db8:1::1"), 100000);
	ck_assert_uint_eq(fill("2001:db9::1"), 2);
	ck_assert_uint_eq(fill("192.0.2.77"), 9);
	ck_assert_uint_eq(fill("::ffff:10.20.0.9"), 300);
}
END_TEST

START_TEST(cidr_parse_accepts_and_rejects)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
		"10.0.0.0/+8", "10.0.0.0/8x", "10.1.0.0/8",
		"10.0.0/8", "2001:db8::/129", "2001:db8::1/64", "host/8",
		"10.0.0.0 /8", "::ffff:10.0.0.0/96x",
		"0000:0000:0000:0000:0000:0000:0000:0000:0/64",
	};
	struct limit_cidr cidr;
	size_t i;

	ck_assert_int_eq(limit_cidr_parse(&cidr, "10.0.0.0/8"), 0);
	ck_assert_uint_eq(cidr.bits, 104);
	ck_assert_uint_eq(cidr.addr[11], 0xff);
	ck_assert_uint_eq(cidr.addr[12], 10);
	ck_assert_int_eq(limit_cidr_parse(&cidr, "10.1.2.3"), 0);
	ck_assert_uint_eq(cidr.bits, 128);
	ck_assert_int_eq(limit_cidr_parse(&cidr, "0.0.0.0/0"), 0);
	ck_assert_uint_eq(cidr.bits, 96);
	ck_assert_int_eq(limit_cidr_parse(&cidr, "::/0"), 0);
	ck_assert_uint_eq(cidr.bits, 0);
	ck_assert_int_eq(limit_cidr_parse(&cidr, "2001:db8:8000::/33"), 0);
	ck_assert_uint_eq(cidr.bits, 33);
	ck_assert_int_eq(limit_cidr_parse(&cidr, "fe80::1"), 0);
	ck_assert_uint_eq(cidr.bits, 128);
	/* the config's one parser: leading zeros are digits like any */
	ck_assert_int_eq(limit_cidr_parse(&cidr, "10.0.0.0/0008"), 0);
	ck_assert_uint_eq(cidr.bits, 104);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (limit_cidr_parse(&cidr, bad[i]) != -1)
			ck_abort_msg("accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(client_bucket_refills_over_time)
{
	struct limit_conf c = { .rate_per_client_milli = 2000,
	    .burst_per_client = 1 };
	struct sockaddr_storage a = addr("2001:db8::7");

	start(&c, 1024);
	ck_assert_int_eq(admit_release(&a, 1000), LIMIT_OK);
	ck_assert_int_eq(admit_release(&a, 1000), LIMIT_CLIENT_RATE);
	ck_assert_int_eq(admit_release(&a, 1499), LIMIT_CLIENT_RATE);
	ck_assert_int_eq(admit_release(&a, 1500), LIMIT_OK);
	ck_assert_int_eq(admit_release(&a, 1500), LIMIT_CLIENT_RATE);
	/* A long idle time refills to the burst only. */
	ck_assert_int_eq(admit_release(&a, 1000000), LIMIT_OK);
	ck_assert_int_eq(admit_release(&a, 1000000), LIMIT_CLIENT_RATE);
	/* A clock step backwards credits nothing. */
	ck_assert_int_eq(admit_release(&a, 900000), LIMIT_CLIENT_RATE);
	ck_assert_int_eq(admit_release(&a, 1000499), LIMIT_CLIENT_RATE);
	ck_assert_int_eq(admit_release(&a, 1000500), LIMIT_OK);
	ck_assert_uint_eq(lim.count[LIMIT_CLIENT_RATE], 6);
}
END_TEST

START_TEST(client_burst_then_rate)
{
	struct limit_conf c = { .rate_per_client_milli = 1000,
	    .burst_per_client = 5 };
	struct sockaddr_storage a = addr("10.9.9.9");
	int i;

	start(&c, 1024);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(admit_release(&a, 0), LIMIT_OK);
	ck_assert_int_eq(admit_release(&a, 0), LIMIT_CLIENT_RATE);
	ck_assert_int_eq(admit_release(&a, 999), LIMIT_CLIENT_RATE);
	/* Then one per second, however often it asks. */
	for (i = 1; i <= 10; i++) {
		ck_assert_int_eq(admit_release(&a, i * 1000u), LIMIT_OK);
		ck_assert_int_eq(admit_release(&a, i * 1000u + 500),
		    LIMIT_CLIENT_RATE);
	}
}
END_TEST

START_TEST(global_bucket_limits_all)
{
	struct limit_conf c = { .rate_global_milli = 1000,
	    .burst_global = 3 };
	struct limit_conf c2 = { .rate_per_client_milli = 1,
	    .burst_per_client = 2, .rate_global_milli = 1000,
	    .burst_global = 1 };
	struct sockaddr_storage a = addr("10.0.0.1");
	uint32_t i;

	start(&c, 1024);
	for (i = 0; i < 3; i++) {
		struct sockaddr_storage n = addr_v4n(i);

		ck_assert_int_eq(admit_release(&n, 0), LIMIT_OK);
	}
	ck_assert_int_eq(admit_release(&a, 0), LIMIT_GLOBAL_RATE);
	ck_assert_int_eq(admit_release(&a, 999), LIMIT_GLOBAL_RATE);
	ck_assert_int_eq(admit_release(&a, 1000), LIMIT_OK);
	limit_free(&lim);

	/* A global denial takes nothing from the client's bucket: with a
	 * near-zero client rate, a's second token must survive it. */
	start(&c2, 1024);
	ck_assert_int_eq(admit_release(&a, 0), LIMIT_OK);
	ck_assert_int_eq(admit_release(&a, 0), LIMIT_GLOBAL_RATE);
	ck_assert_int_eq(admit_release(&a, 1000), LIMIT_OK);
	ck_assert_int_eq(admit_release(&a, 2000), LIMIT_CLIENT_RATE);
}
END_TEST

START_TEST(zero_rate_disables_bucket)
{
	struct limit_conf c = { 0 };
	struct limit_conf c2 = { .rate_global_milli = 1000,
	    .burst_global = 1000 };
	struct sockaddr_storage a = addr("10.0.0.1");
	uint32_t i;

	start(&c, 1024);
	for (i = 0; i < 100000; i++)
		if (limit_admit(&lim, &a, 0) != LIMIT_OK)
			ck_abort_msg("refused at %u", i);
	limit_free(&lim);

	/* Client bucket off, global on: one client may use all of it. */
	start(&c2, 1024);
	for (i = 0; i < 1000; i++)
		if (admit_release(&a, 0) != LIMIT_OK)
			ck_abort_msg("refused at %u", i);
	ck_assert_int_eq(admit_release(&a, 0), LIMIT_GLOBAL_RATE);
}
END_TEST

START_TEST(table_full_gives_overflow_verdict)
{
	struct limit_conf c = { .max_per_client = 4 };
	struct sockaddr_storage first = addr_v4n(0), extra = addr_v4n(16);
	struct sockaddr_storage unix_sa;
	uint32_t i;

	start(&c, 16);
	for (i = 0; i < 16; i++) {
		struct sockaddr_storage n = addr_v4n(i);

		ck_assert_int_eq(limit_admit(&lim, &n, 0), LIMIT_OK);
	}
	ck_assert_int_eq(limit_admit(&lim, &extra, 0), LIMIT_TABLE_FULL);
	ck_assert_uint_eq(lim.count[LIMIT_TABLE_FULL], 1);
	/* Known clients still get their slots. */
	ck_assert_int_eq(limit_admit(&lim, &first, 0), LIMIT_OK);
	ck_assert_int_eq(limit_release(&lim, &first), 0);
	ck_assert_int_eq(limit_release(&lim, &first), 0);
	ck_assert_int_eq(limit_admit(&lim, &extra, 0), LIMIT_OK);
	/* A family that cannot be tracked is overflow too. */
	memset(&unix_sa, 0, sizeof(unix_sa));
	unix_sa.ss_family = AF_UNIX;
	ck_assert_int_eq(limit_admit(&lim, &unix_sa, 0), LIMIT_TABLE_FULL);
	ck_assert_int_eq(limit_release(&lim, &unix_sa), -1);
}
END_TEST

START_TEST(idle_entries_are_reused)
{
	struct limit_conf c = { .max_per_client = 4,
	    .rate_per_client_milli = 1000, .burst_per_client = 2 };
	struct sockaddr_storage extra = addr_v4n(16);
	uint32_t i;

	start(&c, 16);
	/* 16 clients, none active, but their buckets are not yet full. */
	for (i = 0; i < 16; i++) {
		struct sockaddr_storage n = addr_v4n(i);

		ck_assert_int_eq(admit_release(&n, 0), LIMIT_OK);
	}
	ck_assert_int_eq(admit_release(&extra, 999), LIMIT_TABLE_FULL);
	ck_assert_int_eq(admit_release(&extra, 1000), LIMIT_OK);
	/* A stream of new clients through a 16-slot table. */
	for (i = 0; i < 5000; i++) {
		struct sockaddr_storage n = addr_v4n(100 + i);

		if (admit_release(&n, 2000 + 1000 * (uint64_t)i) != LIMIT_OK)
			ck_abort_msg("client %u refused", i);
	}
	ck_assert_uint_eq(lim.count[LIMIT_TABLE_FULL], 1);
}
END_TEST

/* Ask every step_ms for an hour; the number admitted. */
static uint64_t
run_hour(const struct sockaddr_storage *a, uint64_t step_ms)
{
	uint64_t t, n = 0;

	for (t = 0; t <= 3600 * 1000; t += step_ms)
		if (admit_release(a, t) == LIMIT_OK)
			n++;
	return n;
}

START_TEST(long_run_no_drift)
{
	/* 2.333/s: every 7 ms step adds 16331 micro-transfers, so a refill
	 * that dropped the sub-milli part each time would lose ~170. */
	struct limit_conf cc = { .rate_per_client_milli = 2333,
	    .burst_per_client = 5 };
	struct limit_conf cg = { .rate_global_milli = 2333,
	    .burst_global = 5 };
	struct sockaddr_storage a = addr("10.0.0.1");
	int64_t want_milli = 2333 * 3600 + 5 * 1000, got;
	const uint64_t steps[] = { 1, 7, 333 };
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		start(&cc, 1024);
		got = (int64_t)run_hour(&a, steps[i]) * 1000;
		limit_free(&lim);
		if (got < want_milli - 1000 || got > want_milli + 1000)
			ck_abort_msg("client step %ju: %jd vs %jd milli",
			    (uintmax_t)steps[i], (intmax_t)got,
			    (intmax_t)want_milli);
		start(&cg, 1024);
		got = (int64_t)run_hour(&a, steps[i]) * 1000;
		limit_free(&lim);
		if (got < want_milli - 1000 || got > want_milli + 1000)
			ck_abort_msg("global step %ju: %jd vs %jd milli",
			    (uintmax_t)steps[i], (intmax_t)got,
			    (intmax_t)want_milli);
	}
}
END_TEST

START_TEST(hash_collisions_bounded)
{
	struct limit_conf c = { .max_per_client = 1 };
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	uint32_t i;

	/* 512 clients in 1024 slots that a hash of the low address bits
	 * would put in one chain: IPv6 addresses equal in their low 96 bits,
	 * then IPv4 addresses equal in their low 24. */
	start(&c, 1024);
	for (i = 0; i < 256; i++) {
		memset(&ss, 0, sizeof(ss));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr.s6_addr[0] = 0x20;
		sin6->sin6_addr.s6_addr[1] = 0x01;
		sin6->sin6_addr.s6_addr[2] = (uint8_t)i;
		sin6->sin6_addr.s6_addr[15] = 1;
		if (limit_admit(&lim, &ss, 0) != LIMIT_OK)
			ck_abort_msg("v6 client %u refused", i);
	}
	for (i = 0; i < 256; i++) {
		struct sockaddr_storage n = addr_v4n(0);
		struct sockaddr_in *sin = (struct sockaddr_in *)&n;

		sin->sin_addr.s_addr = htonl(i << 24 | 0x010101);
		if (limit_admit(&lim, &n, 0) != LIMIT_OK)
			ck_abort_msg("v4 client %u refused", i);
	}
	ck_assert_uint_eq(lim.count[LIMIT_OK], 512);
	/* Each is still found: a second transfer is refused as busy. */
	ck_assert_int_eq(limit_admit(&lim, &ss, 0), LIMIT_CLIENT_BUSY);
}
END_TEST

START_TEST(init_rejects_bad_conf)
{
	struct limit_conf c = { .rate_per_client_milli = 1000 };
	struct limit_conf ok = { 0 };

	ck_assert_int_eq(limit_init(&lim, &c, 1024, SEED), -1);
	ck_assert_int_eq(limit_init(&lim, &ok, 0, SEED), -1);
	ok.nrules = LIMIT_RULES_MAX + 1;
	ck_assert_int_eq(limit_init(&lim, &ok, 1024, SEED), -1);
	ok.nrules = 1;
	ok.rules[0].cidr.bits = 129;
	ck_assert_int_eq(limit_init(&lim, &ok, 1024, SEED), -1);
	ck_assert_str_eq(limit_verdict_name(LIMIT_TABLE_FULL), "table_full");
	ck_assert_str_eq(limit_verdict_name(LIMIT_OK), "ok");
}
END_TEST

static Suite *
limit_suite(void)
{
	Suite *s = suite_create("limit");
	TCase *tc = tcase_create("limit");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, per_client_cap_enforced);
	tcase_add_test(tc, release_frees_capacity);
	tcase_add_test(tc, different_clients_independent);
	tcase_add_test(tc, v4_mapped_v6_is_same_client);
	tcase_add_test(tc, cidr_override_raises_cap);
	tcase_add_test(tc, cidr_parse_accepts_and_rejects);
	tcase_add_test(tc, client_bucket_refills_over_time);
	tcase_add_test(tc, client_burst_then_rate);
	tcase_add_test(tc, global_bucket_limits_all);
	tcase_add_test(tc, zero_rate_disables_bucket);
	tcase_add_test(tc, table_full_gives_overflow_verdict);
	tcase_add_test(tc, idle_entries_are_reused);
	tcase_add_test(tc, long_run_no_drift);
	tcase_add_test(tc, hash_collisions_bounded);
	tcase_add_test(tc, init_rejects_bad_conf);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(limit_suite());
}
