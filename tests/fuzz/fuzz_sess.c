/* SPDX-License-Identifier: BSD-2-Clause */
// LINK: sess
/*
 * fuzz_sess.c - libFuzzer driver for sess.c. The input builds a request
 * (direction, body size or upload cap, options, server limits), then a
 * sequence of events (time advance plus ACK or DATA, ERROR, another packet
 * type, a timeout or a server failure) fed to sess_input(), sess_timeout()
 * and sess_fail(). After every step the session invariants are asserted.
 * Read: acked <= sent <= nblocks, DATA ranges inside 1..nblocks. Write:
 * every byte handed out once and in order, never past the cap, COMMIT only
 * with the final ACK, every ACK for the last block received in order, at
 * most one packet per event. Both: DONE terminal, and at most
 * first_retries + 1 packets before the client ACKs or sends anything.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *       -Iinclude tests/fuzz/fuzz_sess.c src/sess.c -o fuzz_sess
 */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sess.h"
#include "tftp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

struct cursor {
	const uint8_t	*p;
	size_t		 left;
};

static uint64_t
take(struct cursor *c, unsigned nbytes)
{
	uint64_t v = 0;

	while (nbytes-- > 0) {
		v <<= 8;
		if (c->left > 0) {
			v |= *c->p++;
			c->left--;
		}
	}
	return v;
}

/* Returns true for a write (WRQ) session, from a bit of the mode byte. */
static bool
build_request(struct cursor *c, struct tftp_req *r, struct sess_limits *l,
    uint64_t *size)
{
	unsigned shift = take(c, 1) % 41;
	unsigned mode = (unsigned)take(c, 1);

	memset(r, 0, sizeof(*r));
	r->file = "f";
	r->file_len = 1;
	r->mode = (enum tftp_mode)(mode % 2);
	r->opts.set = take(c, 1) & 0xf;
	r->opts.blksize = (uint32_t)take(c, 2);
	r->opts.timeout_s = (uint32_t)take(c, 1);
	r->opts.windowsize = (uint32_t)take(c, 2);
	/* sizes from 0 to 2^40: small files and rollover-sized ones */
	*size = take(c, 6) >> (48 - shift);
	l->blksize_max = TFTP_BLKSIZE_MIN + (uint32_t)take(c, 2) %
	    (TFTP_BLKSIZE_MAX - TFTP_BLKSIZE_MIN + 1);
	l->windowsize_max = 1 + (uint32_t)take(c, 1);
	l->timeout_ms = 1 + (uint32_t)take(c, 2);
	l->timeout_max_ms = (uint32_t)take(c, 3);
	l->retries = (uint32_t)take(c, 1) % 40;
	l->first_retries = (uint32_t)take(c, 1) % 40;
	l->rto_min_ms = (uint32_t)take(c, 1);	/* 0: fixed schedule */
	return (mode & 2) != 0;
}

static void
check_read(const struct sess *s, const struct sess_tx *tx)
{
	uint64_t off;
	uint32_t len;

	assert(s->acked <= s->sent && s->sent <= s->nblocks);
	assert((s->state == SESS_DONE) == (s->result != SESS_RES_NONE));
	if (s->state == SESS_DONE)
		assert(s->deadline_ms == 0 && tx->flags == 0);
	if (s->result == SESS_RES_OK)
		assert(s->acked == s->nblocks);
	assert(tx->flags == 0 || tx->flags == SESS_TX_OACK ||
	    tx->flags == SESS_TX_DATA);
	if (tx->flags & SESS_TX_DATA) {
		assert(tx->blk_count >= 1 && tx->blk_count <= s->windowsize);
		assert(tx->blk_first == s->acked + 1);
		assert(tx->blk_first + tx->blk_count - 1 <= s->nblocks);
		sess_block_span(s, tx->blk_first + tx->blk_count - 1, &off,
		    &len);
		assert(off + len <= s->size && len <= s->blksize);
	}
	if (tx->flags & SESS_TX_OACK)
		assert(s->state == SESS_OACK_SENT);
	assert(s->tries <= s->retries || s->tries <= s->first_retries);
}

/*
 * Write side, after one step from `b`: what was handed out for writing
 * continues the stream exactly, and nothing else changed the bytes.
 */
static void
check_write(const struct sess *b, const struct sess *s,
    const struct sess_tx *tx)
{
	static const unsigned ok[] = {
		0, SESS_TX_OACK, SESS_TX_ACK, SESS_TX_ERROR, SESS_TX_WRITE,
		SESS_TX_WRITE | SESS_TX_ACK,
		SESS_TX_WRITE | SESS_TX_COMMIT | SESS_TX_ACK,
		SESS_TX_COMMIT | SESS_TX_ACK,
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (tx->flags == ok[i])
			break;
	assert(i < sizeof(ok) / sizeof(ok[0]));
	assert(s->rx_bytes <= s->max_bytes && s->ack_sent <= s->rcvd);
	assert(s->rcvd >= b->rcvd && s->rcvd <= b->rcvd + 1);
	assert((s->state == SESS_DONE || s->state == SESS_DALLY) ==
	    (s->result != SESS_RES_NONE));
	if (s->state == SESS_RECEIVING)
		assert(s->rx_bytes == s->rcvd * s->blksize);
	if (s->state == SESS_DONE)
		assert(s->deadline_ms == 0 &&
		    (tx->flags == 0 || tx->flags == SESS_TX_ERROR));
	if (tx->flags & SESS_TX_WRITE) {
		assert(s->rcvd == b->rcvd + 1);
		assert(tx->wr_off == b->rx_bytes);
		assert(tx->wr_len >= 1 && tx->wr_len <= s->blksize);
		assert(tx->wr_off + tx->wr_len == s->rx_bytes);
	} else {
		assert(s->rx_bytes == b->rx_bytes);
	}
	if (tx->flags & SESS_TX_COMMIT)
		assert(s->state == SESS_DALLY && s->result == SESS_RES_OK &&
		    b->state == SESS_RECEIVING);
	if (tx->flags & SESS_TX_ACK)
		assert(tx->ack_block == s->rcvd);
	/* no amplification: one packet at most for one event */
	assert(s->tx_pkts <= b->tx_pkts + 1);
	assert(s->tries <= s->retries || s->tries <= s->first_retries);
}

/* One event: kind, time step, 16-bit value. */
static void
run_event(struct sess *s, struct cursor *c, uint64_t *now,
    struct sess_tx *tx)
{
	static const uint8_t bytes[TFTP_BLKSIZE_MAX];
	unsigned kind = (unsigned)take(c, 1);
	uint16_t v = (uint16_t)take(c, 2);
	struct tftp_msg m;

	memset(&m, 0, sizeof(m));
	*now += (kind >> 3) * 97u;
	switch (kind % 7) {
	case 0:		/* raw wire ACK, or DATA for a write */
		m.op = s->op == TFTP_WRQ ? TFTP_DATA : TFTP_ACK;
		m.u.ack.block = v;
		if (m.op == TFTP_DATA) {
			m.u.data.block = v;
			m.u.data.data = bytes;
			m.u.data.len = v % 3 == 0 ? v % (s->blksize + 2) :
			    s->blksize;
		}
		break;
	case 1:		/* near the window, to make progress likely */
		if (s->op == TFTP_WRQ) {
			m.op = TFTP_DATA;
			m.u.data.block = (uint16_t)(s->rcvd + v %
			    (s->windowsize + 3) - 1);
			m.u.data.data = bytes;
			/* mostly full blocks; sometimes the last one */
			m.u.data.len = (v >> 8) % 16 == 0 ?
			    (v >> 12) % (s->blksize + 1) : s->blksize;
			break;
		}
		m.op = TFTP_ACK;
		m.u.ack.block = (uint16_t)(s->acked + v % (s->windowsize + 2));
		break;
	case 2:
		m.op = TFTP_ERROR;
		m.u.error.code = v % 10;
		m.u.error.msg = "";
		break;
	case 3:
		m.op = (enum tftp_op)(1 + v % 6);
		break;
	case 4:		/* the server gives up (I/O error) */
		memset(tx, 0, sizeof(*tx));
		if (s->state != SESS_DONE)
			sess_fail(s, v % 8);
		return;
	default:	/* the deadline fires */
		if (s->deadline_ms > *now)
			*now = s->deadline_ms;
		sess_timeout(s, *now, tx);
		return;
	}
	sess_input(s, &m, *now, tx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct cursor c = { data, len };
	struct tftp_req r;
	struct sess_limits l;
	struct sess s, before;
	struct sess_tx tx;
	uint64_t size, now = 1000, early;

	if (build_request(&c, &r, &l, &size)) {
		/* size is the cap; the announced tsize is near it */
		r.opts.tsize = size + take(&c, 1) % 3 - 1;
		if (sess_start_write(&s, &r, size, &l, now, &tx) != 0) {
			assert((r.opts.set & TFTP_OPT_TSIZE) &&
			    r.opts.tsize > size && tx.flags == 0 &&
			    s.state == SESS_DONE);
			return 0;
		}
		assert(tx.flags == SESS_TX_OACK || tx.flags == SESS_TX_ACK);
	} else {
		assert(sess_start_read(&s, &r, size, &l, now, &tx) == 0);
		assert(s.nblocks == size / s.blksize + 1);
	}
	assert((s.oack.set & ~r.opts.set) == 0);
	early = tx.flags != 0;
	if (s.op == TFTP_RRQ)
		check_read(&s, &tx);
	while (c.left > 0) {
		before = s;
		run_event(&s, &c, &now, &tx);
		if (s.op == TFTP_RRQ)
			check_read(&s, &tx);
		else
			check_write(&before, &s, &tx);
		assert(s.tx_pkts >= before.tx_pkts);
		if (before.state == SESS_DONE)
			assert(memcmp(&before.result, &s.result,
			    sizeof(s.result)) == 0 && s.tx_pkts == before.tx_pkts);
		/* A write refused at DATA 1 ends with one ERROR: not a
		 * retransmission, and the session is over. */
		if (!s.progressed && s.state != SESS_DONE) {
			early += tx.flags != 0;
			assert(early <= (uint64_t)l.first_retries + 1);
			/* no RTT before an answer: nothing sooner either */
			assert(s.n_fast == 0 && sess_rto_ms(&s) == 0);
		}
		/* the adaptive timer never outlasts the fixed schedule,
		 * which alone gives up */
		if (s.state != SESS_DONE && s.state != SESS_DALLY &&
		    sess_rto_ms(&s) != 0)
			assert(s.deadline_ms <= s.legacy_ms);
	}
	return 0;
}
