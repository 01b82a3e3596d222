/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.h - the shared-memory stats segment. The supervisor creates it
 * (a file on tmpfs, mapped MAP_SHARED) before forking; each worker is the
 * only writer of its slot; readers (the USR1 dump, ptftpd-stat) only
 * load. One field list (STATS_COUNTERS) generates the slot layout, the
 * sums and every output format.
 */
#ifndef PTFTPD_STATS_H
#define PTFTPD_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define STATS_MAGIC		0x7370746674706474ull	/* "tdptftps" */
#define STATS_VERSION		3u	/* 2: supervisor counters, version;
					 * 3: refusal, GSO and loss counters */
#define STATS_VERSION_LEN	32	/* daemon_version, NUL included */
#define STATS_DUR_BUCKETS	24	/* ms: <=1, <=2, <=4 ... <=2^22, +Inf */
#define STATS_SIZE_BUCKETS	40	/* bytes: <=1, <=2 ... <=2^38, +Inf */

/*
 * X(name, help): every counter of a worker slot, in output order. Only
 * ever append (layout version). In Prometheus a counter that is one value
 * of a partition (a result, a reason, an option) is a sample of a
 * labelled family (stats.c, stats_members: sess_ok is
 * ptftpd_transfers_total{result="ok"}); any other is ptftpd_<name>_total.
 */
#define STATS_COUNTERS \
	X(rrq,			"read requests received") \
	X(wrq,			"write requests received") \
	X(req_malformed,	"malformed requests on the listen port") \
	X(listen_stray,		"non-request packets on the listen port, dropped") \
	X(req_retransmit,	"duplicate RRQs for a starting transfer, ignored") \
	X(sess_started,		"transfers started") \
	X(sess_ok,		"transfers completed") \
	X(sess_probe,		"size probes ended by the client after the OACK") \
	X(sess_aborted,		"transfers aborted by the client with an ERROR") \
	X(sess_timeout,		"transfers given up after retries") \
	X(sess_error,		"transfers ended by a server-side error") \
	X(sess_replaced,	"transfers replaced by a new request from the same port") \
	X(refused_notfound,	"requests answered ERROR 1 (file not found)") \
	X(refused_access,	"requests answered ERROR 2 (access violation)") \
	X(refused_badop,	"requests answered ERROR 4 (mode or malformed)") \
	X(refused_busy,		"requests refused: no transfer slot or socket") \
	X(refused_other,	"requests refused with another error") \
	X(denied_acl,		"requests denied by an access rule") \
	X(denied_limit,		"requests denied by a per-client or rate limit") \
	X(client_err0,		"ERROR 0 received from clients") \
	X(client_err8,		"ERROR 8 received from clients") \
	X(client_err_other,	"other ERROR codes received from clients") \
	X(rx_pkts,		"packets received") \
	X(rx_bytes,		"bytes received") \
	X(tx_pkts,		"packets sent") \
	X(tx_bytes,		"bytes sent, payload of DATA packets") \
	X(rexmit_pkts,		"packets retransmitted") \
	X(dup_acks,		"duplicate ACKs ignored") \
	X(foreign_tid,		"packets from a foreign TID, answered ERROR 5") \
	X(bad_pkts,		"malformed packets on transfer sockets") \
	X(opt_blksize,		"transfers that negotiated blksize") \
	X(opt_windowsize,	"transfers that negotiated windowsize") \
	X(opt_tsize,		"transfers that negotiated tsize") \
	X(opt_timeout,		"transfers that negotiated timeout") \
	X(late_pkts,		"packets of a pooled socket's last transfer, dropped") \
	X(req_toolong,		"requests longer than the receive buffer, answered ERROR 4") \
	X(refused_resource,	"requests refused: no descriptor, port or ring entry") \
	X(log_suppressed,	"refusal and exhaustion log lines held back by the rate limit") \
	X(gso_sends,		"windows (or parts) sent as one UDP GSO send") \
	X(gap_repairs,		"window gaps repaired at once (resent on a partial or duplicate ACK, or gap ACKs sent)") \
	X(rexmit_early,		"resends on the adaptive RTO, before the fixed schedule")


enum stats_wstate {
	STATS_W_FREE = 0,	/* slot never used */
	STATS_W_RUNNING = 1,
	STATS_W_DRAINING = 2,
	STATS_W_EXITED = 3,	/* dead or retired; counters kept */
};

struct stats_hdr {
	uint64_t		magic;
	uint32_t		version;
	uint32_t		nslots;
	uint32_t		slot_size;	/* sizeof(struct stats_slot) */
	uint32_t		hdr_size;	/* offset of slot 0 */
	int64_t			start_time;	/* supervisor start, Unix s */
	int32_t			sup_pid;
	_Atomic uint32_t	workers;	/* configured, current gen */
	_Atomic uint64_t	generation;	/* config generation, from 1 */
	char			daemon_version[STATS_VERSION_LEN];
	/* Supervisor-side events, written by the supervisor only
	 * (stats_note_reload, stats_note_crash). */
	_Atomic uint64_t	reloads_ok;	/* reloads applied */
	_Atomic uint64_t	reloads_failed;	/* reloads refused, config kept */
	_Atomic int64_t		last_reload;	/* Unix s of the last attempt; 0 */
	_Atomic uint32_t	last_reload_ok;	/* 1: applied, or none yet */
	_Atomic uint64_t	worker_crashes;	/* workers that died unasked */
} __attribute__((aligned(128)));

struct stats_slot {
	_Atomic int32_t		pid;
	_Atomic uint32_t	state;		/* enum stats_wstate */
	_Atomic uint64_t	generation;
	_Atomic uint64_t	heartbeat_ms;	/* CLOCK_MONOTONIC ms */
	_Atomic int64_t		started;	/* Unix s of current worker */
	_Atomic uint64_t	restarts;	/* workers started in this slot */
#define X(f, h) _Atomic uint64_t f;
	STATS_COUNTERS
#undef X
	_Atomic uint64_t	sess_active;	/* the gauge; reset per worker */
	_Atomic uint64_t	dur_hist[STATS_DUR_BUCKETS];
	_Atomic uint64_t	dur_sum_ms;
	_Atomic uint64_t	size_hist[STATS_SIZE_BUCKETS];
	_Atomic uint64_t	size_sum;
} __attribute__((aligned(128)));

/*
 * Single writer per slot: a relaxed load and a relaxed store, no locked
 * read-modify-write on the packet path. Readers may see a value a few
 * increments old, never a torn one.
 */
#define STATS_ADD(sl, f, n) do {					\
	if ((sl) != NULL)						\
		atomic_store_explicit(&(sl)->f,				\
		    atomic_load_explicit(&(sl)->f, memory_order_relaxed) + \
		    (uint64_t)(n), memory_order_relaxed);		\
} while (0)
#define STATS_SET(sl, f, v) do {					\
	if ((sl) != NULL)						\
		atomic_store_explicit(&(sl)->f, (v), memory_order_relaxed); \
} while (0)

/* A mapped segment, writable (supervisor and workers) or read-only. */
struct stats_seg {
	struct stats_hdr	*hdr;
	struct stats_slot	*slots;
	size_t			 len;
	int			 writable;
	dev_t			 dev;		/* the file mapped (stats_open) */
	ino_t			 ino;
};

/* Plain sums of every slot, for output. */
struct stats_totals {
#define X(f, h) uint64_t f;
	STATS_COUNTERS
#undef X
	uint64_t	sess_active;
	uint64_t	dur_hist[STATS_DUR_BUCKETS];
	uint64_t	dur_sum_ms;
	uint64_t	size_hist[STATS_SIZE_BUCKETS];
	uint64_t	size_sum;
};

/*
 * Create (or replace) the segment file at path with nslots zeroed slots,
 * mode 0644, and map it shared. Returns 0, or -1 with errno.
 */
int	stats_create(struct stats_seg *seg, const char *path, uint32_t nslots);
/*
 * Map an existing segment read-only and validate it (magic, layout
 * version, sizes against the file length). Returns 0, or -1 with a
 * message in err ("...: not a ptftpd stats segment", "...: layout
 * version 2, this ptftpd-stat reads 1", "...: truncated").
 */
int	stats_open(struct stats_seg *seg, const char *path, char *err,
	    size_t errlen);
void	stats_close(struct stats_seg *seg);

/*
 * Supervisor side: count a reload attempt (ok: applied, 0: refused) with
 * its time, or a worker that died while it should have been running
 * (killed, or any exit not asked for by a reload or a stop). Stores into
 * the header only; nothing on a segment that is not mapped writable.
 */
void	stats_note_reload(struct stats_seg *seg, int ok);
void	stats_note_crash(struct stats_seg *seg);

/* Worker side: mark slot i as running for pid (gauge reset, restarts+1). */
void	stats_worker_start(struct stats_slot *sl, pid_t pid, uint64_t gen);
/* Record a finished transfer in the histograms. */
void	stats_observe(struct stats_slot *sl, uint64_t dur_ms, uint64_t bytes);
/* Bucket index helpers (exposed for tests). */
unsigned stats_dur_bucket(uint64_t ms);
unsigned stats_size_bucket(uint64_t bytes);

/*
 * stats_sum_slot adds one slot to *t (zero it first, or keep a running
 * total); stats_sum zeroes *t and adds every slot. sess_active is added
 * only for running or draining slots (an exited worker's value is stale).
 */
void	stats_sum_slot(const struct stats_slot *sl, struct stats_totals *t);
void	stats_sum(const struct stats_seg *seg, struct stats_totals *t);

/*
 * Output. Each returns 0 or -1 (write error). `now_ms` is monotonic ms
 * for heartbeat ages. Totals cover every slot ever used (a retired
 * worker's counts stay in them, so they never go back); per-worker
 * Prometheus series cover live (running or draining) slots only.
 */
int	stats_write_text(FILE *f, const struct stats_seg *seg, uint64_t now_ms);
int	stats_write_prom(FILE *f, const struct stats_seg *seg, uint64_t now_ms);
int	stats_write_json(FILE *f, const struct stats_seg *seg, uint64_t now_ms);
/* Prometheus text into path atomically (temp file + rename). */
int	stats_write_prom_file(const char *path, const struct stats_seg *seg,
	    uint64_t now_ms);
/* One log line summary: "rrq=.. ok=.. ..." into buf. */
char	*stats_summary(const struct stats_totals *t, char *buf, size_t len);

#endif
