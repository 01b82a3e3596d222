/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * admit.h - request admission: whether a worker takes a request (rewrite,
 * route, access lists, uploads, per-client limits), and how a refusal is
 * answered, counted and logged (rate-limited). See admit.c.
 */
#ifndef PTFTPD_ADMIT_H
#define PTFTPD_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "limit.h"
#include "log.h"
#include "route.h"
#include "tftp.h"

struct stats_slot;

/* Which rule refused a request (admit_policy, admit_limit_refusal). */
enum admit_deny {
	ADMIT_OK = 0,
	ADMIT_BADNAME,		/* the rewritten name does not fit */
	ADMIT_ACL,		/* an access list (counted denied_acl) */
	ADMIT_NOUPLOAD,		/* a WRQ where no file route writes */
	ADMIT_LIMIT		/* a client or global limit (denied_limit) */
};

/* A refusal: what is answered and what the log line says. */
struct admit_refusal {
	enum admit_deny	 why;
	int		 code;		/* ERROR code to send, -1: none */
	const char	*reason;	/* the log line's reason= word */
	const char	*msg;		/* the ERROR's text */
};

/* A worker's refusal state: counters, rate-limited log lines. */
struct admit {
	const struct conf	*conf;
	struct stats_slot	*st;		/* or NULL */
	struct limit		*limit;		/* the worker's limits */
	const uint64_t		*now_ms;	/* the loop's time */
	uint8_t			*buf;		/* ERROR packets built here */
	size_t			 buflen;
	/* Lines an outsider can cause, at most so many a second (log.c):
	 * refused requests (log.refusals_per_second), and running out of
	 * descriptors, ports or ring entries (one a second, with the last
	 * failure kept for the "suppressed" line). */
	struct log_rate		 refusal_rate;
	struct log_rate		 exhaust_rate;
	const char		*exhaust_what;
	int			 exhaust_err;
};

/*
 * Pure policy, before any limit is taken: rewrite req's name into rname
 * (rlen bytes), pick the route (into *route, NULL: the plain file tree,
 * and *rm), check the access lists and that a WRQ goes where a file
 * route writes. Returns 0, or -1 with *ref filled. No I/O, no clock, no
 * log; route_match's regexec is the only cost beyond a few compares.
 */
int	admit_policy(const struct conf *c, enum tftp_op op,
	    const struct tftp_req *req, const struct sockaddr_storage *peer,
	    char *rname, size_t rlen, struct route_match *rm,
	    const struct conf_route **route, struct admit_refusal *ref);
/* The refusal of a limit verdict other than LIMIT_OK. Pure. */
void	admit_limit_refusal(enum limit_verdict v, struct admit_refusal *ref);
/* The reason word of a refusal by the content's error code. Pure. */
const char *admit_reason(uint16_t code);
/* Is req the same request (name, mode, options) as the one a transfer
 * started from? A client's retransmission then is not a new transfer. */
bool	admit_same_req(const char *name, size_t name_len, enum tftp_mode mode,
	    const struct tftp_opts *opts, const struct tftp_req *req);
/* "blksize,tsize,..." for the options in o, "-" for none (log lines). */
const char *admit_opts_str(const struct tftp_opts *o, char *buf, size_t len);

void	admit_init(struct admit *a, const struct conf *c,
	    struct stats_slot *st, struct limit *limit, const uint64_t *now_ms,
	    uint8_t *buf, size_t buflen);
/*
 * admit_policy, then the limits (taken on success: release them when the
 * transfer ends or fails later). Returns 0 with *route and *rm, or -1
 * when the request was refused: counted, logged and answered here (or
 * deliberately not answered).
 */
int	admit_request(struct admit *a, int lfd, enum tftp_op op,
	    const struct tftp_req *req, const struct sockaddr_storage *peer,
	    const struct sockaddr_storage *local, char *rname, size_t rlen,
	    struct route_match *rm, const struct conf_route **route,
	    uint64_t now);

/* The log line of a refused request (rate-limited); req NULL: it did not
 * decode, name is what stood where the file name goes. code -1: not
 * answered. */
void	admit_log_refused(struct admit *a, enum tftp_op op,
	    const struct tftp_req *req, const char *name, size_t name_len,
	    const struct sockaddr_storage *peer, int code, const char *reason);
/* Send a refusal's ERROR from listen socket lfd, counted by code. */
void	admit_refuse_send(struct admit *a, int lfd,
	    const struct sockaddr_storage *peer,
	    const struct sockaddr_storage *local, uint16_t code,
	    const char *msg);
/* Both: log the refusal and answer it. */
void	admit_refuse(struct admit *a, int lfd, enum tftp_op op,
	    const struct tftp_req *req, const struct sockaddr_storage *peer,
	    const struct sockaddr_storage *local, uint16_t code,
	    const char *reason, const char *msg);
/* Out of descriptors, ports or ring entries: counted, logged at most
 * once a second. */
void	admit_log_exhausted(struct admit *a, const char *what, int err);
/* Once a second: the counts of lines held back and not yet said. */
void	admit_log_flush(struct admit *a, uint64_t now);

#endif
