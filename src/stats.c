/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.c - the shared stats segment: its file and mapping, the bucket
 * rules of the two histograms, sums over slots, and the three output
 * formats (a human summary, Prometheus text exposition 0.0.4, JSON). The
 * supervisor creates the segment, each worker stores into its own slot
 * with STATS_ADD/STATS_SET, and readers (the supervisor's USR1 dump,
 * ptftpd-stat) only load. It does not decide when anything is counted or
 * written, and it never logs: every failure is returned (-1 with errno,
 * or a message for stats_open) so that the unit test can link this
 * object alone.
 *
 * Slots in state STATS_W_FREE were never used: sums include them (they
 * are zero) but per-worker output leaves them out. The gauge sess_active
 * only counts while a slot is running or draining; an exited worker's
 * last value is stale and reads as 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "stats.h"

#define STATS_ALIGN	128

/* One counter: name, help text, place in stats_totals and stats_slot. */
struct stats_field {
	const char	*name;
	const char	*help;
	size_t		 off;
	size_t		 slot_off;
};

static const struct stats_field stats_fields[] = {
#define X(f, h) { #f, h, offsetof(struct stats_totals, f), \
	offsetof(struct stats_slot, f) },
	STATS_COUNTERS
#undef X
};
#define STATS_NFIELDS	(sizeof(stats_fields) / sizeof(stats_fields[0]))

static const char *const stats_state_names[] = {
	"free", "running", "draining", "exited"
};

/* A consistent copy of one slot, taken with relaxed loads. */
struct stats_view {
	int32_t			pid;
	uint32_t		state;
	uint64_t		generation;
	uint64_t		heartbeat_ms;
	int64_t			started;
	uint64_t		restarts;
	struct stats_totals	t;
};

static size_t
stats_hdr_size(void)
{
	return (sizeof(struct stats_hdr) + STATS_ALIGN - 1) &
	    ~(size_t)(STATS_ALIGN - 1);
}

static uint64_t
stats_ld(const _Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static uint64_t
stats_field_get(const struct stats_totals *t, const struct stats_field *fd)
{
	uint64_t	 v;

	memcpy(&v, (const char *)t + fd->off, sizeof(v));
	return v;
}

static const char *
stats_state_name(uint32_t state)
{
	if (state < sizeof(stats_state_names) / sizeof(stats_state_names[0]))
		return stats_state_names[state];
	return "unknown";
}

static int
stats_slot_live(uint32_t state)
{
	return state == STATS_W_RUNNING || state == STATS_W_DRAINING;
}

/*
 * Create or replace the segment file, size it for nslots slots, map it
 * shared and fill the header; the magic is stored last so that a reader
 * racing the creation sees "not a segment" rather than a half header.
 * Returns 0, or -1 with errno (nothing left mapped; the file may remain).
 * Costs one open, ftruncate and mmap.
 */
int
stats_create(struct stats_seg *seg, const char *path, uint32_t nslots)
{
	size_t		 hsz = stats_hdr_size();
	size_t		 len = hsz + (size_t)nslots * sizeof(struct stats_slot);
	void		*p;
	int		 fd, saved;

	memset(seg, 0, sizeof(*seg));
	if (nslots == 0) {
		errno = EINVAL;
		return -1;
	}
	/* A new inode, never the old one truncated: a reader (ptftpd-stat)
	 * that still maps a segment left by a crashed daemon would fault
	 * if the file shrank under it. */
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (ftruncate(fd, (off_t)len) == -1)
		goto fail;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	close(fd);

	seg->hdr = p;
	seg->slots = (struct stats_slot *)((char *)p + hsz);
	seg->len = len;
	seg->writable = 1;
	seg->hdr->version = STATS_VERSION;
	seg->hdr->nslots = nslots;
	seg->hdr->slot_size = sizeof(struct stats_slot);
	seg->hdr->hdr_size = (uint32_t)hsz;
	seg->hdr->start_time = time(NULL);
	seg->hdr->sup_pid = getpid();
	atomic_store_explicit(&seg->hdr->workers, 0, memory_order_relaxed);
	atomic_store_explicit(&seg->hdr->generation, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	seg->hdr->magic = STATS_MAGIC;
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* The header of a file shorter than one header: magic or not. */
static int
stats_open_short(int fd, off_t size, const char *path, char *err,
    size_t errlen)
{
	uint64_t	 magic = 0;

	if (size >= (off_t)sizeof(magic) &&
	    pread(fd, &magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	    magic == STATS_MAGIC)
		snprintf(err, errlen, "%s: truncated", path);
	else
		snprintf(err, errlen, "%s: not a ptftpd stats segment", path);
	return -1;
}

/* Check a header read from a file of `size` bytes; 0 or -1 and err. */
static int
stats_check_hdr(const struct stats_hdr *h, off_t size, const char *path,
    char *err, size_t errlen)
{
	uint64_t	 need;

	if (h->magic != STATS_MAGIC) {
		snprintf(err, errlen, "%s: not a ptftpd stats segment", path);
		return -1;
	}
	if (h->version != STATS_VERSION) {
		snprintf(err, errlen, "%s: layout version %" PRIu32
		    ", this ptftpd-stat reads %u", path, h->version,
		    STATS_VERSION);
		return -1;
	}
	if (h->slot_size != sizeof(struct stats_slot) ||
	    h->hdr_size != stats_hdr_size()) {
		snprintf(err, errlen, "%s: slot size %" PRIu32 " header size %"
		    PRIu32 ", this ptftpd-stat expects %zu and %zu (same layout"
		    " version, different build)", path, h->slot_size,
		    h->hdr_size, sizeof(struct stats_slot), stats_hdr_size());
		return -1;
	}
	if (h->nslots == 0) {
		snprintf(err, errlen, "%s: no slots", path);
		return -1;
	}
	need = (uint64_t)h->hdr_size + (uint64_t)h->nslots * h->slot_size;
	if ((uint64_t)size < need || need > SIZE_MAX) {
		snprintf(err, errlen, "%s: truncated", path);
		return -1;
	}
	return 0;
}

/*
 * Map an existing segment read-only after checking its header (read with
 * pread, so that nothing unchecked is ever mapped). Returns 0, or -1 with
 * "PATH: reason" in err. Costs an open, fstat, pread and mmap.
 */
int
stats_open(struct stats_seg *seg, const char *path, char *err,
    size_t errlen)
{
	struct stats_hdr h;
	struct stat	 st;
	size_t		 len;
	void		*p;
	int		 fd, rc = -1;

	memset(seg, 0, sizeof(*seg));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			snprintf(err, errlen, "%s: %s (is ptftpd running? see"
			    " stats.path)", path, strerror(errno));
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a ptftpd stats segment", path);
		goto out;
	}
	if (st.st_size < (off_t)sizeof(h)) {
		stats_open_short(fd, st.st_size, path, err, errlen);
		goto out;
	}
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		snprintf(err, errlen, "%s: cannot read the header", path);
		goto out;
	}
	if (stats_check_hdr(&h, st.st_size, path, err, errlen) == -1)
		goto out;
	len = (size_t)h.hdr_size + (size_t)h.nslots * h.slot_size;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		goto out;
	}
	seg->hdr = p;
	seg->slots = (struct stats_slot *)((char *)p + h.hdr_size);
	seg->len = len;
	seg->writable = 0;
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Unmap; safe on a zeroed or already closed segment. O(1). */
void
stats_close(struct stats_seg *seg)
{
	if (seg->hdr != NULL)
		munmap(seg->hdr, seg->len);
	memset(seg, 0, sizeof(*seg));
}

/*
 * A new worker took slot sl: counters keep running, the gauge restarts
 * from 0, restarts counts workers started in the slot. Stores only.
 */
void
stats_worker_start(struct stats_slot *sl, pid_t pid, uint64_t gen)
{
	if (sl == NULL)
		return;
	STATS_SET(sl, sess_active, 0);
	STATS_SET(sl, generation, gen);
	STATS_SET(sl, started, (int64_t)time(NULL));
	STATS_SET(sl, heartbeat_ms, clock_now_ms());
	STATS_ADD(sl, restarts, 1);
	STATS_SET(sl, pid, (int32_t)pid);
	STATS_SET(sl, state, STATS_W_RUNNING);
}

/* Smallest i with v <= 2^i, capped at the +Inf bucket `last`. */
static unsigned
stats_log2_bucket(uint64_t v, unsigned last)
{
	unsigned	 i;

	if (v <= 1)
		return 0;
	i = 64u - (unsigned)__builtin_clzll(v - 1);
	return i < last ? i : last;
}

/* Bucket of a duration: i for ms <= 2^i, the last is +Inf. O(1). */
unsigned
stats_dur_bucket(uint64_t ms)
{
	return stats_log2_bucket(ms, STATS_DUR_BUCKETS - 1);
}

/* Bucket of a size in bytes: i for bytes <= 2^i, the last is +Inf. O(1). */
unsigned
stats_size_bucket(uint64_t bytes)
{
	return stats_log2_bucket(bytes, STATS_SIZE_BUCKETS - 1);
}

/* One finished transfer into both histograms (plain buckets). O(1). */
void
stats_observe(struct stats_slot *sl, uint64_t dur_ms, uint64_t bytes)
{
	unsigned	 d = stats_dur_bucket(dur_ms);
	unsigned	 s = stats_size_bucket(bytes);

	STATS_ADD(sl, dur_hist[d], 1);
	STATS_ADD(sl, dur_sum_ms, dur_ms);
	STATS_ADD(sl, size_hist[s], 1);
	STATS_ADD(sl, size_sum, bytes);
}

/*
 * Add slot sl to *t (which the caller zeroes first, or keeps as a running
 * total). sess_active is added only while the slot is running or
 * draining. About 100 relaxed loads.
 */
void
stats_sum_slot(const struct stats_slot *sl, struct stats_totals *t)
{
	uint32_t	 state;
	unsigned	 i;

	state = atomic_load_explicit(&sl->state, memory_order_relaxed);
#define X(f, h) t->f += stats_ld(&sl->f);
	STATS_COUNTERS
#undef X
	if (stats_slot_live(state))
		t->sess_active += stats_ld(&sl->sess_active);
	for (i = 0; i < STATS_DUR_BUCKETS; i++)
		t->dur_hist[i] += stats_ld(&sl->dur_hist[i]);
	t->dur_sum_ms += stats_ld(&sl->dur_sum_ms);
	for (i = 0; i < STATS_SIZE_BUCKETS; i++)
		t->size_hist[i] += stats_ld(&sl->size_hist[i]);
	t->size_sum += stats_ld(&sl->size_sum);
}

/* Zero *t and add every slot. O(nslots). */
void
stats_sum(const struct stats_seg *seg, struct stats_totals *t)
{
	uint32_t	 i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < seg->hdr->nslots; i++)
		stats_sum_slot(&seg->slots[i], t);
}

/* Copy of slot i; returns 0 if the slot was never used. */
static int
stats_view_get(const struct stats_seg *seg, uint32_t i, struct stats_view *v)
{
	const struct stats_slot	*sl = &seg->slots[i];

	v->state = atomic_load_explicit(&sl->state, memory_order_relaxed);
	if (v->state == STATS_W_FREE)
		return 0;
	v->pid = atomic_load_explicit(&sl->pid, memory_order_relaxed);
	v->generation = stats_ld(&sl->generation);
	v->heartbeat_ms = stats_ld(&sl->heartbeat_ms);
	v->started = atomic_load_explicit(&sl->started, memory_order_relaxed);
	v->restarts = stats_ld(&sl->restarts);
	memset(&v->t, 0, sizeof(v->t));
	stats_sum_slot(sl, &v->t);
	return 1;
}

/* Workers started in the slot after its first one. */
static uint64_t
stats_view_restarts(const struct stats_view *v)
{
	return v->restarts > 0 ? v->restarts - 1 : 0;
}

static uint64_t
stats_view_age_ms(const struct stats_view *v, uint64_t now_ms)
{
	return now_ms > v->heartbeat_ms ? now_ms - v->heartbeat_ms : 0;
}

/* "12", "0.004", "1.5": milliseconds as decimal seconds. */
static const char *
stats_fmt_ms(char *buf, size_t len, uint64_t ms)
{
	size_t	 n;

	if (ms % 1000 == 0) {
		snprintf(buf, len, "%" PRIu64, ms / 1000);
		return buf;
	}
	snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, ms / 1000, ms % 1000);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	return buf;
}

static int
stats_finish(FILE *f)
{
	if (ferror(f)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

/* --- human text --- */

static void
stats_text_hist(FILE *f, const char *what, const uint64_t *h, unsigned n,
    const char *unit, uint64_t sum)
{
	uint64_t	 count = 0;
	unsigned	 i;

	for (i = 0; i < n; i++)
		count += h[i];
	fprintf(f, "%s: %" PRIu64 " transfers, sum %" PRIu64 " %s", what,
	    count, sum, unit);
	for (i = 0; i < n; i++) {
		if (h[i] == 0)
			continue;
		if (i + 1 < n)
			fprintf(f, ", <=%" PRIu64 "%s %" PRIu64,
			    (uint64_t)1 << i, unit, h[i]);
		else
			fprintf(f, ", more %" PRIu64, h[i]);
	}
	fputc('\n', f);
}

static void
stats_text_slot(FILE *f, uint32_t i, const struct stats_view *v,
    uint64_t now_ms)
{
	uint64_t	 age = stats_view_age_ms(v, now_ms);

	fprintf(f, "slot %" PRIu32 " pid %" PRId32 " state %s gen %" PRIu64
	    " heartbeat %" PRIu64 ".%" PRIu64 "s ago active %" PRIu64
	    " rrq %" PRIu64 " ok %" PRIu64 " bytes %" PRIu64
	    " restarts %" PRIu64 "\n", i, v->pid, stats_state_name(v->state),
	    v->generation, age / 1000, age % 1000 / 100, v->t.sess_active,
	    v->t.rrq, v->t.sess_ok, v->t.tx_bytes, stats_view_restarts(v));
}

/*
 * Human summary: uptime, generation, workers, every total with its help
 * text, histograms (non-empty buckets), one line per used slot. Returns
 * 0 or -1 (write error). O(nslots).
 */
int
stats_write_text(FILE *f, const struct stats_seg *seg, uint64_t now_ms)
{
	const struct stats_hdr	*h = seg->hdr;
	struct stats_totals	 t;
	struct stats_view	 v;
	int64_t			 up = (int64_t)time(NULL) - h->start_time;
	unsigned		 nstate[4] = { 0, 0, 0, 0 };
	size_t			 k;
	uint32_t		 i;

	if (up < 0)
		up = 0;
	stats_sum(seg, &t);
	for (i = 0; i < h->nslots; i++) {
		uint32_t s = atomic_load_explicit(&seg->slots[i].state,
		    memory_order_relaxed);
		if (s < 4)
			nstate[s]++;
	}
	fprintf(f, "uptime %" PRId64 "d %02" PRId64 ":%02" PRId64 ":%02"
	    PRId64 ", supervisor pid %" PRId32 ", generation %" PRIu64 "\n",
	    up / 86400, up / 3600 % 24, up / 60 % 60, up % 60, h->sup_pid,
	    stats_ld(&h->generation));
	fprintf(f, "workers %" PRIu32 " configured, %u running, %u draining,"
	    " %u exited\n", atomic_load_explicit(&h->workers,
	    memory_order_relaxed), nstate[STATS_W_RUNNING],
	    nstate[STATS_W_DRAINING], nstate[STATS_W_EXITED]);
	fprintf(f, "active transfers %" PRIu64 "\n", t.sess_active);
	fprintf(f, "totals:\n");
	for (k = 0; k < STATS_NFIELDS; k++)
		fprintf(f, "  %-18s %14" PRIu64 "  %s\n", stats_fields[k].name,
		    stats_field_get(&t, &stats_fields[k]),
		    stats_fields[k].help);
	stats_text_hist(f, "durations", t.dur_hist, STATS_DUR_BUCKETS, "ms",
	    t.dur_sum_ms);
	stats_text_hist(f, "sizes", t.size_hist, STATS_SIZE_BUCKETS, "B",
	    t.size_sum);
	for (i = 0; i < h->nslots; i++)
		if (stats_view_get(seg, i, &v))
			stats_text_slot(f, i, &v, now_ms);
	return stats_finish(f);
}

/* --- Prometheus text exposition 0.0.4 --- */

/* HELP text escaping: backslash and newline. */
static void
stats_prom_head(FILE *f, const char *name, const char *type,
    const char *help)
{
	const char	*p;

	fprintf(f, "# HELP %s ", name);
	for (p = help; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/* One histogram of one worker: cumulative buckets, _sum, _count. */
static void
stats_prom_hist(FILE *f, const char *name, uint32_t w, const uint64_t *h,
    unsigned n, uint64_t sum, int in_ms)
{
	char		 le[32], sbuf[32];
	uint64_t	 cum = 0, edge;
	unsigned	 i;

	for (i = 0; i < n; i++) {
		cum += h[i];
		edge = (uint64_t)1 << i;
		if (i + 1 == n)
			snprintf(le, sizeof(le), "+Inf");
		else if (in_ms)
			stats_fmt_ms(le, sizeof(le), edge);
		else
			snprintf(le, sizeof(le), "%" PRIu64, edge);
		fprintf(f, "%s_bucket{worker=\"%" PRIu32 "\",le=\"%s\"} %"
		    PRIu64 "\n", name, w, le, cum);
	}
	if (in_ms)
		stats_fmt_ms(sbuf, sizeof(sbuf), sum);
	else
		snprintf(sbuf, sizeof(sbuf), "%" PRIu64, sum);
	fprintf(f, "%s_sum{worker=\"%" PRIu32 "\"} %s\n", name, w, sbuf);
	fprintf(f, "%s_count{worker=\"%" PRIu32 "\"} %" PRIu64 "\n", name, w,
	    cum);
}

/* Which per-worker family stats_prom_worker writes. */
enum stats_prom_what {
	STATS_PROM_ACTIVE,
	STATS_PROM_DUR,
	STATS_PROM_SIZE,
	STATS_PROM_UP,
	STATS_PROM_AGE,
	STATS_PROM_RESTARTS,
};

static void
stats_prom_sample(FILE *f, enum stats_prom_what what, uint32_t w,
    const struct stats_view *v, uint64_t now_ms)
{
	char	 buf[32];

	switch (what) {
	case STATS_PROM_ACTIVE:
		fprintf(f, "ptftpd_sessions_active{worker=\"%" PRIu32 "\"} %"
		    PRIu64 "\n", w, v->t.sess_active);
		break;
	case STATS_PROM_DUR:
		stats_prom_hist(f, "ptftpd_transfer_duration_seconds", w,
		    v->t.dur_hist, STATS_DUR_BUCKETS, v->t.dur_sum_ms, 1);
		break;
	case STATS_PROM_SIZE:
		stats_prom_hist(f, "ptftpd_transfer_size_bytes", w,
		    v->t.size_hist, STATS_SIZE_BUCKETS, v->t.size_sum, 0);
		break;
	case STATS_PROM_UP:
		fprintf(f, "ptftpd_worker_up{worker=\"%" PRIu32 "\"} %d\n", w,
		    stats_slot_live(v->state));
		break;
	case STATS_PROM_AGE:
		fprintf(f, "ptftpd_worker_heartbeat_age_seconds{worker=\"%"
		    PRIu32 "\"} %s\n", w, stats_fmt_ms(buf, sizeof(buf),
		    stats_view_age_ms(v, now_ms)));
		break;
	case STATS_PROM_RESTARTS:
		fprintf(f, "ptftpd_worker_restarts_total{worker=\"%" PRIu32
		    "\"} %" PRIu64 "\n", w, stats_view_restarts(v));
		break;
	}
}

/* The per-worker families after the counters, each one contiguous. */
static const struct {
	enum stats_prom_what	 what;
	const char		*name, *type, *help;
} stats_prom_families[] = {
	{ STATS_PROM_ACTIVE, "ptftpd_sessions_active", "gauge",
	    "transfers in progress" },
	{ STATS_PROM_DUR, "ptftpd_transfer_duration_seconds", "histogram",
	    "duration of finished transfers" },
	{ STATS_PROM_SIZE, "ptftpd_transfer_size_bytes", "histogram",
	    "bytes delivered by finished transfers" },
	{ STATS_PROM_UP, "ptftpd_worker_up", "gauge",
	    "1 if the worker of this slot is running or draining" },
	{ STATS_PROM_AGE, "ptftpd_worker_heartbeat_age_seconds", "gauge",
	    "seconds since the worker's event loop last ran" },
	{ STATS_PROM_RESTARTS, "ptftpd_worker_restarts_total", "counter",
	    "workers started in this slot after the first" },
};

static void
stats_prom_counters(FILE *f, const struct stats_seg *seg)
{
	char		 name[96];
	size_t		 k;
	uint32_t	 i, st;

	for (k = 0; k < STATS_NFIELDS; k++) {
		const struct stats_field *fd = &stats_fields[k];

		snprintf(name, sizeof(name), "ptftpd_%s_total", fd->name);
		stats_prom_head(f, name, "counter", fd->help);
		for (i = 0; i < seg->hdr->nslots; i++) {
			const _Atomic uint64_t *p = (const _Atomic uint64_t *)
			    (const void *)((const char *)&seg->slots[i] +
			    fd->slot_off);

			st = atomic_load_explicit(&seg->slots[i].state,
			    memory_order_relaxed);
			if (st != STATS_W_FREE)
				fprintf(f, "%s{worker=\"%" PRIu32 "\"} %" PRIu64
				    "\n", name, i, stats_ld(p));
		}
	}
}

/*
 * Prometheus text format 0.0.4: every counter as ptftpd_<name>_total,
 * then the per-worker gauges and histograms, each family once and
 * contiguous, label worker="<slot index>" on every used slot. Returns 0
 * or -1 (write error). O(nslots x families).
 */
int
stats_write_prom(FILE *f, const struct stats_seg *seg, uint64_t now_ms)
{
	struct stats_view	 v;
	size_t			 k;
	uint32_t		 i;

	stats_prom_counters(f, seg);
	for (k = 0; k < sizeof(stats_prom_families) /
	    sizeof(stats_prom_families[0]); k++) {
		stats_prom_head(f, stats_prom_families[k].name,
		    stats_prom_families[k].type, stats_prom_families[k].help);
		for (i = 0; i < seg->hdr->nslots; i++)
			if (stats_view_get(seg, i, &v))
				stats_prom_sample(f, stats_prom_families[k].what,
				    i, &v, now_ms);
	}
	stats_prom_head(f, "ptftpd_start_time_seconds", "gauge",
	    "start time of the supervisor, Unix seconds");
	fprintf(f, "ptftpd_start_time_seconds %" PRId64 "\n",
	    seg->hdr->start_time);
	stats_prom_head(f, "ptftpd_config_generation", "gauge",
	    "configuration generation, 1 at start, +1 per reload");
	fprintf(f, "ptftpd_config_generation %" PRIu64 "\n",
	    stats_ld(&seg->hdr->generation));
	return stats_finish(f);
}

/* --- JSON --- */

static void
stats_json_array(FILE *f, const char *key, const uint64_t *a, unsigned n)
{
	unsigned	 i;

	fprintf(f, ",\"%s\":[", key);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%" PRIu64, i ? "," : "", a[i]);
	fputc(']', f);
}

/* Counters, gauge and plain (not cumulative) histograms, no braces. */
static void
stats_json_totals(FILE *f, const struct stats_totals *t)
{
	size_t	 k;

	for (k = 0; k < STATS_NFIELDS; k++)
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "",
		    stats_fields[k].name, stats_field_get(t, &stats_fields[k]));
	fprintf(f, ",\"sess_active\":%" PRIu64, t->sess_active);
	stats_json_array(f, "dur_hist", t->dur_hist, STATS_DUR_BUCKETS);
	fprintf(f, ",\"dur_sum_ms\":%" PRIu64, t->dur_sum_ms);
	stats_json_array(f, "size_hist", t->size_hist, STATS_SIZE_BUCKETS);
	fprintf(f, ",\"size_sum\":%" PRIu64, t->size_sum);
}

/*
 * One JSON object: header fields, "totals" and one "slots" entry per used
 * slot. Histograms are plain per-bucket counts (bucket i: <= 2^i, the
 * last unbounded). Returns 0 or -1 (write error). O(nslots).
 */
int
stats_write_json(FILE *f, const struct stats_seg *seg, uint64_t now_ms)
{
	const struct stats_hdr	*h = seg->hdr;
	struct stats_totals	 t;
	struct stats_view	 v;
	uint32_t		 i;
	int			 first = 1;

	stats_sum(seg, &t);
	fprintf(f, "{\"version\":%" PRIu32 ",\"start_time\":%" PRId64
	    ",\"sup_pid\":%" PRId32 ",\"generation\":%" PRIu64
	    ",\"workers\":%" PRIu32 ",\n\"totals\":{", h->version,
	    h->start_time, h->sup_pid, stats_ld(&h->generation),
	    atomic_load_explicit(&h->workers, memory_order_relaxed));
	stats_json_totals(f, &t);
	fputs("},\n\"slots\":[", f);
	for (i = 0; i < h->nslots; i++) {
		if (!stats_view_get(seg, i, &v))
			continue;
		fprintf(f, "%s\n{\"slot\":%" PRIu32 ",\"pid\":%" PRId32
		    ",\"state\":\"%s\",\"generation\":%" PRIu64 ",\"started\":%"
		    PRId64 ",\"heartbeat_age_ms\":%" PRIu64 ",\"restarts\":%"
		    PRIu64 ",", first ? "" : ",", i, v.pid,
		    stats_state_name(v.state), v.generation, v.started,
		    stats_view_age_ms(&v, now_ms), stats_view_restarts(&v));
		stats_json_totals(f, &v.t);
		fputc('}', f);
		first = 0;
	}
	fputs("]}\n", f);
	return stats_finish(f);
}

/*
 * Write the Prometheus text to "<path>.tmp.<pid>" (mode 0644 whatever the
 * umask), fsync it and rename it over path, so a reader such as
 * node_exporter's textfile collector sees the old file or the new one,
 * never a part. Returns 0, or -1 with errno and no temp file left.
 */
int
stats_write_prom_file(const char *path, const struct stats_seg *seg,
    uint64_t now_ms)
{
	char		 tmp[PATH_MAX];
	FILE		*f = NULL;
	int		 fd, saved, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (fchmod(fd, 0644) == -1 || (f = fdopen(fd, "w")) == NULL) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (stats_write_prom(f, seg, now_ms) == -1 || fflush(f) == EOF ||
	    fsync(fd) == -1) {
		saved = errno;
		fclose(f);
		goto fail;
	}
	if (fclose(f) == EOF) {
		saved = errno;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		saved = errno;
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	errno = saved;
	return -1;
}

/*
 * One line of key=value totals for the log, into buf (truncated to len).
 * Returns buf. O(1).
 */
char *
stats_summary(const struct stats_totals *t, char *buf, size_t len)
{
	snprintf(buf, len, "rrq=%" PRIu64 " wrq=%" PRIu64 " started=%" PRIu64
	    " ok=%" PRIu64 " probe=%" PRIu64 " aborted=%" PRIu64
	    " timeout=%" PRIu64 " error=%" PRIu64 " notfound=%" PRIu64
	    " denied=%" PRIu64 " active=%" PRIu64 " tx_bytes=%" PRIu64
	    " rexmit=%" PRIu64, t->rrq, t->wrq, t->sess_started, t->sess_ok,
	    t->sess_probe, t->sess_aborted, t->sess_timeout, t->sess_error,
	    t->refused_notfound, t->denied_acl + t->denied_limit,
	    t->sess_active, t->tx_bytes, t->rexmit_pkts);
	return buf;
}
