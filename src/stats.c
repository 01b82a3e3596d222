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
 * object alone. Its size (about 1,100 lines) is the segment's layout and
 * its three output formats side by side: a new counter is added to all of
 * them at once, and ptftpd-stat links this file and nothing of the daemon.
 *
 * Slots in state STATS_W_FREE were never used: sums include them (they
 * are zero) but per-worker output leaves them out. The gauge sess_active
 * only counts while a slot is running or draining; an exited worker's
 * last value is stale and reads as 0. Totals are sums over every slot,
 * live or not, and slots are never zeroed: a reload's retired workers
 * stay in the totals, which therefore never go back. Prometheus per-worker
 * series cover live slots only (a few per worker); the text and JSON
 * dumps list every used slot.
 *
 * The header's reload and crash figures have one writer, the supervisor
 * (stats_note_reload, stats_note_crash).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "stats.h"
#include "version.h"

#define STATS_ALIGN	128

/* One counter: name, help text, place in stats_totals. */
struct stats_field {
	const char	*name;
	const char	*help;
	size_t		 off;
};

static const struct stats_field stats_fields[] = {
#define X(f, h) { #f, h, offsetof(struct stats_totals, f) },
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

/* The daemon's version from the header, NUL-terminated whatever it holds. */
static void
stats_hdr_version(const struct stats_hdr *h, char out[STATS_VERSION_LEN])
{
	memcpy(out, h->daemon_version, STATS_VERSION_LEN);
	out[STATS_VERSION_LEN - 1] = '\0';
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
	snprintf(seg->hdr->daemon_version, sizeof(seg->hdr->daemon_version),
	    "%s", PTFTPD_VERSION);
	atomic_store_explicit(&seg->hdr->last_reload_ok, 1,
	    memory_order_relaxed);
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
	seg->dev = st.st_dev;
	seg->ino = st.st_ino;
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
 * A reload attempt: counted by result, its time and result kept. Stores
 * only (the supervisor is the one writer of these fields). O(1).
 */
void
stats_note_reload(struct stats_seg *seg, int ok)
{
	struct stats_hdr	*h = seg->hdr;

	if (h == NULL || !seg->writable)
		return;
	if (ok)
		STATS_ADD(h, reloads_ok, 1);
	else
		STATS_ADD(h, reloads_failed, 1);
	STATS_SET(h, last_reload, (int64_t)time(NULL));
	STATS_SET(h, last_reload_ok, ok ? 1u : 0u);
}

/* A worker died while it should have been running. Stores only. O(1). */
void
stats_note_crash(struct stats_seg *seg)
{
	if (seg->hdr != NULL && seg->writable)
		STATS_ADD(seg->hdr, worker_crashes, 1);
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

/* "never", or the local time of a Unix second and what it was. */
static void
stats_text_reloads(FILE *f, const struct stats_hdr *h)
{
	int64_t		 last = atomic_load_explicit(&h->last_reload,
	    memory_order_relaxed);
	time_t		 tt = (time_t)last;
	struct tm	 tm;
	char		 when[32];

	fprintf(f, "reloads %" PRIu64 " ok, %" PRIu64 " failed, last ",
	    stats_ld(&h->reloads_ok), stats_ld(&h->reloads_failed));
	if (last == 0 || localtime_r(&tt, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		fputs("never", f);
	else
		fprintf(f, "%s (%s)", when, atomic_load_explicit(
		    &h->last_reload_ok, memory_order_relaxed) ? "ok" :
		    "failed");
	fprintf(f, "; worker crashes %" PRIu64 "\n",
	    stats_ld(&h->worker_crashes));
}

/*
 * Human summary: version, uptime, generation, workers, reloads and
 * crashes, every total with its help text, histograms (non-empty
 * buckets), one line per used slot. Returns 0 or -1 (write error).
 * O(nslots).
 */
int
stats_write_text(FILE *f, const struct stats_seg *seg, uint64_t now_ms)
{
	const struct stats_hdr	*h = seg->hdr;
	struct stats_totals	 t;
	struct stats_view	 v;
	char			 ver[STATS_VERSION_LEN];
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
	stats_hdr_version(h, ver);
	fprintf(f, "ptftpd %s, uptime %" PRId64 "d %02" PRId64 ":%02" PRId64
	    ":%02" PRId64 ", supervisor pid %" PRId32 ", generation %" PRIu64
	    "\n", ver, up / 86400, up / 3600 % 24, up / 60 % 60, up % 60,
	    h->sup_pid, stats_ld(&h->generation));
	fprintf(f, "workers %" PRIu32 " configured, %u running, %u draining,"
	    " %u exited\n", atomic_load_explicit(&h->workers,
	    memory_order_relaxed), nstate[STATS_W_RUNNING],
	    nstate[STATS_W_DRAINING], nstate[STATS_W_EXITED]);
	stats_text_reloads(f, h);
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

/*
 * Labelled families. A counter that is one value of a partition (a
 * result, a reason, an option, an opcode) is the sample
 * family{label="value"}, so that sum() and rate() work on the family and
 * a dashboard needs no list of names. A field in no family keeps a name
 * of its own, ptftpd_<field>_total: a counter appended to STATS_COUNTERS
 * is exported before anyone maps it here.
 */
enum stats_fam_id {
	STATS_FAM_REQUESTS,
	STATS_FAM_TRANSFERS,
	STATS_FAM_REFUSED,
	STATS_FAM_CLIENT_ERRORS,
	STATS_FAM_OPTIONS,
	STATS_NFAMS
};

static const struct {
	const char	*name, *label, *help;
} stats_fams[STATS_NFAMS] = {
	[STATS_FAM_REQUESTS] = { "ptftpd_requests_total", "op",
	    "requests received on the listen sockets, by opcode" },
	[STATS_FAM_TRANSFERS] = { "ptftpd_transfers_total", "result",
	    "transfers ended, by result" },
	[STATS_FAM_REFUSED] = { "ptftpd_refused_total", "reason",
	    "requests refused (an ERROR or no answer), by reason" },
	[STATS_FAM_CLIENT_ERRORS] = { "ptftpd_client_errors_total", "code",
	    "ERROR packets received from clients, by TFTP error code" },
	[STATS_FAM_OPTIONS] = { "ptftpd_options_negotiated_total", "option",
	    "transfers that negotiated an option (RFC 2347), by option" },
};

/* One counter's place in a family: offset in stats_totals, label value. */
static const struct stats_member {
	size_t			 off;
	enum stats_fam_id	 fam;
	const char		*value;
} stats_members[] = {
#define M(f, fam, v) { offsetof(struct stats_totals, f), STATS_FAM_ ## fam, v }
	M(rrq, REQUESTS, "rrq"),
	M(wrq, REQUESTS, "wrq"),
	M(sess_ok, TRANSFERS, "ok"),
	M(sess_probe, TRANSFERS, "probe"),
	M(sess_aborted, TRANSFERS, "aborted"),
	M(sess_timeout, TRANSFERS, "timeout"),
	M(sess_error, TRANSFERS, "error"),
	M(sess_replaced, TRANSFERS, "replaced"),
	M(refused_notfound, REFUSED, "not_found"),
	M(refused_access, REFUSED, "access"),
	M(refused_badop, REFUSED, "bad_request"),
	M(refused_busy, REFUSED, "busy"),
	M(refused_other, REFUSED, "other"),
	M(denied_acl, REFUSED, "acl"),
	M(denied_limit, REFUSED, "limit"),
	M(client_err0, CLIENT_ERRORS, "0"),
	M(client_err8, CLIENT_ERRORS, "8"),
	M(client_err_other, CLIENT_ERRORS, "other"),
	M(opt_blksize, OPTIONS, "blksize"),
	M(opt_windowsize, OPTIONS, "windowsize"),
	M(opt_tsize, OPTIONS, "tsize"),
	M(opt_timeout, OPTIONS, "timeout"),
#undef M
};
#define STATS_NMEMBERS	(sizeof(stats_members) / sizeof(stats_members[0]))

static const struct stats_member *
stats_member_of(size_t off)
{
	size_t	 m;

	for (m = 0; m < STATS_NMEMBERS; m++)
		if (stats_members[m].off == off)
			return &stats_members[m];
	return NULL;
}

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

/* A label value, escaped: backslash, double quote and newline. */
static void
stats_prom_label(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* One histogram, every slot folded in: cumulative buckets, _sum, _count. */
static void
stats_prom_hist(FILE *f, const char *name, const char *type_help,
    const uint64_t *h, unsigned n, uint64_t sum, int in_ms)
{
	char		 le[32], sbuf[32];
	uint64_t	 cum = 0, edge;
	unsigned	 i;

	stats_prom_head(f, name, "histogram", type_help);
	for (i = 0; i < n; i++) {
		cum += h[i];
		edge = (uint64_t)1 << i;
		if (i + 1 == n)
			snprintf(le, sizeof(le), "+Inf");
		else if (in_ms)
			stats_fmt_ms(le, sizeof(le), edge);
		else
			snprintf(le, sizeof(le), "%" PRIu64, edge);
		fprintf(f, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name, le, cum);
	}
	if (in_ms)
		stats_fmt_ms(sbuf, sizeof(sbuf), sum);
	else
		snprintf(sbuf, sizeof(sbuf), "%" PRIu64, sum);
	fprintf(f, "%s_sum %s\n", name, sbuf);
	fprintf(f, "%s_count %" PRIu64 "\n", name, cum);
}

/*
 * The counters of STATS_COUNTERS, summed over every slot ever used: a
 * family at the place of its first member, with all its members; a field
 * of no family under its own name.
 */
static void
stats_prom_counters(FILE *f, const struct stats_totals *t)
{
	const struct stats_member	*mb;
	char				 name[96];
	bool				 done[STATS_NFAMS] = { false };
	size_t				 k, m;

	for (k = 0; k < STATS_NFIELDS; k++) {
		const struct stats_field *fd = &stats_fields[k];

		if ((mb = stats_member_of(fd->off)) == NULL) {
			snprintf(name, sizeof(name), "ptftpd_%s_total",
			    fd->name);
			stats_prom_head(f, name, "counter", fd->help);
			fprintf(f, "%s %" PRIu64 "\n", name,
			    stats_field_get(t, fd));
			continue;
		}
		if (done[mb->fam])
			continue;
		done[mb->fam] = true;
		stats_prom_head(f, stats_fams[mb->fam].name, "counter",
		    stats_fams[mb->fam].help);
		for (m = 0; m < STATS_NMEMBERS; m++) {
			uint64_t	 v;

			if (stats_members[m].fam != mb->fam)
				continue;
			memcpy(&v, (const char *)t + stats_members[m].off,
			    sizeof(v));
			fprintf(f, "%s{%s=\"%s\"} %" PRIu64 "\n",
			    stats_fams[mb->fam].name, stats_fams[mb->fam].label,
			    stats_members[m].value, v);
		}
	}
}

/* The header's figures: build, start, generation, workers, reloads. */
static void
stats_prom_header(FILE *f, const struct stats_seg *seg)
{
	const struct stats_hdr	*h = seg->hdr;
	char			 ver[STATS_VERSION_LEN];
	unsigned		 n[4] = { 0, 0, 0, 0 };
	uint32_t		 i, st;

	stats_hdr_version(h, ver);
	stats_prom_head(f, "ptftpd_build_info", "gauge",
	    "always 1; the version of the running ptftpd in the label");
	fputs("ptftpd_build_info{version=\"", f);
	stats_prom_label(f, ver);
	fputs("\"} 1\n", f);
	stats_prom_head(f, "ptftpd_start_time_seconds", "gauge",
	    "start time of the supervisor, Unix seconds");
	fprintf(f, "ptftpd_start_time_seconds %" PRId64 "\n", h->start_time);
	stats_prom_head(f, "ptftpd_config_generation", "gauge",
	    "configuration generation, 1 at start, +1 per applied reload");
	fprintf(f, "ptftpd_config_generation %" PRIu64 "\n",
	    stats_ld(&h->generation));
	stats_prom_head(f, "ptftpd_workers_configured", "gauge",
	    "workers of the current configuration");
	fprintf(f, "ptftpd_workers_configured %" PRIu32 "\n",
	    atomic_load_explicit(&h->workers, memory_order_relaxed));
	for (i = 0; i < h->nslots; i++) {
		st = atomic_load_explicit(&seg->slots[i].state,
		    memory_order_relaxed);
		if (st < 4)
			n[st]++;
	}
	stats_prom_head(f, "ptftpd_workers", "gauge",
	    "worker processes by state (draining: an old generation after a"
	    " reload)");
	fprintf(f, "ptftpd_workers{state=\"running\"} %u\n",
	    n[STATS_W_RUNNING]);
	fprintf(f, "ptftpd_workers{state=\"draining\"} %u\n",
	    n[STATS_W_DRAINING]);
	stats_prom_head(f, "ptftpd_reloads_total", "counter",
	    "configuration reloads (SIGHUP), by result");
	fprintf(f, "ptftpd_reloads_total{result=\"ok\"} %" PRIu64 "\n",
	    stats_ld(&h->reloads_ok));
	fprintf(f, "ptftpd_reloads_total{result=\"failed\"} %" PRIu64 "\n",
	    stats_ld(&h->reloads_failed));
	stats_prom_head(f, "ptftpd_config_last_reload_successful", "gauge",
	    "1 if the last reload was applied (or there was none), 0 if it"
	    " failed");
	fprintf(f, "ptftpd_config_last_reload_successful %" PRIu32 "\n",
	    atomic_load_explicit(&h->last_reload_ok, memory_order_relaxed));
	stats_prom_head(f, "ptftpd_config_last_reload_timestamp_seconds",
	    "gauge", "time of the last reload attempt, Unix seconds; 0: none");
	fprintf(f, "ptftpd_config_last_reload_timestamp_seconds %" PRId64
	    "\n", atomic_load_explicit(&h->last_reload, memory_order_relaxed));
	stats_prom_head(f, "ptftpd_worker_crashes_total", "counter",
	    "workers that died unasked (a signal, or an exit not asked for by"
	    " a reload or a stop)");
	fprintf(f, "ptftpd_worker_crashes_total %" PRIu64 "\n",
	    stats_ld(&h->worker_crashes));
}

/* Which per-worker family stats_prom_sample writes. */
enum stats_prom_what {
	STATS_PROM_ACTIVE,
	STATS_PROM_REQUESTS,
	STATS_PROM_TX_BYTES,
	STATS_PROM_AGE,
	STATS_PROM_STARTED,
};

static void
stats_prom_sample(FILE *f, enum stats_prom_what what, const char *name,
    uint32_t w, const struct stats_view *v, uint64_t now_ms)
{
	char	 buf[32];

	fprintf(f, "%s{worker=\"%" PRIu32 "\"} ", name, w);
	switch (what) {
	case STATS_PROM_ACTIVE:
		fprintf(f, "%" PRIu64 "\n", v->t.sess_active);
		break;
	case STATS_PROM_REQUESTS:
		fprintf(f, "%" PRIu64 "\n", v->t.rrq + v->t.wrq);
		break;
	case STATS_PROM_TX_BYTES:
		fprintf(f, "%" PRIu64 "\n", v->t.tx_bytes);
		break;
	case STATS_PROM_AGE:
		fprintf(f, "%s\n", stats_fmt_ms(buf, sizeof(buf),
		    stats_view_age_ms(v, now_ms)));
		break;
	case STATS_PROM_STARTED:
		fprintf(f, "%" PRId64 "\n", v->started);
		break;
	}
}

/*
 * The per-worker families, live slots only (a retired or dead slot's
 * counts live on in the totals): a few series per worker, whatever the
 * number of reloads.
 */
static const struct {
	enum stats_prom_what	 what;
	const char		*name, *type, *help;
} stats_prom_families[] = {
	{ STATS_PROM_ACTIVE, "ptftpd_sessions_active", "gauge",
	    "transfers in progress, per live worker" },
	{ STATS_PROM_REQUESTS, "ptftpd_worker_requests_total", "counter",
	    "requests (RRQ and WRQ) taken by the workers of this slot" },
	{ STATS_PROM_TX_BYTES, "ptftpd_worker_tx_bytes_total", "counter",
	    "DATA payload bytes sent by the workers of this slot" },
	{ STATS_PROM_AGE, "ptftpd_worker_heartbeat_age_seconds", "gauge",
	    "seconds since the worker's event loop last ran" },
	{ STATS_PROM_STARTED, "ptftpd_worker_start_time_seconds", "gauge",
	    "start time of the slot's current worker, Unix seconds" },
};

/*
 * Prometheus text format 0.0.4: the header's figures, every counter
 * summed over every slot ever used (labelled families, see
 * stats_members), the two histograms likewise, then a few per-worker
 * families with worker="<slot index>" on live slots only. Each family's
 * HELP and TYPE once, its samples contiguous. Returns 0 or -1 (write
 * error). O(nslots x per-worker families).
 */
int
stats_write_prom(FILE *f, const struct stats_seg *seg, uint64_t now_ms)
{
	struct stats_totals	 t;
	struct stats_view	 v;
	size_t			 k;
	uint32_t		 i;

	stats_sum(seg, &t);
	stats_prom_header(f, seg);
	stats_prom_counters(f, &t);
	stats_prom_hist(f, "ptftpd_transfer_duration_seconds",
	    "duration of finished transfers", t.dur_hist, STATS_DUR_BUCKETS,
	    t.dur_sum_ms, 1);
	stats_prom_hist(f, "ptftpd_transfer_size_bytes",
	    "bytes delivered by finished transfers", t.size_hist,
	    STATS_SIZE_BUCKETS, t.size_sum, 0);
	for (k = 0; k < sizeof(stats_prom_families) /
	    sizeof(stats_prom_families[0]); k++) {
		stats_prom_head(f, stats_prom_families[k].name,
		    stats_prom_families[k].type, stats_prom_families[k].help);
		for (i = 0; i < seg->hdr->nslots; i++)
			if (stats_view_get(seg, i, &v) &&
			    stats_slot_live(v.state))
				stats_prom_sample(f, stats_prom_families[k].what,
				    stats_prom_families[k].name, i, &v, now_ms);
	}
	return stats_finish(f);
}

/* --- JSON --- */

/* A JSON string: quotes, backslash and control characters escaped. */
static void
stats_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

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
	char			 ver[STATS_VERSION_LEN];
	uint32_t		 i;
	int			 first = 1;

	stats_sum(seg, &t);
	stats_hdr_version(h, ver);
	fprintf(f, "{\"version\":%" PRIu32 ",\"daemon_version\":", h->version);
	stats_json_string(f, ver);
	fprintf(f, ",\"start_time\":%" PRId64 ",\"sup_pid\":%" PRId32
	    ",\"generation\":%" PRIu64 ",\"workers\":%" PRIu32
	    ",\"reloads_ok\":%" PRIu64 ",\"reloads_failed\":%" PRIu64
	    ",\"last_reload\":%" PRId64 ",\"last_reload_ok\":%" PRIu32
	    ",\"worker_crashes\":%" PRIu64 ",\n\"totals\":{", h->start_time,
	    h->sup_pid, stats_ld(&h->generation),
	    atomic_load_explicit(&h->workers, memory_order_relaxed),
	    stats_ld(&h->reloads_ok), stats_ld(&h->reloads_failed),
	    atomic_load_explicit(&h->last_reload, memory_order_relaxed),
	    atomic_load_explicit(&h->last_reload_ok, memory_order_relaxed),
	    stats_ld(&h->worker_crashes));
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
