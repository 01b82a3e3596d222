/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_conf.c - unit tests for conf.c: each test writes a config file into
 * a fresh mkdtemp directory, loads it and checks the struct or the exact
 * "file:line: setting: problem" message. The served root is usually "."
 * (the temp directory itself), which also exercises the rule that relative
 * paths start at the config file's directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <check.h>

#include "conf.h"
#include "log.h"
#include "testutil.h"

static char	tmpdir[128];		/* canonical */
static char	cfgpath[256];
static char	errbuf[1024];
static struct conf conf;

static void
setup(void)
{
	unit_tmpdir(tmpdir, sizeof(tmpdir), "/tmp", "check_conf");
	memset(&conf, 0, sizeof(conf));
	errbuf[0] = '\0';
}

static void
teardown(void)
{
	conf_free(&conf);
	unit_rmtree(tmpdir);
}

/* Write text to tmpdir/name; returns the path in a static buffer. */
static const char *
write_file(const char *name, const char *text)
{
	return unit_write(tmpdir, name, text, strlen(text));
}

static void
make_dir(const char *name)
{
	char	path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

/* Write text as tmpdir/ptftpd.conf, with every @MODULE@ replaced by the
 * example module's path, and load it into conf. */
static int
load(const char *text)
{
	static char	 buf[16384];
	const char	*mod = unit_example_module(), *at;
	size_t		 o = 0;

	while ((at = strstr(text, "@MODULE@")) != NULL && o < sizeof(buf)) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%.*s%s",
		    (int)(at - text), text, mod);
		text = at + strlen("@MODULE@");
	}
	if (o < sizeof(buf))
		snprintf(buf + o, sizeof(buf) - o, "%s", text);
	snprintf(cfgpath, sizeof(cfgpath), "%s", write_file("ptftpd.conf",
	    buf));
	return conf_load(&conf, cfgpath, errbuf, sizeof(errbuf));
}

/* Load must fail with exactly "cfgpath:line: msg". */
static void
expect_error(const char *text, int line, const char *msg)
{
	char	want[1536];

	ck_assert_int_eq(load(text), -1);
	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s", cfgpath, line, msg);
	else
		snprintf(want, sizeof(want), "%s: %s", cfgpath, msg);
	ck_assert_str_eq(errbuf, want);
	/* nothing left to free after an error */
	ck_assert_ptr_null(conf.root);
	ck_assert_ptr_null(conf.path);
	ck_assert_ptr_null(conf.stats.path);
	ck_assert_ptr_null(conf.rewrite);
	ck_assert_ptr_null(conf.routes);
	ck_assert_ptr_null(conf.acl.rules);
}

static uint16_t
listen_port(const struct conf_listen *l)
{
	if (l->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&l->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&l->ss)->sin6_port);
}

START_TEST(defaults_when_only_root_set)
{
	ck_assert_int_eq(load("root = \".\";\n"), 0);
	ck_assert_str_eq(conf.path, cfgpath);
	ck_assert_str_eq(conf.root, tmpdir);
	ck_assert_uint_ge(conf.workers, 1);
	ck_assert_uint_eq(conf.n_listen, 2);
	ck_assert_str_eq(conf.listen[0].address, "0.0.0.0");
	ck_assert_int_eq(conf.listen[0].ss.ss_family, AF_INET);
	ck_assert_uint_eq(listen_port(&conf.listen[0]), 69);
	ck_assert_str_eq(conf.listen[1].address, "::");
	ck_assert_int_eq(conf.listen[1].ss.ss_family, AF_INET6);
	ck_assert_uint_eq(listen_port(&conf.listen[1]), 69);
	ck_assert_str_eq(conf.user, "nobody");
	ck_assert_ptr_null(conf.group);
	ck_assert_str_eq(conf.pid_file, "/run/ptftpd/ptftpd.pid");
	ck_assert_uint_eq(conf.shutdown_timeout_ms, 30000);
	ck_assert_uint_eq(conf.rcvbuf, 4194304);
	ck_assert_uint_eq(conf.cache_max_idle, 64);
	ck_assert_uint_eq(conf.cache_idle_ms, 10000);
	ck_assert(conf.io_uring);
	ck_assert(!conf.single_port);
	ck_assert_uint_eq(conf.session.timeout_ms, 1000);
	ck_assert_uint_eq(conf.session.timeout_max_ms, 5000);
	ck_assert_uint_eq(conf.session.retries, 5);
	ck_assert_uint_eq(conf.session.first_retries, 3);
	ck_assert_uint_eq(conf.session.blksize_max, 1468);
	ck_assert_uint_eq(conf.session.windowsize_max, 64);
	ck_assert_uint_eq(conf.session.max_per_worker, 10000);
	ck_assert_uint_eq(conf.session.max_per_client, 256);
	ck_assert_uint_eq(conf.session.port_min, 0);
	ck_assert_uint_eq(conf.session.port_max, 0);
	ck_assert_uint_eq(conf.session.socket_pool, 1024);
	ck_assert_uint_eq(conf.session.rto_min_ms, 100);
	ck_assert_int_eq(conf.log.target, LOG_TARGET_SYSLOG);
	ck_assert_int_eq(conf.log.level, LOG_INFO);
	ck_assert_int_eq(conf.log.facility, LOG_DAEMON);
	ck_assert_uint_eq(conf.log.refusals_per_second, 20);
	ck_assert_str_eq(conf.stats.path, "/run/ptftpd/ptftpd.stats");
	ck_assert_ptr_null(conf.stats.file);
	ck_assert_uint_eq(conf.stats.interval_s, 0);
}
END_TEST

/* An empty file means every default, including root = /srv/tftp. */
START_TEST(empty_file_uses_default_root)
{
	struct stat	st;

	if (stat("/srv/tftp", &st) == 0 && S_ISDIR(st.st_mode)) {
		ck_assert_int_eq(load(""), 0);
		ck_assert_uint_eq(conf.session.blksize_max, 1468);
	} else {
		expect_error("", 0, "root: /srv/tftp: No such file or "
		    "directory");
	}
}
END_TEST

START_TEST(full_valid_file)
{
	int	rc;

	make_dir("served");
	rc = load(
	    "# every setting\n"
	    "workers = 3;\n"
	    "listen = ( { address = \"127.0.0.1\"; port = 6969; },\n"
	    "           { address = \"::1\"; } );\n"
	    "root = \"served\";\n"
	    "user = \"nobody\";\n"
	    "group = \"root\";\n"
	    "pid_file = \"/tmp/x.pid\";\n"
	    "shutdown_timeout = 7;\n"
	    "rcvbuf = 0;\n"
	    "cache_max_idle = 9;\n"
	    "cache_idle_ms = 2500;\n"
	    "io_uring = false;\n"
	    "session = {\n"
	    "  timeout_ms = 200; timeout_max_ms = 900; retries = 0;\n"
	    "  first_retries = 10; blksize_max = 8; windowsize_max = 65535;\n"
	    "  max_per_worker = 1000000; max_per_client = 1;\n"
	    "  port_min = 30000; port_max = 30100; socket_pool = 0;\n"
	    "  rto_min_ms = 0;\n"
	    "};\n"
	    "log = { target = \"stderr\"; level = \"debug\";\n"
	    "        facility = \"local3\"; format = \"kv\";\n"
	    "        refusals_per_second = 100000; };\n"
	    "stats = { path = \"/tmp/s.stats\"; file = \"/tmp/s.prom\";\n"
	    "          interval = 86400; };\n");
	ck_assert_msg(rc == 0, "%s", errbuf);
	ck_assert_uint_eq(conf.workers, 3);
	ck_assert_uint_eq(conf.n_listen, 2);
	ck_assert_str_eq(conf.listen[0].address, "127.0.0.1");
	ck_assert_uint_eq(conf.listen[0].port, 6969);
	ck_assert_uint_eq(listen_port(&conf.listen[0]), 6969);
	ck_assert_str_eq(conf.listen[1].address, "::1");
	ck_assert_uint_eq(conf.listen[1].port, 69);
	ck_assert_str_eq(conf.group, "root");
	ck_assert_str_eq(conf.pid_file, "/tmp/x.pid");
	ck_assert_uint_eq(conf.shutdown_timeout_ms, 7000);
	ck_assert_uint_eq(conf.rcvbuf, 0);
	ck_assert_uint_eq(conf.cache_max_idle, 9);
	ck_assert_uint_eq(conf.cache_idle_ms, 2500);
	ck_assert(!conf.io_uring);
	ck_assert_uint_eq(conf.session.timeout_ms, 200);
	ck_assert_uint_eq(conf.session.timeout_max_ms, 900);
	ck_assert_uint_eq(conf.session.retries, 0);
	ck_assert_uint_eq(conf.session.first_retries, 10);
	ck_assert_uint_eq(conf.session.blksize_max, 8);
	ck_assert_uint_eq(conf.session.windowsize_max, 65535);
	ck_assert_uint_eq(conf.session.max_per_worker, 1000000);
	ck_assert_uint_eq(conf.session.max_per_client, 1);
	ck_assert_uint_eq(conf.session.port_min, 30000);
	ck_assert_uint_eq(conf.session.port_max, 30100);
	ck_assert_uint_eq(conf.session.socket_pool, 0);
	ck_assert_uint_eq(conf.session.rto_min_ms, 0);
	ck_assert_int_eq(conf.log.target, LOG_TARGET_STDERR);
	ck_assert_int_eq(conf.log.level, LOG_DEBUG);
	ck_assert_int_eq(conf.log.facility, LOG_LOCAL3);
	ck_assert_uint_eq(conf.log.refusals_per_second, 100000);
	ck_assert_str_eq(conf.stats.path, "/tmp/s.stats");
	ck_assert_str_eq(conf.stats.file, "/tmp/s.prom");
	ck_assert_uint_eq(conf.stats.interval_s, 86400);
}
END_TEST

/* Each bad value sits on line 3; layout picks the group around it. */
enum { TOP, SESSION, LISTEN, STATS, LOG };
static const struct {
	int		 layout;
	const char	*setting;
	const char	*msg;
} range_cases[] = {
	{ TOP, "workers = 257;", "workers: must be between 0 and 256" },
	{ TOP, "workers = -1;", "workers: must be between 0 and 256" },
	{ TOP, "shutdown_timeout = 3601;",
	    "shutdown_timeout: must be between 0 and 3600" },
	{ TOP, "rcvbuf = 268435457;",
	    "rcvbuf: must be between 0 and 268435456" },
	{ TOP, "cache_idle_ms = 86400001;",
	    "cache_idle_ms: must be between 0 and 86400000" },
	{ TOP, "cache_max_idle = 100001;",
	    "cache_max_idle: must be between 0 and 100000" },
	{ SESSION, "socket_pool = 4097;",
	    "session.socket_pool: must be between 0 and 4096" },
	{ SESSION, "timeout_ms = 99;",
	    "session.timeout_ms: must be between 100 and 60000" },
	{ SESSION, "timeout_ms = 60001;",
	    "session.timeout_ms: must be between 100 and 60000" },
	{ SESSION, "timeout_max_ms = 99;",
	    "session.timeout_max_ms: must be between 100 and 300000" },
	{ SESSION, "timeout_max_ms = 300001;",
	    "session.timeout_max_ms: must be between 100 and 300000" },
	{ SESSION, "retries = 101;",
	    "session.retries: must be between 0 and 100" },
	{ SESSION, "rto_min_ms = 60001;",
	    "session.rto_min_ms: must be between 0 and 60000" },
	{ SESSION, "first_retries = 11;",
	    "session.first_retries: must be between 0 and 10" },
	{ SESSION, "blksize_max = 7;",
	    "session.blksize_max: must be between 8 and 65464" },
	{ SESSION, "blksize_max = 65465;",
	    "session.blksize_max: must be between 8 and 65464" },
	{ SESSION, "windowsize_max = 0;",
	    "session.windowsize_max: must be between 1 and 65535" },
	{ SESSION, "windowsize_max = 65536;",
	    "session.windowsize_max: must be between 1 and 65535" },
	{ SESSION, "max_per_worker = 0;",
	    "session.max_per_worker: must be between 1 and 1000000" },
	{ SESSION, "max_per_worker = 1000001;",
	    "session.max_per_worker: must be between 1 and 1000000" },
	{ SESSION, "max_per_client = 0;",
	    "session.max_per_client: must be between 1 and 1000000" },
	{ SESSION, "max_per_client = 1000001;",
	    "session.max_per_client: must be between 1 and 1000000" },
	{ SESSION, "port_min = 65536;",
	    "session.port_min: must be between 0 and 65535" },
	{ SESSION, "port_max = 65536;",
	    "session.port_max: must be between 0 and 65535" },
	{ LISTEN, "port = 0;", "listen[0].port: must be between 1 and 65535" },
	{ LISTEN, "port = 65536;",
	    "listen[0].port: must be between 1 and 65535" },
	{ STATS, "interval = 86401;",
	    "stats.interval: must be between 0 and 86400" },
	{ LOG, "refusals_per_second = 100001;",
	    "log.refusals_per_second: must be between 0 and 100000" },
	{ LOG, "refusals_per_second = -1;",
	    "log.refusals_per_second: must be between 0 and 100000" },
};

START_TEST(range_error_names_file_line_setting)
{
	char	text[512];

	switch (range_cases[_i].layout) {
	case TOP:
		snprintf(text, sizeof(text), "# range\n\n%s\nroot = \".\";\n",
		    range_cases[_i].setting);
		break;
	case SESSION:
		snprintf(text, sizeof(text), "# range\nsession = {\n  %s\n};\n"
		    "root = \".\";\n", range_cases[_i].setting);
		break;
	case LISTEN:
		snprintf(text, sizeof(text), "# range\nlisten = ( {\n"
		    "  address = \"127.0.0.1\"; %s } );\nroot = \".\";\n",
		    range_cases[_i].setting);
		break;
	case LOG:
		snprintf(text, sizeof(text), "# range\nlog = {\n  %s\n};\n"
		    "root = \".\";\n", range_cases[_i].setting);
		break;
	default:
		snprintf(text, sizeof(text), "# range\nstats = {\n  %s\n};\n"
		    "root = \".\";\n", range_cases[_i].setting);
		break;
	}
	expect_error(text, 3, range_cases[_i].msg);
}
END_TEST

START_TEST(unknown_top_level_setting)
{
	expect_error("root = \".\";\n\nworker = 2;\n", 3,
	    "worker: unknown setting");
}
END_TEST

START_TEST(unknown_setting_in_session)
{
	expect_error("root = \".\";\nsession = {\n  retries = 2;\n"
	    "  blocksize = 512;\n};\n", 4, "session.blocksize: unknown setting");
}
END_TEST

START_TEST(unknown_setting_in_listen_entry)
{
	expect_error("root = \".\";\nlisten = (\n"
	    "  { address = \"127.0.0.1\"; },\n"
	    "  { address = \"::1\";\n    interface = \"lo\"; }\n);\n", 5,
	    "listen[1].interface: unknown setting");
}
END_TEST

START_TEST(unknown_setting_in_log_and_stats)
{
	expect_error("root = \".\";\nlog = { colour = true; };\n", 2,
	    "log.colour: unknown setting");
	expect_error("root = \".\";\nstats = {\n dir = \"/tmp\"; };\n", 3,
	    "stats.dir: unknown setting");
}
END_TEST

static const struct {
	const char	*text;
	const char	*msg;
} type_cases[] = {
	{ "workers = \"4\";", "workers: must be an integer" },
	{ "workers = 4.0;", "workers: must be an integer" },
	{ "rcvbuf = true;", "rcvbuf: must be an integer" },
	{ "user = 65534;", "user: must be a string" },
	{ "pid_file = [ \"a\" ];", "pid_file: must be a string" },
	{ "session = 5;", "session: must be a group { ... }" },
	{ "log = ( \"stderr\" );", "log: must be a group { ... }" },
	{ "listen = { address = \"::1\"; };",
	    "listen: must be a list ( { address = ...; }, ... )" },
	{ "listen = ( \"::1\" );",
	    "listen[0]: must be a group { address = ...; }" },
	{ "session = { retries = \"5\"; };",
	    "session.retries: must be an integer" },
	{ "log = { level = 7; };", "log.level: must be a string" },
};

START_TEST(wrong_type_is_error)
{
	char	text[256];

	snprintf(text, sizeof(text), "root = \".\";\n%s\n",
	    type_cases[_i].text);
	expect_error(text, 2, type_cases[_i].msg);
}
END_TEST

START_TEST(empty_string_is_error)
{
	expect_error("root = \".\";\nuser = \"\";\n", 2,
	    "user: must not be empty");
}
END_TEST

START_TEST(syntax_error_reports_file_and_line)
{
	expect_error("root = \".\";\n# fine\nworkers = ;\n", 3,
	    "syntax error: syntax error");
	expect_error("workers = 1;\nworkers = 2;\n", 2,
	    "syntax error: duplicate setting name");
}
END_TEST

/* libconfig 1.5 would read 4294967297 as 1 without complaint. */
START_TEST(integer_too_large_for_libconfig_is_error)
{
	expect_error("root = \".\";\n# 4294967297 in a comment is fine\n"
	    "s = \"4294967297\";\nrcvbuf = 4294967297;\n", 4,
	    "syntax error: integer 4294967297 does not fit in 32 bits");
	expect_error("\nworkers = 0x100000001;\n", 2,
	    "syntax error: integer 0x100000001 does not fit in 32 bits");
	/* a 64-bit literal is range-checked like any other */
	expect_error("root = \".\";\nrcvbuf = 4294967297L;\n", 2,
	    "rcvbuf: must be between 0 and 268435456");
}
END_TEST

START_TEST(relative_root_resolved_against_config_dir)
{
	char	want[256], cwd[PATH_MAX];

	make_dir("demo-root");
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(load("root = \"demo-root\";\n"), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	snprintf(want, sizeof(want), "%s/demo-root", tmpdir);
	ck_assert_str_eq(conf.root, want);
}
END_TEST

START_TEST(relative_stats_paths_resolved_against_config_dir)
{
	char	want[256];

	ck_assert_int_eq(load("root = \".\";\nstats = { path = \"run/s\"; "
	    "file = \"t.prom\"; };\npid_file = \"p.pid\";\n"), 0);
	snprintf(want, sizeof(want), "%s/run/s", tmpdir);
	ck_assert_str_eq(conf.stats.path, want);
	snprintf(want, sizeof(want), "%s/t.prom", tmpdir);
	ck_assert_str_eq(conf.stats.file, want);
	snprintf(want, sizeof(want), "%s/p.pid", tmpdir);
	ck_assert_str_eq(conf.pid_file, want);
}
END_TEST

/* stats.file alone rewrites it every 15 s; interval = 0 keeps USR1 only. */
START_TEST(stats_file_interval_defaults_to_15)
{
	ck_assert_int_eq(load("root = \".\";\nstats = { file = \"t.prom\"; };\n"),
	    0);
	ck_assert_uint_eq(conf.stats.interval_s, 15);
	conf_free(&conf);
	memset(&conf, 0, sizeof(conf));
	ck_assert_int_eq(load("root = \".\";\nstats = { file = \"t.prom\"; "
	    "interval = 0; };\n"), 0);
	ck_assert_uint_eq(conf.stats.interval_s, 0);
	conf_free(&conf);
	memset(&conf, 0, sizeof(conf));
	ck_assert_int_eq(load("root = \".\";\nstats = { interval = 7; "
	    "file = \"t.prom\"; };\n"), 0);
	ck_assert_uint_eq(conf.stats.interval_s, 7);
	conf_free(&conf);
	memset(&conf, 0, sizeof(conf));
	ck_assert_int_eq(load("root = \".\";\nstats = { path = \"s\"; };\n"),
	    0);
	ck_assert_uint_eq(conf.stats.interval_s, 0);
}
END_TEST

START_TEST(missing_root_dir)
{
	char	msg[512];

	snprintf(msg, sizeof(msg), "root: %s/nope: No such file or directory",
	    tmpdir);
	expect_error("\nroot = \"nope\";\n", 2, msg);
}
END_TEST

START_TEST(root_not_a_directory)
{
	char	msg[512];

	write_file("file", "x");
	snprintf(msg, sizeof(msg), "root: %s/file: Not a directory", tmpdir);
	expect_error("root = \"file\";\n", 1, msg);
}
END_TEST

START_TEST(missing_config_file)
{
	snprintf(cfgpath, sizeof(cfgpath), "%s/absent.conf", tmpdir);
	ck_assert_int_eq(conf_load(&conf, cfgpath, errbuf, sizeof(errbuf)),
	    -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "absent.conf: No such file"));
	ck_assert_ptr_null(conf.root);
}
END_TEST

START_TEST(bad_address)
{
	expect_error("root = \".\";\nlisten = (\n { address = \"10.0.0.256\"; }"
	    "\n);\n", 3, "listen[0].address: \"10.0.0.256\" is not a numeric "
	    "IPv4 or IPv6 address");
	expect_error("root = \".\";\nlisten = ( { address = \"localhost\"; } );"
	    "\n", 2, "listen[0].address: \"localhost\" is not a numeric IPv4 "
	    "or IPv6 address");
	expect_error("root = \".\";\nlisten = ( { port = 69; } );\n", 2,
	    "listen[0].address: missing");
}
END_TEST

START_TEST(ipv6_address_fills_sockaddr_in6)
{
	const struct sockaddr_in6	*sin6;
	struct in6_addr			 want;

	ck_assert_int_eq(load("root = \".\";\nlisten = ( { address = "
	    "\"2001:db8::7\"; port = 1069; } );\n"), 0);
	ck_assert_uint_eq(conf.n_listen, 1);
	sin6 = (const struct sockaddr_in6 *)&conf.listen[0].ss;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 1069);
	ck_assert_int_eq(conf.listen[0].sslen, sizeof(struct sockaddr_in6));
	inet_pton(AF_INET6, "2001:db8::7", &want);
	ck_assert_mem_eq(&sin6->sin6_addr, &want, sizeof(want));
}
END_TEST

START_TEST(ipv4_address_fills_sockaddr_in)
{
	const struct sockaddr_in	*sin;

	ck_assert_int_eq(load("root = \".\";\nlisten = ( { address = "
	    "\"192.0.2.5\"; } );\n"), 0);
	sin = (const struct sockaddr_in *)&conf.listen[0].ss;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 69);
	ck_assert_int_eq(conf.listen[0].sslen, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xc0000205);
}
END_TEST

START_TEST(listen_count_and_duplicates)
{
	char	text[2048];
	size_t	n;
	int	i;

	expect_error("root = \".\";\nlisten = ( );\n", 2,
	    "listen: must have between 1 and 16 entries");
	n = (size_t)snprintf(text, sizeof(text), "root = \".\";\nlisten = (");
	for (i = 0; i <= CONF_MAX_LISTEN; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "%s{ address = \"127.0.0.1\"; port = %d; }", i ? ", " : "",
		    1000 + i);
	snprintf(text + n, sizeof(text) - n, ");\n");
	expect_error(text, 2, "listen: must have between 1 and 16 entries");
	expect_error("root = \".\";\nlisten = ( { address = \"::1\"; },\n"
	    "{ address = \"0:0::1\"; port = 69; } );\n", 3,
	    "listen[1]: same address and port as listen[0]");
}
END_TEST

START_TEST(port_override_changes_every_listen_entry)
{
	unsigned	i;

	ck_assert_int_eq(load("root = \".\";\nlisten = (\n"
	    "{ address = \"127.0.0.1\"; port = 1; },\n"
	    "{ address = \"::1\"; port = 2; },\n"
	    "{ address = \"127.0.0.2\"; } );\n"), 0);
	ck_assert_int_eq(conf_set_port(&conf, "6969", errbuf,
	    sizeof(errbuf)), 0);
	ck_assert_uint_eq(conf.n_listen, 3);
	for (i = 0; i < conf.n_listen; i++) {
		ck_assert_uint_eq(conf.listen[i].port, 6969);
		ck_assert_uint_eq(listen_port(&conf.listen[i]), 6969);
	}
}
END_TEST

START_TEST(port_override_rejects_bad_values)
{
	ck_assert_int_eq(load("root = \".\";\n"), 0);
	ck_assert_int_eq(conf_set_port(&conf, "0", errbuf, sizeof(errbuf)),
	    -1);
	ck_assert_str_eq(errbuf, "port: \"0\": must be a number between 1 "
	    "and 65535");
	ck_assert_int_eq(conf_set_port(&conf, "65536", errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_int_eq(conf_set_port(&conf, "69x", errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_uint_eq(listen_port(&conf.listen[0]), 69);
}
END_TEST

START_TEST(workers_zero_resolves_to_cpus)
{
	ck_assert_int_eq(load("root = \".\";\nworkers = 0;\n"), 0);
	ck_assert_uint_ge(conf.workers, 1);
	ck_assert_uint_le(conf.workers, 256);
	ck_assert_int_eq(conf_set_workers(&conf, "5", errbuf,
	    sizeof(errbuf)), 0);
	ck_assert_uint_eq(conf.workers, 5);
	ck_assert_int_eq(conf_set_workers(&conf, "0", errbuf,
	    sizeof(errbuf)), 0);
	ck_assert_uint_ge(conf.workers, 1);
	ck_assert_int_eq(conf_set_workers(&conf, "257", errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, "workers: \"257\": must be a number between "
	    "0 and 256");
}
END_TEST

START_TEST(root_override_relative_to_cwd)
{
	char	cwd[PATH_MAX], want[256];

	make_dir("other");
	ck_assert_int_eq(load("root = \".\";\n"), 0);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(tmpdir), 0);
	ck_assert_int_eq(conf_set_root(&conf, "other", errbuf,
	    sizeof(errbuf)), 0);
	ck_assert_int_eq(conf_set_root(&conf, "missing", errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_str_eq(errbuf, "root: missing: No such file or directory");
	snprintf(want, sizeof(want), "%s/other", tmpdir);
	ck_assert_str_eq(conf.root, want);
}
END_TEST

START_TEST(port_range_must_be_a_pair)
{
	expect_error("root = \".\";\nsession = {\n port_min = 3000; };\n", 3,
	    "session.port_min: must be set together with session.port_max");
	expect_error("root = \".\";\nsession = { port_max = 3000; };\n", 2,
	    "session.port_max: must be set together with session.port_min");
	expect_error("root = \".\";\nsession = { port_min = 0; port_max = 9; "
	    "};\n", 2, "session.port_min: must be at least 1 (or both 0 to "
	    "let the kernel choose)");
}
END_TEST

START_TEST(port_range_must_be_ordered)
{
	expect_error("root = \".\";\nsession = { port_min = 3000;\n"
	    "port_max = 2999; };\n", 3, "session.port_max: must not be below "
	    "session.port_min (3000)");
	ck_assert_int_eq(load("root = \".\";\nsession = { port_min = 3000; "
	    "port_max = 3000; };\n"), 0);
	ck_assert_uint_eq(conf.session.port_min, 3000);
	ck_assert_uint_eq(conf.session.port_max, 3000);
}
END_TEST

START_TEST(timeout_max_not_below_timeout)
{
	expect_error("root = \".\";\nsession = { timeout_ms = 3000;\n"
	    "timeout_max_ms = 2000; };\n", 3, "session.timeout_max_ms: must "
	    "not be below session.timeout_ms (3000)");
	expect_error("root = \".\";\nsession = { timeout_ms = 9000; };\n", 2,
	    "session.timeout_max_ms: must not be below session.timeout_ms "
	    "(9000)");
}
END_TEST

START_TEST(unknown_user)
{
	expect_error("root = \".\";\nuser = \"no-such-user-ptftpd\";\n", 2,
	    "user: unknown user \"no-such-user-ptftpd\"");
}
END_TEST

START_TEST(unknown_group)
{
	expect_error("root = \".\";\n\ngroup = \"no-such-group-ptftpd\";\n", 3,
	    "group: unknown group \"no-such-group-ptftpd\"");
}
END_TEST

static const struct {
	const char	*name;
	int		 level;
} level_cases[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

START_TEST(log_level_names)
{
	char	text[128];

	snprintf(text, sizeof(text), "root = \".\";\nlog = { level = \"%s\"; "
	    "};\n", level_cases[_i].name);
	ck_assert_int_eq(load(text), 0);
	ck_assert_int_eq(conf.log.level, level_cases[_i].level);
}
END_TEST

START_TEST(log_bad_names)
{
	expect_error("root = \".\";\nlog = { level = \"warn\"; };\n", 2,
	    "log.level: must be \"error\", \"warning\", \"notice\", \"info\" "
	    "or \"debug\", not \"warn\"");
	expect_error("root = \".\";\nlog = { target = \"file\"; };\n", 2,
	    "log.target: must be \"stderr\" or \"syslog\", not \"file\"");
	expect_error("root = \".\";\nlog = { format = \"json\"; };\n", 2,
	    "log.format: must be \"kv\", not \"json\"");
	expect_error("root = \".\";\nlog = { facility = \"local8\"; };\n", 2,
	    "log.facility: must be \"daemon\", \"local0\", \"local1\", "
	    "\"local2\", \"local3\", \"local4\", \"local5\", \"local6\" or "
	    "\"local7\", not \"local8\"");
}
END_TEST

START_TEST(conf_free_twice_is_safe)
{
	struct conf	z;

	memset(&z, 0, sizeof(z));
	conf_free(&z);
	ck_assert_int_eq(load("root = \".\";\n"), 0);
	conf_free(&conf);
	ck_assert_ptr_null(conf.root);
	conf_free(&conf);
}
END_TEST

/* A reload-style second load into a fresh struct leaves the first intact. */
START_TEST(conf_defaults_then_free)
{
	struct conf	d;

	conf_defaults(&d);
	ck_assert_str_eq(d.root, "/srv/tftp");
	ck_assert_uint_ge(d.workers, 1);
	conf_free(&d);
	conf_free(&d);
}
END_TEST

START_TEST(policy_absent_by_default)
{
	ck_assert_int_eq(load("root = \".\";\n"), 0);
	ck_assert_ptr_null(conf.rewrite);
	ck_assert_uint_eq(conf.n_rewrite, 0);
	ck_assert_ptr_null(conf.routes);
	ck_assert_uint_eq(conf.n_routes, 0);
	ck_assert_ptr_null(conf.acl.rules);
	ck_assert_uint_eq(conf.acl.n_rules, 0);
	ck_assert_int_eq(conf.acl_silent, 0);
}
END_TEST

/* The example of the task that added these settings, /bin/sh for gen. */
static const char policy_example[] =
    "root = \".\";\n"
    "rewrite = ( { match = \"\\\\\\\\\"; replace = \"/\"; global = true; },\n"
    "  { match = \"^/?boot/(.*)$\"; replace = \"efi/\\\\1\";\n"
    "    client = \"10.1.0.0/16\"; last = true; icase = true; } );\n"
    "routes = (\n"
    "  { prefix = \"pxelinux.cfg/\"; handler = \"template\";\n"
    "    template = \"tmpl/pxelinux.tmpl\"; hosts = \"hosts.conf\"; },\n"
    "  { prefix = \"gen/\"; handler = \"exec\";\n"
    "    command = [ \"/bin/sh\", \"--fast\" ]; timeout_ms = 2000;\n"
    "    max_bytes = 1048576; max_concurrent = 4; },\n"
    "  { prefix = \"mod/\"; handler = \"module\";\n"
    "    module = \"@MODULE@\"; args = \"a=1\"; },\n"
    "  { prefix = \"uploads/\"; handler = \"file\"; root = \"up\";\n"
    "    acl = ( { allow = \"10.5.0.0/16\"; } );\n"
    "    write = { create = true; overwrite = false; max_bytes = 16777216;\n"
    "              mode = 0640; }; },\n"
    "  { regex = \"^hosts/([^/]+)/(.*)$\"; } );\n"
    "acl = ( { allow = \"10.0.0.0/8\"; }, { allow = \"fd00::/8\"; },\n"
    "        { deny = \"0.0.0.0/0\"; } );\n"
    "acl_action = \"silent\";\n";

START_TEST(policy_example_loads)
{
	const struct conf_route	*r;
	char			 want[256];
	int			 rc;

	make_dir("up");
	rc = load(policy_example);
	ck_assert_msg(rc == 0, "%s", errbuf);
	ck_assert_uint_eq(conf.n_rewrite, 2);
	ck_assert_str_eq(conf.rewrite[0].match, "\\\\");
	ck_assert_str_eq(conf.rewrite[0].replace, "/");
	ck_assert(conf.rewrite[0].global && conf.rewrite[0].compiled);
	ck_assert(!conf.rewrite[0].icase && !conf.rewrite[0].last);
	ck_assert(!conf.rewrite[0].has_client);
	ck_assert_str_eq(conf.rewrite[1].replace, "efi/\\1");
	ck_assert(conf.rewrite[1].last && conf.rewrite[1].icase);
	ck_assert(!conf.rewrite[1].global);
	ck_assert(conf.rewrite[1].has_client);
	ck_assert_int_eq(conf.rewrite[1].client.family, AF_INET);
	ck_assert_uint_eq(conf.rewrite[1].client.prefix_len, 16);
	ck_assert_uint_eq(conf.rewrite[1].re.re_nsub, 1);

	ck_assert_uint_eq(conf.n_routes, 5);
	r = &conf.routes[0];
	ck_assert_int_eq(r->handler, CONF_HANDLER_TEMPLATE);
	ck_assert_str_eq(r->prefix, "pxelinux.cfg/");
	ck_assert_ptr_null(r->regex);
	ck_assert_str_eq(r->template.path, "tmpl/pxelinux.tmpl");
	ck_assert_str_eq(r->template.hosts, "hosts.conf");
	ck_assert_ptr_null(r->root);
	ck_assert_uint_eq(r->acl.n_rules, 0);
	ck_assert_uint_eq(r->line, 6);
	r = &conf.routes[1];
	ck_assert_int_eq(r->handler, CONF_HANDLER_EXEC);
	ck_assert_uint_eq(r->exec.argc, 2);
	ck_assert_str_eq(r->exec.argv[0], "/bin/sh");
	ck_assert_str_eq(r->exec.argv[1], "--fast");
	ck_assert_ptr_null(r->exec.argv[2]);
	ck_assert_uint_eq(r->exec.timeout_ms, 2000);
	ck_assert_uint_eq(r->exec.max_bytes, 1048576);
	ck_assert_uint_eq(r->exec.max_concurrent, 4);
	r = &conf.routes[2];
	ck_assert_int_eq(r->handler, CONF_HANDLER_MODULE);
	ck_assert_str_eq(r->module.path, unit_example_module());
	ck_assert_str_eq(r->module.args, "a=1");
	r = &conf.routes[3];
	ck_assert_int_eq(r->handler, CONF_HANDLER_FILE);
	snprintf(want, sizeof(want), "%s/up", tmpdir);
	ck_assert_str_eq(r->root, want);
	ck_assert_uint_eq(r->acl.n_rules, 1);
	ck_assert(r->acl.rules[0].allow);
	ck_assert(r->write.enabled && r->write.create && !r->write.overwrite);
	ck_assert_uint_eq(r->write.max_bytes, 16777216);
	ck_assert_uint_eq(r->write.mode, 0640);
	ck_assert_ptr_null(r->write.owner);
	ck_assert_ptr_null(r->write.group);
	r = &conf.routes[4];
	ck_assert_int_eq(r->handler, CONF_HANDLER_FILE);
	ck_assert_ptr_null(r->prefix);
	ck_assert_str_eq(r->regex, "^hosts/([^/]+)/(.*)$");
	ck_assert(r->compiled);
	ck_assert_uint_eq(r->re.re_nsub, 2);
	ck_assert(!r->write.enabled);

	ck_assert_uint_eq(conf.acl.n_rules, 3);
	ck_assert(conf.acl.rules[0].allow && conf.acl.rules[1].allow);
	ck_assert(!conf.acl.rules[2].allow);
	ck_assert_int_eq(conf.acl.rules[1].net.family, AF_INET6);
	ck_assert_uint_eq(conf.acl.rules[1].net.prefix_len, 8);
	ck_assert_uint_eq(conf.acl.rules[1].net.addr[0], 0xfd);
	ck_assert_uint_eq(conf.acl.rules[2].net.prefix_len, 0);
	ck_assert_int_eq(conf.acl_silent, 1);
}
END_TEST

START_TEST(route_handler_defaults)
{
	int	rc;

	rc = load("root = \".\";\nroutes = ( { prefix = \"gen/\"; handler = "
	    "\"exec\"; command = [ \"/bin/sh\" ]; },\n{ prefix = \"u/\"; "
	    "write = { }; },\n{ prefix = \"m/\"; handler = \"module\"; "
	    "module = \"@MODULE@\"; } );\nacl_action = \"error\";\n");
	ck_assert_msg(rc == 0, "%s", errbuf);
	ck_assert_uint_eq(conf.routes[0].exec.argc, 1);
	ck_assert_uint_eq(conf.routes[0].exec.timeout_ms, 5000);
	ck_assert_uint_eq(conf.routes[0].exec.max_bytes, 16777216);
	ck_assert_uint_eq(conf.routes[0].exec.max_concurrent, 16);
	ck_assert(!conf.routes[0].write.enabled);
	ck_assert(conf.routes[1].write.enabled);
	ck_assert(!conf.routes[1].write.create);
	ck_assert(!conf.routes[1].write.overwrite);
	ck_assert_uint_eq(conf.routes[1].write.max_bytes, 16777216);
	ck_assert_uint_eq(conf.routes[1].write.mode, 0644);
	ck_assert_ptr_null(conf.routes[1].write.owner);
	ck_assert_ptr_null(conf.routes[1].write.group);
	/* the module path is kept as written, with where it was set */
	ck_assert_str_eq(conf.routes[2].module.path, unit_example_module());
	ck_assert_str_eq(conf.routes[2].module.file, cfgpath);
	ck_assert_uint_eq(conf.routes[2].module.line, 4);
	ck_assert_ptr_null(conf.routes[2].module.args);
	ck_assert_int_eq(conf.acl_silent, 0);
}
END_TEST

/* Config is data: a module that does not exist (or is no module) loads
 * as a path; refusing it is module_set_load's job, in the supervisor. */
START_TEST(module_route_is_data)
{
	int	rc;

	rc = load("root = \".\";\nroutes = (\n { prefix = \"m/\"; handler = "
	    "\"module\";\n   module = \"/nonexistent/x.so\"; args = \"k=v\"; "
	    "} );\n");
	ck_assert_msg(rc == 0, "%s", errbuf);
	ck_assert_uint_eq(conf.n_routes, 1);
	ck_assert_int_eq(conf.routes[0].handler, CONF_HANDLER_MODULE);
	ck_assert_str_eq(conf.routes[0].module.path, "/nonexistent/x.so");
	ck_assert_str_eq(conf.routes[0].module.args, "k=v");
	ck_assert_str_eq(conf.routes[0].module.file, cfgpath);
	ck_assert_uint_eq(conf.routes[0].module.line, 4);
}
END_TEST

/* libconfig reads 0640 as 640: the digits are taken as octal. */
static const struct {
	const char	*value;
	unsigned	 mode;
} mode_cases[] = {
	{ "0640", 0640 }, { "640", 0640 }, { "0x1a0", 0640 }, { "0", 0 },
	{ "777", 0777 }, { "0600", 0600 }, { "0x1ff", 0777 },
};

START_TEST(write_mode_is_octal)
{
	char	text[256];
	int	rc;

	snprintf(text, sizeof(text), "root = \".\";\nroutes = ( { prefix = "
	    "\"u/\"; write = { mode = %s; }; } );\n", mode_cases[_i].value);
	rc = load(text);
	ck_assert_msg(rc == 0, "%s", errbuf);
	ck_assert_uint_eq(conf.routes[0].write.mode, mode_cases[_i].mode);
}
END_TEST

/* Each text follows "root = \".\";\n"; the error is at line. */
static const struct {
	const char	*text;
	int		 line;
	const char	*msg;
} policy_cases[] = {
	/* rewrite */
	{ "rewrite = { match = \"a\"; };", 2, "rewrite: must be a list "
	    "( { match = ...; replace = ...; }, ... )" },
	{ "rewrite = ( \"a\" );", 2, "rewrite[0]: must be a group "
	    "{ match = ...; replace = ...; }" },
	{ "rewrite = (\n { replace = \"x\"; } );", 3,
	    "rewrite[0].match: missing" },
	{ "rewrite = ( { match = \"a\"; replace = \"b\"; },\n"
	    "  { match = \"a\"; } );", 3, "rewrite[1].replace: missing" },
	{ "rewrite = ( { match = \"a\"; replace = \"b\";\n flags = \"g\"; } );",
	    3, "rewrite[0].flags: unknown setting" },
	{ "rewrite = ( { match = \"\"; replace = \"b\"; } );", 2,
	    "rewrite[0].match: must not be empty" },
	{ "rewrite = ( { match = \"(\"; replace = \"b\"; } );", 2,
	    "rewrite[0].match: invalid regular expression: Unmatched ( or "
	    "\\(" },
	{ "rewrite = ( { match = \"(a)\\\\1\"; replace = \"b\"; } );", 2,
	    "rewrite[0].match: back-references (\\1) are not supported" },
	{ "rewrite = ( { match = \"a{256}\"; replace = \"b\"; } );", 2,
	    "rewrite[0].match: repetition count above 255" },
	{ "rewrite = ( { match = \"(.{0,255}){5}\"; replace = \"b\"; } );", 2,
	    "rewrite[0].match: too complex: more than 1024 atoms once "
	    "repetition counts are multiplied out" },
	{ "rewrite = ( { match = \"(a)\"; replace = \"\\\\2\"; } );", 2,
	    "rewrite[0].replace: \\2: the match has only 1 group" },
	{ "rewrite = ( { match = \"a\"; replace = \"\\\\1\"; } );", 2,
	    "rewrite[0].replace: \\1: the match has no groups" },
	{ "rewrite = ( { match = \"a\"; replace = \"\\\\n\"; } );", 2,
	    "rewrite[0].replace: unknown escape \\n (only \\0..\\9 and \\\\)" },
	{ "rewrite = ( { match = \"a\"; replace = \"x\\\\\"; } );", 2,
	    "rewrite[0].replace: ends with a lone backslash" },
	{ "rewrite = ( { match = \"a\"; replace = \"b\"; global = 1; } );", 2,
	    "rewrite[0].global: must be true or false" },
	{ "rewrite = ( { match = \"a\"; replace = \"b\"; icase = \"yes\"; } );",
	    2, "rewrite[0].icase: must be true or false" },
	{ "rewrite = ( { match = \"a\"; replace = \"b\";\n"
	    "  client = \"10.0.0.0/33\"; } );", 3, "rewrite[0].client: "
	    "\"10.0.0.0/33\" is not an address or address/length" },
	{ "rewrite = ( { match = \"a\"; replace = \"b\";\n"
	    "  client = \"rack1\"; } );", 3, "rewrite[0].client: "
	    "\"rack1\" is not an address or address/length" },
	{ "rewrite = ( { match = \"a\"; replace = \"b\";\n"
	    "  client = \"10.1.2.3/8\"; } );", 3, "rewrite[0].client: "
	    "\"10.1.2.3/8\" has host bits set (the block is 10.0.0.0/8)" },
	{ "rewrite = ( { match = \"a\"; replace = \"b\";\n"
	    "  client = \"fd00::1/8\"; } );", 3, "rewrite[0].client: "
	    "\"fd00::1/8\" has host bits set (the block is fd00::/8)" },
	/* acl, acl_action */
	{ "acl = { allow = \"10.0.0.0/8\"; };", 2,
	    "acl: must be a list ( { allow = ...; }, ... )" },
	{ "acl = ( );", 2, "acl: must have between 1 and 1024 entries" },
	{ "acl = ( \"10.0.0.0/8\" );", 2,
	    "acl[0]: must be a group { allow = ...; } or { deny = ...; }" },
	{ "acl = ( { allow = \"10.0.0.0/8\"; },\n  { } );", 3,
	    "acl[1]: must set allow or deny" },
	{ "acl = ( { allow = \"10.0.0.0/8\";\n deny = \"0.0.0.0/0\"; } );", 3,
	    "acl[0].deny: allow and deny are exclusive" },
	{ "acl = ( { permit = \"10.0.0.0/8\"; } );", 2,
	    "acl[0].permit: unknown setting" },
	{ "acl = ( { deny = \"10.0.0.0/8/8\"; } );", 2,
	    "acl[0].deny: \"10.0.0.0/8/8\" is not an address or "
	    "address/length" },
	{ "acl = ( { allow = \"::1/129\"; } );", 2,
	    "acl[0].allow: \"::1/129\" is not an address or address/length" },
	{ "acl_action = \"drop\";", 2,
	    "acl_action: must be \"error\" or \"silent\", not \"drop\"" },
	{ "acl_action = 1;", 2, "acl_action: must be a string" },
	/* routes: shared settings */
	{ "routes = { prefix = \"a/\"; };", 2, "routes: must be a list "
	    "( { prefix = ...; handler = ...; }, ... )" },
	{ "routes = ( \"a/\" );", 2,
	    "routes[0]: must be a group { prefix = ...; }" },
	{ "routes = (\n { handler = \"file\"; } );", 3,
	    "routes[0]: must set prefix or regex" },
	{ "routes = ( { prefix = \"a/\";\n regex = \"^b\"; } );", 3,
	    "routes[0].regex: prefix and regex are exclusive" },
	{ "routes = ( { prefix = \"/a/\"; } );", 2,
	    "routes[0].prefix: must not start with \"/\" (names are matched "
	    "without their leading slashes)" },
	{ "routes = ( { prefix = \"a/\"; },\n { prefix = \"\"; } );", 3,
	    "routes[1].prefix: must not be empty" },
	{ "routes = ( { regex = \"[a\"; } );", 2, "routes[0].regex: invalid "
	    "regular expression: Unmatched [, [^, [:, [., or [=" },
	{ "routes = ( { regex = \"(x)\\\\1\"; } );", 2,
	    "routes[0].regex: back-references (\\1) are not supported" },
	{ "routes = ( { prefix = \"a/\";\n foo = 1; } );", 3,
	    "routes[0].foo: unknown setting" },
	{ "routes = ( { prefix = \"a/\"; handler = \"cgi\"; } );", 2,
	    "routes[0].handler: must be \"file\", \"template\", \"exec\" or "
	    "\"module\", not \"cgi\"" },
	{ "routes = ( { prefix = \"a/\";\n command = [ \"/bin/sh\" ]; } );", 3,
	    "routes[0].command: only for handler \"exec\", not \"file\"" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = [ \"/bin/sh\" ]; write = { }; } );", 3,
	    "routes[0].write: only for handler \"file\", not \"exec\"" },
	{ "routes = ( { prefix = \"a/\"; handler = \"module\";\n"
	    "  module = \"x.so\"; template = \"t\"; } );", 3,
	    "routes[0].template: only for handler \"template\", not "
	    "\"module\"" },
	{ "routes = ( { prefix = \"a/\"; handler = \"template\";\n"
	    "  template = \"t\"; timeout_ms = 200; } );", 3,
	    "routes[0].timeout_ms: only for handler \"exec\", not "
	    "\"template\"" },
	{ "routes = ( { prefix = \"a/\"; args = \"x\"; } );", 2,
	    "routes[0].args: only for handler \"module\", not \"file\"" },
	{ "routes = ( { prefix = \"a/\"; acl = ( { } ); } );", 2,
	    "routes[0].acl[0]: must set allow or deny" },
	{ "routes = ( { prefix = \"a/\";\n acl = ( ); } );", 3,
	    "routes[0].acl: must have between 1 and 1024 entries" },
	/* template */
	{ "routes = (\n { prefix = \"a/\"; handler = \"template\"; } );", 3,
	    "routes[0].template: missing (handler \"template\" needs it)" },
	{ "routes = ( { prefix = \"a/\"; handler = \"template\";\n"
	    "  template = \"../t\"; } );", 3, "routes[0].template: must be "
	    "relative to the root, without \"..\"" },
	{ "routes = ( { prefix = \"a/\"; handler = \"template\";\n"
	    "  template = \"t/../../t\"; } );", 3, "routes[0].template: must "
	    "be relative to the root, without \"..\"" },
	{ "routes = ( { prefix = \"a/\"; handler = \"template\";\n"
	    "  template = \"t\"; hosts = \"/etc/hosts\"; } );", 3,
	    "routes[0].hosts: must be relative to the root, without \"..\"" },
	/* exec */
	{ "routes = (\n { prefix = \"a/\"; handler = \"exec\"; } );", 3,
	    "routes[0].command: missing (handler \"exec\" needs it)" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = [ ]; } );", 3, "routes[0].command: must have between "
	    "1 and 256 elements" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = \"/bin/sh\"; } );", 3, "routes[0].command: must be an "
	    "array [ \"/program\", \"argument\", ... ]" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = [ \"gen\" ]; } );", 3,
	    "routes[0].command[0]: must be an absolute path" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = [ \"/nonexistent/gen\" ]; } );", 3,
	    "routes[0].command[0]: /nonexistent/gen: No such file or "
	    "directory" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = [ \"/etc/passwd\" ]; } );", 3,
	    "routes[0].command[0]: /etc/passwd: not an executable file" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = ( \"/bin/sh\", 5 ); } );", 3,
	    "routes[0].command[1]: must be a string" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = [ \"/bin/sh\" ]; timeout_ms = 99; } );", 3,
	    "routes[0].timeout_ms: must be between 100 and 600000" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = [ \"/bin/sh\" ]; timeout_ms = 600001; } );", 3,
	    "routes[0].timeout_ms: must be between 100 and 600000" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = [ \"/bin/sh\" ]; max_bytes = 0; } );", 3,
	    "routes[0].max_bytes: must be between 1 and 1073741824" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = [ \"/bin/sh\" ]; max_bytes = 1073741825; } );", 3,
	    "routes[0].max_bytes: must be between 1 and 1073741824" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = [ \"/bin/sh\" ]; max_concurrent = 0; } );", 3,
	    "routes[0].max_concurrent: must be between 1 and 1024" },
	{ "routes = ( { prefix = \"a/\"; handler = \"exec\";\n"
	    "  command = [ \"/bin/sh\" ]; max_concurrent = 1025; } );", 3,
	    "routes[0].max_concurrent: must be between 1 and 1024" },
	/* module */
	{ "routes = (\n { prefix = \"a/\"; handler = \"module\"; } );", 3,
	    "routes[0].module: missing (handler \"module\" needs it)" },
	{ "routes = ( { prefix = \"a/\"; handler = \"module\";\n"
	    "  module = \"x.so\"; args = 5; } );", 3,
	    "routes[0].args: must be a string" },
	/* file: write */
	{ "routes = ( { prefix = \"a/\";\n write = ( ); } );", 3,
	    "routes[0].write: must be a group { ... }" },
	{ "routes = ( { prefix = \"a/\"; write = {\n append = true; }; } );", 3,
	    "routes[0].write.append: unknown setting" },
	{ "routes = ( { prefix = \"a/\"; write = {\n create = 1; }; } );", 3,
	    "routes[0].write.create: must be true or false" },
	{ "routes = ( { prefix = \"a/\"; write = {\n overwrite = \"no\"; }; } );",
	    3, "routes[0].write.overwrite: must be true or false" },
	{ "routes = ( { prefix = \"a/\"; write = {\n max_bytes = 0; }; } );", 3,
	    "routes[0].write.max_bytes: must be between 1 and 68719476736" },
	{ "routes = ( { prefix = \"a/\"; write = {\n mode = 0800; }; } );", 3,
	    "routes[0].write.mode: must be octal digits such as 0644" },
	{ "routes = ( { prefix = \"a/\"; write = {\n mode = 01000; }; } );", 3,
	    "routes[0].write.mode: must be at most 0777" },
	{ "routes = ( { prefix = \"a/\"; write = {\n mode = 0x200; }; } );", 3,
	    "routes[0].write.mode: must be at most 0777" },
	{ "routes = ( { prefix = \"a/\"; write = {\n mode = -1; }; } );", 3,
	    "routes[0].write.mode: must be at most 0777" },
	{ "routes = ( { prefix = \"a/\"; write = {\n mode = \"0644\"; }; } );",
	    3, "routes[0].write.mode: must be an integer such as 0644" },
	{ "routes = ( { prefix = \"a/\"; write = {\n"
	    "  owner = \"nobody\"; }; } );", 3,
	    "routes[0].write.owner: not supported: uploaded files belong to "
	    "the workers' user and group (set \"user\" and \"group\")" },
	{ "routes = ( { prefix = \"a/\"; write = {\n"
	    "  group = \"root\"; }; } );", 3,
	    "routes[0].write.group: not supported: uploaded files belong to "
	    "the workers' user and group (set \"user\" and \"group\")" },
};

START_TEST(policy_error_names_file_line_setting)
{
	char	text[1024];

	snprintf(text, sizeof(text), "root = \".\";\n%s\n",
	    policy_cases[_i].text);
	expect_error(text, policy_cases[_i].line, policy_cases[_i].msg);
}
END_TEST

START_TEST(policy_list_lengths)
{
	char	text[16384];
	size_t	n;
	int	i;

	n = (size_t)snprintf(text, sizeof(text), "root = \".\";\nrewrite = (");
	for (i = 0; i <= CONF_MAX_REWRITE; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "%s{ match = \"a\"; replace = \"b\"; }", i ? ", " : "");
	snprintf(text + n, sizeof(text) - n, ");\n");
	expect_error(text, 2, "rewrite: must have at most 64 entries");

	n = (size_t)snprintf(text, sizeof(text), "root = \".\";\nroutes = (");
	for (i = 0; i <= CONF_MAX_ROUTES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "%s{ prefix = \"p%d/\"; }", i ? ", " : "", i);
	snprintf(text + n, sizeof(text) - n, ");\n");
	expect_error(text, 2, "routes: must have at most 256 entries");

	/* empty rewrite and routes lists are fine (all commented out) */
	ck_assert_int_eq(load("root = \".\";\nrewrite = ( );\nroutes = ( );\n"),
	    0);
	ck_assert_uint_eq(conf.n_rewrite, 0);
	ck_assert_uint_eq(conf.n_routes, 0);
}
END_TEST

START_TEST(route_root_must_exist)
{
	char	msg[512];

	snprintf(msg, sizeof(msg), "routes[0].root: %s/nope: No such file or "
	    "directory", tmpdir);
	expect_error("root = \".\";\nroutes = ( { prefix = \"a/\";\n"
	    "  root = \"nope\"; } );\n", 3, msg);
	write_file("file", "x");
	snprintf(msg, sizeof(msg), "routes[0].root: %s/file: Not a directory",
	    tmpdir);
	expect_error("root = \".\";\nroutes = ( { prefix = \"a/\"; root = "
	    "\"file\"; } );\n", 2, msg);
}
END_TEST

START_TEST(route_root_absolute)
{
	int	rc;

	rc = load("root = \".\";\nroutes = ( { prefix = \"a/\"; root = "
	    "\"/\"; } );\n");
	ck_assert_msg(rc == 0, "%s", errbuf);
	ck_assert_str_eq(conf.routes[0].root, "/");
}
END_TEST

/* An error in a later entry frees what the earlier ones compiled. */
START_TEST(failed_policy_load_leaves_nothing)
{
	expect_error("root = \".\";\nrewrite = ( { match = \"(a)\"; replace = "
	    "\"\\\\1\"; },\n { match = \"(\"; replace = \"\"; } );\n", 3,
	    "rewrite[1].match: invalid regular expression: Unmatched ( or "
	    "\\(");
	ck_assert_ptr_null(conf.rewrite);
	ck_assert_uint_eq(conf.n_rewrite, 0);
	expect_error("root = \".\";\nroutes = ( { regex = \"^(a)\"; acl = ( { "
	    "allow = \"::/0\"; } ); },\n { prefix = \"b\"; handler = \"exec\"; "
	    "command = [ \"/bin/sh\", \"-c\" ];\n max_bytes = 0; } );\n", 4,
	    "routes[1].max_bytes: must be between 1 and 1073741824");
	ck_assert_ptr_null(conf.routes);
	ck_assert_uint_eq(conf.n_routes, 0);
	expect_error("root = \".\";\nacl = ( { allow = \"::/0\"; },\n"
	    " { allow = \"x\"; } );\n", 3,
	    "acl[1].allow: \"x\" is not an address or address/length");
	ck_assert_ptr_null(conf.acl.rules);
}
END_TEST

static const struct {
	const char	*pattern;
	const char	*msg;		/* NULL: compiles */
} regex_cases[] = {
	{ "^/?boot/(.*)$", NULL },
	{ "\\\\", NULL },
	{ "^pxelinux\\.cfg/01-([0-9a-f]{2}(-[0-9a-f]{2}){5})$", NULL },
	{ "[\\1]", NULL },		/* a bracket: backslash and 1 */
	{ "\\\\1", NULL },		/* an escaped backslash, then 1 */
	{ "[]a]{255}", NULL },
	{ "a{,3}b{2,}", NULL },
	{ "(.{0,32}){32}", NULL },	/* exactly 1024 */
	{ "[[:alpha:]]{4}", NULL },
	{ "(a)\\1", "back-references (\\1) are not supported" },
	{ "(((((((((a)))))))))\\9", "back-references (\\9) are not "
	    "supported" },
	{ "a{256}", "repetition count above 255" },
	{ "a{1,99999999999999999999}", "repetition count above 255" },
	{ "(.{0,32}){33}", "too complex: more than 1024 atoms once "
	    "repetition counts are multiplied out" },
	{ "((a{16}){16}){16}", "too complex: more than 1024 atoms once "
	    "repetition counts are multiplied out" },
	{ "(((((((((a+)+)+)+)+)+)+)+)+)+", NULL },	/* 1024 copies */
	{ "((((((((((a+)+)+)+)+)+)+)+)+)+)+", "too complex: more than 1024 "
	    "atoms once repetition counts are multiplied out" },
	{ "a**", "repetition operator right after another one (as in a** "
	    "or .*?)" },
	{ "^.*?x", "repetition operator right after another one (as in a** "
	    "or .*?)" },
	{ "a{2}{3}", "repetition operator right after another one (as in "
	    "a** or .*?)" },
	{ "a*b*c+d?", NULL },
	{ "(", "invalid regular expression: Unmatched ( or \\(" },
	{ "a{2,1}", "invalid regular expression: Invalid content of \\{\\}" },
	{ "x{", "invalid regular expression: Unmatched \\{" },
};

START_TEST(regex_compile_limits)
{
	regex_t	re;
	char	msg[192];
	int	rc;

	msg[0] = '\0';
	rc = conf_regex_compile(&re, regex_cases[_i].pattern, false, msg,
	    sizeof(msg));
	if (regex_cases[_i].msg == NULL) {
		ck_assert_msg(rc == 0, "%s: %s", regex_cases[_i].pattern, msg);
		regfree(&re);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(msg, regex_cases[_i].msg);
	}
}
END_TEST

START_TEST(regex_compile_length_and_depth)
{
	regex_t	re;
	char	pat[CONF_REGEX_MAX + 2], msg[192];
	int	i;

	memset(pat, 'a', CONF_REGEX_MAX);
	pat[CONF_REGEX_MAX] = '\0';
	ck_assert_int_eq(conf_regex_compile(&re, pat, false, msg,
	    sizeof(msg)), 0);
	regfree(&re);
	pat[CONF_REGEX_MAX] = 'a';
	pat[CONF_REGEX_MAX + 1] = '\0';
	ck_assert_int_eq(conf_regex_compile(&re, pat, false, msg,
	    sizeof(msg)), -1);
	ck_assert_str_eq(msg, "longer than 512 characters");
	for (i = 0; i < 33; i++) {
		pat[i] = '(';
		pat[33 + i] = ')';
	}
	pat[66] = '\0';
	ck_assert_int_eq(conf_regex_compile(&re, pat, false, msg,
	    sizeof(msg)), -1);
	ck_assert_str_eq(msg, "groups nested deeper than 32");
	ck_assert_int_eq(conf_regex_compile(&re, pat + 1, false, msg,
	    sizeof(msg)), 0);
	regfree(&re);
}
END_TEST

/* etc/ files, found from the source tree (make runs tests from there). */
static const char *
src_path(const char *rel)
{
	static char	path[512];
	const char	*top = getenv("PTFTPD_SRCDIR");

	snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : ".", rel);
	return path;
}

/* The shipped sample loads; only its root may be missing here. */
START_TEST(sample_config_loads)
{
	FILE	*in, *out;
	char	 line[512];
	int	 rc, roots = 0;

	in = fopen(src_path("etc/ptftpd.conf"), "r");
	ck_assert_msg(in != NULL, "etc/ptftpd.conf: %s (set PTFTPD_SRCDIR)",
	    strerror(errno));
	snprintf(cfgpath, sizeof(cfgpath), "%s/ptftpd.conf", tmpdir);
	out = fopen(cfgpath, "w");
	ck_assert_ptr_nonnull(out);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, "root = ", 7) == 0) {
			fputs("root = \".\";\n", out);
			roots++;
		} else {
			fputs(line, out);
		}
	}
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_int_eq(roots, 1);
	rc = conf_load(&conf, cfgpath, errbuf, sizeof(errbuf));
	ck_assert_msg(rc == 0, "%s", errbuf);
	ck_assert_uint_eq(conf.session.blksize_max, 1468);
	ck_assert_uint_eq(conf.n_listen, 2);
}
END_TEST

START_TEST(dev_config_loads)
{
	char	want[256];
	int	rc;

	rc = conf_load(&conf, src_path("etc/ptftpd.dev.conf"), errbuf,
	    sizeof(errbuf));
	ck_assert_msg(rc == 0, "%s", errbuf);
	ck_assert_uint_eq(conf.workers, 2);
	ck_assert_uint_eq(conf.listen[0].port, 6969);
	ck_assert_int_eq(conf.log.target, LOG_TARGET_STDERR);
	snprintf(want, sizeof(want), "/etc/demo-root");
	ck_assert_uint_gt(strlen(conf.root), strlen(want));
	ck_assert_str_eq(conf.root + strlen(conf.root) - strlen(want), want);
}
END_TEST

/* limits: the defaults never hurt a booting rack; global bucket off. */
START_TEST(limits_defaults)
{
	ck_assert_int_eq(load("root = \".\";\n"), 0);
	ck_assert_uint_eq(conf.limits.rate_per_client_milli, 50000);
	ck_assert_uint_eq(conf.limits.burst_per_client, 200);
	ck_assert_uint_eq(conf.limits.rate_global_milli, 0);
	ck_assert_uint_eq(conf.limits.burst_global, 0);
	ck_assert_uint_eq(conf.limits.n_rules, 0);
}
END_TEST

START_TEST(limits_full_group_loads)
{
	int	rc;

	rc = load("root = \".\";\n"
	    "limits = {\n"
	    "  rate_per_client = 20.5;\n"
	    "  burst_per_client = 40;\n"
	    "  rate_global = 1000;\n"
	    "  burst_global = 3000;\n"
	    "  per_client = ( { client = \"10.20.0.0/16\"; max = 2000; },\n"
	    "                 { client = \"fd00::/8\"; max = 1; },\n"
	    "                 { client = \"::ffff:192.0.2.0/120\"; max = 7; } );\n"
	    "};\n");
	ck_assert_msg(rc == 0, "%s", errbuf);
	ck_assert_uint_eq(conf.limits.rate_per_client_milli, 20500);
	ck_assert_uint_eq(conf.limits.burst_per_client, 40);
	ck_assert_uint_eq(conf.limits.rate_global_milli, 1000000);
	ck_assert_uint_eq(conf.limits.burst_global, 3000);
	ck_assert_uint_eq(conf.limits.n_rules, 3);
	ck_assert_int_eq(conf.limits.rules[0].client.family, AF_INET);
	ck_assert_uint_eq(conf.limits.rules[0].client.prefix_len, 16);
	ck_assert_uint_eq(conf.limits.rules[0].client.addr[0], 10);
	ck_assert_uint_eq(conf.limits.rules[0].client.addr[1], 20);
	ck_assert_uint_eq(conf.limits.rules[0].max, 2000);
	ck_assert_int_eq(conf.limits.rules[1].client.family, AF_INET6);
	ck_assert_uint_eq(conf.limits.rules[1].client.prefix_len, 8);
	ck_assert_uint_eq(conf.limits.rules[1].max, 1);
	/* a mapped block is an IPv4 one */
	ck_assert_int_eq(conf.limits.rules[2].client.family, AF_INET);
	ck_assert_uint_eq(conf.limits.rules[2].client.prefix_len, 24);
	ck_assert_uint_eq(conf.limits.rules[2].max, 7);
}
END_TEST

/* Partial groups keep the other defaults; 0 turns a bucket off. */
START_TEST(limits_partial_and_off)
{
	int	rc;

	rc = load("root = \".\";\nlimits = { rate_per_client = 0; "
	    "burst_per_client = 0; };\n");
	ck_assert_msg(rc == 0, "%s", errbuf);
	ck_assert_uint_eq(conf.limits.rate_per_client_milli, 0);
	ck_assert_uint_eq(conf.limits.burst_per_client, 0);
	conf_free(&conf);
	rc = load("root = \".\";\nlimits = { rate_per_client = 0.001; "
	    "rate_global = 100000.0; burst_global = 1; per_client = (); };\n");
	ck_assert_msg(rc == 0, "%s", errbuf);
	ck_assert_uint_eq(conf.limits.rate_per_client_milli, 1);
	ck_assert_uint_eq(conf.limits.burst_per_client, 200);
	ck_assert_uint_eq(conf.limits.rate_global_milli, 100000000);
	ck_assert_uint_eq(conf.limits.n_rules, 0);
	conf_free(&conf);
	rc = load("root = \".\";\nlimits = { burst_per_client = 5; };\n");
	ck_assert_msg(rc == 0, "%s", errbuf);
	ck_assert_uint_eq(conf.limits.rate_per_client_milli, 50000);
	ck_assert_uint_eq(conf.limits.burst_per_client, 5);
}
END_TEST

static const struct {
	const char	*text;
	int		 line;
	const char	*msg;
} limits_cases[] = {
	{ "limits = 5;", 2, "limits: must be a group { ... }" },
	{ "limits = {\n rate = 5; };", 3, "limits.rate: unknown setting" },
	{ "limits = { rate_per_client = 100001; };", 2,
	    "limits.rate_per_client: must be between 0 and 100000" },
	{ "limits = {\n\n rate_per_client = 100000.5; };", 4,
	    "limits.rate_per_client: must be between 0 and 100000" },
	{ "limits = { rate_per_client = -1; };", 2,
	    "limits.rate_per_client: must be between 0 and 100000" },
	{ "limits = { rate_global = -0.5; burst_global = 1; };", 2,
	    "limits.rate_global: must be between 0 and 100000" },
	{ "limits = { rate_per_client = 0.0004; };", 2,
	    "limits.rate_per_client: must be 0 (off) or at least 0.001" },
	{ "limits = { rate_per_client = \"20\"; };", 2,
	    "limits.rate_per_client: must be a number (transfers per second)" },
	{ "limits = { rate_global = true; };", 2,
	    "limits.rate_global: must be a number (transfers per second)" },
	{ "limits = { burst_per_client = 2.0; };", 2,
	    "limits.burst_per_client: must be an integer" },
	{ "limits = { burst_per_client = 1000001; };", 2,
	    "limits.burst_per_client: must be between 0 and 1000000" },
	{ "limits = {\n rate_per_client = 5;\n burst_per_client = 0; };", 4,
	    "limits.burst_per_client: must be at least 1 when "
	    "limits.rate_per_client is not 0" },
	{ "limits = {\n rate_global = 5; };", 3,
	    "limits.rate_global: needs limits.burst_global (at least 1)" },
	{ "limits = { rate_global = 5;\n burst_global = 0; };", 3,
	    "limits.burst_global: must be at least 1 when "
	    "limits.rate_global is not 0" },
	{ "limits = { burst_global = -1; };", 2,
	    "limits.burst_global: must be between 0 and 1000000" },
	/* per_client */
	{ "limits = { per_client = { client = \"10.0.0.0/8\"; }; };", 2,
	    "limits.per_client: must be a list ( { client = ...; max = ...; }, "
	    "... )" },
	{ "limits = { per_client = ( \"10.0.0.0/8\" ); };", 2,
	    "limits.per_client[0]: must be a group { client = ...; max = "
	    "...; }" },
	{ "limits = { per_client = (\n { max = 5; } ); };", 3,
	    "limits.per_client[0].client: missing" },
	{ "limits = { per_client = ( { client = \"::1\"; max = 1; },\n"
	    " { client = \"10.0.0.0/8\"; } ); };", 3,
	    "limits.per_client[1].max: missing" },
	{ "limits = { per_client = ( { client = \"10.0.0.0/8\";\n"
	    " max = 0; } ); };", 3,
	    "limits.per_client[0].max: must be between 1 and 1000000" },
	{ "limits = { per_client = ( { client = \"10.0.0.0/8\";\n"
	    " max = 1000001; } ); };", 3,
	    "limits.per_client[0].max: must be between 1 and 1000000" },
	{ "limits = { per_client = ( { client = \"10.0.0.0/8\"; max = 1;\n"
	    " burst = 3; } ); };", 3,
	    "limits.per_client[0].burst: unknown setting" },
	{ "limits = { per_client = (\n { client = \"10.1.2.3/16\"; "
	    "max = 1; } ); };", 3, "limits.per_client[0].client: "
	    "\"10.1.2.3/16\" has host bits set (the block is 10.1.0.0/16)" },
	{ "limits = { per_client = ( { client = \"rack7\"; max = 1; } ); };",
	    2, "limits.per_client[0].client: \"rack7\" is not an address or "
	    "address/length" },
	{ "limits = { per_client = ( { client = \"10.0.0.0/33\"; max = 1; } "
	    "); };", 2, "limits.per_client[0].client: \"10.0.0.0/33\" is not "
	    "an address or address/length" },
	{ "limits = { per_client = ( { client = \"fd00::/129\"; max = 1; } "
	    "); };", 2, "limits.per_client[0].client: \"fd00::/129\" is not "
	    "an address or address/length" },
	{ "limits = { per_client = ( { client = \"\"; max = 1; } ); };", 2,
	    "limits.per_client[0].client: must not be empty" },
	{ "limits = { per_client = ( { client = 10; max = 1; } ); };", 2,
	    "limits.per_client[0].client: must be a string" },
};

START_TEST(limits_error_names_file_line_setting)
{
	char	text[1024];

	snprintf(text, sizeof(text), "root = \".\";\n%s\n",
	    limits_cases[_i].text);
	expect_error(text, limits_cases[_i].line, limits_cases[_i].msg);
}
END_TEST

/* At most CONF_MAX_LIMIT_RULES (16, limit.h's LIMIT_RULES_MAX) rules. */
START_TEST(limits_too_many_rules)
{
	char	text[4096];
	size_t	n;
	int	i;

	n = (size_t)snprintf(text, sizeof(text), "root = \".\";\nlimits = {\n"
	    "  per_client = (");
	for (i = 0; i < CONF_MAX_LIMIT_RULES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "%s{ client = \"10.%d.0.0/16\"; max = %d; }", i ? ", " : "",
		    i, i + 1);
	snprintf(text + n, sizeof(text) - n, "); };\n");
	ck_assert_msg(load(text) == 0, "%s", errbuf);
	ck_assert_uint_eq(conf.limits.n_rules, CONF_MAX_LIMIT_RULES);
	ck_assert_uint_eq(conf.limits.rules[15].max, 16);
	ck_assert_uint_eq(conf.limits.rules[15].client.addr[1], 15);
	conf_free(&conf);

	n = (size_t)snprintf(text, sizeof(text), "root = \".\";\nlimits = {\n"
	    "  per_client = (");
	for (i = 0; i <= CONF_MAX_LIMIT_RULES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "%s{ client = \"10.%d.0.0/16\"; max = 1; }", i ? ", " : "",
		    i);
	snprintf(text + n, sizeof(text) - n, "); };\n");
	expect_error(text, 3, "limits.per_client: must have at most 16 "
	    "entries");
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("load");
	int	 n;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_when_only_root_set);
	tcase_add_test(tc, empty_file_uses_default_root);
	tcase_add_test(tc, full_valid_file);
	n = (int)(sizeof(range_cases) / sizeof(range_cases[0]));
	tcase_add_loop_test(tc, range_error_names_file_line_setting, 0, n);
	tcase_add_test(tc, unknown_top_level_setting);
	tcase_add_test(tc, unknown_setting_in_session);
	tcase_add_test(tc, unknown_setting_in_listen_entry);
	tcase_add_test(tc, unknown_setting_in_log_and_stats);
	n = (int)(sizeof(type_cases) / sizeof(type_cases[0]));
	tcase_add_loop_test(tc, wrong_type_is_error, 0, n);
	tcase_add_test(tc, empty_string_is_error);
	tcase_add_test(tc, syntax_error_reports_file_and_line);
	tcase_add_test(tc, integer_too_large_for_libconfig_is_error);
	tcase_add_test(tc, relative_root_resolved_against_config_dir);
	tcase_add_test(tc, relative_stats_paths_resolved_against_config_dir);
	tcase_add_test(tc, stats_file_interval_defaults_to_15);
	tcase_add_test(tc, missing_root_dir);
	tcase_add_test(tc, root_not_a_directory);
	tcase_add_test(tc, missing_config_file);
	tcase_add_test(tc, bad_address);
	tcase_add_test(tc, ipv6_address_fills_sockaddr_in6);
	tcase_add_test(tc, ipv4_address_fills_sockaddr_in);
	tcase_add_test(tc, listen_count_and_duplicates);
	tcase_add_test(tc, port_override_changes_every_listen_entry);
	tcase_add_test(tc, port_override_rejects_bad_values);
	tcase_add_test(tc, workers_zero_resolves_to_cpus);
	tcase_add_test(tc, root_override_relative_to_cwd);
	tcase_add_test(tc, port_range_must_be_a_pair);
	tcase_add_test(tc, port_range_must_be_ordered);
	tcase_add_test(tc, timeout_max_not_below_timeout);
	tcase_add_test(tc, unknown_user);
	tcase_add_test(tc, unknown_group);
	n = (int)(sizeof(level_cases) / sizeof(level_cases[0]));
	tcase_add_loop_test(tc, log_level_names, 0, n);
	tcase_add_test(tc, log_bad_names);
	tcase_add_test(tc, conf_free_twice_is_safe);
	tcase_add_test(tc, conf_defaults_then_free);
	tcase_add_test(tc, policy_absent_by_default);
	tcase_add_test(tc, policy_example_loads);
	tcase_add_test(tc, route_handler_defaults);
	tcase_add_test(tc, module_route_is_data);
	n = (int)(sizeof(mode_cases) / sizeof(mode_cases[0]));
	tcase_add_loop_test(tc, write_mode_is_octal, 0, n);
	n = (int)(sizeof(policy_cases) / sizeof(policy_cases[0]));
	tcase_add_loop_test(tc, policy_error_names_file_line_setting, 0, n);
	tcase_add_test(tc, policy_list_lengths);
	tcase_add_test(tc, route_root_must_exist);
	tcase_add_test(tc, route_root_absolute);
	tcase_add_test(tc, failed_policy_load_leaves_nothing);
	n = (int)(sizeof(regex_cases) / sizeof(regex_cases[0]));
	tcase_add_loop_test(tc, regex_compile_limits, 0, n);
	tcase_add_test(tc, regex_compile_length_and_depth);
	tcase_add_test(tc, sample_config_loads);
	tcase_add_test(tc, dev_config_loads);
	tcase_add_test(tc, limits_defaults);
	tcase_add_test(tc, limits_full_group_loads);
	tcase_add_test(tc, limits_partial_and_off);
	n = (int)(sizeof(limits_cases) / sizeof(limits_cases[0]));
	tcase_add_loop_test(tc, limits_error_names_file_line_setting, 0, n);
	tcase_add_test(tc, limits_too_many_rules);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(conf_suite());
}
