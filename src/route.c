/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * route.c - what a request becomes. It owns the order in which policy
 * applies to a request: the rewrite rules turn the name the client sent
 * into the name served, the access lists admit or refuse the client, and
 * the first matching route names the handler (file tree, template, exec,
 * module) that serves it. It does not parse or compile the rules
 * (conf_policy.c does, at load), open files, run handlers, log or read
 * the clock: every function here is a computation over a struct conf,
 * cheap enough to run for each request, with regexec as the only library
 * call of weight.
 *
 * The rewrite rules take over what sites did with tftpd-hpa's remap file
 * (-m), one rule per line there, one group here:
 *  - Windows bootmgr, WDS and WinPE ask for "\Boot\x64\wdsnbp.com": a
 *    global rule { match = "\\\\"; replace = "/"; global = true; } turns
 *    every backslash into a slash (hpa: "rg \\ /").
 *  - The same clients mix case ("\Boot\BCD", "\boot\bcd"): icase lets one
 *    rule match every spelling and replace it with the one on disk (hpa's
 *    "i" flag), e.g. "^/?boot/bcd$" -> "boot/BCD".
 *  - Moving a tree without touching DHCP: "^/?boot/(.*)$" -> "efi/\1"
 *    (hpa: "r ^/?boot/(.*) efi/\1"); \0..\9 are the groups, \\ a backslash.
 *  - Per-subnet roots: a rule with client = "10.1.0.0/16" prefixes the
 *    names of that subnet ("^/?(.*)$" -> "rack1/\1", where hpa needed \i
 *    and one directory per address), and a route with prefix = "rack1/"
 *    and its own root serves them from another directory.
 *  - last stops the rules after a match (hpa's "e" flag).
 *
 * Every rule is bounded: at most ROUTE_MAX_REPLACE replacements with
 * global, an empty match never stalls the scan (it steps over one byte,
 * and an empty match right after a match is skipped, as sed does), and the
 * result never grows past TFTP_NAME_MAX bytes: a name that would is
 * refused, not cut.
 */
#include <netinet/in.h>
#include <regex.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "conf.h"
#include "route.h"
#include "tftp.h"

/* The name being built: n bytes used of cap (which counts the NUL). */
struct route_buf {
	char	*p;
	size_t	 n;
	size_t	 cap;
};

static int
route_put(struct route_buf *b, const char *s, size_t len)
{
	if (len >= b->cap - b->n)
		return -1;
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
	return 0;
}

/*
 * Append rw's replacement for one match. base is where regexec started,
 * pm its groups. conf.c has checked the escapes; an unknown one stands
 * for its character, a group beyond the regex's or unset is empty.
 */
static int
route_expand(struct route_buf *b, const char *rep, const char *base,
    const regmatch_t *pm, size_t nsub)
{
	const char	*p, *lit = rep;
	unsigned	 d;

	for (p = rep; *p != '\0'; p++) {
		if (*p != '\\')
			continue;
		if (route_put(b, lit, (size_t)(p - lit)) == -1)
			return -1;
		if (p[1] >= '0' && p[1] <= '9') {
			d = (unsigned)(p[1] - '0');
			if (d <= nsub && pm[d].rm_so >= 0 &&
			    route_put(b, base + pm[d].rm_so,
			    (size_t)(pm[d].rm_eo - pm[d].rm_so)) == -1)
				return -1;
			p++;
		} else if (p[1] == '\0') {
			if (route_put(b, "\\", 1) == -1)
				return -1;
		} else {
			if (route_put(b, p + 1, 1) == -1)
				return -1;
			p++;
		}
		lit = p + 1;
	}
	return route_put(b, lit, (size_t)(p - lit));
}

/*
 * One rule over src into b. *matched is 1 if it replaced anything.
 * Returns 0, or -1 if the result does not fit or regexec fails. Each pass
 * either replaces (at most ROUTE_MAX_REPLACE times) or moves pos forward,
 * so the loop ends within strlen(src) + ROUTE_MAX_REPLACE passes.
 */
static int
route_apply(const struct conf_rewrite *rw, const char *src,
    struct route_buf *b, int *matched)
{
	regmatch_t	pm[ROUTE_NCAPTURE + 1];
	size_t		pos = 0, prev_end = SIZE_MAX, so, eo;
	size_t		nsub = rw->re.re_nsub;
	unsigned	count = 0;
	int		eflags = 0, r;

	if (nsub > ROUTE_NCAPTURE)
		nsub = ROUTE_NCAPTURE;
	*matched = 0;
	b->n = 0;
	b->p[0] = '\0';
	while (count < ROUTE_MAX_REPLACE) {
		r = regexec(&rw->re, src + pos, ROUTE_NCAPTURE + 1, pm, eflags);
		if (r == REG_NOMATCH)
			break;
		if (r != 0)
			return -1;
		so = pos + (size_t)pm[0].rm_so;
		eo = pos + (size_t)pm[0].rm_eo;
		/* later scans start mid-name: "^" must not match there */
		eflags = REG_NOTBOL;
		if (so == eo && so == prev_end) {
			/* "x*" after a match of "x": no second, empty one */
			if (src[so] == '\0')
				break;
			if (route_put(b, src + pos, so + 1 - pos) == -1)
				return -1;
			pos = so + 1;
			continue;
		}
		if (route_put(b, src + pos, so - pos) == -1 ||
		    route_expand(b, rw->replace, src + pos, pm, nsub) == -1)
			return -1;
		*matched = 1;
		count++;
		prev_end = pos = eo;
		if (!rw->global)
			break;
		if (so == eo) {
			/* an empty match: step over one byte, or stall */
			if (src[eo] == '\0')
				break;
			if (route_put(b, src + eo, 1) == -1)
				return -1;
			pos = eo + 1;
		}
	}
	return route_put(b, src + pos, strlen(src + pos));
}

/*
 * Apply the rewrite rules in order (see route.h). The name moves between
 * two local buffers, so in may be out and nothing is allocated.
 */
int
route_rewrite(const struct conf *c, const struct sockaddr_storage *client,
    const char *in, char *out, size_t outlen)
{
	char				 buf[2][TFTP_NAME_MAX + 1];
	const struct conf_rewrite	*rw;
	struct route_buf		 b;
	size_t				 cap, len;
	unsigned			 i, k = 0;
	int				 matched;

	cap = outlen < sizeof(buf[0]) ? outlen : sizeof(buf[0]);
	if (cap == 0 || (len = strnlen(in, cap)) >= cap)
		return -1;
	memcpy(buf[0], in, len + 1);
	for (i = 0; i < c->n_rewrite; i++) {
		rw = &c->rewrite[i];
		if (!rw->compiled ||
		    (rw->has_client && !addr_cidr_match(&rw->client, client)))
			continue;
		b.p = buf[k ^ 1];
		b.cap = cap;
		if (route_apply(rw, buf[k], &b, &matched) == -1)
			return -1;
		if (!matched)
			continue;
		k ^= 1;
		if (rw->last)
			break;
	}
	memcpy(out, buf[k], strlen(buf[k]) + 1);
	return 0;
}

/* First match wins; no list admits, a list without a match denies. */
int
route_acl_allows(const struct conf_acl *acl,
    const struct sockaddr_storage *client)
{
	unsigned	i;

	if (acl->n_rules == 0)
		return 1;
	for (i = 0; i < acl->n_rules; i++)
		if (addr_cidr_match(&acl->rules[i].net, client))
			return acl->rules[i].allow;
	return 0;
}

/* The top-level acl, then the route's own. 1 or 0. */
int
route_allows(const struct conf *c, const struct conf_route *r,
    const struct sockaddr_storage *client)
{
	if (!route_acl_allows(&c->acl, client))
		return 0;
	return r == NULL || route_acl_allows(&r->acl, client);
}

/* Copy the groups of a regex route's match into m, cut to fit. */
static void
route_captures(const struct conf_route *r, const char *name,
    const regmatch_t *pm, struct route_match *m)
{
	unsigned	i;
	size_t		len;

	m->n_capture = r->re.re_nsub < ROUTE_NCAPTURE ?
	    (unsigned)r->re.re_nsub : ROUTE_NCAPTURE;
	for (i = 0; i <= m->n_capture; i++) {
		if (pm[i].rm_so < 0)
			continue;
		len = (size_t)(pm[i].rm_eo - pm[i].rm_so);
		if (len > TFTP_NAME_MAX)
			len = TFTP_NAME_MAX;
		memcpy(m->capture[i], name + pm[i].rm_so, len);
		m->capture[i][len] = '\0';
	}
}

/*
 * The first route that matches name, or NULL for the file tree (see
 * route.h). m->name skips the leading slashes GRUB and others send.
 */
const struct conf_route *
route_match(const struct conf *c, const char *name, struct route_match *m)
{
	const struct conf_route	*r;
	regmatch_t		 pm[ROUTE_NCAPTURE + 1];
	unsigned		 i;

	while (*name == '/')
		name++;
	m->name = name;
	m->n_capture = 0;
	for (i = 0; i <= ROUTE_NCAPTURE; i++)
		m->capture[i][0] = '\0';
	for (i = 0; i < c->n_routes; i++) {
		r = &c->routes[i];
		if (r->prefix != NULL) {
			if (strncmp(name, r->prefix, strlen(r->prefix)) == 0)
				return r;
			continue;
		}
		if (!r->compiled ||
		    regexec(&r->re, name, ROUTE_NCAPTURE + 1, pm, 0) != 0)
			continue;
		route_captures(r, name, pm, m);
		return r;
	}
	return NULL;
}
