/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_module.c - unit tests for module.c with real shared objects: the
 * shipped example module (build/modules/example.so, or the path in
 * PTFTPD_EXAMPLE_MODULE, else ../modules/example.so next to this binary's
 * directory) and small modules this test writes and builds with the
 * system compiler in a temporary directory against the public header
 * include/ptftpd/module.h (set PTFTPD_INCLUDE to the include directory when
 * not run from the source tree). Those tests fail, they do not skip, when
 * there is no cc, no header or the build fails: building a module against
 * the public header is what they test.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "conf.h"
#include "fs.h"
#include "module.h"
#include "route.h"
#include "tftp.h"
#include "testutil.h"

static char			 base[64];	/* per test case */
static char			 example[PATH_MAX];
static char			 built[PATH_MAX + 32];	/* test modules dir */
static int			 have_built;	/* test modules compiled */
static const char		*built_why;	/* why not */
static struct conf		 conf;
static struct conf_route	 routes[3];
static struct module		*mod;		/* the test's one module */
static struct modset		 set;
static struct sockaddr_storage	 client, server;
static struct module_req	 req;
static char			 errbuf[512];

static void
find_example(void)
{
	snprintf(example, sizeof example, "%s", unit_example_module());
}

/* The directory holding ptftpd/module.h, or NULL. */
static const char *
find_include(void)
{
	static char	 dir[PATH_MAX];
	const char	*env = getenv("PTFTPD_INCLUDE");
	char		 f[PATH_MAX + 32];

	snprintf(dir, sizeof dir, "%s", env != NULL ? env : "include");
	snprintf(f, sizeof f, "%s/ptftpd/module.h", dir);
	if (access(f, R_OK) == 0)
		return dir;
	return NULL;
}

/*
 * Test modules, selected by -D: VERSION (api_version), behaviour by the
 * requested name: "unknown/N" N bytes of 'u' with an unknown size read
 * 777 at a time, "endless" an unknown size that never ends, "short"
 * announces 10 bytes but has 5, "fail" returns PTFTPD_ESERVER with a
 * message, "badread" fails in read. fini appends "fini" to args.
 */
static const char test_module_src[] =
	"#include <stdio.h>\n"
	"#include <string.h>\n"
	"#include \"ptftpd/module.h\"\n"
	"static const char *marker;\n"
	"static int t_init(const char *args, void **st)\n"
	"{ marker = args; *st = (void *)1; return 0; }\n"
	"static void t_fini(void *st)\n"
	"{ FILE *f; (void)st; if (marker && (f = fopen(marker, \"a\")))\n"
	"  { fputs(\"fini\\n\", f); fclose(f); } }\n"
	"static unsigned long long n;\n"
	"static int kind;\n"
	"static int t_open(void *st, const struct ptftpd_request *r,\n"
	"    void **resp, uint64_t *size)\n"
	"{ (void)st; *resp = &n;\n"
	"  if (strncmp(r->file, \"unknown/\", 8) == 0) {\n"
	"    sscanf(r->file + 8, \"%llu\", &n); kind = 0;\n"
	"    *size = PTFTPD_SIZE_UNKNOWN; return 0; }\n"
	"  if (strcmp(r->file, \"endless\") == 0) { kind = 1;\n"
	"    *size = PTFTPD_SIZE_UNKNOWN; return 0; }\n"
	"  if (strcmp(r->file, \"short\") == 0) { kind = 2; n = 5;\n"
	"    *size = 10; return 0; }\n"
	"  if (strcmp(r->file, \"badread\") == 0) { kind = 3; *size = 10;\n"
	"    return 0; }\n"
	"  snprintf(r->errmsg, r->errmsg_size, \"broken\\tmodule\");\n"
	"  return PTFTPD_ESERVER; }\n"
	"static long t_read(void *resp, uint64_t off, void *buf, size_t len)\n"
	"{ (void)resp;\n"
	"  if (kind == 3) return -1;\n"
	"  if (kind != 1 && off >= n) return 0;\n"
	"  if (kind != 1 && len > n - off) len = n - off;\n"
	"  if (len > 777) len = 777;\n"
	"  memset(buf, 'u', len); return (long)len; }\n"
	"static const struct ptftpd_module m = { VERSION, \"test\", t_init,\n"
	"  t_fini, t_open, t_read, NULL, NULL };\n"
	"const struct ptftpd_module *ptftpd_module_v1(void) { return &m; }\n";

/* Build <built>/<name>.so from test_module_src with -D defs; 0 or -1. */
static int
build_module(const char *inc, const char *name, const char *defs)
{
	char	cmd[3 * PATH_MAX], src[PATH_MAX + 64];
	FILE	*f;

	snprintf(src, sizeof src, "%s/%s.c", built, name);
	if ((f = fopen(src, "w")) == NULL)
		return -1;
	fputs(test_module_src, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "cc -shared -fPIC %s -I'%s' -o '%s/%s.so' "
	    "'%s' 2>&1", defs, inc, built, name, src);
	return system(cmd) == 0 ? 0 : -1;
}

static void
base_setup(void)
{
	const char	*inc;

	unit_tmpdir(base, sizeof base, "/tmp", "check_module");
	find_example();
	snprintf(built, sizeof built, "%s/so", base);
	have_built = 0;
	built_why = "";
	if (system("command -v cc >/dev/null 2>&1") != 0) {
		built_why = "no cc to build a module against the public header";
		return;
	}
	if ((inc = find_include()) == NULL) {
		built_why = "no include/ptftpd/module.h (set PTFTPD_INCLUDE)";
		return;
	}
	if (mkdir(built, 0755) == 0 &&
	    build_module(inc, "v1", "-DVERSION=1") == 0 &&
	    build_module(inc, "v2", "-DVERSION=2") == 0)
		have_built = 1;
	else
		built_why = "cc failed on a module against the public header";
}

static void
base_teardown(void)
{
	unit_rmtree(base);
}

static void
setup(void)
{
	memset(&conf, 0, sizeof conf);
	memset(routes, 0, sizeof routes);
	memset(&set, 0, sizeof set);
	mod = NULL;
	conf.path = "/etc/test.conf";
	conf.routes = routes;
	conf.n_routes = 3;
	unit_addr(&client, "10.1.2.3", 2011);
	unit_addr(&server, "10.0.0.1", 69);
	memset(&req, 0, sizeof req);
	req.mode = TFTP_MODE_OCTET;
	req.client = &client;
	req.server = &server;
	errbuf[0] = '\0';
}

static void
teardown(void)
{
	module_unload(mod);
	mod = NULL;
	module_set_free(&set);
}

/* Load path with args and init it as a worker does. */
static void
load_init(const char *path, const char *args)
{
	ck_assert_msg(module_load(path, args, &mod, errbuf, sizeof errbuf) == 0,
	    "%s", errbuf);
	ck_assert_msg(module_init(mod, errbuf, sizeof errbuf) == 0, "%s",
	    errbuf);
}

static int
open_body(const char *file, uint8_t **data, uint64_t *size,
    const char **msg)
{
	req.file = file;
	return module_open_body(mod, &req, data, size, msg);
}

static char *
slurp(const char *path)
{
	static char	buf[4096];
	ssize_t		n;
	int		fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY)) == -1)
		return buf;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

START_TEST(example_size_pattern)
{
	uint8_t		*data = NULL;
	uint64_t	 size = 0, i;
	const char	*msg = NULL;

	load_init(example, NULL);
	ck_assert_int_eq(open_body("mod/size/100000", &data, &size, &msg), 0);
	ck_assert_uint_eq(size, 100000);
	for (i = 0; i < size; i++)
		if (data[i] != (uint8_t)(i % 251))
			ck_abort_msg("byte %llu is %u", (unsigned long long)i,
			    data[i]);
	free(data);
	ck_assert_int_eq(open_body("mod/size/0", &data, &size, &msg), 0);
	ck_assert_uint_eq(size, 0);
	ck_assert_ptr_null(data);
}
END_TEST

START_TEST(example_hello_describes_request)
{
	struct route_match	 m;
	uint8_t			*data = NULL;
	uint64_t		 size = 0;
	const char		*msg = NULL;
	char			*text;

	memset(&m, 0, sizeof m);
	m.n_capture = 1;
	snprintf(m.capture[1], sizeof m.capture[1], "grp");
	req.m = &m;
	load_init(example, NULL);
	ck_assert_int_eq(open_body("mod/hello/01-AA-BB-CC-DD-EE-FF", &data,
	    &size, &msg), 0);
	text = strndup((char *)data, size);
	ck_assert_uint_eq(strlen(text), size);
	ck_assert_ptr_nonnull(strstr(text, "client_ip=10.1.2.3\n"));
	ck_assert_ptr_nonnull(strstr(text, "client_port=2011\n"));
	ck_assert_ptr_nonnull(strstr(text, "server_ip=10.0.0.1\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "file=mod/hello/01-AA-BB-CC-DD-EE-FF\n"));
	ck_assert_ptr_nonnull(strstr(text, "mac=aa:bb:cc:dd:ee:ff\n"));
	ck_assert_ptr_nonnull(strstr(text, "mode=octet\n"));
	ck_assert_ptr_nonnull(strstr(text, "match1=grp\n"));
	free(text);
	free(data);
}
END_TEST

START_TEST(example_not_found)
{
	uint8_t		*data = NULL;
	uint64_t	 size = 7;
	const char	*msg = NULL;

	load_init(example, NULL);
	ck_assert_int_eq(open_body("mod/other", &data, &size, &msg),
	    TFTP_ENOTFOUND);
	ck_assert_ptr_null(data);
	ck_assert_uint_eq(size, 0);
	ck_assert_str_eq(msg, "No such example");
	ck_assert_int_eq(open_body("mod/size/12x", &data, &size, &msg),
	    TFTP_ENOTFOUND);
}
END_TEST

START_TEST(example_oversize_refused)
{
	uint8_t		*data = NULL;
	uint64_t	 size = 0;
	const char	*msg = NULL;
	char		 name[64];

	load_init(example, NULL);
	snprintf(name, sizeof name, "mod/size/%llu",
	    (unsigned long long)MODULE_BODY_MAX + 1);
	ck_assert_int_eq(open_body(name, &data, &size, &msg), TFTP_ENOSPACE);
	ck_assert_ptr_null(data);
}
END_TEST

START_TEST(example_done_writes_line)
{
	struct ptftpd_xfer_stats	 st;
	char				 log[128], args[160], *text;

	snprintf(log, sizeof log, "%s/done.log", base);
	unlink(log);
	snprintf(args, sizeof args, "log=%s", log);
	load_init(example, args);
	memset(&st, 0, sizeof st);
	st.result = "ok";
	st.bytes = 100000;
	st.duration_ms = 12;
	st.retransmits = 3;
	st.blksize = 1468;
	st.windowsize = 4;
	st.tsize = 100000;
	req.file = "mod/size/100000";
	module_done(mod, &req, &st);
	st.result = "probe";
	st.error_code = 8;
	st.bytes = 0;
	req.file = "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff";
	module_done(mod, &req, &st);
	text = slurp(log);
	ck_assert_str_eq(text,
	    "file=mod/size/100000 client=10.1.2.3:2011 mac= result=ok "
	    "bytes=100000 ms=12 error=0 rexmit=3 blksize=1468 windowsize=4 "
	    "tsize=100000\n"
	    "file=pxelinux.cfg/01-aa-bb-cc-dd-ee-ff client=10.1.2.3:2011 "
	    "mac=aa:bb:cc:dd:ee:ff result=probe bytes=0 ms=12 error=8 "
	    "rexmit=3 blksize=1468 windowsize=4 tsize=100000\n");
}
END_TEST

START_TEST(init_failure_reported)
{
	ck_assert_int_eq(module_load(example, "log=/nonexistent-dir/x.log",
	    &mod, errbuf, sizeof errbuf), 0);
	ck_assert_int_eq(module_init(mod, errbuf, sizeof errbuf), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "(example): init failed"));
}
END_TEST

START_TEST(not_initialised_is_server_error)
{
	uint8_t		*data = NULL;
	uint64_t	 size = 0;
	const char	*msg = NULL;

	ck_assert_int_eq(module_load(example, NULL, &mod, errbuf,
	    sizeof errbuf), 0);
	ck_assert_int_eq(open_body("mod/size/1", &data, &size, &msg),
	    FS_ESERVER);
	ck_assert_ptr_null(data);
}
END_TEST

START_TEST(load_missing_file)
{
	ck_assert_int_eq(module_load("/nonexistent/x.so", NULL, &mod, errbuf,
	    sizeof errbuf), -1);
	ck_assert_ptr_null(mod);
	ck_assert_msg(strncmp(errbuf, "cannot load /nonexistent/x.so: ",
	    31) == 0, "%s", errbuf);
	ck_assert_ptr_nonnull(strstr(errbuf, "No such file"));
}
END_TEST

START_TEST(load_without_symbol)
{
	const char	*path = "/lib/x86_64-linux-gnu/libm.so.6";

	if (access(path, R_OK) != 0)
		path = "libm.so.6";
	ck_assert_int_eq(module_load(path, NULL, &mod, errbuf, sizeof errbuf),
	    -1);
	ck_assert_ptr_null(mod);
	ck_assert_msg(strstr(errbuf, ": no symbol ptftpd_module_v1") != NULL,
	    "%s", errbuf);
}
END_TEST

/*
 * A config's module set: one module per module route, in route order,
 * each with its own args and state; other routes have none.
 */
START_TEST(set_loads_module_routes)
{
	struct ptftpd_xfer_stats	 st;
	struct module			*a, *b;
	uint8_t				*data = NULL;
	uint64_t			 size = 0;
	const char			*msg = NULL;
	char				 log[128], args[160];

	snprintf(log, sizeof log, "%s/set.log", base);
	unlink(log);
	snprintf(args, sizeof args, "log=%s", log);
	routes[1].handler = CONF_HANDLER_MODULE;
	routes[1].module.path = example;
	routes[2].handler = CONF_HANDLER_MODULE;
	routes[2].module.path = example;
	routes[2].module.args = args;
	ck_assert_msg(module_set_load(&conf, &set, errbuf, sizeof errbuf) == 0,
	    "%s", errbuf);
	ck_assert_uint_eq(set.n, 3);
	ck_assert_ptr_null(module_set_get(&set, 0));
	a = module_set_get(&set, 1);
	b = module_set_get(&set, 2);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_null(module_set_get(&set, 3));
	ck_assert_ptr_null(module_set_get(NULL, 1));
	/* Loading runs no init: nothing opened, requests refused. */
	ck_assert_int_eq(access(log, F_OK), -1);
	req.file = "mod/size/1";
	ck_assert_int_eq(module_open_body(a, &req, &data, &size, &msg),
	    FS_ESERVER);
	ck_assert_msg(module_set_init(&set, errbuf, sizeof errbuf) == 0, "%s",
	    errbuf);
	ck_assert_int_eq(module_open_body(a, &req, &data, &size, &msg), 0);
	ck_assert_uint_eq(size, 1);
	free(data);
	/* Each route's own args and state: only b logs. */
	memset(&st, 0, sizeof st);
	st.result = "ok";
	module_done(a, &req, &st);
	module_done(b, &req, &st);
	ck_assert_ptr_nonnull(strstr(slurp(log), "file=mod/size/1 "));
	ck_assert_ptr_null(strstr(slurp(log) + 1, "file="));
	module_set_fini(&set);
	ck_assert_int_eq(module_open_body(a, &req, &data, &size, &msg),
	    FS_ESERVER);
	module_set_free(&set);
	ck_assert_uint_eq(set.n, 0);
	ck_assert_ptr_null(set.by_route);
}
END_TEST

/* A module the set cannot load: the place of the route's module setting,
 * as a conf_load error would name it, and nothing left loaded. */
START_TEST(set_load_error_names_place)
{
	const char	*want;

	routes[0].handler = CONF_HANDLER_MODULE;
	routes[0].module.path = example;
	routes[2].handler = CONF_HANDLER_MODULE;
	routes[2].module.path = "/nonexistent/x.so";
	routes[2].module.file = "/etc/included.conf";
	routes[2].module.line = 7;
	ck_assert_int_eq(module_set_load(&conf, &set, errbuf, sizeof errbuf),
	    -1);
	want = "/etc/included.conf:7: routes[2].module: cannot load "
	    "/nonexistent/x.so: ";
	ck_assert_msg(strncmp(errbuf, want, strlen(want)) == 0, "%s", errbuf);
	ck_assert_ptr_null(set.by_route);
	ck_assert_uint_eq(set.n, 0);
	/* Without a file of its own: the config's. */
	routes[2].module.file = NULL;
	ck_assert_int_eq(module_set_load(&conf, &set, errbuf, sizeof errbuf),
	    -1);
	want = "/etc/test.conf:7: routes[2].module: cannot load ";
	ck_assert_msg(strncmp(errbuf, want, strlen(want)) == 0, "%s", errbuf);
}
END_TEST

START_TEST(load_version_mismatch)
{
	char	path[PATH_MAX + 64], want[PATH_MAX + 128];

	if (!have_built)
		ck_abort_msg("cannot build the test modules: %s", built_why);
	snprintf(path, sizeof path, "%s/v2.so", built);
	ck_assert_int_eq(module_load(path, NULL, &mod, errbuf, sizeof errbuf),
	    -1);
	ck_assert_ptr_null(mod);
	snprintf(want, sizeof want, "%s: API version 2, ptftpd supports 1",
	    path);
	ck_assert_str_eq(errbuf, want);
}
END_TEST

START_TEST(unknown_size_read_to_end)
{
	char		 path[PATH_MAX + 64];
	uint8_t		*data = NULL;
	uint64_t	 size = 0, i;
	const char	*msg = NULL;

	if (!have_built)
		ck_abort_msg("cannot build the test modules: %s", built_why);
	snprintf(path, sizeof path, "%s/v1.so", built);
	load_init(path, NULL);
	ck_assert_int_eq(open_body("unknown/200000", &data, &size, &msg), 0);
	ck_assert_uint_eq(size, 200000);
	for (i = 0; i < size; i++)
		ck_assert_uint_eq(data[i], 'u');
	free(data);
	ck_assert_int_eq(open_body("unknown/0", &data, &size, &msg), 0);
	ck_assert_uint_eq(size, 0);
	ck_assert_ptr_null(data);
	ck_assert_int_eq(open_body("endless", &data, &size, &msg),
	    TFTP_ENOSPACE);
	ck_assert_ptr_null(data);
}
END_TEST

START_TEST(module_failures_are_server_errors)
{
	char		 path[PATH_MAX + 64], marker[128];
	uint8_t		*data = NULL;
	uint64_t	 size = 0;
	const char	*msg = NULL;

	if (!have_built)
		ck_abort_msg("cannot build the test modules: %s", built_why);
	snprintf(path, sizeof path, "%s/v1.so", built);
	snprintf(marker, sizeof marker, "%s/fini.marker", base);
	unlink(marker);
	load_init(path, marker);
	ck_assert_int_eq(open_body("fail", &data, &size, &msg), FS_ESERVER);
	ck_assert_str_eq(msg, "broken?module");	/* made printable */
	ck_assert_int_eq(open_body("short", &data, &size, &msg), FS_ESERVER);
	ck_assert_str_eq(msg, "Module response too short");
	ck_assert_int_eq(open_body("badread", &data, &size, &msg),
	    FS_ESERVER);
	ck_assert_str_eq(msg, "Module read error");
	ck_assert_ptr_null(data);
	/* Unloading in a worker that ran init runs fini. */
	module_unload(mod);
	mod = NULL;
	ck_assert_str_eq(slurp(marker), "fini\n");
}
END_TEST

static Suite *
module_suite(void)
{
	Suite	*s = suite_create("module");
	TCase	*tc;

	tc = tcase_create("module");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, example_size_pattern);
	tcase_add_test(tc, example_hello_describes_request);
	tcase_add_test(tc, example_not_found);
	tcase_add_test(tc, example_oversize_refused);
	tcase_add_test(tc, example_done_writes_line);
	tcase_add_test(tc, init_failure_reported);
	tcase_add_test(tc, not_initialised_is_server_error);
	tcase_add_test(tc, load_missing_file);
	tcase_add_test(tc, load_without_symbol);
	tcase_add_test(tc, set_loads_module_routes);
	tcase_add_test(tc, set_load_error_names_place);
	tcase_add_test(tc, load_version_mismatch);
	tcase_add_test(tc, unknown_size_read_to_end);
	tcase_add_test(tc, module_failures_are_server_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(module_suite());
}
