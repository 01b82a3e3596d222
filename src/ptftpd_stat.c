/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ptftpd_stat.c - the ptftpd-stat tool: map a running ptftpd's stats
 * segment read-only and print it as text, JSON or Prometheus text, or,
 * with -w, one timestamped line of per-second rates per interval like
 * vmstat, carrying on across a daemon restart (the segment is replaced:
 * a new file, so a new inode; the tool maps the new one). It finds the
 * segment from -s, or from stats.path in the configuration file (-c,
 * default /etc/ptftpd.conf), which it reads with libconfig for that one
 * setting: it does not link the daemon's config loader (which checks the
 * root, users and loads modules), only stats.c and num.c (the Makefile's
 * rule: no libseccomp, liburing or jemalloc). It needs only read access
 * to the segment and never signals the daemon; all formatting lives in
 * stats.c. Exit status: 0 done, 1 segment or configuration problem (or a
 * write error on stdout), 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libconfig.h>

#include "clock.h"
#include "conf.h"		/* CONF_DEFAULT_PATH, CONF_STATS_PATH_DEFAULT */
#include "num.h"
#include "stats.h"
#include "version.h"

#define STAT_PROG		"ptftpd-stat"
#define STAT_MAX_WAIT_S		86400
#define STAT_EXIT_USAGE		2

enum stat_format {
	STAT_TEXT,
	STAT_JSON,
	STAT_PROM,
};

struct stat_opts {
	const char		*seg_path;	/* -s */
	const char		*conf_path;	/* -c */
	enum stat_format	 format;
	uint64_t		 wait_s;	/* -w; 0: one snapshot */
	uint64_t		 count;		/* -n; 0: unlimited */
};

/* One sample of the figures the -w line shows, as running totals. */
struct stat_sample {
	uint64_t	 t_ms;
	uint64_t	 req, ok, fail, refused, tx_bytes, rexmit, active;
};

/* -w: the segment being watched, and what identifies it. */
struct stat_watch {
	struct stats_seg	 seg;
	bool			 mapped;
	dev_t			 dev;
	ino_t			 ino;
	int64_t			 start_time;
	int32_t			 sup_pid;
	char			 lasterr[1200];	/* said once per outage */
};

static void
stat_usage(FILE *f)
{
	fprintf(f,
	    "usage: " STAT_PROG " [-s PATH | -c CONFIG] [-j | -p]"
	    " [-w SECONDS] [-n COUNT]\n"
	    "  -s PATH     stats segment (default: stats.path of CONFIG)\n"
	    "  -c CONFIG   configuration file (default " CONF_DEFAULT_PATH ")\n"
	    "  -j          print JSON\n"
	    "  -p          print Prometheus text exposition format\n"
	    "  -w SECONDS  print per-second rates every SECONDS\n"
	    "  -n COUNT    stop after COUNT lines of rates (with -w)\n"
	    "  -V          print the version and exit\n"
	    "  -h          show this help\n");
}

/* Parse argv into *o. Returns 0, or -1 after printing why (usage). */
static int
stat_parse_args(int argc, char **argv, struct stat_opts *o)
{
	const char	*what;
	int		 ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt(argc, argv, "s:c:jpw:n:Vh")) != -1) {
		switch (ch) {
		case 's':
			o->seg_path = optarg;
			break;
		case 'c':
			o->conf_path = optarg;
			break;
		case 'j':
		case 'p':
			if (o->format != STAT_TEXT) {
				fprintf(stderr, STAT_PROG ": -j and -p "
				    "exclude each other\n");
				return -1;
			}
			o->format = ch == 'j' ? STAT_JSON : STAT_PROM;
			break;
		case 'w':
		case 'n':
			what = ch == 'w' ? "-w" : "-n";
			if (num_parse_u64(optarg, 1, ch == 'w' ?
			    STAT_MAX_WAIT_S : UINT64_MAX, ch == 'w' ?
			    &o->wait_s : &o->count) == -1) {
				fprintf(stderr, STAT_PROG ": %s: not a number "
				    "in range: %s\n", what, optarg);
				return -1;
			}
			break;
		case 'V':
			printf(STAT_PROG " %s\n", PTFTPD_VERSION);
			exit(0);
		case 'h':
			stat_usage(stdout);
			exit(0);
		default:
			stat_usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, STAT_PROG ": unexpected argument: %s\n",
		    argv[optind]);
		stat_usage(stderr);
		return -1;
	}
	if (o->seg_path != NULL && o->conf_path != NULL) {
		fprintf(stderr, STAT_PROG ": -s and -c exclude each other\n");
		return -1;
	}
	if (o->wait_s != 0 && o->format != STAT_TEXT) {
		fprintf(stderr, STAT_PROG ": -w prints rates as text; it does"
		    " not go with -j or -p\n");
		return -1;
	}
	if (o->count != 0 && o->wait_s == 0) {
		fprintf(stderr, STAT_PROG ": -n needs -w\n");
		return -1;
	}
	return 0;
}

/*
 * stats.path of the configuration file `file`, as ptftpd reads it: a
 * relative path is relative to the file's directory, @include files are
 * found there too, and absent means CONF_STATS_PATH_DEFAULT. Only that
 * setting (and stats.enabled) is looked at; `ptftpd -t` checks the rest.
 * Returns a malloc'ed path, or NULL after printing why.
 */
static char *
stat_conf_stats_path(const char *file)
{
	config_t	 cfg;
	const char	*p = CONF_STATS_PATH_DEFAULT, *ef;
	char		*real, *slash, *out = NULL;
	int		 enabled = 1;

	if ((real = realpath(file, NULL)) == NULL) {
		fprintf(stderr, STAT_PROG ": %s: %s\n", file, strerror(errno));
		return NULL;
	}
	config_init(&cfg);
	slash = strrchr(real, '/');
	*slash = '\0';
	config_set_include_dir(&cfg, slash == real ? "/" : real);
	*slash = '/';
	if (config_read_file(&cfg, real) != CONFIG_TRUE) {
		ef = config_error_file(&cfg);
		fprintf(stderr, STAT_PROG ": %s:%d: syntax error: %s\n",
		    ef != NULL ? ef : file, config_error_line(&cfg),
		    config_error_text(&cfg));
		goto out;
	}
	if (config_lookup_bool(&cfg, "stats.enabled", &enabled) ==
	    CONFIG_TRUE && !enabled) {
		fprintf(stderr, STAT_PROG ": %s: stats.enabled is false: "
		    "ptftpd keeps no stats segment\n", file);
		goto out;
	}
	if (config_lookup_string(&cfg, "stats.path", &p) == CONFIG_TRUE &&
	    *p == '\0') {
		fprintf(stderr, STAT_PROG ": %s: stats.path: empty\n", file);
		goto out;
	}
	*slash = '\0';
	if (p[0] == '/')
		out = strdup(p);
	else if (asprintf(&out, "%s/%s", slash == real ? "" : real, p) == -1)
		out = NULL;
	if (out == NULL)
		fprintf(stderr, STAT_PROG ": out of memory\n");
out:
	config_destroy(&cfg);
	free(real);
	return out;
}

/*
 * The segment path: -s, or stats.path of the configuration. Returns a
 * malloc'ed string, or NULL after printing the configuration error.
 */
static char *
stat_seg_path(const struct stat_opts *o)
{
	char	*path;

	if (o->seg_path == NULL)
		return stat_conf_stats_path(o->conf_path != NULL ?
		    o->conf_path : CONF_DEFAULT_PATH);
	if ((path = strdup(o->seg_path)) == NULL)
		fprintf(stderr, STAT_PROG ": out of memory\n");
	return path;
}

static void
stat_take(const struct stats_seg *seg, struct stat_sample *s)
{
	struct stats_totals	 t;

	stats_sum(seg, &t);
	s->t_ms = clock_now_ms();
	s->req = t.rrq + t.wrq;
	s->ok = t.sess_ok;
	s->fail = t.sess_aborted + t.sess_timeout + t.sess_error;
	s->refused = t.refused_notfound + t.refused_access + t.refused_badop +
	    t.refused_busy + t.refused_other + t.denied_acl + t.denied_limit;
	s->tx_bytes = t.tx_bytes;
	s->rexmit = t.rexmit_pkts;
	s->active = t.sess_active;
}

/* Per-second rate of a running total; a total that went back restarts. */
static double
stat_rate(uint64_t cur, uint64_t prev, double secs)
{
	return (double)(cur >= prev ? cur - prev : cur) / secs;
}

static void
stat_rate_header(void)
{
	printf("%-8s %9s %9s %8s %9s %9s %9s %7s\n", "time", "req/s", "ok/s",
	    "fail/s", "refused/s", "MiB/s", "rexmit/s", "active");
}

static void
stat_rate_line(const struct stat_sample *cur, const struct stat_sample *prev)
{
	double		 secs = (double)(cur->t_ms - prev->t_ms) / 1000.0;
	time_t		 now = time(NULL);
	struct tm	 tm;
	char		 ts[16] = "?";

	if (secs <= 0)
		secs = 0.001;
	if (localtime_r(&now, &tm) != NULL)
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	printf("%-8s %9.1f %9.1f %8.1f %9.1f %9.2f %9.1f %7" PRIu64 "\n", ts,
	    stat_rate(cur->req, prev->req, secs),
	    stat_rate(cur->ok, prev->ok, secs),
	    stat_rate(cur->fail, prev->fail, secs),
	    stat_rate(cur->refused, prev->refused, secs),
	    stat_rate(cur->tx_bytes, prev->tx_bytes, secs) / (1024.0 * 1024.0),
	    stat_rate(cur->rexmit, prev->rexmit, secs), cur->active);
}

/* A problem while watching, said once until it changes or clears. */
static void
stat_watch_say(struct stat_watch *w, const char *msg)
{
	if (strcmp(w->lasterr, msg) == 0)
		return;
	snprintf(w->lasterr, sizeof(w->lasterr), "%s", msg);
	fprintf(stderr, STAT_PROG ": %s; waiting for ptftpd\n", msg);
}

/* What identifies the segment just mapped: file, start, pid. */
static void
stat_watch_ident(struct stat_watch *w)
{
	w->mapped = true;
	w->dev = w->seg.dev;
	w->ino = w->seg.ino;
	w->start_time = w->seg.hdr->start_time;
	w->sup_pid = w->seg.hdr->sup_pid;
	w->lasterr[0] = '\0';
}

/*
 * Is the segment at path still the one mapped? 0 yes; 1 it was replaced
 * (a restarted daemon) and the new one is mapped; -1 none can be mapped
 * now (the daemon is stopped or starting; said on stderr once).
 */
static int
stat_watch_check(struct stat_watch *w, const char *path)
{
	struct stat	 st;
	char		 msg[1100];

	if (w->mapped) {
		if (stat(path, &st) == 0 && st.st_dev == w->dev &&
		    st.st_ino == w->ino && w->seg.hdr->magic == STATS_MAGIC &&
		    w->seg.hdr->start_time == w->start_time &&
		    w->seg.hdr->sup_pid == w->sup_pid)
			return 0;
		stats_close(&w->seg);
		w->mapped = false;
		if (stat(path, &st) == -1) {
			snprintf(msg, sizeof(msg), "%s: %s (ptftpd stopped?)",
			    path, strerror(errno));
			stat_watch_say(w, msg);
			return -1;
		}
	}
	if (stats_open(&w->seg, path, msg, sizeof(msg)) == -1) {
		stat_watch_say(w, msg);
		return -1;
	}
	stat_watch_ident(w);
	fprintf(stderr, STAT_PROG ": %s: a new segment (ptftpd restarted, "
	    "supervisor pid %" PRId32 ")\n", path, w->sup_pid);
	return 1;
}

/*
 * -w: sleep to each tick (no drift), print the rates since the last. A
 * restarted daemon's segment is mapped at the next tick, and its rates
 * count from its start; while there is none, no line is printed.
 */
static int
stat_watch(struct stat_watch *w, const char *path, const struct stat_opts *o)
{
	struct stat_sample	 prev, cur;
	struct timespec		 tick;
	uint64_t		 n = 0;
	int			 r;

	stat_rate_header();
	stat_take(&w->seg, &prev);
	clock_gettime(CLOCK_MONOTONIC, &tick);
	while (o->count == 0 || n < o->count) {
		tick.tv_sec += (time_t)o->wait_s;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick,
		    NULL) == EINTR)
			;
		if ((r = stat_watch_check(w, path)) == -1)
			continue;
		stat_take(&w->seg, &cur);
		if (r == 1) {
			/* a restarted daemon: its totals start from 0,
			 * within the last interval */
			memset(&prev, 0, sizeof(prev));
			prev.t_ms = cur.t_ms - o->wait_s * 1000;
		}
		stat_rate_line(&cur, &prev);
		if (fflush(stdout) == EOF)
			return 1;
		prev = cur;
		n++;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct stat_opts	 o;
	struct stat_watch	 w;
	char			 err[1024];
	char			*path;
	int			 rc = 0, wr;

	if (stat_parse_args(argc, argv, &o) == -1)
		return STAT_EXIT_USAGE;
	if ((path = stat_seg_path(&o)) == NULL)
		return 1;
	memset(&w, 0, sizeof(w));
	/* The first map must work, with -w too: a typo in -s, or no daemon
	 * at all, is not a restart to wait for. */
	if (stats_open(&w.seg, path, err, sizeof(err)) == -1) {
		fprintf(stderr, STAT_PROG ": %s\n", err);
		free(path);
		return 1;
	}
	if (o.wait_s != 0) {
		stat_watch_ident(&w);
		rc = stat_watch(&w, path, &o);
	} else {
		if (o.format == STAT_JSON)
			wr = stats_write_json(stdout, &w.seg, clock_now_ms());
		else if (o.format == STAT_PROM)
			wr = stats_write_prom(stdout, &w.seg, clock_now_ms());
		else
			wr = stats_write_text(stdout, &w.seg, clock_now_ms());
		if (wr == -1 || fflush(stdout) == EOF)
			rc = 1;
	}
	if (rc != 0 && ferror(stdout))
		fprintf(stderr, STAT_PROG ": stdout: %s\n", strerror(errno));
	stats_close(&w.seg);
	free(path);
	return rc;
}
