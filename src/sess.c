/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sess.c - one transfer, read (RRQ) or write (WRQ), sans I/O.
 *
 * Owns: option negotiation for one request (RFC 2347/2348/2349/7440), the
 * send window (read) and the receive window (write), the mapping of 16-bit
 * wire block numbers to absolute uint64 block numbers (rollover 65535 ->
 * 0), retransmission with exponential back-off, the adaptive timeout
 * (RTT estimate from replies to packets sent once, RTO as in RFC 6298),
 * the give-up rule, the upload size cap, and the figures for the
 * transfer log line.
 * Does not own: sockets, the clock, file bodies, upload files and their
 * netascii decoding (fs.c: the session hands out wire bytes and offsets in
 * the wire stream), encoding packets (the caller encodes s->oack, DATA
 * headers, ACKs and ERRORs with tftp.c), logging, stats.
 * Pure: no syscalls, no clock, no allocation, no globals, and no calls into
 * tftp.c (only its types and constants), so check_sess links sess.o alone.
 * Its size (about 1,000 lines) is two state machines, read and write, that
 * share the negotiation, the block numbering and the retransmission timer
 * sketched below.
 *
 * Read transition sketch (every input also counts in n_rx):
 *
 *   IDLE --start, option granted--> OACK_SENT     tx OACK
 *   IDLE --start, no option-------> SENDING       tx DATA 1
 *
 *   OACK_SENT --ACK 0------------> SENDING        tx first window
 *   OACK_SENT --ACK other--------> OACK_SENT      ignored
 *   OACK_SENT --ERROR 0/8--------> DONE/PROBE     size probe, normal close
 *   OACK_SENT --ERROR other------> DONE/ABORTED
 *   OACK_SENT --timeout, tries<n-> OACK_SENT      tx OACK again
 *
 *   SENDING --ACK in (acked,sent]--> SENDING      tx next window (short
 *                                 |               of sent: a gap, resent
 *                                 |               at once from ACK + 1)
 *                                 \-> DONE/OK     when acked == nblocks
 *   SENDING --ACK <= acked-------> SENDING        dup: window 1 nothing,
 *                                                 window > 1 resend once
 *   SENDING --ACK never sent-----> SENDING        ignored
 *   SENDING --ERROR any----------> DONE/ABORTED
 *   SENDING --timeout, tries<n---> SENDING        tx acked+1..sent again
 *
 *   OACK_SENT, SENDING --timeout, tries>=n--> DONE/TIMEOUT
 *
 * Write transition sketch; "next" is DATA rcvd+1 by its wire number, a
 * "full" block carries blksize bytes and a short one ends the upload:
 *
 *   IDLE --start, tsize > max_bytes--> DONE/ERROR  nothing sent; the
 *                                                  caller answers ERROR 3
 *   IDLE --start, option granted-----> RECEIVING   tx OACK (DATA 1 is
 *                                                  its acknowledgement)
 *   IDLE --start, no option----------> RECEIVING   tx ACK 0
 *
 *   RECEIVING --next, full----------> RECEIVING    tx WRITE, + ACK when
 *                                                  it ends a window
 *   RECEIVING --next, short---------> DALLY/OK     tx WRITE (if not
 *                                                  empty) + COMMIT + ACK
 *   RECEIVING --next, past the cap--> DONE/ERROR   tx ERROR 3
 *   RECEIVING --next, > blksize-----> DONE/ERROR   tx ERROR 4
 *   RECEIVING --DATA rcvd, ACKed----> RECEIVING    tx ACK rcvd again
 *   RECEIVING --older DATA----------> RECEIVING    counted, ignored
 *   RECEIVING --DATA past next,
 *               inside the window---> RECEIVING    tx ACK rcvd, once a gap
 *   RECEIVING --ERROR any-----------> DONE/ABORTED caller discards
 *   RECEIVING --timeout, tries<n----> RECEIVING    tx OACK again (nothing
 *                                                  received) or ACK rcvd
 *   RECEIVING --timeout, tries>=n---> DONE/TIMEOUT caller discards
 *
 *   DALLY --DATA rcvd again---------> DALLY        tx ACK rcvd again
 *   DALLY --ERROR, timeout----------> DONE/OK      the file is final
 *
 *   any --sess_fail--> DONE/ERROR  (also: a failed upload write or commit)
 *   DONE: terminal, every input ignored.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sess.h"
#include "tftp.h"

#define WIRE_MASK	0xffffu
#define WIRE_HALF	0x8000u

/*
 * Retransmit interval after `tries` back-offs: timeout << tries, capped.
 * Until the client has answered anything, the configured schedule holds
 * whatever timeout it asked for: a spoofed request costs the same
 * bounded resends either way (amplification, slot exhaustion).
 */
static uint64_t
sess_interval(const struct sess *s)
{
	uint64_t base = s->progressed ? s->timeout_ms : s->timeout_cfg_ms;
	uint64_t cap = s->timeout_max_ms > base ? s->timeout_max_ms : base;

	/* base < 2^32, so a shift below 32 cannot overflow 64 bits. */
	if (base == 0)
		return 0;
	if (s->tries >= 32)
		return cap;
	base <<= s->tries;
	return base < cap ? base : cap;
}

/*
 * Adaptive RTO, RFC 6298 2.2-2.4: SRTT + 4 RTTVAR, at least rto_min_ms
 * and at most timeout_ms (the configured timeout or the one the client
 * asked for: a client never waits longer than it asked). The floor bounds
 * the variance term, as Linux TCP does with its rto_min: RTO = SRTT +
 * max(4 RTTVAR, rto_min_ms). A steady RTT makes RTTVAR tend to 0, and a
 * client that always answers in 100 ms would then get an RTO a few ms
 * above it, which any scheduling hiccup of a loaded host or client (or a
 * boot ROM writing flash) turns into spurious resends; the floor is the
 * margin over the smoothed RTT instead. And it is never below twice the
 * SRTT (RFC 793's beta of 2): a client slow on purpose or by design
 * (ACKs held 100 ms, a busy ROM) is late by a share of its own delay.
 * On a LAN that term is nothing. 0: no sample yet, adaptation off
 * (rto_min_ms 0), or the peer never answered: the fixed schedule rules.
 */
uint32_t
sess_rto_ms(const struct sess *s)
{
	uint64_t rto, var, srtt = s->srtt8 >> 3;

	if (s->rto_min_ms == 0 || s->rtt_n == 0 || !s->progressed)
		return 0;
	var = s->rttvar4 > s->rto_min_ms ? s->rttvar4 : s->rto_min_ms;
	if (var < srtt)
		var = srtt;
	rto = srtt + var;
	if (rto > s->timeout_ms)
		rto = s->timeout_ms;
	return (uint32_t)rto;
}

int64_t
sess_srtt8(const struct sess *s)
{
	return s->rtt_n == 0 ? -1 : (int64_t)s->srtt8;
}

/*
 * One RTT sample r ms (RFC 6298 2.2, 2.3; fixed point as in Jacobson's
 * "Congestion Avoidance and Control": srtt8 = 8 SRTT, rttvar4 = 4 RTTVAR).
 */
static void
sess_rtt_sample(struct sess *s, uint64_t r)
{
	int64_t m;

	if (r > 600000)
		r = 600000;	/* keeps the fixed point far from overflow */
	if (s->rtt_n++ == 0) {
		s->srtt8 = (uint32_t)(r << 3);
		s->rttvar4 = (uint32_t)(r << 1);
		return;
	}
	m = (int64_t)r - (int64_t)(s->srtt8 >> 3);
	s->srtt8 = (uint32_t)((int64_t)s->srtt8 + m);
	if (m < 0)
		m = -m;
	m -= (int64_t)(s->rttvar4 >> 2);
	s->rttvar4 = (uint32_t)((int64_t)s->rttvar4 + m);
}

/* The packets from `lo` up leave now for the first time (Karn). */
static void
sess_rtt_mark(struct sess *s, uint64_t lo, uint64_t now)
{
	s->rtt_armed = true;
	s->rtt_lo = lo;
	s->rtt_ts_ms = now;
}

/* A reply to packet `blk`: sample if it was sent once, then disarm. */
static void
sess_rtt_reply(struct sess *s, uint64_t blk, uint64_t now)
{
	if (s->rtt_armed && blk >= s->rtt_lo && now >= s->rtt_ts_ms)
		sess_rtt_sample(s, now - s->rtt_ts_ms);
	s->rtt_armed = false;
}

/* The adaptive interval after `backoff` doublings, never past `lim`. */
static uint64_t
sess_rto_backed(const struct sess *s, uint64_t lim)
{
	uint64_t rto = sess_rto_ms(s);

	if (s->backoff >= 32 || (rto << s->backoff) > lim)
		return lim;
	return rto << s->backoff;
}

/*
 * Arm both clocks from now: the fixed schedule, which alone counts tries
 * toward giving up (what a never-answering or spoofed peer gets is
 * unchanged), and, once there is an RTT sample, the adaptive RTO, which
 * resends sooner while the fixed expiry is still ahead.
 */
static void
sess_arm(struct sess *s, uint64_t now)
{
	uint64_t fixed = sess_interval(s);

	s->legacy_ms = now + fixed;
	s->deadline_ms = s->legacy_ms;
	if (sess_rto_ms(s) != 0)
		s->deadline_ms = now + sess_rto_backed(s, fixed);
}

static void
sess_finish(struct sess *s, enum sess_result r)
{
	s->state = SESS_DONE;
	s->result = r;
	s->deadline_ms = 0;
}

/* DATA payload bytes of blocks first..first+count-1 (count >= 1). O(1). */
static uint64_t
sess_span_bytes(const struct sess *s, uint64_t first, uint32_t count)
{
	uint64_t off;
	uint32_t len;

	/* Every block but the last one of the body is full. */
	sess_block_span(s, first + count - 1, &off, &len);
	return (uint64_t)(count - 1) * s->blksize + len;
}

/* Fill tx with DATA first..first+count-1 and account for it. */
static void
sess_emit_data(struct sess *s, uint64_t first, uint32_t count, bool rexmit,
    struct sess_tx *tx)
{
	tx->flags = SESS_TX_DATA;
	tx->blk_first = first;
	tx->blk_count = count;
	tx->rexmit = rexmit;
	if (first + count - 1 > s->sent)
		s->sent = first + count - 1;
	s->tx_pkts += count;
	s->tx_bytes += sess_span_bytes(s, first, count);
	if (rexmit)
		s->n_rexmit += count;
}

static void
sess_emit_oack(struct sess *s, bool rexmit, uint64_t now, struct sess_tx *tx)
{
	tx->flags = SESS_TX_OACK;
	tx->rexmit = rexmit;
	s->tx_pkts++;
	if (rexmit) {
		s->n_rexmit++;
		s->rtt_armed = false;
	} else {
		sess_rtt_mark(s, 0, now);
	}
}

/*
 * Send the window that starts right after the highest ACKed block. After
 * a partial ACK its first blocks were in flight already: they count as
 * retransmissions, and only the blocks past the old `sent` can give an
 * RTT sample.
 */
static void
sess_send_window(struct sess *s, uint64_t now, struct sess_tx *tx)
{
	uint64_t left = s->nblocks - s->acked;
	uint32_t count = left < s->windowsize ? (uint32_t)left : s->windowsize;
	uint64_t old = s->sent;

	sess_emit_data(s, s->acked + 1, count, false, tx);
	if (old > s->acked)
		s->n_rexmit += (uint32_t)(old - s->acked);
	if (s->sent > old)
		sess_rtt_mark(s, old + 1, now);
	else
		s->rtt_armed = false;
	sess_arm(s, now);
}

/*
 * Negotiate the options the client asked for, each once, into s->oack.
 * Values outside the RFC ranges cannot come from tftp_decode(); should a
 * caller hand one in anyway, that option is treated as not asked for.
 */
static void
sess_negotiate(struct sess *s, const struct tftp_opts *ask,
    const struct sess_limits *lim)
{
	uint32_t v;

	if ((ask->set & TFTP_OPT_BLKSIZE) && ask->blksize >= TFTP_BLKSIZE_MIN) {
		v = ask->blksize < lim->blksize_max ?
		    ask->blksize : lim->blksize_max;
		if (v > TFTP_BLKSIZE_MAX)
			v = TFTP_BLKSIZE_MAX;
		if (v < TFTP_BLKSIZE_MIN)
			v = TFTP_BLKSIZE_MIN;
		s->oack.set |= TFTP_OPT_BLKSIZE;
		s->oack.blksize = s->blksize = v;
	}
	if ((ask->set & TFTP_OPT_TIMEOUT) &&
	    ask->timeout_s >= TFTP_TIMEOUT_MIN_S &&
	    ask->timeout_s <= TFTP_TIMEOUT_MAX_S) {
		/*
		 * U-Boot always sends "timeout 5": honour it as asked, once
		 * the client has answered (see sess_interval: a spoofed
		 * "timeout 255" must not hold a slot for 17 minutes).
		 */
		s->oack.set |= TFTP_OPT_TIMEOUT;
		s->oack.timeout_s = ask->timeout_s;
		s->timeout_ms = ask->timeout_s * 1000u;
	}
	if (ask->set & TFTP_OPT_TSIZE) {
		/*
		 * RRQ carries tsize 0; the answer is the body size. A WRQ
		 * announces the upload size, already in s->size: echo it.
		 */
		s->oack.set |= TFTP_OPT_TSIZE;
		s->oack.tsize = s->size;
	}
	if ((ask->set & TFTP_OPT_WINDOWSIZE) && ask->windowsize >= 1) {
		v = ask->windowsize < lim->windowsize_max ?
		    ask->windowsize : lim->windowsize_max;
		s->oack.set |= TFTP_OPT_WINDOWSIZE;
		s->oack.windowsize = s->windowsize = v >= 1 ? v : 1;
	}
}

/* Common start of both directions: defaults before negotiation. */
static void
sess_setup(struct sess *s, enum tftp_op op, const struct tftp_req *req,
    const struct sess_limits *lim, uint64_t now, struct sess_tx *tx)
{
	memset(s, 0, sizeof(*s));
	memset(tx, 0, sizeof(*tx));
	s->op = op;
	s->timeout_ms = lim->timeout_ms;
	s->timeout_cfg_ms = lim->timeout_ms;
	s->timeout_max_ms = lim->timeout_max_ms;
	s->retries = lim->retries;
	s->first_retries = lim->first_retries;
	s->rto_min_ms = lim->rto_min_ms;
	s->mode = req->mode;
	s->blksize = TFTP_BLKSIZE_DEFAULT;
	s->windowsize = 1;
	s->start_ms = now;
}

/* A transfer waiting for its content; see sess.h. O(1). */
void
sess_pend(struct sess *s, enum tftp_op op, enum tftp_mode mode, uint64_t now,
    uint64_t deadline_ms)
{
	memset(s, 0, sizeof(*s));
	s->op = op;
	s->mode = mode;
	s->blksize = TFTP_BLKSIZE_DEFAULT;
	s->windowsize = 1;
	s->start_ms = now;
	s->deadline_ms = deadline_ms;
}

/*
 * Start a read transfer; see sess.h. Always returns 0: the body is already
 * open and every request can be served with some option set. The session
 * keeps no pointer into req or lim. O(1).
 */
int
sess_start_read(struct sess *s, const struct tftp_req *req, uint64_t size,
    const struct sess_limits *lim, uint64_t now, struct sess_tx *tx)
{
	sess_setup(s, TFTP_RRQ, req, lim, now, tx);
	s->size = size;

	/*
	 * Echo only what the client asked for: EDK2 and pxelinux reject an
	 * OACK carrying an option they did not request.
	 */
	sess_negotiate(s, &req->opts, lim);
	s->nblocks = size / s->blksize + 1;
	sess_arm(s, now);

	if (s->oack.set != 0) {
		/*
		 * GRUB waits for the OACK: answering DATA 1 to a request with
		 * options would make it time out.
		 */
		s->state = SESS_OACK_SENT;
		sess_emit_oack(s, false, now, tx);
	} else {
		/* RFC 1350; U-Boot needs the first DATA to be block 1. */
		s->state = SESS_SENDING;
		sess_emit_data(s, 1, 1, false, tx);
		sess_rtt_mark(s, 1, now);
	}
	return 0;
}

/*
 * Classify a 16-bit ACK number against (acked, sent]. Returns the absolute
 * block for progress, or 0 with *dup set for a duplicate of acked or an
 * older block, or 0 with *dup clear for a block never sent. The window is
 * at most 65535 blocks, so the block in (acked, sent] is unique. Outside
 * it the circle is split in halves (serial number arithmetic, RFC 1982):
 * up to 32767 behind acked is old, the rest was never sent.
 */
static uint64_t
sess_map_ack(const struct sess *s, uint16_t wire, bool *dup)
{
	uint32_t ahead = (wire - (uint32_t)(s->acked & WIRE_MASK)) & WIRE_MASK;
	uint32_t behind = (WIRE_MASK + 1 - ahead) & WIRE_MASK;

	*dup = false;
	if (ahead != 0 && ahead <= s->sent - s->acked)
		return s->acked + ahead;
	if (ahead == 0 || (behind < WIRE_HALF && behind <= s->acked))
		*dup = true;
	return 0;
}

/*
 * The timer resends a range ending at block `last`: a client that had it
 * already (the timeout was spurious, or only our ACK was lost) may answer
 * that copy with ACK `last` again, an echo (RFC 1350 clients re-ACK a
 * duplicate DATA). Expect one echo per copy. A resend for a duplicate
 * ACK expects none: the client asked for those blocks, it lacked them.
 */
static void
sess_expect_echo(struct sess *s, uint64_t last)
{
	if (s->echo_blk != last) {
		s->echo_blk = last;
		s->echo_n = 0;
	}
	s->echo_n++;
}

/* `exact`: the ACK repeats `acked` itself (not an older block). */
static void
sess_on_dup_ack(struct sess *s, bool exact, uint64_t now,
    struct sess_tx *tx)
{
	s->n_dup_ack++;
	/*
	 * Lock-step (window 1): never answer a duplicate ACK, or every
	 * delayed ACK doubles the traffic for the rest of the transfer
	 * (Sorcerer's Apprentice, RFC 1123 4.2.3.1); the timer resends.
	 * Windowed clients (atftp, EDK2) repeat the last in-order ACK when
	 * the first block of a window is lost: resend the window, but only
	 * once until the transfer moves again.
	 *
	 * Only a repeat of ACK `acked` itself can mean that: an older ACK is
	 * a late copy. And an echo of our own resend (sess_expect_echo)
	 * means nothing: resending the next window on it makes the client
	 * see that window twice and echo again, and so on for every later
	 * window -- the Apprentice in windowed form, which a single
	 * spurious timeout would start. The expected echoes are swallowed.
	 */
	if (!exact)
		return;
	if (s->echo_n > 0 && s->echo_blk == s->acked) {
		/*
		 * The echo also proves the timeout spurious: the ACK we took
		 * as progress answered the first copy. Take its RTT after
		 * all (the Eifel response, RFC 4015), so a host that stalls
		 * gets a longer RTO instead of the same spurious resends.
		 */
		s->echo_n--;
		if (s->late_rtt_ms != 0)
			sess_rtt_sample(s, s->late_rtt_ms);
		s->late_rtt_ms = 0;
		return;
	}
	if (s->windowsize <= 1 || s->dup_rexmit || s->sent <= s->acked)
		return;
	s->dup_rexmit = true;
	s->n_gap++;
	s->rtt_armed = false;
	sess_emit_data(s, s->acked + 1, (uint32_t)(s->sent - s->acked), true,
	    tx);
	sess_arm(s, now);
}

static void
sess_on_ack_sending(struct sess *s, uint16_t wire, uint64_t now,
    struct sess_tx *tx)
{
	bool dup, partial;
	uint64_t blk = sess_map_ack(s, wire, &dup);

	if (blk == 0) {
		if (dup)
			sess_on_dup_ack(s, wire == (s->acked & WIRE_MASK), now,
			    tx);
		return;		/* an ACK for a block never sent */
	}
	/*
	 * An ACK short of the last block sent is RFC 7440 gap recovery: the
	 * client ACKs the last block it got in order and we go on right
	 * after it, resending what was in flight. That resend already
	 * answers the duplicate ACKs the client sends for the rest of the
	 * lost window, so they must not trigger another one (each gap would
	 * otherwise send the window twice, and overlapping resends keep
	 * doubling the traffic).
	 */
	partial = blk < s->sent;
	/*
	 * Karn: only the ACK of the last block of a burst sent once is a
	 * sample; a partial ACK was sent on a later block's arrival.
	 */
	s->late_rtt_ms = 0;
	if (!partial && !s->rtt_armed && s->echo_n > 0 &&
	    s->echo_blk == blk && now > s->rtt_ts_ms)
		s->late_rtt_ms = now - s->rtt_ts_ms;	/* if it was spurious */
	sess_rtt_reply(s, partial ? 0 : blk, now);
	if (partial)
		s->n_gap++;
	s->acked = blk;
	s->tries = 0;
	s->backoff = 0;
	s->dup_rexmit = partial;
	s->progressed = true;
	if (s->acked == s->nblocks) {
		sess_finish(s, SESS_RES_OK);
		return;
	}
	sess_send_window(s, now, tx);
}

/*
 * Fill tx with ACK blk (absolute; 0: ACK 0) and account for it. An ACK
 * sent once is answered by DATA blk + 1: an RTT sample (Karn).
 */
static void
sess_emit_ack(struct sess *s, uint64_t blk, bool rexmit, uint64_t now,
    struct sess_tx *tx)
{
	tx->flags |= SESS_TX_ACK;
	tx->ack_block = blk;
	tx->rexmit = rexmit;
	s->ack_sent = blk;
	s->tx_pkts++;
	if (rexmit) {
		s->n_rexmit++;
		s->rtt_armed = false;
	} else {
		sess_rtt_mark(s, blk, now);
	}
}

/* End a write with an ERROR we send; the caller discards the upload. */
static void
sess_emit_error(struct sess *s, uint16_t code, const char *msg,
    struct sess_tx *tx)
{
	tx->flags = SESS_TX_ERROR;
	tx->err_code = code;
	tx->err_msg = msg;
	s->err_code = code;
	s->tx_pkts++;
	sess_finish(s, SESS_RES_ERROR);
}

/*
 * Start a write transfer; see sess.h. The session keeps no pointer into
 * req or lim. O(1).
 */
int
sess_start_write(struct sess *s, const struct tftp_req *req,
    uint64_t max_bytes, const struct sess_limits *lim, uint64_t now,
    struct sess_tx *tx)
{
	sess_setup(s, TFTP_WRQ, req, lim, now, tx);
	s->max_bytes = max_bytes;
	if (req->opts.set & TFTP_OPT_TSIZE) {
		/*
		 * RFC 2349: a WRQ's tsize is the size the client will send.
		 * Refuse one that cannot fit before anything is
		 * acknowledged: an ERROR 3 now, not a half upload later.
		 */
		if (req->opts.tsize > max_bytes) {
			s->err_code = TFTP_ENOSPACE;
			sess_finish(s, SESS_RES_ERROR);
			return TFTP_ENOSPACE;
		}
		s->size = req->opts.tsize;
		/* Checked at the end in octet mode only: a netascii client
		 * may announce its local size, not the converted one. */
		if (req->mode == TFTP_MODE_OCTET)
			s->tsize_wrq = req->opts.tsize;
	}
	/* Only what the client asked for, as on the read side. */
	sess_negotiate(s, &req->opts, lim);
	s->state = SESS_RECEIVING;
	sess_arm(s, now);
	if (s->oack.set != 0) {
		/* RFC 2347: the client answers a WRQ's OACK with DATA 1. */
		sess_emit_oack(s, false, now, tx);
	} else {
		/* RFC 1350: ACK 0 invites DATA 1. */
		sess_emit_ack(s, 0, false, now, tx);
	}
	return 0;
}

/* How a DATA block number relates to what was received in order. */
enum sess_data_kind {
	SESS_DATA_NEXT,		/* rcvd + 1: take it */
	SESS_DATA_DUP,		/* rcvd or older: already written */
	SESS_DATA_GAP,		/* past next, inside the window */
	SESS_DATA_STRAY,	/* nothing a correct sender sends now */
};

/*
 * Classify wire block number `wire` against rcvd. *behind gets how far
 * behind rcvd a duplicate is (0: rcvd itself). Same serial arithmetic as
 * sess_map_ack: up to 32767 behind is old (if that block exists), and a
 * block ahead is a gap only within one window of next.
 */
static enum sess_data_kind
sess_map_data(const struct sess *s, uint16_t wire, uint32_t *behind)
{
	uint32_t ahead = (wire - (uint32_t)(s->rcvd & WIRE_MASK)) & WIRE_MASK;

	*behind = (WIRE_MASK + 1 - ahead) & WIRE_MASK;
	if (ahead == 1)
		return SESS_DATA_NEXT;
	if (*behind < WIRE_HALF && *behind < s->rcvd)
		return SESS_DATA_DUP;
	if (ahead < WIRE_HALF && ahead <= s->windowsize)
		return SESS_DATA_GAP;
	return SESS_DATA_STRAY;
}

/*
 * A DATA already written: never hand it out again. The sender resends the
 * block we ACKed last only when it missed that ACK, so that block gets the
 * same ACK again, one per copy: one per round of the sender's timer, as
 * RFC 1350 wants. Older copies (the first blocks of a resent window, or
 * duplicates made by the network) and a copy of a block inside a window
 * not yet ACKed get nothing: a windowed sender that resends its window on
 * a duplicate ACK could otherwise multiply the traffic at every round
 * (the Sorcerer's Apprentice of RFC 1123 4.2.3.1, seen from the receiver).
 */
static void
sess_on_dup_data(struct sess *s, uint32_t behind, uint64_t now,
    struct sess_tx *tx)
{
	s->n_dup_data++;
	if (behind == 0 && s->ack_sent == s->rcvd)
		sess_emit_ack(s, s->rcvd, true, now, tx);
}

/* The next block in order, len bytes at data: write, ACK, maybe commit. */
static void
sess_take_block(struct sess *s, const uint8_t *data, size_t len,
    uint64_t now, struct sess_tx *tx)
{
	/* Every block before this one was full: it starts at rx_bytes. */
	uint64_t off = s->rx_bytes;

	if (len > s->blksize) {
		/*
		 * A client that ignored the blksize in our OACK: its blocks
		 * cannot be placed (offsets are block * blksize), and a
		 * short one would be taken for the last.
		 */
		sess_emit_error(s, TFTP_EBADOP, "Block larger than blksize",
		    tx);
		return;
	}
	if (len > s->max_bytes - off) {
		/* rx_bytes <= max_bytes always holds, so no wrap above. */
		sess_emit_error(s, TFTP_ENOSPACE,
		    "Disk full or allocation exceeded", tx);
		return;
	}
	if (len < s->blksize && s->tsize_wrq != 0 &&
	    off + len != s->tsize_wrq) {
		/*
		 * The last block, but the upload is not the size the WRQ
		 * announced (RFC 2349): a client that lost its place (a
		 * short block resent where a full one was lost) would
		 * otherwise publish a truncated file as complete. Refuse it,
		 * nothing taken: the caller discards the partial file.
		 */
		sess_emit_error(s, TFTP_EUNDEF, "Size differs from tsize", tx);
		return;
	}
	/* The DATA that answers our last ACK (rcvd) is an RTT sample. */
	if (s->rtt_armed && s->rtt_lo == s->rcvd)
		sess_rtt_reply(s, s->rcvd, now);
	s->rcvd++;
	s->rx_bytes += len;
	s->tries = 0;
	s->backoff = 0;
	s->gap_acked = false;
	s->progressed = true;
	if (len > 0) {
		/* An empty last block has nothing to write. */
		tx->flags |= SESS_TX_WRITE;
		tx->wr_off = off;
		tx->wr_data = data;
		tx->wr_len = (uint32_t)len;
	}
	if (len < s->blksize) {
		/*
		 * The last block. The caller writes, makes the file final,
		 * and only then sends the ACK: a client that saw its last
		 * block ACKed may delete its copy (crash dumps), so the ACK
		 * must mean "stored". OK now; sess_fail() overrides it if
		 * the commit fails. Then dally one interval: RFC 1350 says
		 * the final ACK may be lost, and the client then resends the
		 * last DATA, which must get the ACK again, not silence.
		 */
		tx->flags |= SESS_TX_COMMIT;
		sess_emit_ack(s, s->rcvd, false, now, tx);
		s->state = SESS_DALLY;
		s->result = SESS_RES_OK;
		s->deadline_ms = now + s->timeout_ms;
		return;
	}
	/*
	 * RFC 7440: ACK the last block of each window. The sender starts a
	 * window after every ACK it gets, so count from our last ACK.
	 */
	if (s->rcvd - s->ack_sent >= s->windowsize)
		sess_emit_ack(s, s->rcvd, false, now, tx);
	sess_arm(s, now);
}

static void
sess_on_data(struct sess *s, const struct tftp_msg *m, uint64_t now,
    struct sess_tx *tx)
{
	uint32_t behind;

	switch (sess_map_data(s, m->u.data.block, &behind)) {
	case SESS_DATA_NEXT:
		sess_take_block(s, m->u.data.data, m->u.data.len, now, tx);
		break;
	case SESS_DATA_DUP:
		sess_on_dup_data(s, behind, now, tx);
		break;
	case SESS_DATA_GAP:
		/*
		 * RFC 7440: a block of the window was lost. ACK the last one
		 * in order so the sender goes on right after it, once until
		 * a block arrives in order (the rest of the window is past
		 * the gap too). Before the first block our timer resends
		 * the OACK instead, which also bounds what a WRQ from a
		 * spoofed address makes us send to first_retries + 1.
		 */
		if (s->rcvd > 0 && !s->gap_acked) {
			s->gap_acked = true;
			s->n_gap++;
			sess_emit_ack(s, s->rcvd, false, now, tx);
		}
		break;
	case SESS_DATA_STRAY:
		break;
	}
}

/* Write side of sess_input: RECEIVING and DALLY. */
static void
sess_input_write(struct sess *s, const struct tftp_msg *m, uint64_t now,
    struct sess_tx *tx)
{
	uint32_t behind;

	if (m->op == TFTP_ERROR) {
		s->err_code = m->u.error.code;
		/*
		 * Before the end the client gave up (or refused our OACK
		 * with ERROR 8): the caller discards the partial file. In
		 * DALLY the file is already final: the result stays OK.
		 */
		sess_finish(s, s->state == SESS_DALLY ? SESS_RES_OK :
		    SESS_RES_ABORTED);
		return;
	}
	if (m->op != TFTP_DATA)
		return;		/* ACK, OACK, RRQ, WRQ: ignored */
	if (s->state == SESS_RECEIVING) {
		sess_on_data(s, m, now, tx);
	} else if (sess_map_data(s, m->u.data.block, &behind) ==
	    SESS_DATA_DUP) {
		/* DALLY: the client missed the final ACK and resends. */
		sess_on_dup_data(s, behind, now, tx);
	}
}

/*
 * Feed one packet from the peer; see sess.h. Fills *tx (flags 0: nothing
 * to send). The session keeps no pointer into m; tx->wr_data does, so the
 * caller writes it before reusing m's buffer. O(1) plus the window.
 */
void
sess_input(struct sess *s, const struct tftp_msg *m, uint64_t now,
    struct sess_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
	s->n_rx++;

	switch (s->state) {
	case SESS_OACK_SENT:
		if (m->op == TFTP_ACK && m->u.ack.block == 0) {
			sess_rtt_reply(s, 0, now);
			s->progressed = true;
			s->tries = 0;
			s->backoff = 0;
			s->state = SESS_SENDING;
			sess_send_window(s, now, tx);
		} else if (m->op == TFTP_ERROR) {
			s->err_code = m->u.error.code;
			/*
			 * UEFI/PXE ROMs (ERROR 8) and pxelinux (ERROR 0) read
			 * the tsize from the OACK and close: a size probe, a
			 * normal end and not a failure.
			 */
			if (m->u.error.code == TFTP_EUNDEF ||
			    m->u.error.code == TFTP_EOPTNEG)
				sess_finish(s, SESS_RES_PROBE);
			else
				sess_finish(s, SESS_RES_ABORTED);
		}
		break;
	case SESS_SENDING:
		if (m->op == TFTP_ACK) {
			sess_on_ack_sending(s, m->u.ack.block, now, tx);
		} else if (m->op == TFTP_ERROR) {
			/* GRUB and pxelinux send ERROR 0 to close early. */
			s->err_code = m->u.error.code;
			sess_finish(s, SESS_RES_ABORTED);
		}
		break;
	case SESS_RECEIVING:
	case SESS_DALLY:
		sess_input_write(s, m, now, tx);
		break;
	case SESS_IDLE:
	case SESS_DONE:
		break;
	}
	/* Read side: DATA, RRQ, WRQ and OACK from the peer are ignored. */
}

/*
 * The deadline passed; see sess.h. Retransmits what is outstanding with
 * the interval doubled, or gives up. Fills *tx. O(1).
 *
 * Two clocks: the adaptive RTO (once there is an RTT sample) resends
 * early and doubles at each expiry up to the fixed schedule's interval;
 * the fixed schedule's expiry (legacy_ms) alone counts a try, so the
 * give-up rule and the time a silent peer is given are unchanged. A peer
 * that stops answering mid-transfer gets at most log2(timeout / rto)
 * early resends more than before; a peer that never answered (a spoofed
 * request) has no sample and gets exactly the fixed schedule.
 */
void
sess_timeout(struct sess *s, uint64_t now, struct sess_tx *tx)
{
	/*
	 * Before the first ACK (read) or DATA (write) the peer may be a
	 * spoofed address: cap what one request can make us send at
	 * first_retries + 1 packets.
	 */
	uint32_t limit = s->progressed ? s->retries : s->first_retries;

	memset(tx, 0, sizeof(*tx));
	if (s->state == SESS_DALLY) {
		/* Nobody resent the last DATA: the upload is done. */
		sess_finish(s, s->result);
		return;
	}
	if (s->state != SESS_OACK_SENT && s->state != SESS_SENDING &&
	    s->state != SESS_RECEIVING)
		return;
	if (sess_rto_ms(s) != 0 && now < s->legacy_ms) {
		/* The adaptive RTO expired first: resend, no try counted. */
		s->backoff++;
		s->n_fast++;
		s->deadline_ms = now + sess_rto_backed(s, s->legacy_ms - now);
	} else {
		if (s->tries >= limit) {
			sess_finish(s, SESS_RES_TIMEOUT);
			return;
		}
		s->tries++;
		s->backoff++;
		sess_arm(s, now);
	}
	if (s->state == SESS_RECEIVING) {
		/*
		 * Nothing received after an OACK: resend it. Otherwise ACK
		 * the last block received in order, even in the middle of a
		 * window: RFC 7440 has the receiver do so on a timeout, and
		 * the sender goes on right after it.
		 */
		if (s->rcvd == 0 && s->oack.set != 0)
			sess_emit_oack(s, true, now, tx);
		else
			sess_emit_ack(s, s->rcvd, true, now, tx);
	} else if (s->state == SESS_OACK_SENT) {
		sess_emit_oack(s, true, now, tx);
	} else if (s->sent > s->acked) {
		s->rtt_armed = false;
		sess_expect_echo(s, s->sent);
		sess_emit_data(s, s->acked + 1,
		    (uint32_t)(s->sent - s->acked), true, tx);
	}
}

/* End the session from the server side. No packet is produced. O(1). */
void
sess_fail(struct sess *s, uint16_t code)
{
	s->err_code = code;
	sess_finish(s, SESS_RES_ERROR);
}

/*
 * Byte range of absolute block blk (1..nblocks): offset into the body and
 * length (0 for the final empty block). Out-of-range blocks give len 0.
 * O(1).
 */
void
sess_block_span(const struct sess *s, uint64_t blk, uint64_t *off,
    uint32_t *len)
{
	uint64_t o, rest;

	if (blk == 0 || s->blksize == 0 || blk - 1 > s->size / s->blksize) {
		*off = s->size;
		*len = 0;
		return;
	}
	o = (blk - 1) * s->blksize;
	rest = s->size - o;
	*off = o;
	*len = rest < s->blksize ? (uint32_t)rest : s->blksize;
}

/* Static name of a result for logs and stats. O(1). */
const char *
sess_result_name(enum sess_result r)
{
	switch (r) {
	case SESS_RES_NONE:
		return "running";
	case SESS_RES_OK:
		return "ok";
	case SESS_RES_PROBE:
		return "probe";
	case SESS_RES_ABORTED:
		return "aborted";
	case SESS_RES_TIMEOUT:
		return "timeout";
	case SESS_RES_ERROR:
		return "error";
	}
	return "?";
}

/*
 * Payload bytes the client has acknowledged (read side) or that were
 * taken in order (write side): what a transfer delivered, unlike
 * tx_bytes, which counts retransmissions too. O(1).
 */
uint64_t
sess_acked_bytes(const struct sess *s)
{
	if (s->op == TFTP_WRQ)
		return s->rx_bytes;
	if (s->acked == 0)
		return 0;
	if (s->acked >= s->nblocks)
		return s->size;
	return s->acked * s->blksize;
}

/*
 * End the session from the server side without an error sent: a new
 * request from the same port replaced it, or the worker drains. An upload
 * already committed (dallying) keeps its OK; anything else is ABORTED.
 * Returns true when the transfer was cut short. O(1).
 */
bool
sess_close(struct sess *s)
{
	bool	 cut = s->state != SESS_DALLY && s->state != SESS_DONE;

	if (cut)
		s->result = SESS_RES_ABORTED;
	s->state = SESS_DONE;
	s->deadline_ms = 0;
	return cut;
}
