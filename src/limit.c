/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * limit.c - admission limits for new transfers, per worker: a concurrency
 * cap per client address (per-CIDR overrides, first match wins), a token
 * bucket per client address and one global bucket. Owns the client table:
 * open addressing with linear probing, keyed by the 16-byte address
 * (IPv4 as IPv4-mapped IPv6), hashed with SipHash-1-3 rounds under a key
 * from the caller's seed so a flood cannot pick colliding addresses.
 * Probes stop at LIMIT_PROBE_MAX slots: when no slot in that window is
 * free or reusable the verdict is LIMIT_TABLE_FULL, never an allocation.
 *
 * Slots are never emptied, only overwritten: a slot whose client has no
 * active transfer and a full bucket holds nothing worth keeping, so the
 * next new client whose probe passes it takes it over. Because an empty
 * slot never reappears, a lookup may stop at the first empty slot.
 *
 * It does not own the clock (now_ms comes in), the decision of what to
 * tell the client, logging or stats: the worker does those with the
 * verdict. Pure: no syscalls, no globals; the only allocation is the
 * table, in limit_init().
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "limit.h"

#define LIMIT_MICRO		1000000ull	/* micro-transfers per token */
#define LIMIT_CAP_NONE		UINT32_MAX	/* slot cap: no cap */
#define LIMIT_CAPACITY_MAX	(1u << 30)

/* cap == 0 marks a slot never used; see the opening comment. */
struct limit_entry {
	uint8_t			addr[16];
	struct limit_bucket	bucket;
	uint32_t		active;		/* transfers running */
	uint32_t		cap;		/* resolved from the rules */
};

/* --- addresses and CIDR (addr.c) --- */

static bool
limit_cidr_match(const struct limit_cidr *c, const uint8_t a[16])
{
	return addr_prefix_match(a, c->addr, c->bits);
}

/* Valid prefix length and no host bits set past it. */
static bool
limit_cidr_valid(const struct limit_cidr *c)
{
	return c->bits <= 128 && !addr_host_bits(c->addr, c->bits, 128);
}

/* Concurrency cap for a new client: first matching rule, else the
 * default; 0 (no cap) becomes LIMIT_CAP_NONE so that a slot's cap is
 * never 0. */
static uint32_t
limit_cap_for(const struct limit_conf *c, const uint8_t key[16])
{
	uint32_t i, cap = c->max_per_client;

	for (i = 0; i < c->nrules; i++) {
		if (limit_cidr_match(&c->rules[i].cidr, key)) {
			cap = c->rules[i].max_per_client;
			break;
		}
	}
	return cap == 0 ? LIMIT_CAP_NONE : cap;
}

/* --- token buckets --- */

/*
 * Micro-transfers in b at now_ms, at most burst whole ones. A rate of r
 * milli-transfers/s adds exactly r micro-transfers per ms, so the sum is
 * exact; the product is only formed when it stays below the deficit,
 * which bounds it by 2^32 * 10^6. Does not change b.
 */
static uint64_t
limit_bucket_level(const struct limit_bucket *b, uint32_t rate_milli,
    uint32_t burst, uint64_t now_ms)
{
	uint64_t full = burst * LIMIT_MICRO, deficit, dt;

	if (b->tokens_micro >= full)
		return full;
	if (now_ms <= b->last_ms)
		return b->tokens_micro;
	dt = now_ms - b->last_ms;
	deficit = full - b->tokens_micro;
	if (dt >= (deficit + rate_milli - 1) / rate_milli)
		return full;
	return b->tokens_micro + dt * rate_milli;
}

/* A whole token is available (always, for a disabled bucket). */
static bool
limit_bucket_ready(const struct limit_bucket *b, uint32_t rate_milli,
    uint32_t burst, uint64_t now_ms)
{
	if (rate_milli == 0)
		return true;
	return limit_bucket_level(b, rate_milli, burst, now_ms) >= LIMIT_MICRO;
}

/* Refill to now_ms and take one token; call after limit_bucket_ready(). A
 * clock that steps back leaves last_ms alone so no time is credited twice. */
static void
limit_bucket_take(struct limit_bucket *b, uint32_t rate_milli,
    uint32_t burst, uint64_t now_ms)
{
	if (rate_milli == 0)
		return;
	b->tokens_micro = limit_bucket_level(b, rate_milli, burst, now_ms) -
	    LIMIT_MICRO;
	if (now_ms > b->last_ms)
		b->last_ms = now_ms;
}

/* --- the client table --- */

#define LIMIT_ROTL(x, n)	(((x) << (n)) | ((x) >> (64 - (n))))

static void
limit_sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = LIMIT_ROTL(v[1], 13) ^ v[0];
	v[0] = LIMIT_ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = LIMIT_ROTL(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = LIMIT_ROTL(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = LIMIT_ROTL(v[1], 17) ^ v[2];
	v[2] = LIMIT_ROTL(v[2], 32);
}

/* SipHash-1-3 shape over the 16-byte key: one round per 8-byte word,
 * a length word, three finishing rounds. */
static uint64_t
limit_hash(const struct limit *l, const uint8_t key[16])
{
	uint64_t v[4], m[3];
	unsigned i;

	memcpy(&m[0], key, 8);
	memcpy(&m[1], key + 8, 8);
	m[2] = (uint64_t)16 << 56;
	v[0] = l->key[0] ^ 0x736f6d6570736575ull;
	v[1] = l->key[1] ^ 0x646f72616e646f6dull;
	v[2] = l->key[0] ^ 0x6c7967656e657261ull;
	v[3] = l->key[1] ^ 0x7465646279746573ull;
	for (i = 0; i < 3; i++) {
		v[3] ^= m[i];
		limit_sip_round(v);
		v[0] ^= m[i];
	}
	v[2] ^= 0xff;
	for (i = 0; i < 3; i++)
		limit_sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* Holds nothing worth keeping: no transfer and a full bucket. */
static bool
limit_entry_idle(const struct limit *l, const struct limit_entry *e,
    uint64_t now_ms)
{
	const struct limit_conf *c = &l->conf;

	if (e->active != 0)
		return false;
	if (c->rate_per_client_milli == 0)
		return true;
	return limit_bucket_level(&e->bucket, c->rate_per_client_milli,
	    c->burst_per_client, now_ms) >= c->burst_per_client * LIMIT_MICRO;
}

/*
 * The slot holding key, or NULL. If spare is not NULL it receives the
 * first slot in the probe window that a new client could take (empty or
 * idle at now_ms), or NULL if there is none.
 */
static struct limit_entry *
limit_lookup(const struct limit *l, const uint8_t key[16], uint64_t now_ms,
    struct limit_entry **spare)
{
	uint32_t i, pos = (uint32_t)limit_hash(l, key);

	if (spare != NULL)
		*spare = NULL;
	for (i = 0; i < l->window; i++) {
		struct limit_entry *e = &l->tab[(pos + i) & l->mask];

		if (e->cap == 0) {
			if (spare != NULL && *spare == NULL)
				*spare = e;
			return NULL;
		}
		if (memcmp(e->addr, key, 16) == 0)
			return e;
		if (spare != NULL && *spare == NULL &&
		    limit_entry_idle(l, e, now_ms))
			*spare = e;
	}
	return NULL;
}

/* Make slot e a new client's, with a full bucket. */
static void
limit_entry_claim(const struct limit *l, struct limit_entry *e,
    const uint8_t key[16], uint64_t now_ms)
{
	memcpy(e->addr, key, 16);
	e->active = 0;
	e->cap = limit_cap_for(&l->conf, key);
	e->bucket.tokens_micro = l->conf.burst_per_client * LIMIT_MICRO;
	e->bucket.last_ms = now_ms;
}

/* --- API --- */

int
limit_init(struct limit *l, const struct limit_conf *c, uint32_t capacity,
    uint64_t seed)
{
	uint32_t i, size = 1;

	memset(l, 0, sizeof(*l));
	if (capacity == 0 || capacity > LIMIT_CAPACITY_MAX ||
	    c->nrules > LIMIT_RULES_MAX ||
	    (c->rate_per_client_milli != 0 && c->burst_per_client == 0) ||
	    (c->rate_global_milli != 0 && c->burst_global == 0))
		goto inval;
	for (i = 0; i < c->nrules; i++)
		if (!limit_cidr_valid(&c->rules[i].cidr))
			goto inval;
	while (size < capacity)
		size <<= 1;
	l->tab = calloc(size, sizeof(*l->tab));
	if (l->tab == NULL)
		return -1;
	l->conf = *c;
	l->mask = size - 1;
	l->window = size < LIMIT_PROBE_MAX ? size : LIMIT_PROBE_MAX;
	l->track = c->max_per_client != 0 || c->nrules != 0 ||
	    c->rate_per_client_milli != 0;
	l->key[0] = seed;
	l->key[1] = LIMIT_ROTL(seed, 32) ^ 0x9e3779b97f4a7c15ull;
	l->global.tokens_micro = c->burst_global * LIMIT_MICRO;
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

void
limit_free(struct limit *l)
{
	free(l->tab);
	l->tab = NULL;
}

/*
 * Client checks first (so a denial names the client when it is the
 * client's fault), then the global bucket, and only then a slot for a new
 * client, so LIMIT_TABLE_FULL counts requests that would have passed.
 * Nothing is taken until every check has passed.
 */
static enum limit_verdict
limit_decide(struct limit *l, const struct sockaddr_storage *client,
    uint64_t now_ms)
{
	const struct limit_conf *c = &l->conf;
	struct limit_entry *e = NULL, *spare = NULL;
	uint8_t key[16];

	if (addr_key(client, key) == -1)
		return LIMIT_TABLE_FULL;
	if (l->track) {
		e = limit_lookup(l, key, now_ms, &spare);
		if (e != NULL && e->active >= e->cap)
			return LIMIT_CLIENT_BUSY;
		if (e != NULL && !limit_bucket_ready(&e->bucket,
		    c->rate_per_client_milli, c->burst_per_client, now_ms))
			return LIMIT_CLIENT_RATE;
	}
	if (!limit_bucket_ready(&l->global, c->rate_global_milli,
	    c->burst_global, now_ms))
		return LIMIT_GLOBAL_RATE;
	if (l->track) {
		if (e == NULL) {
			if (spare == NULL)
				return LIMIT_TABLE_FULL;
			e = spare;
			limit_entry_claim(l, e, key, now_ms);
		}
		limit_bucket_take(&e->bucket, c->rate_per_client_milli,
		    c->burst_per_client, now_ms);
		e->active++;
	}
	limit_bucket_take(&l->global, c->rate_global_milli, c->burst_global,
	    now_ms);
	return LIMIT_OK;
}

enum limit_verdict
limit_admit(struct limit *l, const struct sockaddr_storage *client,
    uint64_t now_ms)
{
	enum limit_verdict v = limit_decide(l, client, now_ms);

	l->count[v]++;
	return v;
}

int
limit_release(struct limit *l, const struct sockaddr_storage *client)
{
	struct limit_entry *e;
	uint8_t key[16];

	if (!l->track)
		return 0;
	if (addr_key(client, key) == -1)
		return -1;
	e = limit_lookup(l, key, 0, NULL);
	if (e == NULL || e->active == 0)
		return -1;
	e->active--;
	return 0;
}

const char *
limit_verdict_name(enum limit_verdict v)
{
	switch (v) {
	case LIMIT_OK:
		return "ok";
	case LIMIT_CLIENT_BUSY:
		return "client_busy";
	case LIMIT_CLIENT_RATE:
		return "client_rate";
	case LIMIT_GLOBAL_RATE:
		return "global_rate";
	case LIMIT_TABLE_FULL:
		return "table_full";
	case LIMIT_NVERDICTS:
		break;
	}
	return "unknown";
}
