/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_stats.c - unit tests for stats.c, linked with stats.o alone. Each
 * test creates a segment in a fresh mkdtemp directory, stores counts into
 * a few slots the way a worker would, and checks the sums, the bucket
 * rules and every output format. The Prometheus text is parsed back here
 * (HELP/TYPE once per family, families contiguous, label syntax and
 * escaping, labelled families, per-worker series of live slots only,
 * totals that never go back across generations, cumulative buckets);
 * JSON gets string checks (the integration test runs it through a real
 * parser, and promtool checks the daemon's real output).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "stats.h"
#include "version.h"
#include "testutil.h"

#define NSLOTS		8
#define MAX_SAMPLES	4096
#define MAX_FAMILIES	128

static char		 tmpdir[128];
static char		 segpath[256];
static char		 errbuf[512];
static struct stats_seg	 seg;

static void
setup(void)
{
	unit_tmpdir(tmpdir, sizeof(tmpdir), "/tmp", "check_stats");
	snprintf(segpath, sizeof(segpath), "%s/seg", tmpdir);
	memset(&seg, 0, sizeof(seg));
	errbuf[0] = '\0';
}

static void
teardown(void)
{
	stats_close(&seg);
	unit_rmtree(tmpdir);
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
	char	 labels[256];	/* as written between the braces */
	char	 worker[16];	/* the worker label's value, or "" */
	char	 le[32];	/* the le label's value, or "" */
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

/* The family called name, or -1 (nothing added). */
static int
prom_find_family(const struct prom *p, const char *name)
{
	int	 i;

	for (i = 0; i < p->nf; i++)
		if (strcmp(p->f[i].name, name) == 0)
			return i;
	return -1;
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

/*
 * labels: name="value",... with only \\, \" and \n escaped in values;
 * worker and le are kept apart. Returns a pointer past the closing brace.
 */
static char *
prom_labels(struct sample *s, char *lab)
{
	char	 key[64], val[128];
	char	*p = lab, *start = lab;
	size_t	 k, v;

	while (*p != '}') {
		for (k = 0; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
		    || *p == '_' || (k > 0 && *p >= '0' && *p <= '9'); p++) {
			ck_assert_uint_lt(k, sizeof(key) - 1);
			key[k++] = *p;
		}
		key[k] = '\0';
		ck_assert_msg(k > 0 && p[0] == '=' && p[1] == '"',
		    "bad label at %s", p);
		for (p += 2, v = 0; *p != '"'; p++) {
			ck_assert_msg(*p != '\0' && *p != '\n',
			    "unterminated label value");
			ck_assert_uint_lt(v, sizeof(val) - 1);
			if (*p == '\\') {
				p++;
				ck_assert_msg(*p == '\\' || *p == '"' ||
				    *p == 'n', "bad escape \\%c", *p);
				val[v++] = *p == 'n' ? '\n' : *p;
			} else {
				val[v++] = *p;
			}
		}
		val[v] = '\0';
		p++;
		if (strcmp(key, "worker") == 0)
			snprintf(s->worker, sizeof(s->worker), "%.15s", val);
		else if (strcmp(key, "le") == 0)
			snprintf(s->le, sizeof(s->le), "%.31s", val);
		if (*p == ',')
			p++;
		else
			ck_assert_msg(*p == '}', "bad label list %s", start);
	}
	ck_assert_uint_lt((size_t)(p - start), sizeof(s->labels));
	memcpy(s->labels, start, (size_t)(p - start));
	s->labels[p - start] = '\0';
	return p + 1;
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
	if ((brace = strchr(line, '{')) != NULL) {
		*brace = '\0';
		sp = prom_labels(s, brace + 1);
		ck_assert_int_eq(*sp, ' ');
	} else {
		sp = strchr(line, ' ');
		ck_assert_ptr_nonnull(sp);
		*sp = '\0';
	}
	s->value = strtod(sp + 1, &end);
	ck_assert_msg(*end == '\0' && end != sp + 1, "bad value in %s", line);
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

/* Value of the sample name{labels} (labels as written), or fail. */
static double
prom_get(const struct prom *p, const char *name, const char *labels)
{
	int	 i;

	for (i = 0; i < p->ns; i++)
		if (strcmp(p->s[i].name, name) == 0 &&
		    strcmp(p->s[i].labels, labels) == 0)
			return p->s[i].value;
	ck_abort_msg("no sample %s{%s}", name, labels);
	return -1;
}

/* Samples called name, with worker label w (NULL: any, "": none). */
static int
prom_count(const struct prom *p, const char *name, const char *w)
{
	int	 i, n = 0;

	for (i = 0; i < p->ns; i++)
		if ((name == NULL || strcmp(p->s[i].name, name) == 0) &&
		    (w == NULL || strcmp(p->s[i].worker, w) == 0))
			n++;
	return n;
}

static const char *
prom_type(const struct prom *p, const char *family)
{
	int	 i = prom_find_family(p, family);

	ck_assert_msg(i >= 0, "no family %s", family);
	return p->f[i].type;
}

static struct prom *
prom_of_seg(void)
{
	char		*text = capture(stats_write_prom, 0);
	struct prom	*p = prom_parse(text);

	free(text);
	return p;
}

/*
 * Every sample of old that is a total (no worker label) of a counter or
 * histogram is in new, not smaller.
 */
static void
prom_not_back(const struct prom *old, const struct prom *new)
{
	int	 i, j, found;

	for (i = 0; i < old->ns; i++) {
		const struct sample	*o = &old->s[i];
		const char		*type = old->f[o->family].type;

		if (o->worker[0] != '\0' || (strcmp(type, "counter") != 0 &&
		    strcmp(type, "histogram") != 0))
			continue;
		for (j = 0, found = 0; j < new->ns && !found; j++) {
			if (strcmp(new->s[j].name, o->name) != 0 ||
			    strcmp(new->s[j].labels, o->labels) != 0)
				continue;
			found = 1;
			ck_assert_msg(new->s[j].value >= o->value,
			    "%s{%s} went back from %.0f to %.0f", o->name,
			    o->labels, o->value, new->s[j].value);
		}
		ck_assert_msg(found, "%s{%s} is gone", o->name, o->labels);
	}
}

/* The worker labels present, as a bit set of slot indexes (< 64). */
static uint64_t
prom_workers(const struct prom *p)
{
	uint64_t	 set = 0;
	int		 i;

	for (i = 0; i < p->ns; i++)
		if (p->s[i].worker[0] != '\0')
			set |= (uint64_t)1 << strtoul(p->s[i].worker, NULL, 10);
	return set;
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

/* Histogram bucket edges: value and the bucket it must land in. */
struct bucket_edge {
	uint64_t	v;
	unsigned	want;
};

static void
buckets_are(unsigned (*bucket)(uint64_t), const char *name,
    const struct bucket_edge *e, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		ck_assert_msg(bucket(e[i].v) == e[i].want,
		    "%s(%" PRIu64 ") = %u, want %u", name, e[i].v,
		    bucket(e[i].v), e[i].want);
}

START_TEST(bucket_edges)
{
	static const struct bucket_edge	dur[] = {
		{ 0, 0 }, { 1, 0 }, { 2, 1 }, { 3, 2 }, { 4, 2 },
		{ 1023, 10 }, { 1024, 10 }, { 1025, 11 },
		{ (uint64_t)1 << 22, STATS_DUR_BUCKETS - 2 },
		{ ((uint64_t)1 << 22) + 1, STATS_DUR_BUCKETS - 1 },
		{ UINT64_MAX, STATS_DUR_BUCKETS - 1 },
	};
	static const struct bucket_edge	size[] = {
		{ 0, 0 }, { 1, 0 }, { 2, 1 }, { 3, 2 },
		{ 1023, 10 }, { 1024, 10 },
		{ (uint64_t)1 << 38, STATS_SIZE_BUCKETS - 2 },
		{ ((uint64_t)1 << 38) + 1, STATS_SIZE_BUCKETS - 1 },
		{ UINT64_MAX, STATS_SIZE_BUCKETS - 1 },
	};

	buckets_are(stats_dur_bucket, "stats_dur_bucket", dur,
	    sizeof(dur) / sizeof(dur[0]));
	buckets_are(stats_size_bucket, "stats_size_bucket", size,
	    sizeof(size) / sizeof(size[0]));
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
	static const char *const counters[] = {
		"ptftpd_requests_total", "ptftpd_transfers_total",
		"ptftpd_refused_total", "ptftpd_client_errors_total",
		"ptftpd_options_negotiated_total", "ptftpd_tx_bytes_total",
		"ptftpd_reloads_total", "ptftpd_worker_crashes_total",
		"ptftpd_worker_requests_total", "ptftpd_worker_tx_bytes_total",
	};
	static const char *const gauges[] = {
		"ptftpd_build_info", "ptftpd_start_time_seconds",
		"ptftpd_config_generation", "ptftpd_workers",
		"ptftpd_workers_configured", "ptftpd_sessions_active",
		"ptftpd_config_last_reload_successful",
		"ptftpd_config_last_reload_timestamp_seconds",
		"ptftpd_worker_heartbeat_age_seconds",
		"ptftpd_worker_start_time_seconds",
	};
	struct prom	*p;
	size_t		 k;
	int		 i;

	make_populated();
	p = prom_of_seg();		/* asserts HELP/TYPE once, contiguity */
	for (k = 0; k < sizeof(counters) / sizeof(counters[0]); k++)
		ck_assert_str_eq(prom_type(p, counters[k]), "counter");
	for (k = 0; k < sizeof(gauges) / sizeof(gauges[0]); k++)
		ck_assert_str_eq(prom_type(p, gauges[k]), "gauge");
	ck_assert_str_eq(prom_type(p, "ptftpd_transfer_duration_seconds"),
	    "histogram");
	ck_assert_str_eq(prom_type(p, "ptftpd_transfer_size_bytes"),
	    "histogram");
	for (i = 0; i < p->nf; i++) {
		size_t n = strlen(p->f[i].name);
		int total = n > 6 && strcmp(p->f[i].name + n - 6, "_total") == 0;

		/* promtool's lint: _total iff a counter */
		ck_assert_msg(total == (strcmp(p->f[i].type, "counter") == 0),
		    "%s is a %s", p->f[i].name, p->f[i].type);
	}
	free(p);
}
END_TEST

/* Results, reasons, options, opcodes: one family each, one label. */
START_TEST(prom_label_families)
{
	struct prom	*p;

	make_populated();
	STATS_ADD(&seg.slots[3], denied_acl, 6);
	STATS_ADD(&seg.slots[5], client_err8, 1);
	p = prom_of_seg();
	ck_assert_double_eq(prom_get(p, "ptftpd_requests_total", "op=\"rrq\""),
	    18);
	ck_assert_double_eq(prom_get(p, "ptftpd_requests_total", "op=\"wrq\""),
	    0);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfers_total",
	    "result=\"ok\""), 14);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfers_total",
	    "result=\"timeout\""), 0);
	ck_assert_double_eq(prom_get(p, "ptftpd_refused_total",
	    "reason=\"not_found\""), 2);
	ck_assert_double_eq(prom_get(p, "ptftpd_refused_total",
	    "reason=\"acl\""), 6);
	ck_assert_double_eq(prom_get(p, "ptftpd_client_errors_total",
	    "code=\"8\""), 1);
	ck_assert_double_eq(prom_get(p, "ptftpd_options_negotiated_total",
	    "option=\"timeout\""), 4);
	ck_assert_double_eq(prom_get(p, "ptftpd_tx_bytes_total", ""), 123457);
	ck_assert_int_eq(prom_count(p, "ptftpd_transfers_total", NULL), 6);
	ck_assert_int_eq(prom_count(p, "ptftpd_refused_total", NULL), 7);
	ck_assert_int_eq(prom_count(p, "ptftpd_options_negotiated_total", NULL),
	    4);
	/* the old one-name-per-value families are gone */
	ck_assert_int_eq(prom_find_family(p, "ptftpd_rrq_total"), -1);
	ck_assert_int_eq(prom_find_family(p, "ptftpd_sess_ok_total"), -1);
	ck_assert_int_eq(prom_find_family(p, "ptftpd_refused_notfound_total"),
	    -1);
	ck_assert_int_eq(prom_find_family(p, "ptftpd_opt_timeout_total"), -1);
	free(p);
}
END_TEST

/*
 * Each counter of the field list is exported exactly once as a total,
 * mapped into a family or under its own name: a counter appended to
 * STATS_COUNTERS cannot be forgotten.
 */
START_TEST(prom_every_counter_once)
{
	struct stats_slot	*sl;
	struct prom		*p;
	unsigned		 k = 0, n, seen[256];
	int			 i;

	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	sl = &seg.slots[2];
	stats_worker_start(sl, 77, 1);
#define X(f, h) STATS_SET(sl, f, 100000 + k); k++;
	STATS_COUNTERS
#undef X
	n = k;
	ck_assert_uint_lt(n, 256);
	memset(seen, 0, sizeof(seen));
	p = prom_of_seg();
	for (i = 0; i < p->ns; i++) {
		const struct sample *s = &p->s[i];

		if (s->worker[0] != '\0' ||
		    strcmp(p->f[s->family].type, "counter") != 0 ||
		    strcmp(s->name, "ptftpd_reloads_total") == 0 ||
		    strcmp(s->name, "ptftpd_worker_crashes_total") == 0)
			continue;
		ck_assert_msg(s->value >= 100000 && s->value < 100000 + n,
		    "%s{%s} %.0f is no field's", s->name, s->labels, s->value);
		seen[(unsigned)s->value - 100000]++;
	}
	for (k = 0; k < n; k++)
		ck_assert_msg(seen[k] == 1, "field %u exported %u times", k,
		    seen[k]);
	free(p);
}
END_TEST

/* Per-worker series for live slots only; the exited one is in totals. */
START_TEST(prom_only_live_workers)
{
	struct prom	*p;

	make_populated();
	p = prom_of_seg();
	ck_assert_uint_eq(prom_workers(p), (1u << 0) | (1u << 3));
	ck_assert_int_eq(prom_count(p, NULL, "5"), 0);
	ck_assert_double_eq(prom_get(p, "ptftpd_sessions_active",
	    "worker=\"0\""), 3);
	ck_assert_double_eq(prom_get(p, "ptftpd_sessions_active",
	    "worker=\"3\""), 2);
	ck_assert_double_eq(prom_get(p, "ptftpd_worker_requests_total",
	    "worker=\"0\""), 10);
	ck_assert_double_eq(prom_get(p, "ptftpd_worker_tx_bytes_total",
	    "worker=\"0\""), 123456);
	ck_assert_double_eq(prom_get(p, "ptftpd_worker_start_time_seconds",
	    "worker=\"3\""), (double)seg.slots[3].started);
	/* slot 5's one request stays in the total */
	ck_assert_double_eq(prom_get(p, "ptftpd_requests_total", "op=\"rrq\""),
	    18);
	ck_assert_double_eq(prom_get(p, "ptftpd_workers",
	    "state=\"running\""), 2);
	ck_assert_double_eq(prom_get(p, "ptftpd_workers",
	    "state=\"draining\""), 0);
	/* a handful of series per live worker, not one per counter */
	ck_assert_int_le(prom_count(p, NULL, "0"), 8);
	free(p);
}
END_TEST

/* Some traffic into slot sl, as a worker would count it. */
static void
traffic(struct stats_slot *sl, unsigned n)
{
	STATS_ADD(sl, rrq, n);
	STATS_ADD(sl, sess_started, n);
	STATS_ADD(sl, sess_ok, n);
	STATS_ADD(sl, tx_bytes, 1000 * n);
	STATS_ADD(sl, opt_blksize, n);
	stats_observe(sl, n, 1000 * n);
}

/*
 * Generation changes: a reload starts new slots and retires the old, a
 * worker crashes and is respawned, a third generation reuses the first
 * one's slots. At every step no total goes back and only live slots have
 * per-worker series.
 */
START_TEST(prom_totals_never_go_back_across_generations)
{
	struct prom	*a, *b;
	unsigned	 i;
	double		 w0;

	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	for (i = 0; i < 3; i++) {
		stats_worker_start(&seg.slots[i], 100 + i, 1);
		traffic(&seg.slots[i], 5 + i);
	}
	a = prom_of_seg();
	ck_assert_uint_eq(prom_workers(a), 07);
	w0 = prom_get(a, "ptftpd_worker_requests_total", "worker=\"0\"");
	ck_assert_double_eq(w0, 5);

	/* reload: generation 2 in slots 3..5, 0..2 drain */
	stats_note_reload(&seg, 1);
	atomic_store(&seg.hdr->generation, 2);
	for (i = 0; i < 3; i++) {
		STATS_SET(&seg.slots[i], state, STATS_W_DRAINING);
		stats_worker_start(&seg.slots[3 + i], 200 + i, 2);
		traffic(&seg.slots[3 + i], 1);
	}
	traffic(&seg.slots[1], 2);		/* a draining transfer ends */
	b = prom_of_seg();
	prom_not_back(a, b);
	ck_assert_uint_eq(prom_workers(b), 077);
	ck_assert_double_eq(prom_get(b, "ptftpd_workers",
	    "state=\"draining\""), 3);
	free(a);

	/* the old generation exits: its series go, its counts stay */
	for (i = 0; i < 3; i++)
		STATS_SET(&seg.slots[i], state, STATS_W_EXITED);
	a = prom_of_seg();
	prom_not_back(b, a);
	ck_assert_uint_eq(prom_workers(a), 070);
	ck_assert_double_eq(prom_get(a, "ptftpd_requests_total", "op=\"rrq\""),
	    5 + 6 + 7 + 3 + 2);
	ck_assert_double_eq(prom_get(a, "ptftpd_transfer_duration_seconds_count",
	    ""), 7);
	free(b);

	/* slot 4 crashes and is respawned: a crash, not a reload */
	STATS_SET(&seg.slots[4], state, STATS_W_EXITED);
	stats_note_crash(&seg);
	b = prom_of_seg();
	prom_not_back(a, b);
	ck_assert_uint_eq(prom_workers(b), 050);
	free(a);
	stats_worker_start(&seg.slots[4], 300, 2);
	traffic(&seg.slots[4], 1);
	a = prom_of_seg();
	prom_not_back(b, a);
	ck_assert_uint_eq(prom_workers(a), 070);
	ck_assert_double_eq(prom_get(a, "ptftpd_worker_crashes_total", ""), 1);
	ck_assert_double_eq(prom_get(a, "ptftpd_reloads_total",
	    "result=\"ok\""), 1);
	ck_assert_double_eq(prom_get(a, "ptftpd_worker_requests_total",
	    "worker=\"4\""), 2);
	free(b);

	/* generation 3 reuses slots 0..2; 3..5 retire and exit */
	stats_note_reload(&seg, 1);
	for (i = 0; i < 3; i++) {
		stats_worker_start(&seg.slots[i], 400 + i, 3);
		STATS_SET(&seg.slots[3 + i], state, STATS_W_EXITED);
	}
	b = prom_of_seg();
	prom_not_back(a, b);
	ck_assert_uint_eq(prom_workers(b), 07);
	/* a slot is never zeroed: its series comes back where it was */
	ck_assert_double_eq(prom_get(b, "ptftpd_worker_requests_total",
	    "worker=\"0\""), w0);
	ck_assert_double_eq(prom_get(b, "ptftpd_sessions_active",
	    "worker=\"0\""), 0);
	ck_assert_double_eq(prom_get(b, "ptftpd_reloads_total",
	    "result=\"ok\""), 2);
	free(a);
	free(b);
}
END_TEST

START_TEST(prom_build_info_label_escaped)
{
	struct prom	*p;
	char		*text;

	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	text = capture(stats_write_prom, 0);
	ck_assert_ptr_nonnull(strstr(text, "\nptftpd_build_info{version=\""
	    PTFTPD_VERSION "\"} 1\n"));
	free(text);
	snprintf(seg.hdr->daemon_version, sizeof(seg.hdr->daemon_version),
	    "1.0\"b\\c\nd");
	text = capture(stats_write_prom, 0);
	ck_assert_ptr_nonnull(strstr(text,
	    "\nptftpd_build_info{version=\"1.0\\\"b\\\\c\\nd\"} 1\n"));
	p = prom_parse(text);
	ck_assert_double_eq(prom_get(p, "ptftpd_build_info",
	    "version=\"1.0\\\"b\\\\c\\nd\""), 1);
	free(p);
	free(text);
	/* a header without its NUL is cut, never overrun */
	memset(seg.hdr->daemon_version, 'x', sizeof(seg.hdr->daemon_version));
	text = capture(stats_write_prom, 0);
	ck_assert_ptr_nonnull(strstr(text, "{version=\"xxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxx\"} 1\n"));
	free(text);
}
END_TEST

START_TEST(reload_and_crash_counters)
{
	struct stats_seg	 ro;
	struct prom		*p;

	ck_assert_int_eq(stats_create(&seg, segpath, NSLOTS), 0);
	ck_assert_uint_eq(seg.hdr->last_reload_ok, 1);
	ck_assert_int_eq(seg.hdr->last_reload, 0);
	stats_note_reload(&seg, 1);
	ck_assert_int_gt(seg.hdr->last_reload, 0);
	stats_note_reload(&seg, 0);
	stats_note_crash(&seg);
	stats_note_crash(&seg);
	ck_assert_uint_eq(seg.hdr->reloads_ok, 1);
	ck_assert_uint_eq(seg.hdr->reloads_failed, 1);
	ck_assert_uint_eq(seg.hdr->last_reload_ok, 0);
	ck_assert_uint_eq(seg.hdr->worker_crashes, 2);
	p = prom_of_seg();
	ck_assert_double_eq(prom_get(p, "ptftpd_reloads_total",
	    "result=\"ok\""), 1);
	ck_assert_double_eq(prom_get(p, "ptftpd_reloads_total",
	    "result=\"failed\""), 1);
	ck_assert_double_eq(prom_get(p, "ptftpd_config_last_reload_successful",
	    ""), 0);
	ck_assert_double_eq(prom_get(p,
	    "ptftpd_config_last_reload_timestamp_seconds", ""),
	    (double)seg.hdr->last_reload);
	ck_assert_double_eq(prom_get(p, "ptftpd_worker_crashes_total", ""), 2);
	free(p);
	/* a reader's mapping is never written (it is PROT_READ) */
	ck_assert_int_eq(stats_open(&ro, segpath, errbuf, sizeof(errbuf)), 0);
	stats_note_reload(&ro, 1);
	stats_note_crash(&ro);
	stats_close(&ro);
	ck_assert_uint_eq(seg.hdr->reloads_ok, 1);
}
END_TEST

START_TEST(prom_histograms_cumulative)
{
	static const char *const fams[] = {
		"ptftpd_transfer_duration_seconds",
		"ptftpd_transfer_size_bytes",
	};
	char		 name[128];
	struct prom	*p;
	double		 prev, inf, le, prev_le;
	unsigned	 k;
	int		 i, n;

	make_populated();
	p = prom_of_seg();
	for (k = 0; k < 2; k++) {
		snprintf(name, sizeof(name), "%s_bucket", fams[k]);
		prev = 0;
		prev_le = -1;
		n = 0;
		for (i = 0; i < p->ns; i++) {
			if (strcmp(p->s[i].name, name) != 0)
				continue;
			ck_assert_str_eq(p->s[i].worker, "");
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
		inf = prom_get(p, name, "le=\"+Inf\"");
		ck_assert_double_eq(inf, 5);
		snprintf(name, sizeof(name), "%s_count", fams[k]);
		ck_assert_double_eq(prom_get(p, name, ""), inf);
	}
	/* every slot folded in, the exited one too: durations 0, 3, 5000
	 * (slot 0), 1 and beyond the last bucket (slot 3) ms */
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_duration_seconds_bucket",
	    "le=\"0.001\""), 2);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_duration_seconds_bucket",
	    "le=\"0.004\""), 3);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_duration_seconds_bucket",
	    "le=\"4.096\""), 3);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_duration_seconds_bucket",
	    "le=\"8.192\""), 4);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_duration_seconds_bucket",
	    "le=\"4194.304\""), 4);
	/* sizes 0, 1024, 1 MiB, 512, huge */
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_size_bytes_bucket",
	    "le=\"1024\""), 3);
	ck_assert_double_eq(prom_get(p, "ptftpd_transfer_size_bytes_bucket",
	    "le=\"1048576\""), 4);
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
	    "\nptftpd_transfer_duration_seconds_sum 2\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\nptftpd_worker_heartbeat_age_seconds{worker=\"1\"} 0.4\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\nptftpd_requests_total{op=\"rrq\"} 0\n"));
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
	ck_assert_ptr_nonnull(strstr(text, "{\"version\":3,\"daemon_version\":\""
	    PTFTPD_VERSION "\","));
	ck_assert_ptr_nonnull(strstr(text, ",\"reloads_ok\":0,\"reloads_failed\":0,"
	    "\"last_reload\":0,\"last_reload_ok\":1,\"worker_crashes\":0,\n"));
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
	ck_assert_ptr_nonnull(strstr(text, "ptftpd " PTFTPD_VERSION ", uptime "));
	ck_assert_ptr_nonnull(strstr(text, "\nreloads 0 ok, 0 failed, last never;"
	    " worker crashes 0\n"));
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
	const char	*path;
	char		 buf[128];
	struct stat	 before, after;
	FILE		*f;

	make_populated();
	path = unit_write(tmpdir, "ptftpd.prom", "old\n", 4);
	ck_assert_int_eq(stat(path, &before), 0);
	ck_assert_int_eq(stats_write_prom_file(path, &seg, 0), 0);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_ne(before.st_ino, after.st_ino);	/* renamed over */
	ck_assert_uint_eq(after.st_mode & 0777, 0644);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_str_eq(buf, "# HELP ptftpd_build_info always 1; the version of"
	    " the running ptftpd in the label\n");
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
	tcase_add_test(tc, bucket_edges);
	tcase_add_test(tc, observe_fills_bucket_and_sum);
	tcase_add_test(tc, prom_families_once_and_contiguous);
	tcase_add_test(tc, prom_label_families);
	tcase_add_test(tc, prom_every_counter_once);
	tcase_add_test(tc, prom_only_live_workers);
	tcase_add_test(tc, prom_totals_never_go_back_across_generations);
	tcase_add_test(tc, prom_build_info_label_escaped);
	tcase_add_test(tc, reload_and_crash_counters);
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
	return unit_run(stats_suite());
}
