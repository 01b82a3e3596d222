/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * admit.c - request admission for a worker: the order of the policy
 * checks (rewrite and route, route.c; access lists, route.c; uploads
 * only where a file route writes; then the per-client and global limits,
 * limit.c), the rule that spots a client's retransmitted request, and
 * what a refusal becomes: an ERROR from the listen socket (no socket
 * per negative answer), counted by code, and one log line at most
 * log.refusals_per_second a second (log_rate), as is running out of
 * descriptors, ports or ring entries (once a second).
 *
 * admit_policy, admit_limit_refusal, admit_reason and admit_same_req are
 * pure (no I/O, clock, log or allocation) and unit-tested alone. It does
 * not own session slots, the peer table or the busy check (worker.c),
 * open content (fs.c and the worker's content glue) or keep the limit
 * table (limit.c; the worker holds it and releases a transfer's share).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "admit.h"
#include "conf.h"
#include "limit.h"
#include "log.h"
#include "net.h"
#include "route.h"
#include "stats.h"
#include "tftp.h"

int
admit_policy(const struct conf *c, enum tftp_op op,
    const struct tftp_req *req, const struct sockaddr_storage *peer,
    char *rname, size_t rlen, struct route_match *rm,
    const struct conf_route **route, struct admit_refusal *ref)
{
	const struct conf_route	*r;

	memset(ref, 0, sizeof(*ref));
	if (route_rewrite(c, peer, req->file, rname, rlen) == -1) {
		ref->why = ADMIT_BADNAME;
		ref->code = TFTP_EACCESS;
		ref->reason = "badreq";
		ref->msg = "File name too long";
		return -1;
	}
	r = route_match(c, rname, rm);
	if (!route_allows(c, r, peer)) {
		ref->why = ADMIT_ACL;
		/* Silence is an option: scanners learn nothing. */
		ref->code = c->acl_silent ? -1 : TFTP_EACCESS;
		ref->reason = "acl";
		ref->msg = "Access denied";
		return -1;
	}
	if (op == TFTP_WRQ && (r == NULL || r->handler != CONF_HANDLER_FILE ||
	    !r->write.enabled)) {
		/* Uploads only where a file route has a write group. */
		ref->why = ADMIT_NOUPLOAD;
		ref->code = TFTP_EACCESS;
		ref->reason = "access";
		ref->msg = "Uploads are disabled";
		return -1;
	}
	*route = r;
	return 0;
}

void
admit_limit_refusal(enum limit_verdict v, struct admit_refusal *ref)
{
	/* Error 0: a booting client retries, which is what a rate or
	 * concurrency limit wants. */
	ref->why = ADMIT_LIMIT;
	ref->code = TFTP_EUNDEF;
	ref->reason = v == LIMIT_CLIENT_BUSY ? "limit" : "rate";
	ref->msg = v == LIMIT_CLIENT_BUSY ? "Too many transfers from your "
	    "address" : "Rate limited, try again";
}

const char *
admit_reason(uint16_t code)
{
	switch (code) {
	case TFTP_EUNDEF:
		return "busy";
	case TFTP_ENOTFOUND:
		return "notfound";
	case TFTP_EACCESS:
		return "access";
	case TFTP_ENOSPACE:
		return "full";
	case TFTP_EBADOP:
		return "badreq";
	case TFTP_EEXISTS:
		return "exists";
	default:
		return "error";
	}
}

bool
admit_same_req(const char *name, size_t name_len, enum tftp_mode mode,
    const struct tftp_opts *a, const struct tftp_req *req)
{
	const struct tftp_opts	*b = &req->opts;

	return name_len == req->file_len &&
	    memcmp(name, req->file, req->file_len) == 0 &&
	    mode == req->mode && a->set == b->set &&
	    (!(a->set & TFTP_OPT_BLKSIZE) || a->blksize == b->blksize) &&
	    (!(a->set & TFTP_OPT_TIMEOUT) || a->timeout_s == b->timeout_s) &&
	    (!(a->set & TFTP_OPT_TSIZE) || a->tsize == b->tsize) &&
	    (!(a->set & TFTP_OPT_WINDOWSIZE) ||
	    a->windowsize == b->windowsize);
}

const char *
admit_opts_str(const struct tftp_opts *o, char *buf, size_t len)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} names[] = {
		{ TFTP_OPT_BLKSIZE, "blksize" }, { TFTP_OPT_TIMEOUT, "timeout" },
		{ TFTP_OPT_TSIZE, "tsize" }, { TFTP_OPT_WINDOWSIZE, "windowsize" },
	};
	size_t		 i, o_len = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (o->set & names[i].bit)
			o_len += (size_t)snprintf(buf + o_len, len - o_len,
			    "%s%s", o_len ? "," : "", names[i].name);
	return o_len ? buf : "-";
}

void
admit_init(struct admit *a, const struct conf *c, struct stats_slot *st,
    struct limit *limit, const uint64_t *now_ms, uint8_t *buf, size_t buflen)
{
	memset(a, 0, sizeof(*a));
	a->conf = c;
	a->st = st;
	a->limit = limit;
	a->now_ms = now_ms;
	a->buf = buf;
	a->buflen = buflen;
}

int
admit_request(struct admit *a, int lfd, enum tftp_op op,
    const struct tftp_req *req, const struct sockaddr_storage *peer,
    const struct sockaddr_storage *local, char *rname, size_t rlen,
    struct route_match *rm, const struct conf_route **route, uint64_t now)
{
	struct admit_refusal	 ref;

	if (admit_policy(a->conf, op, req, peer, rname, rlen, rm, route,
	    &ref) == 0) {
		enum limit_verdict	 v = limit_admit(a->limit, peer, now);

		if (v == LIMIT_OK)
			return 0;
		admit_limit_refusal(v, &ref);
	}
	if (ref.why == ADMIT_ACL)
		STATS_ADD(a->st, denied_acl, 1);
	else if (ref.why == ADMIT_LIMIT)
		STATS_ADD(a->st, denied_limit, 1);
	if (ref.code < 0)
		admit_log_refused(a, op, req, NULL, 0, peer, -1, ref.reason);
	else
		admit_refuse(a, lfd, op, req, peer, local, (uint16_t)ref.code,
		    ref.reason, ref.msg);
	return -1;
}

/*
 * The log line of a refused request: the transfer line's fields (peer,
 * op, file, mode, opts as asked) with result=refused, why (notfound,
 * access, acl, rate, limit, busy, badreq, toolong, ...) and the ERROR
 * code sent (none: not answered). At most log.refusals_per_second lines
 * a second per worker; the rest are counted and said as one
 * "result=refused suppressed=K" line. req NULL: the packet did not
 * decode, name (up to name_len bytes) is what stood where the file name
 * goes.
 */
void
admit_log_refused(struct admit *a, enum tftp_op op,
    const struct tftp_req *req, const char *name, size_t name_len,
    const struct sockaddr_storage *peer, int code, const char *reason)
{
	char		 pbuf[64], nbuf[TFTP_NAME_MAX * 4 + 1], opts[48];
	char		 err[24] = " error=none";
	uint64_t	 k;

	if (!log_enabled(LOG_INFO))
		return;
	if (!log_rate_allow(&a->refusal_rate,
	    a->conf->log.refusals_per_second, *a->now_ms, &k)) {
		STATS_ADD(a->st, log_suppressed, 1);
		return;
	}
	if (k > 0)
		log_info("result=refused suppressed=%llu",
		    (unsigned long long)k);
	if (req != NULL) {
		name = req->file;
		name_len = req->file_len;
	}
	if (code >= 0)
		snprintf(err, sizeof(err), " error=%d", code);
	log_info("peer=%s op=%s file=\"%s\" mode=%s opts=%s result=refused "
	    "reason=%s%s", net_ntop(peer, pbuf, sizeof(pbuf)),
	    tftp_opname(op), log_safe(nbuf, sizeof(nbuf), name, name_len),
	    req != NULL ? tftp_modename(req->mode) : "-",
	    req != NULL ? admit_opts_str(&req->opts, opts, sizeof(opts)) :
	    "-", reason, err);
}

void
admit_refuse_send(struct admit *a, int lfd,
    const struct sockaddr_storage *peer,
    const struct sockaddr_storage *local, uint16_t code, const char *msg)
{
	size_t	 len;

	switch (code) {
	case TFTP_ENOTFOUND:
		STATS_ADD(a->st, refused_notfound, 1);
		break;
	case TFTP_EACCESS:
		STATS_ADD(a->st, refused_access, 1);
		break;
	case TFTP_EBADOP:
		STATS_ADD(a->st, refused_badop, 1);
		break;
	case TFTP_EUNDEF:	/* counted by the caller: busy or denied */
		break;
	default:
		STATS_ADD(a->st, refused_other, 1);
		break;
	}
	len = tftp_encode_error(a->buf, a->buflen, code, msg);
	if (len > 0 && net_send_from(lfd, a->buf, len, peer, local) > 0)
		STATS_ADD(a->st, tx_pkts, 1);
}

/* Answer a request with an ERROR from the listen socket: no new socket
 * for a negative answer (pxelinux and ZTP switches probe many names).
 * Logged (rate-limited) with reason, see admit_log_refused. */
void
admit_refuse(struct admit *a, int lfd, enum tftp_op op,
    const struct tftp_req *req, const struct sockaddr_storage *peer,
    const struct sockaddr_storage *local, uint16_t code, const char *reason,
    const char *msg)
{
	admit_log_refused(a, op, req, NULL, 0, peer, code, reason);
	admit_refuse_send(a, lfd, peer, local, code, msg);
}

/*
 * Running out of descriptors, ports or ring entries fails every request
 * of a flood the same way: counted each time, logged at most once a
 * second; the lines held back are said as one "...; suppressed=K" line
 * before the next one, or by admit_log_flush. (The last failure's kind
 * names them: close enough, they come from one shortage.)
 */
void
admit_log_exhausted(struct admit *a, const char *what, int err)
{
	uint64_t	 k;

	STATS_ADD(a->st, refused_resource, 1);
	a->exhaust_what = what;
	a->exhaust_err = err;
	if (!log_rate_allow(&a->exhaust_rate, 1, *a->now_ms, &k)) {
		STATS_ADD(a->st, log_suppressed, 1);
		return;
	}
	if (k > 0)
		log_warnx("%s: %s; suppressed=%llu", what, strerror(err),
		    (unsigned long long)k);
	log_warnx("%s: %s", what, strerror(err));
}

void
admit_log_flush(struct admit *a, uint64_t now)
{
	uint64_t	 k;

	if ((k = log_rate_flush(&a->refusal_rate, now)) > 0)
		log_info("result=refused suppressed=%llu",
		    (unsigned long long)k);
	if ((k = log_rate_flush(&a->exhaust_rate, now)) > 0)
		log_warnx("%s: %s; suppressed=%llu", a->exhaust_what,
		    strerror(a->exhaust_err), (unsigned long long)k);
}
