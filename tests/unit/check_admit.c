/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_admit.c - unit tests for request admission (src/admit.c): the
 * pure policy (a name too long after rewriting, the access lists, silent
 * or answered, uploads only where a file route writes), the refusals of
 * limit verdicts, the reason words, the rule that spots a retransmitted
 * request and the options word of log lines; then admit_request on real
 * loopback sockets: the ERROR a refusal sends from the listen socket (or
 * none when acl_silent), the counters, and a concurrency limit taken and
 * released, and the refusal and exhaustion lines rate-limited (counted
 * as suppressed). The policy part of struct conf is built by hand as in
 * check_route; the config syntax is check_conf's business.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "addr.h"
#include "admit.h"
#include "conf.h"
#include "limit.h"
#include "route.h"
#include "stats.h"
#include "tftp.h"
#include "udp.h"
#include "testutil.h"

static struct conf		 conf;
static struct conf_route	 routes[4];
static struct conf_acl_rule	 acl_rules[4];
static struct sockaddr_storage	 peer, local;
static struct route_match	 rm;
static char			 rname[TFTP_NAME_MAX + 1];
static struct admit_refusal	 ref;
static const struct conf_route	*route;

static void
setup(void)
{
	struct sockaddr_in	*p4 = (struct sockaddr_in *)&peer;

	memset(&conf, 0, sizeof(conf));
	memset(routes, 0, sizeof(routes));
	memset(acl_rules, 0, sizeof(acl_rules));
	conf.routes = routes;
	conf.log.refusals_per_second = 1000;
	memset(&peer, 0, sizeof(peer));
	p4->sin_family = AF_INET;
	p4->sin_port = htons(2011);
	p4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	local = peer;
	((struct sockaddr_in *)&local)->sin_port = 0;
	route = (const struct conf_route *)&conf;	/* not NULL: see set */
}

static struct tftp_req
req_for(const char *file)
{
	struct tftp_req	 r;

	memset(&r, 0, sizeof(r));
	r.file = file;
	r.file_len = strlen(file);
	r.mode = TFTP_MODE_OCTET;
	return r;
}

/* A top-level acl of one entry, "+net" or "-net". */
static void
acl_one(struct conf_acl *acl, struct conf_acl_rule *store, const char *e)
{
	acl->rules = store;
	acl->n_rules = 1;
	store->allow = e[0] == '+';
	ck_assert_int_eq(addr_cidr_parse(e + 1, &store->net), 0);
}

static struct conf_route *
add_prefix_route(const char *prefix, enum conf_handler h)
{
	struct conf_route	*r = &routes[conf.n_routes++];

	r->prefix = (char *)prefix;
	r->handler = h;
	return r;
}

static int
policy(enum tftp_op op, const char *file, size_t rlen)
{
	struct tftp_req	 r = req_for(file);

	return admit_policy(&conf, op, &r, &peer, rname, rlen, &rm, &route,
	    &ref);
}

START_TEST(admit_plain_rrq_goes_to_the_file_tree)
{
	ck_assert_int_eq(policy(TFTP_RRQ, "/boot/pxelinux.0", sizeof(rname)),
	    0);
	ck_assert_ptr_null(route);
	ck_assert_str_eq(rm.name, "boot/pxelinux.0");
	ck_assert_int_eq(ref.why, ADMIT_OK);
}
END_TEST

START_TEST(admit_name_too_long_is_badreq)
{
	ck_assert_int_eq(policy(TFTP_RRQ, "a-long-file-name", 8), -1);
	ck_assert_int_eq(ref.why, ADMIT_BADNAME);
	ck_assert_int_eq(ref.code, TFTP_EACCESS);
	ck_assert_str_eq(ref.reason, "badreq");
	ck_assert_str_eq(ref.msg, "File name too long");
}
END_TEST

START_TEST(admit_acl_denies_with_error_2)
{
	acl_one(&conf.acl, acl_rules, "-127.0.0.0/8");
	ck_assert_int_eq(policy(TFTP_RRQ, "f", sizeof(rname)), -1);
	ck_assert_int_eq(ref.why, ADMIT_ACL);
	ck_assert_int_eq(ref.code, TFTP_EACCESS);
	ck_assert_str_eq(ref.reason, "acl");
	ck_assert_str_eq(ref.msg, "Access denied");
	conf.acl_silent = 1;
	ck_assert_int_eq(policy(TFTP_RRQ, "f", sizeof(rname)), -1);
	ck_assert_int_eq(ref.why, ADMIT_ACL);
	ck_assert_int_eq(ref.code, -1);
	acl_one(&conf.acl, acl_rules, "+127.0.0.0/8");
	ck_assert_int_eq(policy(TFTP_RRQ, "f", sizeof(rname)), 0);
}
END_TEST

START_TEST(admit_route_acl_applies_to_its_names)
{
	struct conf_route	*r = add_prefix_route("lab/",
	    CONF_HANDLER_FILE);

	acl_one(&r->acl, acl_rules, "-127.0.0.1/32");
	ck_assert_int_eq(policy(TFTP_RRQ, "lab/x", sizeof(rname)), -1);
	ck_assert_int_eq(ref.why, ADMIT_ACL);
	ck_assert_int_eq(policy(TFTP_RRQ, "other/x", sizeof(rname)), 0);
	ck_assert_ptr_null(route);
}
END_TEST

START_TEST(admit_uploads_only_where_a_file_route_writes)
{
	struct conf_route	*ro = add_prefix_route("ro/", CONF_HANDLER_FILE);
	struct conf_route	*tp = add_prefix_route("tp/",
	    CONF_HANDLER_TEMPLATE);
	struct conf_route	*up = add_prefix_route("up/", CONF_HANDLER_FILE);

	tp->write.enabled = true;
	up->write.enabled = true;
	ck_assert_int_eq(policy(TFTP_WRQ, "plain", sizeof(rname)), -1);
	ck_assert_int_eq(ref.why, ADMIT_NOUPLOAD);
	ck_assert_int_eq(ref.code, TFTP_EACCESS);
	ck_assert_str_eq(ref.reason, "access");
	ck_assert_str_eq(ref.msg, "Uploads are disabled");
	ck_assert_int_eq(policy(TFTP_WRQ, "ro/f", sizeof(rname)), -1);
	ck_assert_int_eq(ref.why, ADMIT_NOUPLOAD);
	ck_assert_int_eq(policy(TFTP_WRQ, "tp/f", sizeof(rname)), -1);
	ck_assert_int_eq(ref.why, ADMIT_NOUPLOAD);
	ck_assert_int_eq(policy(TFTP_WRQ, "up/f", sizeof(rname)), 0);
	ck_assert_ptr_eq(route, up);
	/* Reading from a route without a write group is fine. */
	ck_assert_int_eq(policy(TFTP_RRQ, "ro/f", sizeof(rname)), 0);
	ck_assert_ptr_eq(route, ro);
}
END_TEST

START_TEST(admit_limit_verdicts_refuse_with_error_0)
{
	admit_limit_refusal(LIMIT_CLIENT_BUSY, &ref);
	ck_assert_int_eq(ref.why, ADMIT_LIMIT);
	ck_assert_int_eq(ref.code, TFTP_EUNDEF);
	ck_assert_str_eq(ref.reason, "limit");
	ck_assert_str_eq(ref.msg, "Too many transfers from your address");
	admit_limit_refusal(LIMIT_CLIENT_RATE, &ref);
	ck_assert_str_eq(ref.reason, "rate");
	ck_assert_str_eq(ref.msg, "Rate limited, try again");
	admit_limit_refusal(LIMIT_GLOBAL_RATE, &ref);
	ck_assert_str_eq(ref.reason, "rate");
	admit_limit_refusal(LIMIT_TABLE_FULL, &ref);
	ck_assert_str_eq(ref.reason, "rate");
	ck_assert_int_eq(ref.code, TFTP_EUNDEF);
}
END_TEST

START_TEST(admit_reason_words)
{
	ck_assert_str_eq(admit_reason(TFTP_EUNDEF), "busy");
	ck_assert_str_eq(admit_reason(TFTP_ENOTFOUND), "notfound");
	ck_assert_str_eq(admit_reason(TFTP_EACCESS), "access");
	ck_assert_str_eq(admit_reason(TFTP_ENOSPACE), "full");
	ck_assert_str_eq(admit_reason(TFTP_EBADOP), "badreq");
	ck_assert_str_eq(admit_reason(TFTP_EEXISTS), "exists");
	ck_assert_str_eq(admit_reason(TFTP_EBADID), "error");
}
END_TEST

START_TEST(admit_same_req_needs_name_mode_and_options)
{
	struct tftp_req		 r = req_for("pxelinux.0");
	struct tftp_opts	 o;

	memset(&o, 0, sizeof(o));
	o.set = TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE;
	o.blksize = 1468;
	r.opts = o;
	ck_assert(admit_same_req("pxelinux.0", 10, TFTP_MODE_OCTET, &o, &r));
	/* A value of an option not asked for does not count. */
	r.opts.windowsize = 8;
	ck_assert(admit_same_req("pxelinux.0", 10, TFTP_MODE_OCTET, &o, &r));
	ck_assert(!admit_same_req("pxelinux.1", 10, TFTP_MODE_OCTET, &o, &r));
	ck_assert(!admit_same_req("pxelinux.0x", 11, TFTP_MODE_OCTET, &o,
	    &r));
	ck_assert(!admit_same_req("pxelinux.0", 10, TFTP_MODE_NETASCII, &o,
	    &r));
	r.opts.blksize = 512;
	ck_assert(!admit_same_req("pxelinux.0", 10, TFTP_MODE_OCTET, &o, &r));
	r.opts = o;
	r.opts.set |= TFTP_OPT_WINDOWSIZE;
	ck_assert(!admit_same_req("pxelinux.0", 10, TFTP_MODE_OCTET, &o, &r));
	r.opts = o;
	r.opts.tsize = 1;	/* a tsize probe's 0 against a real size */
	ck_assert(!admit_same_req("pxelinux.0", 10, TFTP_MODE_OCTET, &o, &r));
}
END_TEST

START_TEST(admit_opts_str_names_options)
{
	struct tftp_opts	 o;
	char			 buf[48];

	memset(&o, 0, sizeof(o));
	ck_assert_str_eq(admit_opts_str(&o, buf, sizeof(buf)), "-");
	o.set = TFTP_OPT_TSIZE | TFTP_OPT_BLKSIZE;
	ck_assert_str_eq(admit_opts_str(&o, buf, sizeof(buf)),
	    "blksize,tsize");
	o.set |= TFTP_OPT_TIMEOUT | TFTP_OPT_WINDOWSIZE;
	ck_assert_str_eq(admit_opts_str(&o, buf, sizeof(buf)),
	    "blksize,timeout,tsize,windowsize");
}
END_TEST

/* The ERROR waiting on fd (at most 5 s): its code, -1 if none came. */
static int
recv_error(int fd, int wait_ms, char *msg, size_t msglen)
{
	struct pollfd	 p = { .fd = fd, .events = POLLIN };
	uint8_t		 buf[600];
	ssize_t		 n;

	if (poll(&p, 1, wait_ms) != 1)
		return -1;
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	ck_assert_int_ge(n, 5);
	ck_assert_uint_eq(buf[0] << 8 | buf[1], TFTP_ERROR);
	buf[n] = '\0';
	ck_assert_uint_lt(strlen((const char *)buf + 4), msglen);
	memcpy(msg, buf + 4, strlen((const char *)buf + 4) + 1);
	return buf[2] << 8 | buf[3];
}

struct world {
	struct admit		 a;
	struct limit		 lim;
	struct stats_slot	 st;
	uint64_t		 now_ms;
	uint8_t			 buf[1024];
	int			 lfd, cfd;
};

static void
world_up(struct world *w, uint32_t max_per_client)
{
	struct limit_conf	 lc;

	memset(w, 0, sizeof(*w));
	memset(&lc, 0, sizeof(lc));
	lc.max_per_client = max_per_client;
	ck_assert_int_eq(limit_init(&w->lim, &lc, 1024, 42), 0);
	w->lfd = udp_socket(&local);
	w->cfd = udp_socket(&peer);
	w->now_ms = 1000;
	admit_init(&w->a, &conf, &w->st, &w->lim, &w->now_ms, w->buf,
	    sizeof(w->buf));
}

static void
world_down(struct world *w)
{
	limit_free(&w->lim);
	close(w->lfd);
	close(w->cfd);
}

static int
request(struct world *w, enum tftp_op op, const char *file)
{
	struct tftp_req	 r = req_for(file);

	return admit_request(&w->a, w->lfd, op, &r, &peer, &local, rname,
	    sizeof(rname), &rm, &route, w->now_ms);
}

/* The request is refused with an ERROR code and message the client gets. */
static void
refused_with(struct world *w, enum tftp_op op, const char *file, int code,
    const char *want)
{
	char	msg[128];

	ck_assert_int_eq(request(w, op, file), -1);
	ck_assert_int_eq(recv_error(w->cfd, 5000, msg, sizeof(msg)), code);
	ck_assert_str_eq(msg, want);
}

START_TEST(admit_request_refusals_answer_from_listen_socket)
{
	static struct world	 w;
	char			 msg[128];

	world_up(&w, 0);
	refused_with(&w, TFTP_WRQ, "up", TFTP_EACCESS, "Uploads are disabled");
	ck_assert_uint_eq(w.st.refused_access, 1);
	ck_assert_uint_eq(w.st.tx_pkts, 1);
	acl_one(&conf.acl, acl_rules, "-127.0.0.0/8");
	refused_with(&w, TFTP_RRQ, "f", TFTP_EACCESS, "Access denied");
	ck_assert_uint_eq(w.st.denied_acl, 1);
	ck_assert_uint_eq(w.st.refused_access, 2);
	/* Silent: counted, not answered. */
	conf.acl_silent = 1;
	ck_assert_int_eq(request(&w, TFTP_RRQ, "f"), -1);
	ck_assert_uint_eq(w.st.denied_acl, 2);
	ck_assert_uint_eq(w.st.tx_pkts, 2);
	ck_assert_int_eq(recv_error(w.cfd, 0, msg, sizeof(msg)), -1);
	world_down(&w);
}
END_TEST

START_TEST(admit_request_takes_and_honours_the_limit)
{
	static struct world	 w;
	char			 msg[128];

	world_up(&w, 1);
	ck_assert_int_eq(request(&w, TFTP_RRQ, "a"), 0);
	ck_assert_str_eq(rm.name, "a");
	refused_with(&w, TFTP_RRQ, "b", TFTP_EUNDEF,
	    "Too many transfers from your address");
	ck_assert_uint_eq(w.st.denied_limit, 1);
	ck_assert_uint_eq(w.st.refused_other + w.st.refused_access, 0);
	ck_assert_int_eq(limit_release(&w.lim, &peer), 0);
	ck_assert_int_eq(request(&w, TFTP_RRQ, "b"), 0);
	ck_assert_str_eq(rm.name, "b");
	ck_assert_int_eq(recv_error(w.cfd, 0, msg, sizeof(msg)), -1);
	world_down(&w);
}
END_TEST

/* Refusal lines at most log.refusals_per_second a second, exhaustion
 * lines once a second: the rest are counted as suppressed, the refusals
 * and shortages themselves always. */
START_TEST(admit_log_lines_are_rate_limited)
{
	static struct world	 w;
	char			 msg[128];
	int			 i;

	conf.log.refusals_per_second = 2;
	world_up(&w, 0);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(request(&w, TFTP_WRQ, "up"), -1);
		ck_assert_int_eq(recv_error(w.cfd, 5000, msg, sizeof(msg)),
		    TFTP_EACCESS);
	}
	ck_assert_uint_eq(w.st.refused_access, 5);
	ck_assert_uint_eq(w.st.log_suppressed, 3);
	admit_log_exhausted(&w.a, "transfer socket", EMFILE);
	admit_log_exhausted(&w.a, "transfer socket", EMFILE);
	ck_assert_uint_eq(w.st.refused_resource, 2);
	ck_assert_uint_eq(w.st.log_suppressed, 4);
	/* A second later both say what they held back, and count anew. */
	w.now_ms += 1000;
	admit_log_flush(&w.a, w.now_ms);
	ck_assert_int_eq(request(&w, TFTP_WRQ, "up"), -1);
	ck_assert_uint_eq(w.st.log_suppressed, 4);
	world_down(&w);
}
END_TEST

static Suite *
admit_suite(void)
{
	Suite	*s = suite_create("admit");
	TCase	*tc = tcase_create("policy");
	TCase	*tn = tcase_create("request");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, admit_plain_rrq_goes_to_the_file_tree);
	tcase_add_test(tc, admit_name_too_long_is_badreq);
	tcase_add_test(tc, admit_acl_denies_with_error_2);
	tcase_add_test(tc, admit_route_acl_applies_to_its_names);
	tcase_add_test(tc, admit_uploads_only_where_a_file_route_writes);
	tcase_add_test(tc, admit_limit_verdicts_refuse_with_error_0);
	tcase_add_test(tc, admit_reason_words);
	tcase_add_test(tc, admit_same_req_needs_name_mode_and_options);
	tcase_add_test(tc, admit_opts_str_names_options);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tn, setup, NULL);
	tcase_add_test(tn, admit_request_refusals_answer_from_listen_socket);
	tcase_add_test(tn, admit_request_takes_and_honours_the_limit);
	tcase_add_test(tn, admit_log_lines_are_rate_limited);
	suite_add_tcase(s, tn);
	return s;
}

int
main(void)
{
	return unit_run(admit_suite());
}
