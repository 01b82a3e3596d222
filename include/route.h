/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * route.h - what a request becomes: the rewrite rules applied to its name,
 * the access lists that admit its client, and the route (handler) that
 * serves it. Policy only: no sockets, no logging, no clock, no allocation.
 * The rules themselves are parsed and compiled by conf.c.
 */
#ifndef PTFTPD_ROUTE_H
#define PTFTPD_ROUTE_H

#include <stddef.h>
#include <sys/socket.h>

#include "conf.h"
#include "tftp.h"

#define ROUTE_MAX_REPLACE	64	/* replacements per rule with global */
#define ROUTE_NCAPTURE		9	/* match1..match9 */

/* What route_match found, for the handler. */
struct route_match {
	/*
	 * The name the handler serves: the (rewritten) request name without
	 * its leading slashes, pointing into the caller's string. For a
	 * prefix route it is the whole name, prefix included.
	 */
	const char	*name;
	unsigned	 n_capture;	/* groups of a regex route, <= 9 */
	/*
	 * capture[0] is the whole match of a regex route, capture[1..9] are
	 * match1..match9; "" for a group that did not take part (or a prefix
	 * route). Cut at TFTP_NAME_MAX bytes.
	 */
	char		 capture[ROUTE_NCAPTURE + 1][TFTP_NAME_MAX + 1];
};

/*
 * Apply c's rewrite rules in order to the request name in, writing the
 * result to out (outlen bytes with the NUL; in may be out). Returns 0, or
 * -1 when the name or a result does not fit in outlen or in TFTP_NAME_MAX
 * + 1 bytes, or when regexec fails: the request should then be refused
 * (the caller picks the ERROR code). client may be NULL: rules with a
 * client block then never apply. Cost: per rule one regexec, up to
 * ROUTE_MAX_REPLACE with global; no allocation beyond regexec's own.
 */
int	route_rewrite(const struct conf *c,
	    const struct sockaddr_storage *client, const char *in, char *out,
	    size_t outlen);

/*
 * Does acl admit client? The first entry that contains the client
 * decides; no list at all (n_rules == 0) admits everyone; a list that
 * no entry of matches denies. Returns 1 (allow) or 0 (deny). Cost: one
 * comparison per entry until the first match.
 */
int	route_acl_allows(const struct conf_acl *acl,
	    const struct sockaddr_storage *client);

/*
 * Both lists that apply to a request served by route r (NULL: the plain
 * file tree): c's top-level acl, then r's own. Returns 1 or 0; when 0 the
 * caller answers ERROR 2 "Access denied", or nothing if c->acl_silent.
 */
int	route_allows(const struct conf *c, const struct conf_route *r,
	    const struct sockaddr_storage *client);

/*
 * The first of c's routes that name (already rewritten) matches: a
 * prefix route when name starts with its prefix, a regex route when its
 * regex matches (groups copied into m->capture). Leading slashes of name
 * are ignored, as fs_open_read ignores them. Returns the route with *m
 * filled, or NULL when none matches: the plain file tree serves the name
 * (m->name is set then too). The route points into c and lives as long
 * as c. Cost: a string compare or a regexec per route until the first
 * match.
 */
const struct conf_route *route_match(const struct conf *c, const char *name,
	    struct route_match *m);

#endif
