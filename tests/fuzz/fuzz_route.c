/* SPDX-License-Identifier: BSD-2-Clause */
// LINK: route conf conf_policy addr num
// PKG: libconfig
/*
 * fuzz_route.c - libFuzzer entry point for the rewrite rules and routes.
 * The input is one flags byte, then a regex, a replacement and a request
 * name separated by NUL bytes. The regex goes through conf_regex_compile
 * (the limits the server applies at load); the replacement does not go
 * through conf_replace_check, so route.c must cope with any escape. Then
 * route_rewrite runs with an output buffer of a size the flags choose,
 * route_match with the regex as a route, and addr_cidr_parse plus
 * route_acl_allows with the name as an address block. It checks that the
 * output always fits and that a name the regex does not match comes back
 * unchanged. Owns nothing else; the sanitizers and the timeout find hangs
 * and overflows.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"
#include "route.h"
#include "tftp.h"

#define FUZZ_REPLACE_MAX	256

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next NUL-separated field of [*p, end) into dst (cut to cap - 1). */
static void
fuzz_field(const uint8_t **p, const uint8_t *end, char *dst, size_t cap)
{
	size_t	n = 0;

	while (*p < end && **p != '\0') {
		if (n < cap - 1)
			dst[n++] = (char)**p;
		(*p)++;
	}
	if (*p < end)
		(*p)++;			/* the separator */
	dst[n] = '\0';
}

/* A client from the flags: IPv4, IPv4-mapped IPv6 or IPv6. */
static void
fuzz_client(uint8_t flags, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	switch ((flags >> 6) & 3) {
	case 0:
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(0x0a010203);
		break;
	case 1:
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr.s6_addr[10] = 0xff;
		sin6->sin6_addr.s6_addr[11] = 0xff;
		sin6->sin6_addr.s6_addr[12] = 10;
		sin6->sin6_addr.s6_addr[15] = 3;
		break;
	default:
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr.s6_addr[0] = 0xfd;
		sin6->sin6_addr.s6_addr[15] = 1;
		break;
	}
}

static void
fuzz_rewrite(struct conf *c, const struct sockaddr_storage *client,
    const char *name, uint8_t flags)
{
	char		out[TFTP_NAME_MAX + 1];
	size_t		outlen;
	regmatch_t	pm[1];

	/* flags bits 3..5: a small buffer, or a full one */
	outlen = (flags & 0x38) == 0 ? sizeof(out) : (size_t)(flags & 0x38);
	memset(out, 0x5a, sizeof(out));
	if (route_rewrite(c, client, name, out, outlen) == 0) {
		if (strnlen(out, outlen) >= outlen)
			abort();
		if (regexec(&c->rewrite[0].re, name, 1, pm, 0) == REG_NOMATCH &&
		    strcmp(out, name) != 0)
			abort();
	}
	if (outlen < sizeof(out) && out[outlen] != 0x5a)
		abort();		/* wrote past outlen */
}

static void
fuzz_routes(struct conf *c, const char *name)
{
	struct route_match	 m;
	const struct conf_route	*r;
	unsigned		 i;

	r = route_match(c, name, &m);
	if (r != NULL && r != &c->routes[0])
		abort();
	if (m.n_capture > ROUTE_NCAPTURE)
		abort();
	for (i = 0; i <= ROUTE_NCAPTURE; i++)
		if (strnlen(m.capture[i], sizeof(m.capture[i])) > TFTP_NAME_MAX)
			abort();
}

static void
fuzz_acl(const char *name, const struct sockaddr_storage *client)
{
	struct conf_acl_rule	rule;
	struct conf_acl		acl = { &rule, 1 };

	if (addr_cidr_parse(name, &rule.net) == -1)
		return;
	if ((rule.net.family == AF_INET && rule.net.prefix_len > 32) ||
	    rule.net.prefix_len > 128)
		abort();
	rule.allow = true;
	if (route_acl_allows(&acl, client) !=
	    addr_cidr_match(&rule.net, client))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 regex[CONF_REGEX_MAX + 2];
	static char		 replace[FUZZ_REPLACE_MAX + 1];
	static char		 name[TFTP_NAME_MAX + 2];
	const uint8_t		*p = data, *end = data + size;
	struct conf		 c;
	struct conf_rewrite	 rw;
	struct conf_route	 route;
	struct sockaddr_storage	 client;
	char			 msg[192];
	uint8_t			 flags;

	if (size < 1)
		return 0;
	flags = *p++;
	fuzz_field(&p, end, regex, sizeof(regex));
	fuzz_field(&p, end, replace, sizeof(replace));
	fuzz_field(&p, end, name, sizeof(name));
	fuzz_client(flags, &client);
	fuzz_acl(name, &client);

	memset(&rw, 0, sizeof(rw));
	rw.match = regex;
	rw.replace = replace;
	rw.global = (flags & 1) != 0;
	rw.icase = (flags & 2) != 0;
	rw.last = (flags & 4) != 0;
	if (conf_regex_compile(&rw.re, regex, rw.icase, msg, sizeof(msg)) ==
	    -1)
		return 0;
	rw.compiled = true;
	/* with flag bit 6 the rule is for 10.0.0.0/8 only */
	if ((flags & 0x40) != 0 && addr_cidr_parse("10.0.0.0/8",
	    &rw.client) == 0)
		rw.has_client = true;

	memset(&c, 0, sizeof(c));
	c.rewrite = &rw;
	c.n_rewrite = 1;
	fuzz_rewrite(&c, &client, name, flags);

	memset(&route, 0, sizeof(route));
	route.regex = regex;
	route.re = rw.re;		/* shares the compiled program */
	route.compiled = true;
	c.routes = &route;
	c.n_routes = 1;
	fuzz_routes(&c, name);

	regfree(&rw.re);
	return 0;
}
