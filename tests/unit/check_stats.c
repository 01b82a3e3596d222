/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_stats.c - unit tests for stats.c, linked with stats.o alone. Each
 * test creates a segment in a fresh mkdtemp directory, stores counts into
 * a few slots the way a worker would, and checks the sums, the bucket
 * rules and every output format. The Prometheus text is parsed back here
 * (HELP/TYPE once per family, families contiguous, values per worker,
 * cumulative buckets); JSON gets string checks (the integration test runs
 * it through a real parser).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "stats.h"

#define NSLOTS		8
#define MAX_SAMPLES	4096
#define MAX_FAMILIES	128

static char		 tmpdir[128];
static char		 segpath[256];
static char		 errbuf[512];
static struct stats_seg	 seg;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	char	tmpl[] = "/tmp/check_stats.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	snprintf(segpath, sizeof(segpath), "%s/seg", tmpdir);
	memset(&seg, 0, sizeof(seg));
	errbuf[0] = '\0';
}

static void
teardown(void)
{
	stats_close(&seg);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A segment with slot 0 and slot 3 running, slot 5 exited, others free. */
static void
make_populated(void)
{
	struct stats_slot	*a, *b, *c;

	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	a = &seg.slots[0];
	b = &seg.slots[3];
	c = &seg.slots[5];
	stats_worker_start(a, 1000, 1);
	stats_worker_start(b, 1003, 1);
	stats_worker_start(c, 1005, 1);
	STATS_ADD(a, rrq, 10);
	STATS_ADD(b, rrq, 7);
	STATS_ADD(c, rrq, 1);
	STATS_ADD(a, sess_ok, 9);
	STATS_ADD(b, sess_ok, 5);
	STATS_ADD(a, tx_bytes, 123456);
	STATS_ADD(b, tx_bytes, 1);
	STATS_ADD(b, refused_notfound, 2);
	STATS_ADD(a, opt_timeout, 4);
	STATS_SET(a, sess_active, 3);
	STATS_SET(b, sess_active, 2);
	STATS_SET(c, sess_active, 9);	/* stale: exited */
	STATS_SET(c, state, STATS_W_EXITED);
	stats_observe(a, 0, 0);
	stats_observe(a, 3, 1024);
	stats_observe(a, 5000, 1 << 20);
	stats_observe(b, 1, 512);
	stats_observe(b, UINT64_MAX / 4, UINT64_MAX / 4);
}

/* Write one output format into a malloc'ed string. */
static char *
capture(int (*fn)(FILE *, const struct stats_seg *, uint64_t), uint64_t now)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fn(f, &seg, now), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* --- a small Prometheus text parser --- */

struct sample {
	char	 name[96];
	char	 worker[16];
	char	 le[32];
	double	 value;
	int	 family;
};

struct family {
	char	 name[96];
	char	 type[16];
	int	 nhelp, ntype;
	int	 closed;
};

struct prom {
	struct sample	 s[MAX_SAMPLES];
	int		 ns;
	struct family	 f[MAX_FAMILIES];
	int		 nf;
	int		 cur;
};

static int
prom_family(struct prom *p, const char *name)
{
	int	 i;

	for (i = 0; i < p->nf; i++)
		if (strcmp(p->f[i].name, name) == 0)
			return i;
	ck_assert_int_lt(p->nf, MAX_FAMILIES);
	snprintf(p->f[p->nf].name, sizeof(p->f[0].name), "%s", name);
	return p->nf++;
}

/* Enter family i; fail if it was left before (families contiguous). */
static void
prom_enter(struct prom *p, int i)
{
	if (p->cur == i)
		return;
	if (p->cur >= 0)
		p->f[p->cur].closed = 1;
	ck_assert_msg(!p->f[i].closed, "family %s not contiguous",
	    p->f[i].name);
	p->cur = i;
}

/* The family a sample name belongs to: histograms strip their suffix. */
static int
prom_sample_family(struct prom *p, const char *name)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	char	 base[96];
	size_t	 n = strlen(name), k, l;
	int	 i;

	for (k = 0; k < 3; k++) {
		l = strlen(sfx[k]);
		if (n > l && strcmp(name + n - l, sfx[k]) == 0) {
			snprintf(base, sizeof(base), "%.*s", (int)(n - l),
			    name);
			for (i = 0; i < p->nf; i++)
				if (strcmp(p->f[i].name, base) == 0 &&
				    strcmp(p->f[i].type, "histogram") == 0)
					return i;
		}
	}
	for (i = 0; i < p->nf; i++)
		if (strcmp(p->f[i].name, name) == 0)
			return i;
	ck_abort_msg("sample %s has no TYPE line before it", name);
	return -1;
}

/* labels: worker="N",le="X" in any order; nothing else allowed. */
static void
prom_labels(struct sample *s, char *lab)
{
	char	*tok, *save = NULL, *eq, *val;
	size_t	 n;

	for (tok = strtok_r(lab, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		eq = strchr(tok, '=');
		ck_assert_ptr_nonnull(eq);
		*eq = '\0';
		val = eq + 1;
		n = strlen(val);
		ck_assert_msg(n >= 2 && val[0] == '"' && val[n - 1] == '"',
		    "label value not quoted: %s", val);
		val[n - 1] = '\0';
		val++;
		if (strcmp(tok, "worker") == 0)
			snprintf(s->worker, sizeof(s->worker), "%s", val);
		else if (strcmp(tok, "le") == 0)
			snprintf(s->le, sizeof(s->le), "%s", val);
		else
			ck_abort_msg("unexpected label %s", tok);
	}
}

static void
prom_line(struct prom *p, char *line)
{
	char		 name[96], rest[512];
	struct sample	*s;
	char		*sp, *brace, *end;
	int		 i;

	if (line[0] == '\0')
		return;
	if (strncmp(line, "# HELP ", 7) == 0) {
		ck_assert_int_eq(sscanf(line + 7, "%95s %511[^\n]", name, rest),
		    2);
		i = prom_family(p, name);
		prom_enter(p, i);
		p->f[i].nhelp++;
		return;
	}
	if (strncmp(line, "# TYPE ", 7) == 0) {
		ck_assert_int_eq(sscanf(line + 7, "%95s %511s", name, rest), 2);
		i = prom_family(p, name);
		prom_enter(p, i);
		p->f[i].ntype++;
		ck_assert_uint_lt(strlen(rest), sizeof(p->f[i].type));
		memcpy(p->f[i].type, rest, strlen(rest) + 1);
		return;
	}
	ck_assert_msg(line[0] != '#', "stray comment: %s", line);
	ck_assert_int_lt(p->ns, MAX_SAMPLES);
	s = &p->s[p->ns++];
	memset(s, 0, sizeof(*s));
	sp = strrchr(line, ' ');
	ck_assert_ptr_nonnull(sp);
	*sp = '\0';
	s->value = strtod(sp + 1, &end);
	ck_assert_msg(*end == '\0' && end != sp + 1, "bad value in %s", line);
	if ((brace = strchr(line, '{')) != NULL) {
		ck_assert_int_eq(line[strlen(line) - 1], '}');
		line[strlen(line) - 1] = '\0';
		*brace = '\0';
		prom_labels(s, brace + 1);
	}
	ck_assert_ptr_null(strchr(line, ' '));
	snprintf(s->name, sizeof(s->name), "%s", line);
	s->family = prom_sample_family(p, s->name);
	prom_enter(p, s->family);
}

static struct prom *
prom_parse(char *text)
{
	struct prom	*p = calloc(1, sizeof(*p));
	char		*line, *save = NULL;
	int		 i;

	ck_assert_ptr_nonnull(p);
	p->cur = -1;
	ck_assert_msg(text[0] != '\0' && text[strlen(text) - 1] == '\n',
	    "output must end with a newline");
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		prom_line(p, line);
	for (i = 0; i < p->nf; i++) {
		ck_assert_msg(p->f[i].nhelp == 1 && p->f[i].ntype == 1,
		    "family %s: %d HELP, %d TYPE", p->f[i].name,
		    p->f[i].nhelp, p->f[i].ntype);
	}
	return p;
}

/* Value of the sample name{worker=w} (le empty), or fail. */
static double
prom_get(const struct prom *p, const char *name, const char *worker,
    const char *le)
{
	int	 i;

	for (i = 0; i < p->ns; i++)
		if (strcmp(p->s[i].name, name) == 0 &&
		    strcmp(p->s[i].worker, worker) == 0 &&
		    strcmp(p->s[i].le, le) == 0)
			return p->s[i].value;
	ck_abort_msg("no sample %s{worker=\"%s\",le=\"%s\"}", name, worker, le);
	return -1;
}

static int
prom_count(const struct prom *p, const char *name, const char *worker)
{
	int	 i, n = 0;

	for (i = 0; i < p->ns; i++)
		if (strcmp(p->s[i].name, name) == 0 &&
		    (worker == NULL || strcmp(p->s[i].worker, worker) == 0))
			n++;
	return n;
}

static struct prom *
prom_of_seg(void)
{
	char		*text = capture(stats_write_prom, 0);
	struct prom	*p = prom_parse(text);

	free(text);
	return p;
}

/* --- tests --- */

START_TEST(create_fills_header)
{
	struct stat	 st;

	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	ck_assert_uint_eq(seg.hdr->magic, STATS_MAGIC);
	ck_assert_uint_eq(seg.hdr->version, STATS_VERSION);
	ck_assert_uint_eq(seg.hdr->nslots, NSLOTS);
	ck_assert_uint_eq(seg.hdr->slot_size, sizeof(struct stats_slot));
	ck_assert_uint_eq(seg.hdr->hdr_size % 128, 0);
	ck_assert_uint_ge(seg.hdr->hdr_size, sizeof(struct stats_hdr));
	ck_assert_uint_eq(seg.hdr->generation, 1);
	ck_assert_int_eq(seg.hdr->sup_pid, getpid());
	ck_assert_int_gt(seg.hdr->start_time, 0);
	ck_assert_int_eq(stat(segpath, &st), 0);
	ck_assert_int_eq(st.st_size,
	    seg.hdr->hdr_size + NSLOTS * sizeof(struct stats_slot));
	ck_assert_uint_eq((uintptr_t)seg.slots % 128, 0);
	ck_assert_uint_eq(seg.slots[NSLOTS - 1].rrq, 0);
}
END_TEST

START_TEST(create_replaces_old_file)
{
	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	STATS_ADD(&seg.slots[1], rrq, 5);
	stats_close(&seg);
	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	ck_assert_uint_eq(seg.slots[1].rrq, 0);
}
END_TEST

START_TEST(sum_adds_every_slot)
{
	struct stats_totals	 t;

	make_populated();
	stats_sum(&seg, &t);
	ck_assert_uint_eq(t.rrq, 18);
	ck_assert_uint_eq(t.sess_ok, 14);
	ck_assert_uint_eq(t.tx_bytes, 123457);
	ck_assert_uint_eq(t.refused_notfound, 2);
	ck_assert_uint_eq(t.opt_timeout, 4);
	ck_assert_uint_eq(t.wrq, 0);
	ck_assert_uint_eq(t.dur_hist[0], 2);
	ck_assert_uint_eq(t.size_sum, 1024 + (1 << 20) + 512 + UINT64_MAX / 4);
}
END_TEST

START_TEST(sum_slot_adds_to_running_total)
{
	struct stats_totals	 t;

	make_populated();
	memset(&t, 0, sizeof(t));
	stats_sum_slot(&seg.slots[0], &t);
	ck_assert_uint_eq(t.rrq, 10);
	stats_sum_slot(&seg.slots[3], &t);
	ck_assert_uint_eq(t.rrq, 17);
	ck_assert_uint_eq(t.sess_ok, 14);
}
END_TEST

START_TEST(active_counts_only_live_slots)
{
	struct stats_totals	 t;

	make_populated();
	stats_sum(&seg, &t);
	ck_assert_uint_eq(t.sess_active, 5);
	STATS_SET(&seg.slots[3], state, STATS_W_DRAINING);
	stats_sum(&seg, &t);
	ck_assert_uint_eq(t.sess_active, 5);
}
END_TEST

START_TEST(worker_start_resets_gauge_keeps_counters)
{
	struct stats_slot	*sl;

	make_populated();
	sl = &seg.slots[0];
	stats_worker_start(sl, 2000, 2);
	ck_assert_uint_eq(sl->sess_active, 0);
	ck_assert_uint_eq(sl->rrq, 10);
	ck_assert_uint_eq(sl->restarts, 2);
	ck_assert_int_eq(sl->pid, 2000);
	ck_assert_uint_eq(sl->generation, 2);
	ck_assert_uint_eq(sl->state, STATS_W_RUNNING);
	ck_assert_uint_gt(sl->heartbeat_ms, 0);
}
END_TEST

START_TEST(dur_bucket_edges)
{
	ck_assert_uint_eq(stats_dur_bucket(0), 0);
	ck_assert_uint_eq(stats_dur_bucket(1), 0);
	ck_assert_uint_eq(stats_dur_bucket(2), 1);
	ck_assert_uint_eq(stats_dur_bucket(3), 2);
	ck_assert_uint_eq(stats_dur_bucket(4), 2);
	ck_assert_uint_eq(stats_dur_bucket(1023), 10);
	ck_assert_uint_eq(stats_dur_bucket(1024), 10);
	ck_assert_uint_eq(stats_dur_bucket(1025), 11);
	ck_assert_uint_eq(stats_dur_bucket((uint64_t)1 << 22),
	    STATS_DUR_BUCKETS - 2);
	ck_assert_uint_eq(stats_dur_bucket(((uint64_t)1 << 22) + 1),
	    STATS_DUR_BUCKETS - 1);
	ck_assert_uint_eq(stats_dur_bucket(UINT64_MAX), STATS_DUR_BUCKETS - 1);
}
END_TEST

START_TEST(size_bucket_edges)
{
	ck_assert_uint_eq(stats_size_bucket(0), 0);
	ck_assert_uint_eq(stats_size_bucket(1), 0);
	ck_assert_uint_eq(stats_size_bucket(2), 1);
	ck_assert_uint_eq(stats_size_bucket(3), 2);
	ck_assert_uint_eq(stats_size_bucket(1023), 10);
	ck_assert_uint_eq(stats_size_bucket(1024), 10);
	ck_assert_uint_eq(stats_size_bucket((uint64_t)1 << 38),
	    STATS_SIZE_BUCKETS - 2);
	ck_assert_uint_eq(stats_size_bucket(((uint64_t)1 << 38) + 1),
	    STATS_SIZE_BUCKETS - 1);
	ck_assert_uint_eq(stats_size_bucket(UINT64_MAX),
	    STATS_SIZE_BUCKETS - 1);
}
END_TEST

START_TEST(observe_fills_bucket_and_sum)
{
	struct stats_slot	*sl;

	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	sl = &seg.slots[2];
	stats_observe(sl, 3, 1024);
	stats_observe(sl, 4, 1025);
	ck_assert_uint_eq(sl->dur_hist[2], 2);
	ck_assert_uint_eq(sl->dur_sum_ms, 7);
	ck_assert_uint_eq(sl->size_hist[10], 1);
	ck_assert_uint_eq(sl->size_hist[11], 1);
	ck_assert_uint_eq(sl->size_sum, 2049);
}
END_TEST

START_TEST(prom_families_once_and_contiguous)
{
	struct prom	*p;
	int		 i;

	make_populated();
	p = prom_of_seg();		/* asserts HELP/TYPE once, contiguity */
#define X(fld, h) i = prom_family(p, "ptftpd_" #fld "_total"); \
	ck_assert_str_eq(p->f[i].type, "counter");
	STATS_COUNTERS
#undef X
	ck_assert_str_eq(p->f[prom_family(p,
	    "ptftpd_transfer_duration_seconds")].type, "histogram");
	ck_assert_str_eq(p->f[prom_family(p,
	    "ptftpd_transfer_size_bytes")].type, "histogram");
	ck_assert_str_eq(p->f[prom_family(p, "ptftpd_sessions_active")].type,
	    "gauge");
	ck_assert_str_eq(p->f[prom_family(p,
	    "ptftpd_worker_restarts_total")].type, "counter");
	ck_assert_str_eq(p->f[prom_family(p,
	    "ptftpd_config_generation")].type, "gauge");
	ck_assert_str_eq(p->f[prom_family(p,
	    "ptftpd_start_time_seconds")].type, "gauge");
	for (i = 0; i < p->nf; i++)
		ck_assert_msg(p->f[i].ntype == 1, "%s has no TYPE",
		    p->f[i].name);
	free(p);
}
END_TEST

START_TEST(prom_counters_per_worker)
{
	struct prom	*p;

	make_populated();
	p = prom_of_seg();
	ck_assert_double_eq(prom_get(p, "ptftpd_rrq_total", "0", ""), 10);
	ck_assert_double_eq(prom_get(p, "ptftpd_rrq_total", "3", ""), 7);
	ck_assert_double_eq(prom_get(p, "ptftpd_rrq_total", "5", ""), 1);
	ck_assert_double_eq(prom_get(p, "ptftpd_sess_ok_total", "3", ""), 5);
	ck_assert_double_eq(prom_get(p, "ptftpd_tx_bytes_total", "0", ""),
	    123456);
	ck_assert_double_eq(prom_get(p, "ptftpd_refused_notfound_total", "3",
	    ""), 2);
	ck_assert_double_eq(prom_get(p, "ptftpd_opt_timeout_total", "0", ""),
	    4);
	ck_assert_double_eq(prom_get(p, "ptftpd_sessions_active", "0", ""), 3);
	ck_assert_double_eq(prom_get(p, "ptftpd_sessions_active", "5", ""), 0);
	ck_assert_double_eq(prom_get(p, "ptftpd_worker_up", "0", ""), 1);
	ck_assert_double_eq(prom_get(p, "ptftpd_worker_up", "5", ""), 0);
	ck_assert_double_eq(prom_get(p, "ptftpd_worker_restarts_total", "0",
	    ""), 0);
	ck_assert_double_eq(prom_get(p, "ptftpd_config_generation", "", ""),
	    1);
	free(p);
}
END_TEST

START_TEST(prom_leaves_out_free_slots)
{
	struct prom	*p;

	make_populated();
	p = prom_of_seg();
	ck_assert_int_eq(prom_count(p, "ptftpd_rrq_total", NULL), 3);
	ck_assert_int_eq(prom_count(p, "ptftpd_rrq_total", "1"), 0);
	ck_assert_int_eq(prom_count(p, "ptftpd_worker_up", "7"), 0);
	free(p);
}
END_TEST

START_TEST(prom_histograms_cumulative)
{
	static const char *const fams[] = {
		"ptftpd_transfer_duration_seconds",
		"ptftpd_transfer_size_bytes",
	};
	static const char *const workers[] = { "0", "3", "5" };
	char		 name[128];
	struct prom	*p;
	double		 prev, inf, le, prev_le;
	unsigned	 k, w;
	int		 i, n;

	make_populated();
	p = prom_of_seg();
	for (k = 0; k < 2; k++) {
		for (w = 0; w < 3; w++) {
			snprintf(name, sizeof(name), "%s_bucket", fams[k]);
			prev = 0;
			prev_le = -1;
			n = 0;
			for (i = 0; i < p->ns; i++) {
				if (strcmp(p->s[i].name, name) != 0 ||
				    strcmp(p->s[i].worker, workers[w]) != 0)
					continue;
				ck_assert_double_ge(p->s[i].value, prev);
				prev = p->s[i].value;
				le = strcmp(p->s[i].le, "+Inf") == 0 ? 1e300 :
				    strtod(p->s[i].le, NULL);
				ck_assert_double_gt(le, prev_le);
				prev_le = le;
				n++;
			}
			ck_assert_int_eq(n, k == 0 ? STATS_DUR_BUCKETS :
			    STATS_SIZE_BUCKETS);
			inf = prom_get(p, name, workers[w], "+Inf");
			snprintf(name, sizeof(name), "%s_count", fams[k]);
			ck_assert_double_eq(prom_get(p, name, workers[w], ""),
			    inf);
		}
	}
	/* worker 0: durations 0, 3, 5000 ms; sizes 0, 1024, 1 MiB */
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_duration_seconds_bucket",
	    "0", "0.001"), 1);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_duration_seconds_bucket",
	    "0", "0.004"), 2);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_duration_seconds_bucket",
	    "0", "4.096"), 2);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_duration_seconds_bucket",
	    "0", "8.192"), 3);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_duration_seconds_sum",
	    "0", ""), 5.003);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_size_bytes_bucket",
	    "0", "1024"), 2);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_size_bytes_sum",
	    "0", ""), 1024 + (1 << 20));
	/* worker 3: one beyond the last finite bucket */
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_duration_seconds_bucket",
	    "3", "4194.304"), 1);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_duration_seconds_bucket",
	    "3", "+Inf"), 2);
	free(p);
}
END_TEST

START_TEST(prom_numbers_integral_when_possible)
{
	char	*text;

	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	stats_worker_start(&seg.slots[1], 42, 1);
	STATS_SET(&seg.slots[1], heartbeat_ms, 10000);
	stats_observe(&seg.slots[1], 2000, 100);
	text = capture(stats_write_prom, 10400);
	ck_assert_ptr_nonnull(strstr(text,
	    "\nptftpd_transfer_duration_seconds_sum{worker=\"1\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\nptftpd_worker_heartbeat_age_seconds{worker=\"1\"} 0.4\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nptftpd_rrq_total{worker=\"1\"} 0\n"));
	ck_assert_ptr_null(strstr(text, "e+"));
	free(text);
}
END_TEST

START_TEST(json_contains_counters)
{
	char	*text;

	make_populated();
	text = capture(stats_write_json, 0);
	ck_assert_int_eq(text[0], '{');
	ck_assert_ptr_nonnull(strstr(text, "\"version\":1,"));
	ck_assert_ptr_nonnull(strstr(text, "\"totals\":{\"rrq\":18,"));
	ck_assert_ptr_nonnull(strstr(text, "\"sess_ok\":14,"));
	ck_assert_ptr_nonnull(strstr(text, "\"refused_notfound\":2,"));
	ck_assert_ptr_nonnull(strstr(text, "\"sess_active\":5,"));
	ck_assert_ptr_nonnull(strstr(text, "\"dur_hist\":[2,"));
	ck_assert_ptr_nonnull(strstr(text, "{\"slot\":3,\"pid\":1003,"
	    "\"state\":\"running\""));
	ck_assert_ptr_nonnull(strstr(text, "\"state\":\"exited\""));
	ck_assert_ptr_null(strstr(text, "\"slot\":1,"));
	ck_assert_ptr_nonnull(strstr(text, "]}\n"));
	ck_assert_ptr_null(strstr(text, ",}"));
	ck_assert_ptr_null(strstr(text, ",]"));
	free(text);
}
END_TEST

START_TEST(text_lists_totals_and_used_slots)
{
	char	*text;

	make_populated();
	STATS_SET(&seg.slots[3], heartbeat_ms, 1000);
	text = capture(stats_write_text, 1400);
	ck_assert_ptr_nonnull(strstr(text, "read requests received"));
	ck_assert_ptr_nonnull(strstr(text, "active transfers 5\n"));
	ck_assert_ptr_nonnull(strstr(text, "slot 3 pid 1003 state running gen 1"
	    " heartbeat 0.4s ago active 2 rrq 7 ok 5 bytes 1 "));
	ck_assert_ptr_nonnull(strstr(text, "slot 5 pid 1005 state exited"));
	ck_assert_ptr_null(strstr(text, "slot 1 "));
	free(text);
}
END_TEST

START_TEST(summary_line)
{
	struct stats_totals	 t;
	char			 buf[512];

	make_populated();
	stats_sum(&seg, &t);
	ck_assert_str_eq(stats_summary(&t, buf, sizeof(buf)),
	    "rrq=18 wrq=0 started=0 ok=14 probe=0 aborted=0 timeout=0 error=0"
	    " notfound=2 denied=0 active=5 tx_bytes=123457 rexmit=0");
}
END_TEST

START_TEST(open_reads_live_segment)
{
	struct stats_seg	 ro;
	struct stats_totals	 t;

	make_populated();
	ck_assert_int_eq(stats_open(&ro, segpath, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(ro.writable, 0);
	stats_sum(&ro, &t);
	ck_assert_uint_eq(t.rrq, 18);
	STATS_ADD(&seg.slots[0], rrq, 1);
	stats_sum(&ro, &t);
	ck_assert_uint_eq(t.rrq, 19);
	stats_close(&ro);
	stats_close(&ro);
}
END_TEST

START_TEST(open_rejects_missing_file)
{
	struct stats_seg	 ro;
	char			 want[512];

	snprintf(want, sizeof(want), "%s: No such file or directory (is "
	    "ptftpd running? see stats.path)", segpath);
	ck_assert_int_eq(stats_open(&ro, segpath, errbuf, sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, want);
}
END_TEST

START_TEST(open_rejects_wrong_magic)
{
	struct stats_seg	 ro;
	char			 want[512];

	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	seg.hdr->magic ^= 1;
	snprintf(want, sizeof(want), "%s: not a ptftpd stats segment",
	    segpath);
	ck_assert_int_eq(stats_open(&ro, segpath, errbuf, sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, want);
	/* a short file that is not a segment either */
	ck_assert_int_eq(truncate(segpath, 5), 0);
	ck_assert_int_eq(stats_open(&ro, segpath, errbuf, sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, want);
}
END_TEST

START_TEST(open_rejects_newer_version)
{
	struct stats_seg	 ro;
	char			 want[512];

	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	seg.hdr->version = STATS_VERSION + 1;
	seg.hdr->slot_size += 64;	/* a newer layout would differ too */
	snprintf(want, sizeof(want), "%s: layout version %u, this ptftpd-stat"
	    " reads %u", segpath, STATS_VERSION + 1, STATS_VERSION);
	ck_assert_int_eq(stats_open(&ro, segpath, errbuf, sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, want);
}
END_TEST

START_TEST(open_rejects_truncated)
{
	struct stats_seg	 ro;
	char			 want[512];
	off_t			 full;

	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	full = (off_t)seg.len;
	stats_close(&seg);
	snprintf(want, sizeof(want), "%s: truncated", segpath);
	ck_assert_int_eq(truncate(segpath, full - 1), 0);
	ck_assert_int_eq(stats_open(&ro, segpath, errbuf, sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, want);
	ck_assert_int_eq(truncate(segpath, 64), 0);	/* half a header */
	ck_assert_int_eq(stats_open(&ro, segpath, errbuf, sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, want);
}
END_TEST

static int
dir_has_tmp(const char *dir)
{
	char	 cmd[512];
	FILE	*p;
	int	 n = 0, c;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -c '\\.tmp\\.'", dir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	while ((c = fgetc(p)) != EOF)
		;
	pclose(p);
	return n;
}

START_TEST(prom_file_replaced_atomically)
{
	char		 path[300], buf[64];
	struct stat	 before, after;
	FILE		*f;

	make_populated();
	snprintf(path, sizeof(path), "%s/ptftpd.prom", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("old\n", f);
	fclose(f);
	ck_assert_int_eq(stat(path, &before), 0);
	ck_assert_int_eq(stats_write_prom_file(path, &seg, 0), 0);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_ne(before.st_ino, after.st_ino);	/* renamed over */
	ck_assert_uint_eq(after.st_mode & 0777, 0644);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_str_eq(buf, "# HELP ptftpd_rrq_total read requests received\n");
	ck_assert_int_eq(dir_has_tmp(tmpdir), 0);
}
END_TEST

START_TEST(prom_file_error_leaves_no_temp)
{
	char	 path[300];

	make_populated();
	snprintf(path, sizeof(path), "%s/adir", tmpdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	/* a non-empty directory in the way: the rename fails */
	snprintf(path, sizeof(path), "%s/adir/x", tmpdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/adir", tmpdir);
	ck_assert_int_eq(stats_write_prom_file(path, &seg, 0), -1);
	ck_assert_int_ne(errno, 0);
	ck_assert_int_eq(dir_has_tmp(tmpdir), 0);
	snprintf(path, sizeof(path), "%s/nodir/ptftpd.prom", tmpdir);
	ck_assert_int_eq(stats_write_prom_file(path, &seg, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

static Suite *
stats_suite(void)
{
	Suite	*s = suite_create("stats");
	TCase	*tc = tcase_create("stats");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_fills_header);
	tcase_add_test(tc, create_replaces_old_file);
	tcase_add_test(tc, sum_adds_every_slot);
	tcase_add_test(tc, sum_slot_adds_to_running_total);
	tcase_add_test(tc, active_counts_only_live_slots);
	tcase_add_test(tc, worker_start_resets_gauge_keeps_counters);
	tcase_add_test(tc, dur_bucket_edges);
	tcase_add_test(tc, size_bucket_edges);
	tcase_add_test(tc, observe_fills_bucket_and_sum);
	tcase_add_test(tc, prom_families_once_and_contiguous);
	tcase_add_test(tc, prom_counters_per_worker);
	tcase_add_test(tc, prom_leaves_out_free_slots);
	tcase_add_test(tc, prom_histograms_cumulative);
	tcase_add_test(tc, prom_numbers_integral_when_possible);
	tcase_add_test(tc, json_contains_counters);
	tcase_add_test(tc, text_lists_totals_and_used_slots);
	tcase_add_test(tc, summary_line);
	tcase_add_test(tc, open_reads_live_segment);
	tcase_add_test(tc, open_rejects_missing_file);
	tcase_add_test(tc, open_rejects_wrong_magic);
	tcase_add_test(tc, open_rejects_newer_version);
	tcase_add_test(tc, open_rejects_truncated);
	tcase_add_test(tc, prom_file_replaced_atomically);
	tcase_add_test(tc, prom_file_error_leaves_no_temp);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(stats_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
