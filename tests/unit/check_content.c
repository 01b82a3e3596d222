/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_content.c - unit tests for content.c without a worker: the exec
 * environment built for a request, and the content of real configs
 * (conf_load in a mkdtemp directory, modules loaded as the supervisor
 * does): a plain file from the top-level root and from a route's own
 * root, an upload opened and discarded, a rendered template, the example
 * module's answer and its per-transfer done line, and a program's output
 * through a real spawner (execd.c) turned into a body, or into the error
 * a boot client expects. The example module is build/modules/example.so
 * ($PTFTPD_EXAMPLE_MODULE, else ../modules/example.so next to this
 * binary's directory); it is built before this test, so a missing one
 * fails. It owns nothing else.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "conf.h"
#include "content.h"
#include "fs.h"
#include "module.h"
#include "route.h"
#include "sess.h"
#include "tftp.h"
#include "testutil.h"

static char			 tmpdir[PATH_MAX];
static char			 errbuf[1024];
static struct conf		 conf;
static bool			 conf_up;
static struct modset		 mods;
static struct content		 ct;
static bool			 ct_up;
static uint64_t			 now_ms;
static struct sockaddr_storage	 peer, local;

static void
setup(void)
{
	unit_tmpdir(tmpdir, sizeof(tmpdir), "/tmp", "check_content");
	memset(&conf, 0, sizeof(conf));
	memset(&mods, 0, sizeof(mods));
	conf_up = ct_up = false;
	now_ms = 1000;
	unit_addr(&peer, "10.1.2.3", 2011);
	unit_addr(&local, "10.0.0.1", 69);
	errbuf[0] = '\0';
}

static void
teardown(void)
{
	if (ct_up)
		content_free(&ct);
	module_set_free(&mods);
	if (conf_up)
		conf_free(&conf);
	unit_rmtree(tmpdir);
}

static void
write_file(const char *name, const char *text)
{
	(void)unit_write(tmpdir, name, text, strlen(text));
}

static void
make_dir(const char *name)
{
	char	 path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

/*
 * Load text as tmpdir/ptftpd.conf, then its modules (as the supervisor
 * does) and the content of one worker (as worker_init does: roots,
 * spawner, module init).
 */
static void
start(const char *text)
{
	char	 path[PATH_MAX + 32];

	write_file("ptftpd.conf", text);
	snprintf(path, sizeof(path), "%s/ptftpd.conf", tmpdir);
	ck_assert_msg(conf_load(&conf, path, errbuf, sizeof(errbuf)) == 0,
	    "%s", errbuf);
	conf_up = true;
	ck_assert_msg(module_set_load(&conf, &mods, errbuf,
	    sizeof(errbuf)) == 0, "%s", errbuf);
	content_init(&ct, &conf, &mods);
	ct_up = true;
	ck_assert_int_eq(content_open_roots(&ct, &now_ms), 0);
	ck_assert_int_eq(content_init_modules(&ct), 0);
}

/* An RRQ of name (route r: NULL for the top-level tree) for slot. */
static void
rrq(struct content_req *q, const char *name, const struct conf_route *r,
    const struct route_match *m, uint32_t slot)
{
	memset(q, 0, sizeof(*q));
	q->op = TFTP_RRQ;
	q->mode = TFTP_MODE_OCTET;
	q->name = name;
	q->route = r;
	q->m = m;
	q->fs = content_fs(&ct, r);
	q->peer = &peer;
	q->local = &local;
	q->slot = slot;
}

static char *
body_text(const struct body *b)
{
	return strndup(b->data != NULL ? (const char *)b->data : "",
	    (size_t)b->size);
}

static char *
slurp(const char *name)
{
	static char	 buf[4096];
	char		 path[PATH_MAX + 32];
	ssize_t		 n;
	int		 fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((fd = open(path, O_RDONLY)) == -1)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

START_TEST(exec_env_v4_mac_and_captures)
{
	struct content_env	 e;
	struct content_req	 q;
	struct route_match	 m;

	memset(&m, 0, sizeof(m));
	m.n_capture = 2;
	snprintf(m.capture[1], sizeof(m.capture[1]), "01-aa-bb-cc-dd-ee-ff");
	snprintf(m.capture[2], sizeof(m.capture[2]), "two");
	memset(&q, 0, sizeof(q));
	q.name = "pxelinux.cfg/01-AA-BB-CC-DD-EE-FF";
	q.mode = TFTP_MODE_NETASCII;
	q.m = &m;
	q.peer = &peer;
	q.local = &local;
	content_exec_env(&q, &e);
	ck_assert_uint_eq(e.n, 8);
	ck_assert_str_eq(e.env[0], "PTFTPD_FILE=pxelinux.cfg/01-AA-BB-CC-DD-EE-FF");
	ck_assert_str_eq(e.env[1], "PTFTPD_CLIENT_IP=10.1.2.3");
	ck_assert_str_eq(e.env[2], "PTFTPD_CLIENT_PORT=2011");
	ck_assert_str_eq(e.env[3], "PTFTPD_SERVER_IP=10.0.0.1");
	ck_assert_str_eq(e.env[4], "PTFTPD_MAC=aa:bb:cc:dd:ee:ff");
	ck_assert_str_eq(e.env[5], "PTFTPD_MODE=netascii");
	ck_assert_str_eq(e.env[6], "PTFTPD_MATCH1=01-aa-bb-cc-dd-ee-ff");
	ck_assert_str_eq(e.env[7], "PTFTPD_MATCH2=two");
	ck_assert_ptr_null(e.env[8]);
}
END_TEST

START_TEST(exec_env_v6_without_mac_or_captures)
{
	struct content_env	 e;
	struct content_req	 q;

	unit_addr(&peer, "fd00::5", 40000);
	unit_addr(&local, "::1", 6969);
	memset(&q, 0, sizeof(q));
	q.name = "boot/grubx64.efi";
	q.mode = TFTP_MODE_OCTET;
	q.peer = &peer;
	q.local = &local;
	content_exec_env(&q, &e);
	ck_assert_uint_eq(e.n, 6);
	ck_assert_str_eq(e.env[1], "PTFTPD_CLIENT_IP=fd00::5");
	ck_assert_str_eq(e.env[2], "PTFTPD_CLIENT_PORT=40000");
	ck_assert_str_eq(e.env[3], "PTFTPD_SERVER_IP=::1");
	ck_assert_str_eq(e.env[4], "PTFTPD_MAC=");
	ck_assert_str_eq(e.env[5], "PTFTPD_MODE=octet");
	ck_assert_ptr_null(e.env[6]);
}
END_TEST

/* A job id names its slot; the high bits change from one job to the
 * next, so a stale completion for a reused slot is told apart. */
START_TEST(job_ids_name_the_slot)
{
	ck_assert_uint_eq(content_job_slot((7u << CONTENT_SLOT_BITS) | 5), 5);
	ck_assert_uint_eq(content_job_slot(0xfffff), 0xfffff);
	ck_assert_uint_eq(content_job_slot(1u << CONTENT_SLOT_BITS), 0);
}
END_TEST

/* The top-level tree and a route's own root; an upload opened and, on
 * content_close, discarded without a trace. */
START_TEST(file_trees_and_upload)
{
	struct content_req	 q;
	struct content_out	 o;
	const char		*msg = NULL;
	char			*t;

	make_dir("top");
	make_dir("sub");
	write_file("top/a.txt", "top tree\n");
	write_file("sub/a.txt", "sub tree\n");
	start("root = \"top\";\nroutes = (\n"
	    "  { prefix = \"a\"; root = \"sub\"; write = { create = true; }; }"
	    "\n);\n");
	ck_assert_ptr_ne(content_fs(&ct, NULL), content_fs(&ct,
	    &conf.routes[0]));
	rrq(&q, "a.txt", NULL, NULL, 0);
	ck_assert_int_eq(content_open(&ct, &q, &o, &msg), 0);
	ck_assert(!o.pending);
	ck_assert_ptr_null(o.up);
	t = body_text(o.body);
	ck_assert_str_eq(t, "top tree\n");
	free(t);
	content_close(q.fs, &o.body, &o.up);
	ck_assert_ptr_null(o.body);
	rrq(&q, "a.txt", &conf.routes[0], NULL, 0);
	ck_assert_int_eq(content_open(&ct, &q, &o, &msg), 0);
	t = body_text(o.body);
	ck_assert_str_eq(t, "sub tree\n");
	free(t);
	content_close(q.fs, &o.body, &o.up);
	rrq(&q, "nothing.txt", NULL, NULL, 0);
	ck_assert_int_eq(content_open(&ct, &q, &o, &msg), TFTP_ENOTFOUND);
	ck_assert_ptr_null(o.body);
	/* A WRQ on the writable route. */
	rrq(&q, "anew.bin", &conf.routes[0], NULL, 0);
	q.op = TFTP_WRQ;
	ck_assert_int_eq(content_open(&ct, &q, &o, &msg), 0);
	ck_assert_ptr_nonnull(o.up);
	ck_assert_ptr_null(o.body);
	content_close(q.fs, &o.body, &o.up);
	ck_assert_ptr_null(o.up);
	{
		char	 path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "%s/sub/anew.bin", tmpdir);
		ck_assert_int_eq(access(path, F_OK), -1);
	}
}
END_TEST

START_TEST(template_rendered_for_the_request)
{
	struct content_req	 q;
	struct content_out	 o;
	struct route_match	 m;
	const char		*msg = NULL;
	char			*t;

	write_file("t.tmpl", "ip=${client_ip}:${client_port} srv=${server_ip} "
	    "file=${file} mac=${mac} m1=${match1}\n");
	start("root = \".\";\nroutes = (\n"
	    "  { prefix = \"pxe/\"; handler = \"template\"; "
	    "template = \"t.tmpl\"; }\n);\n");
	memset(&m, 0, sizeof(m));
	m.n_capture = 1;
	snprintf(m.capture[1], sizeof(m.capture[1]), "cap");
	rrq(&q, "pxe/01-aa-bb-cc-dd-ee-ff", &conf.routes[0], &m, 3);
	ck_assert_int_eq(content_open(&ct, &q, &o, &msg), 0);
	ck_assert(!o.pending);
	t = body_text(o.body);
	ck_assert_str_eq(t, "ip=10.1.2.3:2011 srv=10.0.0.1 "
	    "file=pxe/01-aa-bb-cc-dd-ee-ff mac=aa:bb:cc:dd:ee:ff m1=cap\n");
	free(t);
	content_close(q.fs, &o.body, &o.up);
}
END_TEST

/* The example module's answer through the supervisor's set, and its
 * done line for a module route's transfer (none for another route). */
START_TEST(module_answer_and_done)
{
	struct content_req	 q;
	struct content_out	 o;
	struct sess		 s;
	const char		*msg = NULL;
	char			 text[2 * PATH_MAX + 512];
	uint64_t		 i;

	snprintf(text, sizeof(text), "root = \".\";\nroutes = (\n"
	    "  { prefix = \"mod/\"; handler = \"module\"; module = \"%s\"; "
	    "args = \"log=%s/done.log\"; },\n  { prefix = \"f/\"; }\n);\n",
	    unit_example_module(), tmpdir);
	start(text);
	rrq(&q, "mod/size/1000", &conf.routes[0], NULL, 0);
	ck_assert_int_eq(content_open(&ct, &q, &o, &msg), 0);
	ck_assert_uint_eq(o.body->size, 1000);
	for (i = 0; i < o.body->size; i++)
		ck_assert_uint_eq(o.body->data[i], i % 251);
	content_close(q.fs, &o.body, &o.up);
	rrq(&q, "mod/other", &conf.routes[0], NULL, 0);
	ck_assert_int_eq(content_open(&ct, &q, &o, &msg), TFTP_ENOTFOUND);
	ck_assert_str_eq(msg, "No such example");

	memset(&s, 0, sizeof(s));
	s.op = TFTP_RRQ;
	s.result = SESS_RES_OK;
	s.blksize = 1468;
	s.windowsize = 4;
	s.size = 1000;
	s.nblocks = 1;
	s.acked = 1;
	s.start_ms = 100;
	rrq(&q, "mod/size/1000", &conf.routes[0], NULL, 0);
	content_done(&ct, &q, &s, 112);
	rrq(&q, "f/x", &conf.routes[1], NULL, 0);
	content_done(&ct, &q, &s, 112);
	ck_assert_str_eq(slurp("done.log"), "file=mod/size/1000 "
	    "client=10.1.2.3:2011 mac= result=ok bytes=1000 ms=12 error=0 "
	    "rexmit=0 blksize=1468 windowsize=4 tsize=1000\n");
}
END_TEST

/* One completion of the spawner within 5 s. */
static int
wait_done(struct execd_done *d)
{
	struct pollfd	 p = { .fd = content_exec_fd(&ct), .events = POLLIN };
	int		 i, rc;

	for (i = 0; i < 50; i++) {
		if ((rc = content_exec_read(&ct, d)) != 0)
			return rc;
		(void)poll(&p, 1, 100);
	}
	return 0;
}

/*
 * A program's output through a real spawner: the job names the slot and
 * the output becomes the body; exit status 1 is File not found, any other
 * failure error 0 (FS_ESERVER: nonzero, low 16 bits 0).
 */
START_TEST(exec_output_becomes_body)
{
	struct content_req	 q;
	struct content_out	 o;
	struct execd_done	 d;
	struct body		*b = NULL;
	const char		*msg = NULL;
	char			*t;

	start("root = \".\";\nroutes = (\n"
	    "  { prefix = \"gen/\"; handler = \"exec\"; command = [ \"/bin/sh\","
	    " \"-c\", \"case $PTFTPD_FILE in gen/one) exit 1;; gen/three) "
	    "exit 3;; esac; printf '%s %s %s' $PTFTPD_FILE $PTFTPD_CLIENT_IP "
	    "$PTFTPD_MODE\" ]; timeout_ms = 5000; }\n);\n");
	ck_assert_int_ge(content_exec_fd(&ct), 0);
	rrq(&q, "gen/x", &conf.routes[0], NULL, 5);
	ck_assert_int_eq(content_open(&ct, &q, &o, &msg), 0);
	ck_assert(o.pending);
	ck_assert_ptr_null(o.body);
	ck_assert_uint_eq(content_job_slot(o.job), 5);
	ck_assert_int_eq(wait_done(&d), 1);
	ck_assert_uint_eq(d.job, o.job);
	ck_assert_int_eq(content_exec_body(&q, &d, &b, &msg), 0);
	ck_assert_int_eq(d.memfd, -1);
	t = body_text(b);
	ck_assert_str_eq(t, "gen/x 10.1.2.3 octet");
	free(t);
	content_close(q.fs, &b, &o.up);

	rrq(&q, "gen/one", &conf.routes[0], NULL, 6);
	ck_assert_int_eq(content_open(&ct, &q, &o, &msg), 0);
	ck_assert_int_eq(wait_done(&d), 1);
	ck_assert_int_eq(content_exec_body(&q, &d, &b, &msg), TFTP_ENOTFOUND);
	ck_assert_str_eq(msg, "File not found");
	ck_assert_ptr_null(b);

	rrq(&q, "gen/three", &conf.routes[0], NULL, 7);
	ck_assert_int_eq(content_open(&ct, &q, &o, &msg), 0);
	ck_assert_int_eq(wait_done(&d), 1);
	ck_assert_int_eq(content_exec_body(&q, &d, &b, &msg), FS_ESERVER);
	ck_assert_uint_eq((uint16_t)FS_ESERVER, TFTP_EUNDEF);
	ck_assert_str_eq(msg, "Generator failed");
	ck_assert_ptr_null(b);

	/* A stopped spawner: no fd, and a request is refused. */
	content_exec_stop(&ct);
	ck_assert_int_eq(content_exec_fd(&ct), -1);
	rrq(&q, "gen/x", &conf.routes[0], NULL, 8);
	ck_assert_int_eq(content_open(&ct, &q, &o, &msg), FS_ESERVER);
	ck_assert_str_eq(msg, "Exec handler unavailable");
	ck_assert(!o.pending);
}
END_TEST

static Suite *
content_suite(void)
{
	Suite	*s = suite_create("content");
	TCase	*tc = tcase_create("content");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, exec_env_v4_mac_and_captures);
	tcase_add_test(tc, exec_env_v6_without_mac_or_captures);
	tcase_add_test(tc, job_ids_name_the_slot);
	tcase_add_test(tc, file_trees_and_upload);
	tcase_add_test(tc, template_rendered_for_the_request);
	tcase_add_test(tc, module_answer_and_done);
	tcase_add_test(tc, exec_output_becomes_body);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(content_suite());
}
