/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * limit.h - per-worker admission limits for new transfers: a cap on
 * concurrent transfers per client address (with per-CIDR overrides, first
 * match wins), a token bucket on new transfers per client address and one
 * global token bucket. Pure: `now_ms` is passed in, nothing is logged, no
 * syscalls, no globals. limit_init() allocates the client table once;
 * nothing is allocated afterwards.
 *
 * A client is its IP address: IPv4 and IPv4-mapped IPv6 (::ffff:a.b.c.d)
 * are the same client; the port and the IPv6 scope id are ignored.
 * Rates are in milli-transfers per second (1500 = 1.5 new transfers/s);
 * bursts in whole transfers. A rate of 0 disables that bucket; a cap of 0
 * means no cap.
 */
#ifndef PTFTPD_LIMIT_H
#define PTFTPD_LIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#define LIMIT_RULES_MAX		16	/* per-CIDR overrides */
#define LIMIT_PROBE_MAX		64	/* longest probe in the client table */

/* An address prefix; IPv4 is kept as IPv4-mapped IPv6, so
 * 10.0.0.0/8 is stored as ::ffff:10.0.0.0/104 (addr_cidr_mapped()). */
struct limit_cidr {
	uint8_t		addr[16];	/* host bits are zero */
	uint8_t		bits;		/* 0..128 */
};

/* Clients in cidr may run max_per_client transfers at once (0: no cap). */
struct limit_rule {
	struct limit_cidr	cidr;
	uint32_t		max_per_client;
};

struct limit_conf {
	uint32_t		max_per_client;	/* default cap, 0: none */
	uint32_t		rate_per_client_milli;	/* 0: no bucket */
	uint32_t		burst_per_client;	/* >= 1 if rate set */
	uint32_t		rate_global_milli;	/* 0: no bucket */
	uint32_t		burst_global;		/* >= 1 if rate set */
	uint32_t		nrules;		/* <= LIMIT_RULES_MAX */
	struct limit_rule	rules[LIMIT_RULES_MAX];	/* in order */
};

enum limit_verdict {
	LIMIT_OK = 0,		/* admitted; one active transfer taken */
	LIMIT_CLIENT_BUSY,	/* client at its concurrency cap */
	LIMIT_CLIENT_RATE,	/* client bucket empty */
	LIMIT_GLOBAL_RATE,	/* global bucket empty */
	LIMIT_TABLE_FULL,	/* no room to track this client: overflow */
	LIMIT_NVERDICTS
};

/* Tokens in micro-transfers: a rate in milli-transfers/s adds exactly
 * rate micro-transfers per ms, so refill never rounds and never drifts. */
struct limit_bucket {
	uint64_t	tokens_micro;
	uint64_t	last_ms;
};

struct limit_entry;			/* a client table slot, in limit.c */

struct limit {
	struct limit_conf	 conf;
	struct limit_entry	*tab;
	uint32_t		 mask;		/* table size - 1 (power of 2) */
	uint32_t		 window;	/* probe length bound */
	uint32_t		 track;		/* per-client state needed */
	uint64_t		 key[2];	/* hash key, from the seed */
	struct limit_bucket	 global;
	uint64_t		 count[LIMIT_NVERDICTS];	/* read freely */
};

/*
 * Copy *c and allocate a client table of `capacity` slots rounded up to a
 * power of two (suggested: 2 x max transfers per worker, at least 1024;
 * with LIMIT_PROBE_MAX 64, random addresses first see LIMIT_TABLE_FULL
 * at about 2/3 occupancy, counting idle clients whose bucket is refilling).
 * `seed` keys the hash so a flood cannot aim at one probe sequence; pass
 * a random value. Returns 0, or -1 with errno ENOMEM, or EINVAL for a bad
 * conf (too many rules, a rate without a burst) or capacity (0 or above
 * 2^30). Cost: one calloc of 40 bytes per slot. limit_free() releases it.
 */
int	limit_init(struct limit *l, const struct limit_conf *c,
	    uint32_t capacity, uint64_t seed);

/* Free the table. Harmless on a zeroed or already freed struct limit. */
void	limit_free(struct limit *l);

/*
 * Decide whether `client` may start a new transfer at now_ms (monotonic).
 * On LIMIT_OK one token is taken from each enabled bucket and one active
 * transfer is counted for the client: call limit_release() when that
 * transfer ends, however it ends. On any other verdict nothing is taken.
 * A family other than AF_INET/AF_INET6 cannot be tracked and gets
 * LIMIT_TABLE_FULL. Every verdict is counted in l->count[]. Cost: one
 * keyed hash and at most LIMIT_PROBE_MAX slot compares; on a new client,
 * a scan of the CIDR rules.
 */
enum limit_verdict limit_admit(struct limit *l,
	    const struct sockaddr_storage *client, uint64_t now_ms);

/*
 * A transfer admitted for `client` ended. Returns 0, or -1 if the client
 * held no active transfer (a caller bug; nothing changes). Cost: as a
 * lookup in limit_admit().
 */
int	limit_release(struct limit *l, const struct sockaddr_storage *client);

/* Static lower-case name for logs ("ok", "client_busy", ...). */
const char *limit_verdict_name(enum limit_verdict v);

#endif
