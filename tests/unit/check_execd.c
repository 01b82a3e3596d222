/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_execd.c - unit tests for execd.c: a real spawner per test, forked
 * from the test process, running real programs. Routes are built by hand
 * (the config syntax is check_conf's business, one test goes through
 * conf_load to show the two fit); /bin/sh -c scripts stand in for site
 * programs, since argv is whatever the route says. Every wait is bounded,
 * and /proc tells whether a killed program left anything behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "conf.h"
#include "execd.h"
#include "testutil.h"

#define NROUTES		4

static struct conf		conf;
static struct conf_route	routes[NROUTES];
static char			*argvs[NROUTES][8];
static struct execd		ex = { -1, -1 };
static char			tmpdir[128];

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
setup(void)
{
	memset(&conf, 0, sizeof(conf));
	memset(routes, 0, sizeof(routes));
	memset(argvs, 0, sizeof(argvs));
	conf.routes = routes;
	conf.n_routes = NROUTES;
	unit_tmpdir(tmpdir, sizeof(tmpdir), "/tmp", "check_execd");
}

static void
teardown(void)
{
	execd_stop(&ex);
	unit_rmtree(tmpdir);
}

/* Route i runs argv (at most 7 strings, NULL-terminated). */
static void
route_argv(unsigned i, const char *const *argv, uint32_t timeout_ms,
    uint32_t max_bytes, uint32_t max_concurrent)
{
	unsigned	n;

	for (n = 0; argv[n] != NULL && n < 7; n++)
		argvs[i][n] = (char *)(uintptr_t)argv[n];
	argvs[i][n] = NULL;
	routes[i].handler = CONF_HANDLER_EXEC;
	routes[i].exec.argv = argvs[i];
	routes[i].exec.argc = n;
	routes[i].exec.timeout_ms = timeout_ms;
	routes[i].exec.max_bytes = max_bytes;
	routes[i].exec.max_concurrent = max_concurrent;
}

/* Route i runs /bin/sh -c script. */
static void
route_sh(unsigned i, const char *script, uint32_t timeout_ms,
    uint32_t max_bytes, uint32_t max_concurrent)
{
	const char	*argv[] = { "/bin/sh", "-c", script, NULL };

	route_argv(i, argv, timeout_ms, max_bytes, max_concurrent);
}

static void
start(void)
{
	ck_assert_int_eq(execd_start(&ex, &conf), 0);
	ck_assert_int_ge(execd_fd(&ex), 0);
	ck_assert_int_gt(ex.pid, 0);
}

/* One completion within ms; returns execd_read's answer (0: none). */
static int
wait_done(struct execd_done *d, int ms)
{
	struct pollfd	p = { .fd = execd_fd(&ex), .events = POLLIN };
	uint64_t	end = now_ms() + (uint64_t)ms, now;
	int		rc;

	for (;;) {
		if ((rc = execd_read(&ex, d)) != 0)
			return rc;
		if ((now = now_ms()) >= end)
			return 0;
		poll(&p, 1, (int)(end - now));
	}
}

static void
submit1(uint32_t job, unsigned route, const char *file)
{
	char		 buf[600];
	const char	*env[] = { buf, NULL };

	snprintf(buf, sizeof(buf), "PTFTPD_FILE=%s", file);
	ck_assert_int_eq(execd_submit(&ex, job, route, env), 0);
}

/*
 * start(), submit job 1 for "x" on route 0 and expect its completion
 * within ms; returns the ms from submission to completion.
 */
static uint64_t
run1(struct execd_done *d, int ms)
{
	uint64_t	t0;

	start();
	t0 = now_ms();
	submit1(1, 0, "x");
	ck_assert_int_eq(wait_done(d, ms), 1);
	return now_ms() - t0;
}

/* The number the program wrote first on stderr (0 if none). */
static long
err_number(struct execd_done *d)
{
	d->err_head[d->err_len < sizeof(d->err_head) ? d->err_len : 0] = '\0';
	return strtol(d->err_head, NULL, 10);
}

/* The output as a NUL-terminated malloc'd string; closes the memfd. */
static char *
output(struct execd_done *d)
{
	char	*s = calloc(1, d->size + 1);
	void	*m;

	ck_assert_ptr_nonnull(s);
	if (d->size == 0) {
		ck_assert_int_eq(d->memfd, -1);
		return s;
	}
	ck_assert_int_ge(d->memfd, 0);
	m = mmap(NULL, d->size, PROT_READ, MAP_PRIVATE, d->memfd, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	memcpy(s, m, d->size);
	munmap(m, d->size);
	close(d->memfd);
	d->memfd = -1;
	return s;
}

/* /proc/<pid>/stat: state, ppid and process group of pid. */
static int
proc_stat(const char *pid, char *state, long *ppid, long *pgrp)
{
	char	 path[64], buf[512], *p;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %ld %ld", state, ppid, pgrp) != 3)
		return -1;
	return 0;
}

/*
 * Processes whose parent is ppid and whose group is pgrp (-1: any), not
 * yet reaped; with live, zombies are not counted.
 */
static int
count_procs(long ppid, long pgrp, bool live)
{
	DIR		*d = opendir("/proc");
	struct dirent	*de;
	char		 st;
	long		 pp, pg;
	int		 n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9' &&
		    proc_stat(de->d_name, &st, &pp, &pg) == 0 &&
		    (ppid == -1 || pp == ppid) && (pgrp == -1 || pg == pgrp) &&
		    (!live || st != 'Z'))
			n++;
	closedir(d);
	return n;
}

/* Is pid alive (not a zombie)? */
static bool
alive(long pid)
{
	char	s[32], st;
	long	pp, pg;

	snprintf(s, sizeof(s), "%ld", pid);
	return proc_stat(s, &st, &pp, &pg) == 0 && st != 'Z';
}

/* Wait up to ms for cond(arg) to become false. */
static bool
gone_within(bool (*cond)(long), long arg, int ms)
{
	uint64_t	end = now_ms() + (uint64_t)ms;

	while (cond(arg)) {
		if (now_ms() >= end)
			return false;
		usleep(10000);
	}
	return true;
}

static bool
group_alive(long pgrp)
{
	return count_procs(-1, pgrp, true) > 0;
}

/* Read the pid a script wrote to path (mv'd into place); 0: none yet. */
static long
wait_pid_file(const char *path, int ms)
{
	uint64_t	 end = now_ms() + (uint64_t)ms;
	char		 buf[32];
	FILE		*fp;
	long		 pid = 0;

	while (pid == 0 && now_ms() < end) {
		if ((fp = fopen(path, "r")) != NULL) {
			if (fgets(buf, sizeof(buf), fp) != NULL)
				pid = strtol(buf, NULL, 10);
			fclose(fp);
		}
		if (pid == 0)
			usleep(10000);
	}
	return pid;
}

START_TEST(output_carries_the_request_env)
{
	const char	*env[] = {
		"PTFTPD_FILE=gen/a b'\"c", "PTFTPD_CLIENT_IP=10.1.2.3",
		"PTFTPD_CLIENT_PORT=2011", "PTFTPD_SERVER_IP=10.0.0.1",
		"PTFTPD_MAC=", "PTFTPD_MATCH1=a b", "PTFTPD_MODE=octet", NULL
	};
	struct execd_done	 d;
	char			*s;

	route_sh(0, "printf '%s|%s|%s|%s|%s|%s|%s|%s|%s' \"$PTFTPD_FILE\" "
	    "\"$PTFTPD_CLIENT_IP\" \"$PTFTPD_CLIENT_PORT\" "
	    "\"$PTFTPD_SERVER_IP\" \"${PTFTPD_MAC-unset}\" "
	    "\"$PTFTPD_MATCH1\" \"$PTFTPD_MODE\" \"$PATH\" \"${HOME-none}\"; "
	    "printf '|%s' \"$(pwd)\"",
	    2000, 4096, 4);
	start();
	ck_assert_int_eq(execd_submit(&ex, 7, 0, env), 0);
	ck_assert_int_eq(wait_done(&d, 3000), 1);
	ck_assert_uint_eq(d.job, 7);
	ck_assert(execd_done_ok(&d));
	ck_assert_uint_eq(d.err_len, 0);
	s = output(&d);
	ck_assert_str_eq(s, "gen/a b'\"c|10.1.2.3|2011|10.0.0.1||a b|octet|"
	    "/usr/sbin:/usr/bin:/sbin:/bin|none|/");
	free(s);
}
END_TEST

/* Run without a shell: env(1) sees PATH and the request, nothing else. */
START_TEST(env_is_only_path_and_the_request)
{
	const char	*argv[] = { "/usr/bin/env", NULL };
	const char	*env[] = { "PTFTPD_FILE=x", "PTFTPD_MAC=", NULL };
	struct execd_done	 d;
	char			*s;

	ck_assert_int_eq(setenv("PTFTPD_SECRET", "leak", 1), 0);
	route_argv(0, argv, 2000, 4096, 4);
	start();
	ck_assert_int_eq(execd_submit(&ex, 1, 0, env), 0);
	ck_assert_int_eq(wait_done(&d, 3000), 1);
	ck_assert(execd_done_ok(&d));
	s = output(&d);
	ck_assert_str_eq(s, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
	    "PTFTPD_FILE=x\nPTFTPD_MAC=\n");
	free(s);
	unsetenv("PTFTPD_SECRET");
}
END_TEST

START_TEST(exit_status_and_stderr_head_reported)
{
	struct execd_done	d;

	route_sh(0, "printf partial; echo 'no such host' >&2; exit 3", 2000,
	    4096, 4);
	run1(&d, 3000);
	ck_assert(!execd_done_ok(&d));
	ck_assert(!d.exec_failed && !d.timed_out && !d.too_big);
	ck_assert(WIFEXITED(d.status));
	ck_assert_int_eq(WEXITSTATUS(d.status), 3);
	ck_assert_int_eq(d.err, 0);
	ck_assert_uint_eq(d.err_len, 13);
	ck_assert_mem_eq(d.err_head, "no such host\n", 13);
	ck_assert_int_eq(d.memfd, -1);
	ck_assert_uint_eq(d.size, 0);
}
END_TEST

START_TEST(stderr_head_is_capped_and_the_rest_drained)
{
	struct execd_done	 d;
	char			*s;

	/* 200 KiB of stderr would block a program whose pipe is not read. */
	route_sh(0, "head -c 204800 /dev/zero | tr '\\000' e >&2; printf ok",
	    3000, 4096, 4);
	run1(&d, 4000);
	ck_assert(execd_done_ok(&d));
	ck_assert_uint_eq(d.err_len, EXECD_ERR_HEAD);
	ck_assert_int_eq(d.err_head[0], 'e');
	ck_assert_int_eq(d.err_head[EXECD_ERR_HEAD - 1], 'e');
	s = output(&d);
	ck_assert_str_eq(s, "ok");
	free(s);
}
END_TEST

START_TEST(timeout_kills_the_process_group)
{
	struct execd_done	d;
	long			pgid;

	/* The shell forks sleep: a grandchild in the program's group. */
	route_sh(0, "echo $$ >&2; sleep 10; true", 200, 4096, 4);
	/* Not before its 200 ms (a lower bound: how soon after is the
	 * machine's business; d.timed_out says the timeout ended it, the
	 * program alone would have run 10 s). */
	ck_assert_uint_ge(run1(&d, 8000), 190);
	ck_assert(d.timed_out);
	ck_assert(!d.too_big && !d.exec_failed);
	ck_assert(!execd_done_ok(&d));
	ck_assert(WIFSIGNALED(d.status));
	ck_assert_int_eq(WTERMSIG(d.status), SIGKILL);
	ck_assert_int_eq(d.memfd, -1);
	ck_assert_uint_gt(d.err_len, 0);
	pgid = err_number(&d);
	ck_assert_int_gt(pgid, 1);
	/* The leader is reaped before the completion is sent; the killed
	 * sleep is gone too (a zombie at most, now init's). */
	ck_assert_int_eq(count_procs(ex.pid, -1, false), 0);
	ck_assert(gone_within(group_alive, pgid, 1000));
}
END_TEST

START_TEST(output_over_max_bytes_is_too_big)
{
	const char	*argv[] = { "/usr/bin/yes", NULL };
	struct execd_done	d;

	route_argv(0, argv, 5000, 1000, 4);
	start();
	submit1(1, 0, "x");
	/* Cut for its size, not by the 5 s timeout: too_big, !timed_out. */
	ck_assert_int_eq(wait_done(&d, 8000), 1);
	ck_assert(d.too_big);
	ck_assert(!d.timed_out && !d.exec_failed);
	ck_assert(!execd_done_ok(&d));
	ck_assert_int_eq(d.memfd, -1);
	ck_assert_int_eq(count_procs(ex.pid, -1, false), 0);
}
END_TEST

START_TEST(output_of_exactly_max_bytes_is_served_sealed)
{
	struct execd_done	 d;
	struct stat		 st;
	char			*s;
	int			 seals;
	uint32_t		 i;

	route_sh(0, "head -c 100000 /dev/zero | tr '\\000' z", 3000, 100000,
	    4);
	run1(&d, 4000);
	ck_assert(execd_done_ok(&d));
	ck_assert_uint_eq(d.size, 100000);
	ck_assert_int_ge(d.memfd, 0);
	ck_assert_int_eq(fstat(d.memfd, &st), 0);
	ck_assert_int_eq(st.st_size, 100000);
	seals = fcntl(d.memfd, F_GET_SEALS);
	ck_assert_int_eq(seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW),
	    F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW);
	ck_assert_int_eq(ftruncate(d.memfd, 10), -1);
	ck_assert(fcntl(d.memfd, F_GETFD) & FD_CLOEXEC);
	s = output(&d);
	for (i = 0; i < 100000; i++)
		if (s[i] != 'z')
			break;
	ck_assert_uint_eq(i, 100000);
	free(s);
}
END_TEST

START_TEST(empty_output_is_ok_without_memfd)
{
	const char	*argv[] = { "/bin/true", NULL };
	struct execd_done	d;

	route_argv(0, argv, 2000, 10, 4);
	run1(&d, 3000);
	ck_assert(execd_done_ok(&d));
	ck_assert_uint_eq(d.size, 0);
	ck_assert_int_eq(d.memfd, -1);
}
END_TEST

START_TEST(missing_program_is_exec_failed)
{
	const char	*argv[] = { "/nonexistent/ptftpd-gen", "--fast", NULL };
	struct execd_done	d;

	route_argv(0, argv, 2000, 4096, 4);
	start();
	submit1(5, 0, "x");
	ck_assert_int_eq(wait_done(&d, 3000), 1);
	ck_assert_uint_eq(d.job, 5);
	ck_assert(d.exec_failed);
	ck_assert_int_eq(d.err, ENOENT);
	ck_assert_int_eq(d.status, -1);
	ck_assert(!d.timed_out && !d.too_big);
	ck_assert(!execd_done_ok(&d));
	ck_assert_int_eq(d.memfd, -1);
	ck_assert_int_eq(count_procs(ex.pid, -1, false), 0);
}
END_TEST

START_TEST(death_by_signal_is_reported)
{
	struct execd_done	d;

	route_sh(0, "printf x; kill -SEGV $$", 2000, 4096, 4);
	run1(&d, 3000);
	ck_assert(!execd_done_ok(&d));
	ck_assert(!d.timed_out && !d.too_big && !d.exec_failed);
	ck_assert(WIFSIGNALED(d.status));
	ck_assert_int_eq(WTERMSIG(d.status), SIGSEGV);
	ck_assert_int_eq(d.memfd, -1);
}
END_TEST

/* A background child holding stdout dies with the program's exit. */
START_TEST(background_child_does_not_hold_the_job)
{
	struct execd_done	 d;
	char			*s;
	long			 bg;

	route_sh(0, "sleep 10 & echo $!", 5000, 4096, 4);
	/* Done within 6 s while the child sleeps 10: a condition, not a
	 * speed (the job's own timeout, 5 s, would also end it, as a
	 * timeout: execd_done_ok below tells the two apart). */
	run1(&d, 6000);
	ck_assert(execd_done_ok(&d));
	s = output(&d);
	bg = strtol(s, NULL, 10);
	free(s);
	ck_assert_int_gt(bg, 1);
	ck_assert(gone_within(alive, bg, 1000));
}
END_TEST

/* A setsid'd descendant escapes the group kill; the timeout ends it. */
START_TEST(escaped_descendant_ends_at_the_timeout)
{
	struct execd_done	d;
	uint64_t		t0;
	long			esc;
	char			f[200];

	/* The leader waits until the descendant is out of its group. */
	route_sh(0, "setsid sh -c 'echo $$ >&2; touch \"$PTFTPD_FILE\"; "
	    "exec sleep 3' & while [ ! -e \"$PTFTPD_FILE\" ]; do sleep 0.01; "
	    "done; printf x", 1500, 4096, 4);
	start();
	snprintf(f, sizeof(f), "%s/out", tmpdir);
	t0 = now_ms();
	submit1(1, 0, f);
	ck_assert_int_eq(wait_done(&d, 4000), 1);
	ck_assert_uint_lt(now_ms() - t0, 3500);
	ck_assert(d.timed_out);
	ck_assert(!execd_done_ok(&d));
	ck_assert(WIFEXITED(d.status));
	ck_assert_int_eq(d.memfd, -1);
	esc = err_number(&d);
	if (esc > 1)
		kill((pid_t)esc, SIGKILL);
}
END_TEST

START_TEST(twenty_concurrent_jobs_complete)
{
	struct execd_done	 d;
	char			 name[16], *s;
	bool			 seen[20] = { false };
	uint64_t		 t0;
	unsigned		 i;

	route_sh(0, "sleep 1; printf %s \"$PTFTPD_FILE\"", 10000, 4096, 32);
	start();
	t0 = now_ms();
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		submit1(100 + i, 0, name);
	}
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(wait_done(&d, 10000), 1);
		ck_assert_uint_ge(d.job, 100);
		ck_assert_uint_lt(d.job, 120);
		ck_assert(!seen[d.job - 100]);
		seen[d.job - 100] = true;
		ck_assert(execd_done_ok(&d));
		snprintf(name, sizeof(name), "f%u", d.job - 100);
		s = output(&d);
		ck_assert_str_eq(s, name);
		free(s);
	}
	/* In parallel: serially it would take 20 s. */
	ck_assert_uint_lt(now_ms() - t0, 8000);
	ck_assert_int_eq(count_procs(ex.pid, -1, false), 0);
}
END_TEST

START_TEST(max_concurrent_queues_the_rest)
{
	struct execd_done	d;
	uint64_t		t0, el;
	unsigned		i;

	/* Each job counts the others running beside it through lock-free
	 * marker files; with max_concurrent 2 never more than 2 exist. */
	route_sh(0, "touch \"$PTFTPD_FILE\"; sleep 0.2; "
	    "n=$(ls \"${PTFTPD_FILE%/*}\" | wc -l); rm \"$PTFTPD_FILE\"; "
	    "printf %s \"$n\"", 5000, 4096, 2);
	start();
	t0 = now_ms();
	for (i = 0; i < 6; i++) {
		char	f[200];

		snprintf(f, sizeof(f), "%s/j%u", tmpdir, i);
		submit1(i, 0, f);
	}
	for (i = 0; i < 6; i++) {
		char	*s;

		ck_assert_int_eq(wait_done(&d, 5000), 1);
		ck_assert(execd_done_ok(&d));
		s = output(&d);
		ck_assert_int_le(strtol(s, NULL, 10), 2);
		free(s);
	}
	el = now_ms() - t0;
	ck_assert_uint_ge(el, 550);	/* three rounds of 0.2 s */
	ck_assert_uint_lt(el, 6000);
}
END_TEST

START_TEST(bad_requests_are_refused)
{
	const char	*preload[] = { "LD_PRELOAD=/tmp/evil.so", NULL };
	const char	*lower[] = { "PTFTPD_file=x", NULL };
	const char	*noeq[] = { "PTFTPD_FILE", NULL };
	const char	*bare[] = { "PTFTPD_=x", NULL };
	const char	*ok[] = { "PTFTPD_FILE=x", NULL };
	const char	*many[EXECD_ENV_MAX + 2];
	struct execd_done d;
	unsigned	 i;

	route_sh(0, "printf ok", 2000, 4096, 4);
	routes[1].handler = CONF_HANDLER_FILE;
	start();
	for (i = 0; i < EXECD_ENV_MAX + 1; i++)
		many[i] = "PTFTPD_X=1";
	many[i] = NULL;
	errno = 0;
	ck_assert_int_eq(execd_submit(&ex, 1, 0, preload), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(execd_submit(&ex, 1, 0, lower), -1);
	ck_assert_int_eq(execd_submit(&ex, 1, 0, noeq), -1);
	ck_assert_int_eq(execd_submit(&ex, 1, 0, bare), -1);
	ck_assert_int_eq(execd_submit(&ex, 1, 0, many), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* Routes are checked by the spawner: an answer, never a run. */
	ck_assert_int_eq(execd_submit(&ex, 2, 99, ok), 0);
	ck_assert_int_eq(execd_submit(&ex, 3, 1, ok), 0);
	ck_assert_int_eq(execd_submit(&ex, 4, 0, ok), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(wait_done(&d, 3000), 1);
		if (d.job == 4) {
			ck_assert(execd_done_ok(&d));
			close(d.memfd);
			continue;
		}
		ck_assert(d.job == 2 || d.job == 3);
		ck_assert(d.exec_failed);
		ck_assert_int_eq(d.err, EINVAL);
	}
}
END_TEST

START_TEST(spawner_death_fails_read_and_submit)
{
	struct execd_done	d;
	struct pollfd		p;

	route_sh(0, "sleep 10", 5000, 4096, 4);
	start();
	submit1(1, 0, "x");
	ck_assert_int_eq(execd_read(&ex, &d), 0);
	ck_assert_int_eq(kill(ex.pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(ex.pid, NULL, 0), ex.pid);
	ex.pid = -1;
	p = (struct pollfd){ .fd = execd_fd(&ex), .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert(p.revents & POLLHUP);
	errno = 0;
	ck_assert_int_eq(execd_read(&ex, &d), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(d.memfd, -1);
	errno = 0;
	ck_assert_int_eq(execd_submit(&ex, 2, 0, NULL), -1);
	ck_assert_int_eq(errno, EPIPE);
}
END_TEST

/* The worker going away (EOF) kills every running program's group. */
START_TEST(stop_kills_running_programs)
{
	char		 f[200];
	uint64_t	 t0;
	long		 pgid;

	route_sh(0, "echo $$ > \"$PTFTPD_FILE.tmp\"; "
	    "mv \"$PTFTPD_FILE.tmp\" \"$PTFTPD_FILE\"; sleep 10; true",
	    20000, 4096, 4);
	start();
	snprintf(f, sizeof(f), "%s/pid", tmpdir);
	submit1(1, 0, f);
	pgid = wait_pid_file(f, 3000);
	ck_assert_int_gt(pgid, 1);
	ck_assert(group_alive(pgid));
	t0 = now_ms();
	execd_stop(&ex);
	ck_assert_uint_lt(now_ms() - t0, 2500);
	ck_assert_int_eq(ex.fd, -1);
	ck_assert_int_eq(ex.pid, -1);
	ck_assert(gone_within(group_alive, pgid, 1000));
	execd_stop(&ex);	/* twice is harmless */
}
END_TEST

/* A worker that dies (SIGKILL) takes its spawner's programs with it. */
START_TEST(worker_death_kills_running_programs)
{
	char	f[200];
	pid_t	w;
	long	pgid;
	int	st;

	route_sh(0, "echo $$ > \"$PTFTPD_FILE.tmp\"; "
	    "mv \"$PTFTPD_FILE.tmp\" \"$PTFTPD_FILE\"; sleep 10; true",
	    20000, 4096, 4);
	snprintf(f, sizeof(f), "%s/pid", tmpdir);
	if ((w = fork()) == 0) {
		struct execd	we;
		char		buf[256];
		const char	*env[] = { buf, NULL };

		snprintf(buf, sizeof(buf), "PTFTPD_FILE=%s", f);
		if (execd_start(&we, &conf) == -1 ||
		    execd_submit(&we, 1, 0, env) == -1)
			_exit(1);
		pause();
		_exit(0);
	}
	ck_assert_int_gt(w, 0);
	pgid = wait_pid_file(f, 3000);
	ck_assert_int_gt(pgid, 1);
	ck_assert(group_alive(pgid));
	ck_assert_int_eq(kill(w, SIGKILL), 0);
	ck_assert_int_eq(waitpid(w, &st, 0), w);
	ck_assert(WIFSIGNALED(st));
	ck_assert(gone_within(group_alive, pgid, 2000));
}
END_TEST

/* The real config path: a route loaded by conf_load runs as is. */
START_TEST(route_from_conf_load_runs)
{
	struct conf		 c;
	struct execd_done	 d;
	const char		*path;
	char			 err[512], *s;
	static const char	 text[] = "root = \".\";\nroutes = (\n"
	    "  { prefix = \"boot/\"; handler = \"file\"; },\n"
	    "  { prefix = \"gen/\"; handler = \"exec\";\n"
	    "    command = [ \"/bin/echo\", \"hi\" ];\n"
	    "    timeout_ms = 2000; max_bytes = 1048576; }\n);\n";

	path = unit_write(tmpdir, "ptftpd.conf", text, sizeof(text) - 1);
	memset(&c, 0, sizeof(c));
	ck_assert_msg(conf_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(execd_start(&ex, &c), 0);
	submit1(9, 1, "gen/x");
	ck_assert_int_eq(wait_done(&d, 3000), 1);
	ck_assert_uint_eq(d.job, 9);
	ck_assert(execd_done_ok(&d));
	s = output(&d);
	ck_assert_str_eq(s, "hi\n");
	free(s);
	execd_stop(&ex);
	conf_free(&c);
}
END_TEST

static Suite *
execd_suite(void)
{
	Suite	*s = suite_create("execd");
	TCase	*tc = tcase_create("spawner");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 15);
	tcase_add_test(tc, output_carries_the_request_env);
	tcase_add_test(tc, env_is_only_path_and_the_request);
	tcase_add_test(tc, exit_status_and_stderr_head_reported);
	tcase_add_test(tc, stderr_head_is_capped_and_the_rest_drained);
	tcase_add_test(tc, timeout_kills_the_process_group);
	tcase_add_test(tc, output_over_max_bytes_is_too_big);
	tcase_add_test(tc, output_of_exactly_max_bytes_is_served_sealed);
	tcase_add_test(tc, empty_output_is_ok_without_memfd);
	tcase_add_test(tc, missing_program_is_exec_failed);
	tcase_add_test(tc, death_by_signal_is_reported);
	tcase_add_test(tc, background_child_does_not_hold_the_job);
	tcase_add_test(tc, escaped_descendant_ends_at_the_timeout);
	tcase_add_test(tc, twenty_concurrent_jobs_complete);
	tcase_add_test(tc, max_concurrent_queues_the_rest);
	tcase_add_test(tc, bad_requests_are_refused);
	tcase_add_test(tc, spawner_death_fails_read_and_submit);
	tcase_add_test(tc, stop_kills_running_programs);
	tcase_add_test(tc, worker_death_kills_running_programs);
	tcase_add_test(tc, route_from_conf_load_runs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(execd_suite());
}
