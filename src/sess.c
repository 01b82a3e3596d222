/*
 * sess.c - one read transfer (RRQ), sans I/O.
 *
 * Owns: option negotiation for one request (RFC 2347/2348/2349/7440), the
 * send window, the mapping of 16-bit wire block numbers to absolute uint64
 * block numbers (rollover 65535 -> 0), retransmission with exponential
 * back-off, the give-up rule, and the figures for the transfer log line.
 * Does not own: sockets, the clock, file bodies, encoding packets (the
 * caller encodes s->oack and DATA headers with tftp.c), logging, stats.
 * Pure: no syscalls, no clock, no allocation, no globals, and no calls into
 * tftp.c (only its types and constants), so check_sess links sess.o alone.
 *
 * Transition sketch (every input also counts in n_rx):
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
 *   SENDING --ACK in (acked,sent]--> SENDING      tx next window
 *                                 \-> DONE/OK     when acked == nblocks
 *   SENDING --ACK <= acked-------> SENDING        dup: window 1 nothing,
 *                                                 window > 1 resend once
 *   SENDING --ACK never sent-----> SENDING        ignored
 *   SENDING --ERROR any----------> DONE/ABORTED
 *   SENDING --timeout, tries<n---> SENDING        tx acked+1..sent again
 *
 *   OACK_SENT, SENDING --timeout, tries>=n--> DONE/TIMEOUT
 *   any --sess_fail--> DONE/ERROR
 *   DONE: terminal, every input ignored.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sess.h"
#include "tftp.h"

#define WIRE_MASK	0xffffu
#define WIRE_HALF	0x8000u

/* Retransmit interval after `tries` back-offs: timeout << tries, capped. */
static uint64_t
sess_interval(const struct sess *s)
{
	uint64_t base = s->timeout_ms;
	uint64_t cap = s->timeout_max_ms > s->timeout_ms ?
	    s->timeout_max_ms : s->timeout_ms;

	/* base < 2^32, so a shift below 32 cannot overflow 64 bits. */
	if (base == 0)
		return 0;
	if (s->tries >= 32)
		return cap;
	base <<= s->tries;
	return base < cap ? base : cap;
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
sess_emit_oack(struct sess *s, bool rexmit, struct sess_tx *tx)
{
	tx->flags = SESS_TX_OACK;
	tx->rexmit = rexmit;
	s->tx_pkts++;
	if (rexmit)
		s->n_rexmit++;
}

/* Send the window that starts right after the highest ACKed block. */
static void
sess_send_window(struct sess *s, uint64_t now, struct sess_tx *tx)
{
	uint64_t left = s->nblocks - s->acked;
	uint32_t count = left < s->windowsize ? (uint32_t)left : s->windowsize;

	sess_emit_data(s, s->acked + 1, count, false, tx);
	s->deadline_ms = now + sess_interval(s);
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
		/* U-Boot always sends "timeout 5": honour it as asked. */
		s->oack.set |= TFTP_OPT_TIMEOUT;
		s->oack.timeout_s = ask->timeout_s;
		s->timeout_ms = ask->timeout_s * 1000u;
	}
	if (ask->set & TFTP_OPT_TSIZE) {
		/* RRQ carries tsize 0; the answer is the body size. */
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

/*
 * Start a read transfer; see sess.h. Always returns 0: the body is already
 * open and every request can be served with some option set. The session
 * keeps no pointer into req or lim. O(1).
 */
int
sess_start_read(struct sess *s, const struct tftp_req *req, uint64_t size,
    const struct sess_limits *lim, uint64_t now, struct sess_tx *tx)
{
	memset(s, 0, sizeof(*s));
	memset(tx, 0, sizeof(*tx));
	s->timeout_ms = lim->timeout_ms;
	s->timeout_max_ms = lim->timeout_max_ms;
	s->retries = lim->retries;
	s->first_retries = lim->first_retries;
	s->mode = req->mode;
	s->size = size;
	s->blksize = TFTP_BLKSIZE_DEFAULT;
	s->windowsize = 1;
	s->start_ms = now;

	/*
	 * Echo only what the client asked for: EDK2 and pxelinux reject an
	 * OACK carrying an option they did not request.
	 */
	sess_negotiate(s, &req->opts, lim);
	s->nblocks = size / s->blksize + 1;
	s->deadline_ms = now + sess_interval(s);

	if (s->oack.set != 0) {
		/*
		 * GRUB waits for the OACK: answering DATA 1 to a request with
		 * options would make it time out.
		 */
		s->state = SESS_OACK_SENT;
		sess_emit_oack(s, false, tx);
	} else {
		/* RFC 1350; U-Boot needs the first DATA to be block 1. */
		s->state = SESS_SENDING;
		sess_emit_data(s, 1, 1, false, tx);
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

static void
sess_on_dup_ack(struct sess *s, uint64_t now, struct sess_tx *tx)
{
	s->n_dup_ack++;
	/*
	 * Lock-step (window 1): never answer a duplicate ACK, or every
	 * delayed ACK doubles the traffic for the rest of the transfer
	 * (Sorcerer's Apprentice, RFC 1123 4.2.3.1); the timer resends.
	 * Windowed clients (atftp, EDK2) repeat the last in-order ACK when
	 * the first block of a window is lost: resend the window, but only
	 * once until the transfer moves again.
	 */
	if (s->windowsize <= 1 || s->dup_rexmit || s->sent <= s->acked)
		return;
	s->dup_rexmit = true;
	sess_emit_data(s, s->acked + 1, (uint32_t)(s->sent - s->acked), true,
	    tx);
	s->deadline_ms = now + sess_interval(s);
}

static void
sess_on_ack_sending(struct sess *s, uint16_t wire, uint64_t now,
    struct sess_tx *tx)
{
	bool dup;
	uint64_t blk = sess_map_ack(s, wire, &dup);

	if (blk == 0) {
		if (dup)
			sess_on_dup_ack(s, now, tx);
		return;		/* an ACK for a block never sent */
	}
	s->acked = blk;
	s->tries = 0;
	s->dup_rexmit = false;
	s->progressed = true;
	if (s->acked == s->nblocks) {
		sess_finish(s, SESS_RES_OK);
		return;
	}
	/*
	 * A full window ACKed, or RFC 7440 gap recovery: the client ACKs the
	 * last block it got in order and we go on right after it.
	 */
	sess_send_window(s, now, tx);
}

/*
 * Feed one packet from the peer; see sess.h. Fills *tx (flags 0: nothing
 * to send). The session keeps no pointer into m. O(1) plus the window.
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
			s->progressed = true;
			s->tries = 0;
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
	case SESS_IDLE:
	case SESS_DONE:
		break;
	}
	/* DATA, RRQ, WRQ and OACK from the peer fall through: ignored. */
}

/*
 * The deadline passed; see sess.h. Retransmits what is outstanding with
 * the interval doubled, or gives up. Fills *tx. O(1).
 */
void
sess_timeout(struct sess *s, uint64_t now, struct sess_tx *tx)
{
	/*
	 * Before the first ACK the peer may be a spoofed address: cap what
	 * one RRQ can make us send at first_retries + 1 packets.
	 */
	uint32_t limit = s->progressed ? s->retries : s->first_retries;

	memset(tx, 0, sizeof(*tx));
	if (s->state != SESS_OACK_SENT && s->state != SESS_SENDING)
		return;
	if (s->tries >= limit) {
		sess_finish(s, SESS_RES_TIMEOUT);
		return;
	}
	s->tries++;
	s->deadline_ms = now + sess_interval(s);
	if (s->state == SESS_OACK_SENT)
		sess_emit_oack(s, true, tx);
	else if (s->sent > s->acked)
		sess_emit_data(s, s->acked + 1,
		    (uint32_t)(s->sent - s->acked), true, tx);
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
