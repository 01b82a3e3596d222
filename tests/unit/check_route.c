/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_route.c - unit tests for route.c: rewrite rules, access lists and
 * route choice. Each test builds the policy part of a struct conf by hand
 * (regexes through conf_regex_compile, blocks through addr_cidr_parse, as
 * conf.c does) so that it checks route.c alone; the config syntax is
 * check_conf's business.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

#include "conf.h"
#include "route.h"
#include "tftp.h"
#include "testutil.h"

#define MAX_RULES	8

static struct conf		conf;
static struct conf_rewrite	rules[MAX_RULES];
static struct conf_route	routes[MAX_RULES];
static struct conf_acl_rule	acl_rules[2][MAX_RULES];
static char			out[TFTP_NAME_MAX + 1];
static struct route_match	m;

static void
setup(void)
{
	memset(&conf, 0, sizeof(conf));
	memset(rules, 0, sizeof(rules));
	memset(routes, 0, sizeof(routes));
	memset(acl_rules, 0, sizeof(acl_rules));
	conf.rewrite = rules;
	conf.routes = routes;
	memset(out, 0, sizeof(out));
}

static void
teardown(void)
{
	unsigned	i;

	for (i = 0; i < MAX_RULES; i++) {
		if (rules[i].compiled)
			regfree(&rules[i].re);
		if (routes[i].compiled)
			regfree(&routes[i].re);
	}
}

/* Append a rewrite rule; flags: 'g' global, 'i' icase, 'l' last. */
static struct conf_rewrite *
add_rule(const char *match, const char *replace, const char *flags)
{
	struct conf_rewrite	*rw;
	char			 msg[192];

	ck_assert_uint_lt(conf.n_rewrite, MAX_RULES);
	rw = &rules[conf.n_rewrite++];
	rw->match = (char *)match;
	rw->replace = (char *)replace;
	rw->global = strchr(flags, 'g') != NULL;
	rw->icase = strchr(flags, 'i') != NULL;
	rw->last = strchr(flags, 'l') != NULL;
	ck_assert_msg(conf_regex_compile(&rw->re, match, rw->icase, msg,
	    sizeof(msg)) == 0, "%s: %s", match, msg);
	rw->compiled = true;
	ck_assert_msg(conf_replace_check(replace, rw->re.re_nsub, msg,
	    sizeof(msg)) == 0, "%s: %s", replace, msg);
	return rw;
}

static void
rule_client(struct conf_rewrite *rw, const char *cidr)
{
	ck_assert_int_eq(addr_cidr_parse(cidr, &rw->client), 0);
	rw->has_client = true;
}

/* A client address (port 2011) in a static sockaddr_storage. */
static const struct sockaddr_storage *
client(const char *addr)
{
	static struct sockaddr_storage	ss[4];
	static unsigned			next;
	struct sockaddr_storage		*s = &ss[next++ % 4];

	unit_addr(s, addr, 2011);
	return s;
}

/* Set acl to the entries "+net" (allow) / "-net" (deny), NULL-ended. */
static void
set_acl(struct conf_acl *acl, struct conf_acl_rule *store, ...)
{
	va_list		 ap;
	const char	*e;

	acl->rules = store;
	acl->n_rules = 0;
	va_start(ap, store);
	while ((e = va_arg(ap, const char *)) != NULL) {
		ck_assert_uint_lt(acl->n_rules, MAX_RULES);
		store[acl->n_rules].allow = e[0] == '+';
		ck_assert_int_eq(addr_cidr_parse(e + 1,
		    &store[acl->n_rules].net), 0);
		acl->n_rules++;
	}
	va_end(ap);
}

static const char *
rewrite(const char *name, const struct sockaddr_storage *from)
{
	ck_assert_int_eq(route_rewrite(&conf, from, name, out, sizeof(out)),
	    0);
	return out;
}

static struct conf_route *
add_prefix_route(const char *prefix)
{
	struct conf_route	*r;

	ck_assert_uint_lt(conf.n_routes, MAX_RULES);
	r = &routes[conf.n_routes++];
	r->prefix = (char *)prefix;
	return r;
}

static struct conf_route *
add_regex_route(const char *regex)
{
	struct conf_route	*r;
	char			 msg[192];

	ck_assert_uint_lt(conf.n_routes, MAX_RULES);
	r = &routes[conf.n_routes++];
	r->regex = (char *)regex;
	ck_assert_msg(conf_regex_compile(&r->re, regex, false, msg,
	    sizeof(msg)) == 0, "%s: %s", regex, msg);
	r->compiled = true;
	return r;
}

/*
 * Rewrite cases: up to three rules (flags as add_rule's, cidr the rule's
 * client block or NULL), then names rewritten (from a client address, or
 * none when from is NULL) and the result each must give.
 */
struct rw_rule {
	const char	*match, *replace, *flags, *cidr;
};

struct rw_probe {
	const char	*name, *from, *want;
};

static const struct rw_case {
	const char	*what;
	struct rw_rule	 rule[3];
	struct rw_probe	 probe[4];
} rw_cases[] = {
	{ "without rules the name is copied", { { NULL } },
	    { { "pxelinux.0", NULL, "pxelinux.0" }, { "", NULL, "" } } },
	/* Windows bootmgr / WDS: \Boot\x64\wdsnbp.com */
	{ "global backslash to slash", { { "\\\\", "/", "g", NULL } },
	    { { "\\Boot\\x64\\wdsnbp.com", NULL, "/Boot/x64/wdsnbp.com" } } },
	{ "without global the first match only",
	    { { "a", "o", "", NULL } }, { { "banana", NULL, "bonana" } } },
	{ "global replaces every match", { { "a", "o", "g", NULL } },
	    { { "banana", NULL, "bonono" } } },
	{ "captures move a prefix",
	    { { "^/?boot/(.*)$", "efi/\\1", "", NULL } },
	    { { "/boot/grubx64.efi", NULL, "efi/grubx64.efi" },
	      { "boot/x/y", NULL, "efi/x/y" },
	      { "/other/boot/x", NULL, "/other/boot/x" } } },
	{ "whole match and backslash escape",
	    { { "b+", "[\\0\\\\]", "", NULL } },
	    { { "abbc", NULL, "a[bb\\]c" } } },
	{ "captures swap groups",
	    { { "^([^.]*)\\.([^.]*)$", "\\2.\\1", "", NULL } },
	    { { "cfg.default", NULL, "default.cfg" } } },
	{ "an unset group is empty", { { "(a)|(b)", "[\\1|\\2]", "g", NULL } },
	    { { "ab", NULL, "[a|][|b]" } } },
	{ "icase matches any case",
	    { { "^/?boot/bcd$", "boot/BCD", "i", NULL } },
	    { { "/BOOT/bcd", NULL, "boot/BCD" },
	      { "Boot/Bcd", NULL, "boot/BCD" } } },
	{ "without icase case-sensitive",
	    { { "^/?boot/bcd$", "boot/BCD", "", NULL } },
	    { { "/BOOT/bcd", NULL, "/BOOT/bcd" } } },
	{ "rules apply in order",
	    { { "\\\\", "/", "g", NULL },
	      { "^/?boot/(.*)$", "efi/\\1", "i", NULL } },
	    { { "\\Boot\\x64\\wdsnbp.com", NULL, "efi/x64/wdsnbp.com" } } },
	{ "last stops after a match",
	    { { "^a", "b", "l", NULL }, { "^b", "c", "", NULL } },
	    { { "ax", NULL, "bx" } } },
	{ "last without a match goes on",
	    { { "^z", "b", "l", NULL }, { "^a", "c", "", NULL } },
	    { { "ax", NULL, "cx" } } },
	{ "client v4 match",
	    { { "^/?(.*)$", "rack1/\\1", "", "10.1.0.0/16" } },
	    { { "/pxelinux.0", "10.1.200.7", "rack1/pxelinux.0" } } },
	{ "client v4 non-match",
	    { { "^/?(.*)$", "rack1/\\1", "", "10.1.0.0/16" } },
	    { { "/pxelinux.0", "10.2.0.7", "/pxelinux.0" },
	      { "/pxelinux.0", "fd00::1", "/pxelinux.0" } } },
	/* A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d */
	{ "client mapped v4 matches a v4 block",
	    { { "^", "v4/", "", "10.1.0.0/16" } },
	    { { "x", "::ffff:10.1.2.3", "v4/x" },
	      { "x", "::ffff:10.2.2.3", "x" } } },
	{ "client v6 match and non-match",
	    { { "^", "v6/", "", "fd00:1::/32" } },
	    { { "x", "fd00:1:ffff::9", "v6/x" }, { "x", "fd00:2::9", "x" },
	      { "x", "10.1.2.3", "x" } } },
	{ "client rule skipped without a client",
	    { { "^", "v4/", "", "0.0.0.0/0" } },
	    { { "x", NULL, "x" }, { "x", "192.0.2.1", "v4/x" } } },
	/* As sed: "x*" by "-" everywhere in abc is -a-b-c-, and in abxc too. */
	{ "empty match global terminates", { { "x*", "-", "g", NULL } },
	    { { "abc", NULL, "-a-b-c-" }, { "abxc", NULL, "-a-b-c-" },
	      { "", NULL, "-" } } },
	{ "empty anchor matches once",
	    { { "^", "p/", "g", NULL }, { "$", ".cfg", "g", NULL } },
	    { { "name", NULL, "p/name.cfg" } } },
};

START_TEST(rewrite_cases)
{
	const struct rw_case	*c = &rw_cases[_i];
	const struct rw_rule	*r;
	const struct rw_probe	*p;

	for (r = c->rule; r < c->rule + 3 && r->match != NULL; r++) {
		struct conf_rewrite	*rw;

		rw = add_rule(r->match, r->replace, r->flags);
		if (r->cidr != NULL)
			rule_client(rw, r->cidr);
	}
	for (p = c->probe; p < c->probe + 4 && p->name != NULL; p++)
		ck_assert_msg(strcmp(rewrite(p->name, p->from == NULL ? NULL :
		    client(p->from)), p->want) == 0,
		    "%s: \"%s\" from %s gave \"%s\", want \"%s\"", c->what,
		    p->name, p->from != NULL ? p->from : "-", out, p->want);
}
END_TEST

START_TEST(rewrite_global_stops_after_64_replacements)
{
	char	in[101], want[101];

	memset(in, 'a', 100);
	in[100] = '\0';
	memset(want, 'b', ROUTE_MAX_REPLACE);
	memset(want + ROUTE_MAX_REPLACE, 'a', 100 - ROUTE_MAX_REPLACE);
	want[100] = '\0';
	add_rule("a", "b", "g");
	ck_assert_str_eq(rewrite(in, NULL), want);
}
END_TEST

START_TEST(rewrite_result_too_long_fails)
{
	char	small[8];

	add_rule("a", "aaaaaaaaaa", "g");
	ck_assert_int_eq(route_rewrite(&conf, NULL, "aaaaaa", small,
	    sizeof(small)), -1);
	/* 60 * 10 bytes is more than TFTP_NAME_MAX, even with room */
	{
		char	in[61], big[1024];

		memset(in, 'a', 60);
		in[60] = '\0';
		ck_assert_int_eq(route_rewrite(&conf, NULL, in, big,
		    sizeof(big)), -1);
	}
	ck_assert_int_eq(route_rewrite(&conf, NULL, "a", small,
	    sizeof(small)), -1);	/* 10 bytes + NUL > 8 */
	ck_assert_int_eq(route_rewrite(&conf, NULL, "", small, sizeof(small)),
	    0);
}
END_TEST

START_TEST(rewrite_exact_fit_succeeds)
{
	char	small[4];

	add_rule("a", "bcd", "");
	ck_assert_int_eq(route_rewrite(&conf, NULL, "a", small,
	    sizeof(small)), 0);
	ck_assert_str_eq(small, "bcd");
}
END_TEST

START_TEST(rewrite_input_too_long_fails)
{
	char	in[TFTP_NAME_MAX + 2];

	memset(in, 'x', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	ck_assert_int_eq(route_rewrite(&conf, NULL, in, out, sizeof(out)),
	    -1);
	in[TFTP_NAME_MAX] = '\0';
	ck_assert_int_eq(route_rewrite(&conf, NULL, in, out, sizeof(out)), 0);
	ck_assert_uint_eq(strlen(out), TFTP_NAME_MAX);
	ck_assert_int_eq(route_rewrite(&conf, NULL, "x", out, 0), -1);
}
END_TEST

START_TEST(rewrite_in_place)
{
	char	buf[64] = "\\a\\b";

	add_rule("\\\\", "/", "g");
	ck_assert_int_eq(route_rewrite(&conf, NULL, buf, buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "/a/b");
}
END_TEST

/*
 * Access lists: up to three entries ("+net" allow, "-net" deny; none: no
 * list at all), then clients ("-": no address) and whether each is let
 * in, by the list alone and by route_allows without a route.
 */
static const struct acl_case {
	const char	*what;
	const char	*rule[3];
	struct {
		const char	*from;
		int		 want;
	} probe[4];
} acl_cases[] = {
	{ "no list allows everyone", { NULL },
	    { { "192.0.2.1", 1 }, { "2001:db8::1", 1 } } },
	{ "the first match wins",
	    { "+10.1.0.0/16", "-10.0.0.0/8", "+0.0.0.0/0" },
	    { { "10.1.2.3", 1 }, { "10.2.2.3", 0 }, { "192.0.2.1", 1 } } },
	{ "the first match wins, deny first",
	    { "-10.0.0.0/8", "+10.1.0.0/16" }, { { "10.1.2.3", 0 } } },
	{ "without a match denied", { "+10.0.0.0/8", "+fd00::/8" },
	    { { "192.0.2.1", 0 }, { "2001:db8::1", 0 }, { "-", 0 } } },
	/* The example of ptftpd.conf(5). */
	{ "the v4, v6 and deny-all example",
	    { "+10.0.0.0/8", "+fd00::/8", "-0.0.0.0/0" },
	    { { "10.9.8.7", 1 }, { "fd12::1", 1 }, { "11.0.0.1", 0 },
	      { "fe80::1", 0 } } },
	{ "a mapped v4 client matches v4 rules", { "+10.0.0.0/8" },
	    { { "::ffff:10.1.2.3", 1 }, { "::ffff:11.1.2.3", 0 } } },
	/* a rule written in the mapped form is an IPv4 rule */
	{ "a mapped rule is a v4 rule", { "+::ffff:10.0.0.0/104" },
	    { { "10.1.2.3", 1 }, { "::ffff:10.1.2.3", 1 } } },
	{ "a /23 boundary", { "+192.0.2.0/23" },
	    { { "192.0.3.255", 1 }, { "192.0.4.0", 0 },
	      { "192.0.1.255", 0 } } },
	{ "a single address", { "+192.0.2.7" },
	    { { "192.0.2.7", 1 }, { "192.0.2.6", 0 } } },
	{ "a /33 boundary", { "+2001:db8::/33" },
	    { { "2001:db8:7fff::1", 1 }, { "2001:db8:8000::1", 0 } } },
	{ "::/0 holds no v4 client", { "+::/0" },
	    { { "2001:db8::1", 1 }, { "10.0.0.1", 0 } } },
};

START_TEST(acl_cases_allow)
{
	const struct acl_case		*c = &acl_cases[_i];
	unsigned			 i;

	if (c->rule[0] != NULL)
		set_acl(&conf.acl, acl_rules[0], c->rule[0], c->rule[1],
		    c->rule[2], NULL);
	for (i = 0; i < 4 && c->probe[i].from != NULL; i++) {
		const struct sockaddr_storage	*from;

		from = strcmp(c->probe[i].from, "-") == 0 ? NULL :
		    client(c->probe[i].from);
		ck_assert_msg(route_acl_allows(&conf.acl, from) ==
		    c->probe[i].want, "%s: %s", c->what, c->probe[i].from);
		ck_assert_int_eq(route_allows(&conf, NULL, from),
		    c->probe[i].want);
	}
}
END_TEST

START_TEST(route_acl_applies_after_global_acl)
{
	struct conf_route	*r = add_prefix_route("uploads/");

	set_acl(&conf.acl, acl_rules[0], "+10.0.0.0/8", NULL);
	set_acl(&r->acl, acl_rules[1], "+10.5.0.0/16", NULL);
	ck_assert_int_eq(route_allows(&conf, r, client("10.5.0.1")), 1);
	ck_assert_int_eq(route_allows(&conf, r, client("10.6.0.1")), 0);
	ck_assert_int_eq(route_allows(&conf, NULL, client("10.6.0.1")), 1);
	ck_assert_int_eq(route_allows(&conf, r, client("192.0.2.1")), 0);
	ck_assert_int_eq(route_allows(&conf, NULL, client("192.0.2.1")), 0);
}
END_TEST

START_TEST(route_prefix_match_passes_whole_name)
{
	struct conf_route	*r;

	add_prefix_route("gen/");
	r = add_prefix_route("pxelinux.cfg/");
	ck_assert_ptr_eq(route_match(&conf, "pxelinux.cfg/01-aa-bb", &m), r);
	ck_assert_str_eq(m.name, "pxelinux.cfg/01-aa-bb");
	ck_assert_uint_eq(m.n_capture, 0);
	ck_assert_str_eq(m.capture[0], "");
}
END_TEST

/* GRUB sends "/grub/grub.cfg": leading slashes do not count. */
START_TEST(route_match_ignores_leading_slashes)
{
	struct conf_route	*r = add_prefix_route("grub/");

	ck_assert_ptr_eq(route_match(&conf, "//grub/grub.cfg", &m), r);
	ck_assert_str_eq(m.name, "grub/grub.cfg");
}
END_TEST

START_TEST(route_first_match_wins)
{
	struct conf_route	*a, *b;

	a = add_prefix_route("efi/x64/");
	b = add_prefix_route("efi/");
	ck_assert_ptr_eq(route_match(&conf, "efi/x64/shim.efi", &m), a);
	ck_assert_ptr_eq(route_match(&conf, "efi/aa64/shim.efi", &m), b);
}
END_TEST

START_TEST(route_regex_captures)
{
	struct conf_route	*r;

	add_prefix_route("gen/");
	r = add_regex_route("^hosts/([^/]+)/(.*)$");
	ck_assert_ptr_eq(route_match(&conf, "/hosts/node17/boot.ipxe", &m), r);
	ck_assert_uint_eq(m.n_capture, 2);
	ck_assert_str_eq(m.capture[0], "hosts/node17/boot.ipxe");
	ck_assert_str_eq(m.capture[1], "node17");
	ck_assert_str_eq(m.capture[2], "boot.ipxe");
	ck_assert_str_eq(m.capture[3], "");
	ck_assert_str_eq(m.name, "hosts/node17/boot.ipxe");
}
END_TEST

START_TEST(route_regex_unset_group_is_empty)
{
	add_regex_route("^(a)?(b)$");
	ck_assert_ptr_nonnull(route_match(&conf, "b", &m));
	ck_assert_uint_eq(m.n_capture, 2);
	ck_assert_str_eq(m.capture[1], "");
	ck_assert_str_eq(m.capture[2], "b");
}
END_TEST

START_TEST(route_regex_more_than_nine_groups)
{
	add_regex_route("^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)$");
	ck_assert_ptr_nonnull(route_match(&conf, "abcdefghij", &m));
	ck_assert_uint_eq(m.n_capture, 9);
	ck_assert_str_eq(m.capture[9], "i");
}
END_TEST

START_TEST(route_none_is_null)
{
	add_prefix_route("gen/");
	add_regex_route("^hosts/");
	ck_assert_ptr_null(route_match(&conf, "pxelinux.0", &m));
	ck_assert_str_eq(m.name, "pxelinux.0");
	ck_assert_ptr_null(route_match(&conf, "xgen/a", &m));
	conf.n_routes = 0;
	ck_assert_ptr_null(route_match(&conf, "gen/a", &m));
}
END_TEST

static Suite *
route_suite(void)
{
	Suite	*s = suite_create("route");
	TCase	*tc = tcase_create("route");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, rewrite_cases, 0,
	    sizeof(rw_cases) / sizeof(rw_cases[0]));
	tcase_add_test(tc, rewrite_global_stops_after_64_replacements);
	tcase_add_test(tc, rewrite_result_too_long_fails);
	tcase_add_test(tc, rewrite_exact_fit_succeeds);
	tcase_add_test(tc, rewrite_input_too_long_fails);
	tcase_add_test(tc, rewrite_in_place);
	tcase_add_loop_test(tc, acl_cases_allow, 0,
	    sizeof(acl_cases) / sizeof(acl_cases[0]));
	tcase_add_test(tc, route_acl_applies_after_global_acl);
	tcase_add_test(tc, route_prefix_match_passes_whole_name);
	tcase_add_test(tc, route_match_ignores_leading_slashes);
	tcase_add_test(tc, route_first_match_wins);
	tcase_add_test(tc, route_regex_captures);
	tcase_add_test(tc, route_regex_unset_group_is_empty);
	tcase_add_test(tc, route_regex_more_than_nine_groups);
	tcase_add_test(tc, route_none_is_null);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(route_suite());
}
