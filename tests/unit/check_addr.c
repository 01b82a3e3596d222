/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_addr.c - addr.c and num.c: address and block parsing (IPv4, IPv6,
 * IPv4-mapped, bad input, prefix bounds, host bits), matching a client
 * against a block (families, mapped clients, odd prefixes), the mapped
 * form limit.c keeps, IP and MAC text, and the one decimal parser.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "addr.h"
#include "num.h"
#include "testutil.h"

static struct sockaddr_storage	ss;

/* A client address (numeric, IPv4 or IPv6) with port 4242. */
static const struct sockaddr_storage *
client(const char *text)
{
	unit_addr(&ss, text, 4242);
	return &ss;
}

START_TEST(parse_u64_bounds)
{
	uint64_t	v = 42;

	ck_assert_int_eq(num_parse_u64("0", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(num_parse_u64("007", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(num_parse_u64("18446744073709551615", 0, UINT64_MAX,
	    &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	v = 42;
	ck_assert_int_eq(num_parse_u64("18446744073709551616", 0, UINT64_MAX,
	    &v), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(num_parse_u64("99999999999999999999999", 0,
	    UINT64_MAX, &v), -1);
	ck_assert_int_eq(num_parse_u64("", 0, 10, &v), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(num_parse_u64(NULL, 0, 10, &v), -1);
	ck_assert_int_eq(num_parse_u64("-1", 0, 10, &v), -1);
	ck_assert_int_eq(num_parse_u64("+1", 0, 10, &v), -1);
	ck_assert_int_eq(num_parse_u64(" 1", 0, 10, &v), -1);
	ck_assert_int_eq(num_parse_u64("1 ", 0, 10, &v), -1);
	ck_assert_int_eq(num_parse_u64("0x1", 0, 10, &v), -1);
	ck_assert_int_eq(num_parse_u64("11", 0, 10, &v), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(num_parse_u64("4", 5, 10, &v), -1);
	ck_assert_int_eq(num_parse_u64("10", 5, 10, &v), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(num_parse_u64("5", 5, 10, &v), 0);
	ck_assert_uint_eq(v, 5);
}
END_TEST

/*
 * Blocks: the text, addr_cidr_parse's answer (0, 1: host bits set and
 * cleared, -1: not a block) and, for 0 and 1, the family and prefix
 * length (0 and -1: not checked here) and up to two bytes of the block
 * (index -1: none).
 */
static const struct cidr_case {
	const char	*text;
	int		 rc, family, prefix_len;
	struct {
		int	 i;
		uint8_t	 v;
	} byte[2];
} cidr_cases[] = {
	{ "10.0.0.0/8", 0, AF_INET, 8, { { 0, 10 }, { -1, 0 } } },
	{ "192.0.2.7", 0, 0, 32, { { -1, 0 }, { -1, 0 } } },
	{ "0.0.0.0/0", 0, 0, 0, { { -1, 0 }, { -1, 0 } } },
	{ "10.0.0.0/32", 0, 0, 32, { { -1, 0 }, { -1, 0 } } },
	{ "10.0.0.0/08", 0, 0, 8, { { -1, 0 }, { -1, 0 } } },
	{ "fd00::/8", 0, AF_INET6, 8, { { -1, 0 }, { -1, 0 } } },
	{ "::1", 0, 0, 128, { { 15, 1 }, { -1, 0 } } },
	{ "::/128", 0, 0, 128, { { -1, 0 }, { -1, 0 } } },
	{ "::/0", 0, AF_INET6, 0, { { -1, 0 }, { -1, 0 } } },
	/* mapped IPv4 blocks become IPv4 */
	{ "::ffff:10.1.0.0/112", 0, AF_INET, 16, { { 0, 10 }, { 1, 1 } } },
	{ "::ffff:10.1.2.3", 0, AF_INET, 32, { { -1, 0 }, { -1, 0 } } },
	{ "::ffff:0.0.0.0/96", 0, AF_INET, 0, { { -1, 0 }, { -1, 0 } } },
	/* ... but one shorter than /96 stays IPv6 */
	{ "::ffff:0.0.0.0/95", 1, AF_INET6, -1, { { -1, 0 }, { -1, 0 } } },
	/* host bits: 1, with the block cleared */
	{ "10.1.2.3/23", 1, 0, -1, { { 2, 2 }, { 3, 0 } } },
	{ "fd00::1/64", 1, 0, -1, { { 15, 0 }, { -1, 0 } } },
	/* not a block */
	{ "10.0.0.0/33", -1, 0, -1, { { -1, 0 }, { -1, 0 } } },
	{ "::/129", -1, 0, -1, { { -1, 0 }, { -1, 0 } } },
	{ "10.0.0.0/", -1, 0, -1, { { -1, 0 }, { -1, 0 } } },
	{ "10.0.0.0/-1", -1, 0, -1, { { -1, 0 }, { -1, 0 } } },
	{ "10.0.0.0/+8", -1, 0, -1, { { -1, 0 }, { -1, 0 } } },
	{ "10.0.0.0/8/8", -1, 0, -1, { { -1, 0 }, { -1, 0 } } },
	{ "10.0.0.0/99999999999999999999999", -1, 0, -1,
	    { { -1, 0 }, { -1, 0 } } },
	{ " 10.0.0.0/8", -1, 0, -1, { { -1, 0 }, { -1, 0 } } },
	{ "10.0.0/8", -1, 0, -1, { { -1, 0 }, { -1, 0 } } },
	{ "localhost", -1, 0, -1, { { -1, 0 }, { -1, 0 } } },
	{ "", -1, 0, -1, { { -1, 0 }, { -1, 0 } } },
	{ NULL, -1, 0, -1, { { -1, 0 }, { -1, 0 } } },
	{ "1111:2222:3333:4444:5555:6666:7777:8888/128/1", -1, 0, -1,
	    { { -1, 0 }, { -1, 0 } } },
};

START_TEST(cidr_parse_cases)
{
	const struct cidr_case	*c = &cidr_cases[_i];
	const char		*t = c->text != NULL ? c->text : "(null)";
	struct addr_cidr	 n;
	unsigned		 b;

	ck_assert_msg(addr_cidr_parse(c->text, &n) == c->rc, "%s: not %d", t,
	    c->rc);
	if (c->rc == -1)
		return;
	if (c->family != 0)
		ck_assert_msg(n.family == c->family, "%s: family %d", t,
		    n.family);
	if (c->prefix_len != -1)
		ck_assert_msg(n.prefix_len == (unsigned)c->prefix_len,
		    "%s: prefix %u", t, (unsigned)n.prefix_len);
	for (b = 0; b < 2; b++)
		if (c->byte[b].i != -1)
			ck_assert_msg(n.addr[c->byte[b].i] == c->byte[b].v,
			    "%s: byte %d is %u", t, c->byte[b].i,
			    n.addr[c->byte[b].i]);
}
END_TEST

/* A block and clients ("-": no address) with whether each is in it. */
static const struct match_case {
	const char	*cidr;
	struct {
		const char	*from;
		int		 want;
	} probe[6];
} match_cases[] = {
	{ "10.1.0.0/16", { { "10.1.255.3", 1 }, { "10.2.0.1", 0 },
	    /* a dual-stack socket's IPv4 client */
	    { "::ffff:10.1.0.9", 1 }, { "::ffff:10.3.0.9", 0 },
	    { "::a01:9", 0 }, { "-", 0 } } },
	{ "0.0.0.0/0", { { "255.255.255.255", 1 }, { "::ffff:1.2.3.4", 1 },
	    { "::1", 0 }, { "-", 0 } } },
	/* a prefix that ends inside a byte */
	{ "192.0.2.128/25", { { "192.0.2.200", 1 }, { "192.0.2.127", 0 } } },
	{ "2001:db8:8000::/33",
	    { { "2001:db8:ffff::1", 1 }, { "2001:db8:7fff::1", 0 } } },
	/* an IPv6 block never holds an IPv4 client, even ::/0 */
	{ "::/0", { { "::1", 1 }, { "10.0.0.1", 0 },
	    { "::ffff:10.0.0.1", 0 } } },
	{ "::1", { { "::1", 1 }, { "::2", 0 } } },
};

START_TEST(cidr_match_cases)
{
	const struct match_case		*c = &match_cases[_i];
	struct addr_cidr		 n;
	unsigned			 i;

	ck_assert_int_eq(addr_cidr_parse(c->cidr, &n), 0);
	for (i = 0; i < 6 && c->probe[i].from != NULL; i++) {
		const struct sockaddr_storage	*from;

		from = strcmp(c->probe[i].from, "-") == 0 ? NULL :
		    client(c->probe[i].from);
		ck_assert_msg(addr_cidr_match(&n, from) == c->probe[i].want,
		    "%s in %s: not %d", c->probe[i].from, c->cidr,
		    c->probe[i].want);
	}
}
END_TEST

/* The form struct limit_cidr keeps: IPv4 as ::ffff:a.b.c.d/(96 + len). */
START_TEST(cidr_mapped_for_limits)
{
	struct addr_cidr	n;
	uint8_t			a[16];
	static const uint8_t	v4[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff, 10, 20, 0, 0 };

	ck_assert_int_eq(addr_cidr_parse("10.20.0.0/16", &n), 0);
	memset(a, 0xaa, sizeof(a));
	ck_assert_uint_eq(addr_cidr_mapped(&n, a), 112);
	ck_assert_mem_eq(a, v4, 16);
	ck_assert_int_eq(addr_cidr_parse("0.0.0.0/0", &n), 0);
	ck_assert_uint_eq(addr_cidr_mapped(&n, a), 96);
	ck_assert_int_eq(addr_cidr_parse("fd00::/8", &n), 0);
	ck_assert_uint_eq(addr_cidr_mapped(&n, a), 8);
	ck_assert_uint_eq(a[0], 0xfd);
	ck_assert_uint_eq(a[15], 0);
	ck_assert_int_eq(addr_cidr_parse("::1", &n), 0);
	ck_assert_uint_eq(addr_cidr_mapped(&n, a), 128);
	ck_assert_uint_eq(a[15], 1);
}
END_TEST

START_TEST(parse_mac_forms)
{
	char	mac[ADDR_MAC_LEN];

	ck_assert_int_eq(addr_mac_in_name("01-AA-BB-CC-DD-EE-FF", mac), 1);
	ck_assert_str_eq(mac, "aa:bb:cc:dd:ee:ff");
	ck_assert_int_eq(addr_mac_in_name("pxelinux.cfg/01-aa-bb-cc-dd-ee-ff",
	    mac), 1);
	ck_assert_str_eq(mac, "aa:bb:cc:dd:ee:ff");
	ck_assert_int_eq(addr_mac_in_name("grub.cfg-01:0a:0B:0c:0d:0e:0f",
	    mac), 1);
	ck_assert_str_eq(mac, "0a:0b:0c:0d:0e:0f");
	ck_assert_int_eq(addr_mac_in_name("x/01-aa-bb-cc-dd-ee-ff.cfg", mac), 1);
	ck_assert_str_eq(mac, "aa:bb:cc:dd:ee:ff");
	/* A longer chain: the MAC is the last six pairs after "01-". */
	ck_assert_int_eq(addr_mac_in_name("01-01-aa-bb-cc-dd-ee-ff", mac), 1);
	ck_assert_str_eq(mac, "aa:bb:cc:dd:ee:ff");
}
END_TEST

START_TEST(parse_mac_none)
{
	char	mac[ADDR_MAC_LEN];

	ck_assert_int_eq(addr_mac_in_name("pxelinux.cfg/default", mac), 0);
	ck_assert_str_eq(mac, "");
	ck_assert_int_eq(addr_mac_in_name("", mac), 0);
	ck_assert_int_eq(addr_mac_in_name("01-aa-bb-cc-dd-ee", mac), 0);
	ck_assert_int_eq(addr_mac_in_name("01-aa-bb-cc-dd-ee-fg", mac), 0);
	ck_assert_int_eq(addr_mac_in_name("02-aa-bb-cc-dd-ee-ff", mac), 0);
	ck_assert_int_eq(addr_mac_in_name("101-aa-bb-cc-dd-ee-ff", mac), 0);
	ck_assert_int_eq(addr_mac_in_name("01-aa-bb-cc-dd-ee-fff", mac), 0);
	ck_assert_int_eq(addr_mac_in_name("01_aa_bb_cc_dd_ee_ff", mac), 0);
	ck_assert_int_eq(addr_mac_in_name("C0A80101", mac), 0);
	ck_assert_str_eq(mac, "");
}
END_TEST


START_TEST(parse_address_unmap)
{
	uint8_t	a[16];
	int	family = 0;

	ck_assert_int_eq(addr_parse("192.0.2.1", true, &family, a), 0);
	ck_assert_int_eq(family, AF_INET);
	ck_assert_uint_eq(a[0], 192);
	ck_assert_uint_eq(a[3], 1);
	ck_assert_uint_eq(a[4], 0);
	ck_assert_int_eq(addr_parse("::ffff:192.0.2.1", true, &family, a), 0);
	ck_assert_int_eq(family, AF_INET);
	ck_assert_uint_eq(a[0], 192);
	ck_assert_uint_eq(a[10], 0);
	ck_assert_int_eq(addr_parse("::ffff:192.0.2.1", false, &family, a), 0);
	ck_assert_int_eq(family, AF_INET6);
	ck_assert_uint_eq(a[10], 0xff);
	ck_assert_int_eq(addr_parse("2001:db8::7", true, &family, a), 0);
	ck_assert_int_eq(family, AF_INET6);
	ck_assert_uint_eq(a[15], 7);
	{
		/* into bytes at an odd address (a struct with a kind byte) */
		uint8_t	buf[17];

		ck_assert_int_eq(addr_parse("::ffff:10.0.0.1", true, &family,
		    buf + 1), 0);
		ck_assert_int_eq(family, AF_INET);
		ck_assert_uint_eq(buf[1], 10);
		ck_assert_uint_eq(buf[4], 1);
	}
	ck_assert_int_eq(addr_parse("192.0.2.1/32", true, &family, a), -1);
	ck_assert_int_eq(addr_parse("host", true, &family, a), -1);
	ck_assert_int_eq(addr_parse("", true, &family, a), -1);
}
END_TEST

/* limit.c's form: one 16-byte key, IPv4 mapped, plain prefix compare. */
START_TEST(key_and_prefix_match)
{
	struct addr_cidr	n;
	uint8_t			net[16], key[16];
	unsigned		bits;

	ck_assert_int_eq(addr_cidr_parse("10.20.0.0/16", &n), 0);
	bits = addr_cidr_mapped(&n, net);
	ck_assert_int_eq(addr_key(client("10.20.3.4"), key), 0);
	ck_assert(addr_prefix_match(key, net, bits));
	ck_assert_int_eq(addr_key(client("::ffff:10.20.3.4"), key), 0);
	ck_assert(addr_prefix_match(key, net, bits));
	ck_assert_int_eq(addr_key(client("10.21.3.4"), key), 0);
	ck_assert(!addr_prefix_match(key, net, bits));
	ck_assert(addr_prefix_match(key, net, 0));
	ck_assert(!addr_host_bits(net, bits, 128));
	net[15] = 1;
	ck_assert(addr_host_bits(net, bits, 128));
	ck_assert(!addr_host_bits(net, 128, 128));
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(addr_key(&ss, key), -1);
}
END_TEST

START_TEST(format_ip_text)
{
	char		buf[ADDR_IP_LEN];
	uint16_t	port = 1;

	addr_format_ip(client("192.0.2.9"), buf, &port);
	ck_assert_str_eq(buf, "192.0.2.9");
	ck_assert_uint_eq(port, 4242);
	addr_format_ip(client("::ffff:192.0.2.9"), buf, NULL);
	ck_assert_str_eq(buf, "192.0.2.9");
	addr_format_ip(client("2001:DB8::0:1"), buf, &port);
	ck_assert_str_eq(buf, "2001:db8::1");
	addr_format_ip(client("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), buf,
	    NULL);
	ck_assert_str_eq(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	addr_format_ip(NULL, buf, &port);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(port, 0);
}
END_TEST

START_TEST(format_mac_text)
{
	uint8_t		b[6];
	char		out[ADDR_MAC_LEN];
	const char	*e;

	ck_assert_ptr_nonnull(e = addr_mac_parse("AA-bb:0C-dd-EE-ff rest", b));
	ck_assert_str_eq(e, " rest");
	addr_format_mac(b, out);
	ck_assert_str_eq(out, "aa:bb:0c:dd:ee:ff");
	ck_assert_ptr_null(addr_mac_parse("aa-bb-cc-dd-ee", b));
	ck_assert_ptr_null(addr_mac_parse("aabbccddeeff", b));
}
END_TEST

START_TEST(dec_counted)
{
	uint64_t	v = 0;

	ck_assert_int_eq(num_dec("1468xyz", 4, &v), NUM_OK);
	ck_assert_uint_eq(v, 1468);
	ck_assert_int_eq(num_dec("", 0, &v), NUM_BAD);
	ck_assert_int_eq(num_dec("12a", 3, &v), NUM_BAD);
	ck_assert_int_eq(num_dec("99999999999999999999999", 23, &v),
	    NUM_OVERFLOW);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(num_dec("99999999999999999999x", 21, &v), NUM_BAD);
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite	*s = suite_create("addr");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, parse_address_unmap);
	tcase_add_loop_test(tc, cidr_parse_cases, 0,
	    sizeof(cidr_cases) / sizeof(cidr_cases[0]));
	tcase_add_test(tc, cidr_mapped_for_limits);
	tcase_add_loop_test(tc, cidr_match_cases, 0,
	    sizeof(match_cases) / sizeof(match_cases[0]));
	tcase_add_test(tc, key_and_prefix_match);
	tcase_add_test(tc, format_ip_text);
	tcase_add_test(tc, format_mac_text);
	tcase_add_test(tc, parse_mac_forms);
	tcase_add_test(tc, parse_mac_none);
	tcase_add_test(tc, parse_u64_bounds);
	tcase_add_test(tc, dec_counted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(addr_suite());
}
