/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_tmpl.c - unit tests for tmpl.c: every template variable, the hosts
 * table (by address, by MAC, its syntax), the "$${" escape, pxelinux MAC
 * parsing, the per-worker cache seeing changed files, confinement beneath
 * the root and the size bounds. Each test renders from files in a fresh
 * mkdtemp root, removed by the fixture.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "conf.h"
#include "fs.h"
#include "route.h"
#include "tftp.h"
#include "tmpl.h"
#include "testutil.h"

static char			 base[64];	/* per test case */
static char			 root[96];	/* per test */
static struct tmpl_ctx		*ctx;
static struct sockaddr_storage	 client, server;
static struct conf_template	 tpl;
static char			*out;		/* last render, NUL-terminated */
static uint64_t			 out_size;
static const char		*errmsg;

static void
base_setup(void)
{
	unit_tmpdir(base, sizeof base, "/tmp", "check_tmpl");
}

static void
base_teardown(void)
{
	unit_rmtree(base);
}

static void
setup(void)
{
	unit_tmpdir(root, sizeof root, base, "root");
	ctx = tmpl_new();
	ck_assert_ptr_nonnull(ctx);
	unit_addr(&client, "10.1.2.3", 2011);
	unit_addr(&server, "10.0.0.1", 69);
	memset(&tpl, 0, sizeof tpl);
	tpl.path = "t.tmpl";
	out = NULL;
	out_size = 0;
	errmsg = NULL;
}

static void
teardown(void)
{
	tmpl_free(ctx);
	free(out);
}

/* Write rel beneath the root in place (O_TRUNC: the same inode). */
static void
put(const char *rel, const char *data)
{
	(void)unit_write(root, rel, data, strlen(data));
}

/* Publish rel by rename, as operators should: a new inode. */
static void
put_rename(const char *rel, const char *data)
{
	char	tmp[256], path[256];

	put(".tmp", data);
	snprintf(tmp, sizeof tmp, "%s/.tmp", root);
	snprintf(path, sizeof path, "%s/%s", root, rel);
	ck_assert_int_eq(rename(tmp, path), 0);
}

/*
 * Render for file name with optional captures m, as seen on the address
 * srv (NULL: unknown); keeps the output in out.
 */
static int
render_q(const char *file, const struct route_match *m,
    const struct sockaddr_storage *srv)
{
	struct tmpl_req	 q;
	uint8_t		*data = NULL;
	int		 rc;

	free(out);
	out = NULL;
	memset(&q, 0, sizeof q);
	q.root = root;
	q.t = &tpl;
	q.file = file;
	q.client = &client;
	q.server = srv;
	q.m = m;
	rc = tmpl_render(ctx, &q, &data, &out_size, &errmsg);
	if (rc != 0) {
		ck_assert_ptr_null(data);
		ck_assert_ptr_nonnull(errmsg);
		return rc;
	}
	ck_assert(out_size == 0 ? data == NULL : data != NULL);
	out = malloc(out_size + 1);
	ck_assert_ptr_nonnull(out);
	if (out_size > 0)
		memcpy(out, data, out_size);
	out[out_size] = '\0';
	free(data);
	return 0;
}

static int
render_m(const char *file, const struct route_match *m)
{
	return render_q(file, m, &server);
}

static int
render(const char *file)
{
	return render_m(file, NULL);
}

/* Render and compare the whole output, size included (tsize). */
static void
expect(const char *file, const char *want)
{
	ck_assert_int_eq(render(file), 0);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(out_size, strlen(want));
}

START_TEST(variables_client_server_file)
{
	put("t.tmpl", "ip=${client_ip} port=${client_port} srv=${server_ip} "
	    "file=${file}\n");
	expect("boot/pxelinux.0",
	    "ip=10.1.2.3 port=2011 srv=10.0.0.1 file=boot/pxelinux.0\n");
}
END_TEST

START_TEST(variables_ipv6_and_mapped)
{
	put("t.tmpl", "${client_ip}|${client_port}|${server_ip}");
	unit_addr(&client, "fd00::1:2", 4000);
	unit_addr(&server, "fd00::9", 69);
	expect("x", "fd00::1:2|4000|fd00::9");
	/* An IPv4 client on a dual-stack socket is shown as IPv4. */
	unit_addr(&client, "::ffff:192.0.2.7", 5);
	expect("x", "192.0.2.7|5|fd00::9");
}
END_TEST

START_TEST(variable_server_unknown_is_empty)
{
	put("t.tmpl", "[${server_ip}]");
	ck_assert_int_eq(render_q("x", NULL, NULL), 0);
	ck_assert_uint_eq(out_size, 2);
	ck_assert_str_eq(out, "[]");
}
END_TEST

START_TEST(variable_mac_from_name)
{
	put("t.tmpl", "mac=${mac};");
	expect("pxelinux.cfg/01-AA-BB-CC-DD-EE-0F", "mac=aa:bb:cc:dd:ee:0f;");
	expect("grub.cfg-01:aa:bb:cc:dd:ee:ff", "mac=aa:bb:cc:dd:ee:ff;");
	expect("pxelinux.cfg/default", "mac=;");
}
END_TEST

START_TEST(variables_match1_to_match9)
{
	struct route_match	m;
	unsigned		i;

	memset(&m, 0, sizeof m);
	m.name = "x";
	m.n_capture = 9;
	for (i = 1; i <= 9; i++)
		snprintf(m.capture[i], sizeof m.capture[i], "c%u", i);
	put("t.tmpl", "${match1}${match2}${match3}${match4}${match5}"
	    "${match6}${match7}${match8}${match9}|${match0}${match10}");
	ck_assert_int_eq(render_m("x", &m), 0);
	ck_assert_str_eq(out, "c1c2c3c4c5c6c7c8c9|");
	m.n_capture = 1;
	m.capture[2][0] = '\0';
	put("t.tmpl", "<${match1}><${match2}>");
	ck_assert_int_eq(render_m("x", &m), 0);
	ck_assert_str_eq(out, "<c1><>");
	/* No route match at all: empty. */
	expect("x", "<><>");
}
END_TEST

START_TEST(host_lookup_by_ip)
{
	put("t.tmpl", "${host.hostname}/${host.role}/${host.missing}");
	put("hosts", "10.1.2.3 hostname=node3 role=compute\n"
	    "10.1.2.4 hostname=node4 role=storage\n");
	tpl.hosts = "hosts";
	expect("x", "node3/compute/");
	unit_addr(&client, "10.1.2.4", 1);
	expect("x", "node4/storage/");
	unit_addr(&client, "10.9.9.9", 1);
	expect("x", "//");
}
END_TEST

START_TEST(host_lookup_by_ipv6_and_mapped)
{
	put("t.tmpl", "${host.name}");
	put("hosts", "fd00::1 name=six\n::ffff:10.7.7.7 name=mapped\n"
	    "10.8.8.8 name=four\n");
	tpl.hosts = "hosts";
	unit_addr(&client, "fd00:0::1", 1);
	expect("x", "six");
	unit_addr(&client, "10.7.7.7", 1);
	expect("x", "mapped");
	unit_addr(&client, "::ffff:10.8.8.8", 1);
	expect("x", "four");
}
END_TEST

START_TEST(host_lookup_by_mac)
{
	put("t.tmpl", "${host.hostname} ${host.append}");
	put("hosts", "AA-BB-CC-DD-EE-FF hostname=m1 "
	    "append=\"console=ttyS0,115200 quiet\"\n"
	    "11:22:33:44:55:66 hostname=m2 append=none\n");
	tpl.hosts = "hosts";
	expect("pxelinux.cfg/01-aa-bb-cc-dd-ee-ff",
	    "m1 console=ttyS0,115200 quiet");
	expect("pxelinux.cfg/01-11-22-33-44-55-66", "m2 none");
	expect("pxelinux.cfg/01-11-22-33-44-55-67", " ");
	expect("pxelinux.cfg/default", " ");
}
END_TEST

START_TEST(host_ip_wins_over_mac)
{
	put("t.tmpl", "${host.who}");
	put("hosts", "aa:bb:cc:dd:ee:ff who=bymac\n10.1.2.3 who=byip\n");
	tpl.hosts = "hosts";
	expect("pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", "byip");
	unit_addr(&client, "10.1.2.99", 1);
	expect("pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", "bymac");
}
END_TEST

START_TEST(hosts_syntax)
{
	put("t.tmpl", "${host.a}|${host.b}|${host.c}|${host.d}|${host.e}");
	put("hosts",
	    "# a comment\n"
	    "\n"
	    "   \t\n"
	    "not-an-address a=bad\n"
	    "10.1.2.3\ta=1  junk b=\"two words\" c=x#y # d=comment\r\n"
	    "10.1.2.3 a=second-line-loses e=no\n");
	tpl.hosts = "hosts";
	expect("x", "1|two words|x#y||");
	put("hosts", "10.1.2.3 a=\"q\\\"uote\\\\\" b=\"unterminated\n");
	expect("x", "q\"uote\\||||");
	put("hosts", "10.1.2.3");	/* no newline, no pairs */
	expect("x", "||||");
}
END_TEST

START_TEST(unknown_variable_is_empty)
{
	put("t.tmpl", "a${nope}b${}c${host.x}d${ client_ip }e");
	expect("x", "abcde");
}
END_TEST

START_TEST(dollar_escape)
{
	put("t.tmpl", "$${client_ip} ${client_ip} $$ $x ${unclosed\n"
	    "$${ $");
	expect("x", "${client_ip} 10.1.2.3 $$ $x ${unclosed\n${ $");
}
END_TEST

START_TEST(empty_template_is_empty_body)
{
	put("t.tmpl", "");
	expect("x", "");
	ck_assert_ptr_nonnull(out);
}
END_TEST

/* In-place edit of the same size: only the mtime tells. */
static void
set_mtime(const char *rel, time_t t)
{
	struct timespec	ts[2] = { { t, 0 }, { t, 0 } };
	char		path[256];

	snprintf(path, sizeof path, "%s/%s", root, rel);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

START_TEST(template_change_reread)
{
	put("t.tmpl", "one ${client_ip}");
	set_mtime("t.tmpl", 1000000);
	expect("x", "one 10.1.2.3");
	expect("x", "one 10.1.2.3");	/* cached */
	put("t.tmpl", "two ${client_ip}");	/* same size, same mtime */
	set_mtime("t.tmpl", 1000000);
	expect("x", "one 10.1.2.3");	/* identity unchanged: the cache */
	set_mtime("t.tmpl", 1000001);
	expect("x", "two 10.1.2.3");
	put_rename("t.tmpl", "three ${file}");
	expect("y", "three y");
	put("t.tmpl", "four, longer ${file}");
	set_mtime("t.tmpl", 1000001);	/* the size differs */
	expect("z", "four, longer z");
}
END_TEST

START_TEST(hosts_change_reread)
{
	char	path[256];

	put("t.tmpl", "${host.v}");
	put("hosts", "10.1.2.3 v=old\n");
	tpl.hosts = "hosts";
	expect("x", "old");
	put_rename("hosts", "10.1.2.3 v=new\n");
	expect("x", "new");
	snprintf(path, sizeof path, "%s/hosts", root);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(render("x"), TFTP_ENOTFOUND);
}
END_TEST

START_TEST(two_roots_two_caches)
{
	char	other[128];

	put("t.tmpl", "root one");
	expect("x", "root one");
	snprintf(other, sizeof other, "%s/sub", root);
	ck_assert_int_eq(mkdir(other, 0755), 0);
	put("sub/t.tmpl", "root two");
	ck_assert_int_eq(tmpl_open_root(ctx, other), 0);
	{
		struct tmpl_req	 q = { .root = other, .t = &tpl, .file = "x",
		    .client = &client };
		uint8_t		*data = NULL;

		ck_assert_int_eq(tmpl_render(ctx, &q, &data, &out_size,
		    &errmsg), 0);
		ck_assert_uint_eq(out_size, 8);
		ck_assert_int_eq(memcmp(data, "root two", 8), 0);
		free(data);
	}
	expect("x", "root one");
}
END_TEST

START_TEST(missing_template_not_found)
{
	ck_assert_int_eq(render("x"), TFTP_ENOTFOUND);
	put("t.tmpl", "x");
	tpl.hosts = "no-such-hosts";
	ck_assert_int_eq(render("x"), TFTP_ENOTFOUND);
}
END_TEST

START_TEST(escape_refused)
{
	char	link[256];

	put("t.tmpl", "inside");
	tpl.path = "../x";
	ck_assert_int_eq(render("x"), TFTP_EACCESS);
	tpl.path = "/etc/passwd";
	ck_assert_int_eq(render("x"), TFTP_EACCESS);
	snprintf(link, sizeof link, "%s/out", root);
	ck_assert_int_eq(symlink("/etc/passwd", link), 0);
	tpl.path = "out";
	ck_assert_int_eq(render("x"), TFTP_EACCESS);
	snprintf(link, sizeof link, "%s/dir", root);
	ck_assert_int_eq(mkdir(link, 0755), 0);
	tpl.path = "dir";
	ck_assert_int_eq(render("x"), TFTP_EACCESS);
	tpl.path = "t.tmpl";
	tpl.hosts = "../hosts";
	ck_assert_int_eq(render("x"), TFTP_EACCESS);
	tpl.hosts = NULL;
	expect("x", "inside");
}
END_TEST

START_TEST(oversize_output_refused)
{
	size_t	 vlen = 1u << 20, i;
	char	*hosts;

	/* A 1 MiB value used 5 times: 5 MiB > TMPL_OUTPUT_MAX. */
	hosts = malloc(vlen + 32);
	ck_assert_ptr_nonnull(hosts);
	i = (size_t)sprintf(hosts, "10.1.2.3 big=");
	memset(hosts + i, 'x', vlen);
	hosts[i + vlen] = '\0';
	put("hosts", hosts);
	free(hosts);
	tpl.hosts = "hosts";
	put("t.tmpl", "${host.big}${host.big}${host.big}${host.big}");
	ck_assert_int_eq(render("x"), 0);
	ck_assert_uint_eq(out_size, 4 * vlen);	/* exactly the cap: fine */
	put("t.tmpl", "${host.big}${host.big}${host.big}${host.big}!");
	ck_assert_int_eq(render("x"), TFTP_ENOSPACE);
	put("t.tmpl", "${host.big}${host.big}${host.big}${host.big}"
	    "${host.big}");
	ck_assert_int_eq(render("x"), TFTP_ENOSPACE);
	ck_assert_str_eq(errmsg, "Output too large");
}
END_TEST

START_TEST(oversize_files_refused)
{
	char	*t;
	char	 path[256];
	int	 fd;

	t = malloc(TMPL_TEMPLATE_MAX + 1);
	ck_assert_ptr_nonnull(t);
	memset(t, 'a', TMPL_TEMPLATE_MAX + 1);
	(void)unit_write(root, "t.tmpl", t, TMPL_TEMPLATE_MAX + 1);
	ck_assert_int_eq(render("x"), TFTP_ENOSPACE);
	(void)unit_write(root, "t.tmpl", t, TMPL_TEMPLATE_MAX);
	ck_assert_int_eq(render("x"), 0);
	ck_assert_uint_eq(out_size, TMPL_TEMPLATE_MAX);
	free(t);
	snprintf(path, sizeof path, "%s/hosts", root);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(ftruncate(fd, (off_t)TMPL_HOSTS_MAX + 1), 0);
	close(fd);
	tpl.hosts = "hosts";
	put("t.tmpl", "x");
	ck_assert_int_eq(render("x"), TFTP_ENOSPACE);
	ck_assert_str_eq(errmsg, "Hosts file too large");
}
END_TEST

START_TEST(many_hosts_found)
{
	size_t	 n = 20000, i, cap = n * 40, len = 0;
	char	*h, want[32];

	h = malloc(cap);
	ck_assert_ptr_nonnull(h);
	/* Descending order: the table is sorted after parsing. */
	for (i = n; i-- > 0;)
		len += (size_t)snprintf(h + len, cap - len,
		    "10.%zu.%zu.%zu n=%zu\n", i >> 16, (i >> 8) & 255,
		    i & 255, i);
	(void)unit_write(root, "hosts", h, len);
	free(h);
	tpl.hosts = "hosts";
	put("t.tmpl", "${host.n}");
	for (i = 0; i < n; i += 997) {
		char	ip[32];

		snprintf(ip, sizeof ip, "10.%zu.%zu.%zu", i >> 16,
		    (i >> 8) & 255, i & 255);
		unit_addr(&client, ip, 1);
		snprintf(want, sizeof want, "%zu", i);
		expect("x", want);
	}
}
END_TEST

static Suite *
tmpl_suite(void)
{
	Suite	*s = suite_create("tmpl");
	TCase	*tc;

	tc = tcase_create("render");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, variables_client_server_file);
	tcase_add_test(tc, variables_ipv6_and_mapped);
	tcase_add_test(tc, variable_server_unknown_is_empty);
	tcase_add_test(tc, variable_mac_from_name);
	tcase_add_test(tc, variables_match1_to_match9);
	tcase_add_test(tc, host_lookup_by_ip);
	tcase_add_test(tc, host_lookup_by_ipv6_and_mapped);
	tcase_add_test(tc, host_lookup_by_mac);
	tcase_add_test(tc, host_ip_wins_over_mac);
	tcase_add_test(tc, hosts_syntax);
	tcase_add_test(tc, unknown_variable_is_empty);
	tcase_add_test(tc, dollar_escape);
	tcase_add_test(tc, empty_template_is_empty_body);
	tcase_add_test(tc, template_change_reread);
	tcase_add_test(tc, hosts_change_reread);
	tcase_add_test(tc, two_roots_two_caches);
	tcase_add_test(tc, missing_template_not_found);
	tcase_add_test(tc, escape_refused);
	tcase_add_test(tc, oversize_output_refused);
	tcase_add_test(tc, oversize_files_refused);
	tcase_add_test(tc, many_hosts_found);
	suite_add_tcase(s, tc);

	tc = tcase_create("mac");
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(tmpl_suite());
}
