/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ptftpd_stat.c - the ptftpd-stat tool: map a running ptftpd's stats
 * segment read-only and print it as text, JSON or Prometheus text, or,
 * with -w, one line of per-second rates per interval like vmstat. It
 * finds the segment from -s, or from stats.path in the configuration file
 * (-c, default /etc/ptftpd.conf). It needs only read access to the
 * segment and never signals the daemon; all formatting lives in stats.c.
 * Exit status: 0 done, 1 segment or configuration problem (or a write
 * error on stdout), 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "num.h"
#include "stats.h"

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
	    "  -h          show this help\n");
}

/* Parse argv into *o. Returns 0, or -1 after printing why (usage). */
static int
stat_parse_args(int argc, char **argv, struct stat_opts *o)
{
	const char	*what;
	int		 ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt(argc, argv, "s:c:jpw:n:h")) != -1) {
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
 * The segment path: -s, or stats.path of the configuration. Returns a
 * malloc'ed string, or NULL after printing the configuration error.
 */
static char *
stat_seg_path(const struct stat_opts *o)
{
	struct conf	 c;
	char		 err[1024];
	char		*path;

	if (o->seg_path != NULL)
		return strdup(o->seg_path);
	if (conf_load(&c, o->conf_path != NULL ? o->conf_path :
	    CONF_DEFAULT_PATH, err, sizeof(err)) == -1) {
		fprintf(stderr, STAT_PROG ": %s\n", err);
		return NULL;
	}
	path = strdup(c.stats.path);
	conf_free(&c);
	if (path == NULL)
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
	printf("%9s %9s %8s %9s %9s %9s %7s\n", "req/s", "ok/s", "fail/s",
	    "refused/s", "MiB/s", "rexmit/s", "active");
}

static void
stat_rate_line(const struct stat_sample *cur, const struct stat_sample *prev)
{
	double	 secs = (double)(cur->t_ms - prev->t_ms) / 1000.0;

	if (secs <= 0)
		secs = 0.001;
	printf("%9.1f %9.1f %8.1f %9.1f %9.2f %9.1f %7" PRIu64 "\n",
	    stat_rate(cur->req, prev->req, secs),
	    stat_rate(cur->ok, prev->ok, secs),
	    stat_rate(cur->fail, prev->fail, secs),
	    stat_rate(cur->refused, prev->refused, secs),
	    stat_rate(cur->tx_bytes, prev->tx_bytes, secs) / (1024.0 * 1024.0),
	    stat_rate(cur->rexmit, prev->rexmit, secs), cur->active);
}

/*
 * The segment at path is still the one mapped? 0 yes, 1 replaced (a new
 * daemon: reopened into *seg), -1 gone or unreadable (printed).
 */
static int
stat_recheck(struct stats_seg *seg, const char *path, struct stat *known)
{
	struct stat	 st;
	char		 err[1024];

	if (stat(path, &st) == -1) {
		fprintf(stderr, STAT_PROG ": %s: %s (ptftpd stopped?)\n", path,
		    strerror(errno));
		return -1;
	}
	if (st.st_dev == known->st_dev && st.st_ino == known->st_ino)
		return 0;
	stats_close(seg);
	if (stats_open(seg, path, err, sizeof(err)) == -1) {
		fprintf(stderr, STAT_PROG ": %s\n", err);
		return -1;
	}
	*known = st;
	return 1;
}

/* -w: sleep to each tick (no drift), print the rates since the last. */
static int
stat_watch(struct stats_seg *seg, const char *path, const struct stat_opts *o)
{
	struct stat_sample	 prev, cur;
	struct timespec		 tick;
	struct stat		 known;
	uint64_t		 n = 0;
	int			 r;

	if (stat(path, &known) == -1) {
		fprintf(stderr, STAT_PROG ": %s: %s\n", path, strerror(errno));
		return 1;
	}
	stat_rate_header();
	stat_take(seg, &prev);
	clock_gettime(CLOCK_MONOTONIC, &tick);
	while (o->count == 0 || n < o->count) {
		tick.tv_sec += (time_t)o->wait_s;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick,
		    NULL) == EINTR)
			;
		if ((r = stat_recheck(seg, path, &known)) == -1)
			return 1;
		stat_take(seg, &cur);
		if (r == 1) {
			/* a restarted daemon: its totals start from 0 */
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
	struct stats_seg	 seg;
	char			 err[1024];
	char			*path;
	int			 rc = 0, wr;

	if (stat_parse_args(argc, argv, &o) == -1)
		return STAT_EXIT_USAGE;
	if ((path = stat_seg_path(&o)) == NULL)
		return 1;
	if (stats_open(&seg, path, err, sizeof(err)) == -1) {
		fprintf(stderr, STAT_PROG ": %s\n", err);
		free(path);
		return 1;
	}
	if (o.wait_s != 0) {
		rc = stat_watch(&seg, path, &o);
	} else {
		if (o.format == STAT_JSON)
			wr = stats_write_json(stdout, &seg, clock_now_ms());
		else if (o.format == STAT_PROM)
			wr = stats_write_prom(stdout, &seg, clock_now_ms());
		else
			wr = stats_write_text(stdout, &seg, clock_now_ms());
		if (wr == -1 || fflush(stdout) == EOF)
			rc = 1;
	}
	if (rc != 0 && ferror(stdout))
		fprintf(stderr, STAT_PROG ": stdout: %s\n", strerror(errno));
	stats_close(&seg);
	free(path);
	return rc;
}
