/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_sess.c - unit tests for sess.c, the pure session, read (RRQ) and
 * write (WRQ) sides. Fake time and hand-built struct tftp_msg values: no
 * sockets, no clock, and no tftp.c (this binary links sess.o alone). One
 * test per behaviour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "sess.h"
#include "tftp.h"
#include "testutil.h"

#define T0	1000000u	/* fake monotonic start, ms */

static const struct sess_limits lim_default = {
	.blksize_max = 1468,
	.windowsize_max = 64,
	.timeout_ms = 1000,
	.timeout_max_ms = 8000,
	.retries = 5,
	.first_retries = 2,
};

static struct tftp_req
req_make(unsigned set)
{
	struct tftp_req r;

	memset(&r, 0, sizeof(r));
	r.file = "pxelinux.0";
	r.file_len = strlen(r.file);
	r.mode = TFTP_MODE_OCTET;
	r.opts.set = set;
	return r;
}

static void
feed_ack(struct sess *s, uint16_t block, uint64_t now, struct sess_tx *tx)
{
	struct tftp_msg m;

	memset(&m, 0, sizeof(m));
	m.op = TFTP_ACK;
	m.u.ack.block = block;
	sess_input(s, &m, now, tx);
}

static void
feed_error(struct sess *s, uint16_t code, uint64_t now, struct sess_tx *tx)
{
	struct tftp_msg m;

	memset(&m, 0, sizeof(m));
	m.op = TFTP_ERROR;
	m.u.error.code = code;
	m.u.error.msg = "User aborted the transfer";
	sess_input(s, &m, now, tx);
}

/* Start a transfer with options tsize (asked or not) and blksize and
 * windowsize (0: not asked). */
static void
start_req(struct sess *s, uint64_t size, bool tsize, uint32_t blksize,
    uint32_t windowsize, struct sess_tx *tx)
{
	struct tftp_req r = req_make(tsize ? TFTP_OPT_TSIZE : 0);

	if (blksize != 0) {
		r.opts.set |= TFTP_OPT_BLKSIZE;
		r.opts.blksize = blksize;
	}
	if (windowsize != 0) {
		r.opts.set |= TFTP_OPT_WINDOWSIZE;
		r.opts.windowsize = windowsize;
	}
	ck_assert_int_eq(sess_start_read(s, &r, size, &lim_default, T0, tx), 0);
}

static void
start_opts(struct sess *s, uint64_t size, uint32_t blksize,
    uint32_t windowsize, struct sess_tx *tx)
{
	start_req(s, size, false, blksize, windowsize, tx);
}

/* What the session asked to send: flags, and the blocks of a DATA. */
static void
tx_is_at(const struct sess_tx *tx, unsigned flags, uint64_t first,
    unsigned count, int line)
{
	ck_assert_msg(tx->flags == flags, "line %d: flags %u, want %u", line,
	    (unsigned)tx->flags, flags);
	ck_assert_msg(tx->blk_first == first, "line %d: first %llu, want %llu",
	    line, (unsigned long long)tx->blk_first,
	    (unsigned long long)first);
	ck_assert_msg(tx->blk_count == count, "line %d: count %u, want %u",
	    line, (unsigned)tx->blk_count, count);
}
#define tx_is(tx, flags, first, count) \
	tx_is_at(tx, flags, first, count, __LINE__)

/* The session ended with result r: done, no timer left. */
static void
done_with_at(const struct sess *s, enum sess_result r, int line)
{
	ck_assert_msg(s->state == SESS_DONE, "line %d: state %d", line,
	    (int)s->state);
	ck_assert_msg(s->result == r, "line %d: result %s, want %s", line,
	    sess_result_name(s->result), sess_result_name(r));
	ck_assert_msg(s->deadline_ms == 0, "line %d: a timer is left", line);
}
#define done_with(s, r)	done_with_at(s, r, __LINE__)

START_TEST(no_options_sends_data1)
{
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;

	ck_assert_int_eq(sess_start_read(&s, &r, 1000, &lim_default, T0, &tx),
	    0);
	ck_assert_int_eq(s.state, SESS_SENDING);
	tx_is(&tx, SESS_TX_DATA, 1, 1);
	ck_assert(!tx.rexmit);
	ck_assert_uint_eq(s.blksize, 512);
	ck_assert_uint_eq(s.windowsize, 1);
	ck_assert_uint_eq(s.nblocks, 2);
	ck_assert_uint_eq(s.oack.set, 0);
	ck_assert_uint_eq(s.deadline_ms, T0 + 1000);
	ck_assert_int_eq(s.result, SESS_RES_NONE);
}
END_TEST

START_TEST(options_send_oack_only_requested)
{
	struct tftp_req r = req_make(TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE);
	struct sess s;
	struct sess_tx tx;

	r.opts.blksize = 1408;	/* pxelinux */
	r.opts.tsize = 0;
	r.opts.windowsize = 8;	/* bit not set: must not be granted */
	sess_start_read(&s, &r, 42104, &lim_default, T0, &tx);
	ck_assert_int_eq(s.state, SESS_OACK_SENT);
	ck_assert_uint_eq(tx.flags, SESS_TX_OACK);
	ck_assert_uint_eq(s.oack.set, TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE);
	ck_assert_uint_eq(s.oack.blksize, 1408);
	ck_assert_uint_eq(s.oack.tsize, 42104);
	ck_assert_uint_eq(s.blksize, 1408);
	ck_assert_uint_eq(s.windowsize, 1);
	ck_assert_uint_eq(s.sent, 0);
	ck_assert_uint_eq(s.nblocks, 42104 / 1408 + 1);
}
END_TEST

START_TEST(blksize_clamped_to_max)
{
	struct sess s;
	struct sess_tx tx;

	start_opts(&s, 100000, 65464, 0, &tx);
	ck_assert_uint_eq(s.oack.set, TFTP_OPT_BLKSIZE);
	ck_assert_uint_eq(s.oack.blksize, 1468);
	ck_assert_uint_eq(s.blksize, 1468);
	start_opts(&s, 100000, 1024, 0, &tx);
	ck_assert_uint_eq(s.oack.blksize, 1024);
}
END_TEST

START_TEST(windowsize_clamped_to_max)
{
	struct sess s;
	struct sess_tx tx;

	start_opts(&s, 100000, 0, 1000, &tx);
	ck_assert_uint_eq(s.oack.set, TFTP_OPT_WINDOWSIZE);
	ck_assert_uint_eq(s.oack.windowsize, 64);
	ck_assert_uint_eq(s.windowsize, 64);
	ck_assert_uint_eq(s.blksize, 512);
	start_opts(&s, 100000, 0, 4, &tx);
	ck_assert_uint_eq(s.windowsize, 4);
}
END_TEST

START_TEST(tsize_reports_size)
{
	struct tftp_req r = req_make(TFTP_OPT_TSIZE);
	struct sess s;
	struct sess_tx tx;

	r.opts.tsize = 0;
	/* netascii: the caller passes the converted size */
	r.mode = TFTP_MODE_NETASCII;
	sess_start_read(&s, &r, 123456789012ull, &lim_default, T0, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_OACK);
	ck_assert_uint_eq(s.oack.set, TFTP_OPT_TSIZE);
	ck_assert_uint_eq(s.oack.tsize, 123456789012ull);
	ck_assert_int_eq(s.mode, TFTP_MODE_NETASCII);
}
END_TEST

START_TEST(timeout_option_sets_interval)
{
	struct tftp_req r = req_make(TFTP_OPT_TIMEOUT);
	struct sess s;
	struct sess_tx tx;

	r.opts.timeout_s = 5;	/* U-Boot */
	sess_start_read(&s, &r, 100, &lim_default, T0, &tx);
	ck_assert_uint_eq(s.oack.set, TFTP_OPT_TIMEOUT);
	ck_assert_uint_eq(s.oack.timeout_s, 5);
	ck_assert_uint_eq(s.timeout_ms, 5000);
	/* the OACK is resent on the configured schedule until answered */
	ck_assert_uint_eq(s.deadline_ms, T0 + 1000);
	feed_ack(&s, 0, T0 + 10, &tx);
	ck_assert_uint_eq(s.deadline_ms, T0 + 10 + 5000);
	sess_timeout(&s, T0 + 10 + 5000, &tx);
	/* 10 s capped by timeout_max_ms */
	ck_assert_uint_eq(s.deadline_ms, T0 + 10 + 5000 + 8000);
}
END_TEST

START_TEST(unknown_options_only_is_plain_rfc1350)
{
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;

	r.n_unknown = 3;
	sess_start_read(&s, &r, 5000, &lim_default, T0, &tx);
	ck_assert_int_eq(s.state, SESS_SENDING);
	ck_assert_uint_eq(tx.flags, SESS_TX_DATA);
	ck_assert_uint_eq(tx.blk_first, 1);
	ck_assert_uint_eq(s.oack.set, 0);
	ck_assert_uint_eq(s.blksize, 512);
	ck_assert_uint_eq(s.windowsize, 1);
}
END_TEST

START_TEST(ack0_after_oack_starts_data)
{
	struct sess s;
	struct sess_tx tx;

	start_opts(&s, 5000, 1024, 0, &tx);
	feed_ack(&s, 1, T0 + 5, &tx);	/* not ACK 0: ignored */
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_int_eq(s.state, SESS_OACK_SENT);
	ck_assert(!s.progressed);
	feed_ack(&s, 0, T0 + 10, &tx);
	ck_assert_int_eq(s.state, SESS_SENDING);
	tx_is(&tx, SESS_TX_DATA, 1, 1);
	ck_assert(s.progressed);
	ck_assert_uint_eq(s.sent, 1);
	ck_assert_uint_eq(s.deadline_ms, T0 + 10 + 1000);
}
END_TEST

START_TEST(empty_file_one_zero_block)
{
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;
	uint64_t off;
	uint32_t len;

	sess_start_read(&s, &r, 0, &lim_default, T0, &tx);
	ck_assert_uint_eq(s.nblocks, 1);
	ck_assert_uint_eq(tx.blk_first, 1);
	sess_block_span(&s, 1, &off, &len);
	ck_assert_uint_eq(off, 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_eq(s.tx_bytes, 0);
	ck_assert_uint_eq(s.tx_pkts, 1);
	feed_ack(&s, 1, T0 + 1, &tx);
	ck_assert_int_eq(s.result, SESS_RES_OK);
}
END_TEST

START_TEST(exact_multiple_ends_with_zero_block)
{
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;
	uint64_t off;
	uint32_t len;

	sess_start_read(&s, &r, 1024, &lim_default, T0, &tx);
	ck_assert_uint_eq(s.nblocks, 3);
	sess_block_span(&s, 2, &off, &len);
	ck_assert_uint_eq(off, 512);
	ck_assert_uint_eq(len, 512);
	sess_block_span(&s, 3, &off, &len);
	ck_assert_uint_eq(off, 1024);
	ck_assert_uint_eq(len, 0);
	feed_ack(&s, 1, T0 + 1, &tx);
	feed_ack(&s, 2, T0 + 2, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_DATA);
	ck_assert_uint_eq(tx.blk_first, 3);
	ck_assert_int_eq(s.state, SESS_SENDING);
	feed_ack(&s, 3, T0 + 3, &tx);
	ck_assert_int_eq(s.result, SESS_RES_OK);
	ck_assert_uint_eq(s.tx_bytes, 1024);
}
END_TEST

START_TEST(dup_ack_does_not_resend)
{
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;

	sess_start_read(&s, &r, 2000, &lim_default, T0, &tx);
	feed_ack(&s, 1, T0 + 1, &tx);
	ck_assert_uint_eq(tx.blk_first, 2);
	feed_ack(&s, 1, T0 + 2, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	feed_ack(&s, 0, T0 + 3, &tx);	/* older still */
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_uint_eq(s.n_dup_ack, 2);
	ck_assert_uint_eq(s.n_rexmit, 0);
	ck_assert_uint_eq(s.acked, 1);
	ck_assert_uint_eq(s.deadline_ms, T0 + 1 + 1000);
}
END_TEST

START_TEST(timeout_retransmits_same_block)
{
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;

	sess_start_read(&s, &r, 2000, &lim_default, T0, &tx);
	feed_ack(&s, 1, T0 + 1, &tx);
	sess_timeout(&s, T0 + 1001, &tx);
	tx_is(&tx, SESS_TX_DATA, 2, 1);
	ck_assert(tx.rexmit);
	ck_assert_uint_eq(s.tries, 1);
	ck_assert_uint_eq(s.n_rexmit, 1);
	ck_assert_uint_eq(s.sent, 2);
}
END_TEST

START_TEST(oack_timeout_resends_oack)
{
	struct sess s;
	struct sess_tx tx;

	start_opts(&s, 2000, 1024, 0, &tx);
	sess_timeout(&s, T0 + 1000, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_OACK);
	ck_assert(tx.rexmit);
	ck_assert_uint_eq(s.n_rexmit, 1);
	ck_assert_uint_eq(s.tx_pkts, 2);
}
END_TEST

START_TEST(backoff_doubles_and_caps)
{
	struct sess_limits lim = lim_default;
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;
	uint64_t now = T0;
	static const uint64_t want[] = { 2000, 4000, 8000, 8000, 8000 };
	size_t i;

	lim.retries = lim.first_retries = 100;
	sess_start_read(&s, &r, 2000, &lim, now, &tx);
	ck_assert_uint_eq(s.deadline_ms, now + 1000);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		now = s.deadline_ms;
		sess_timeout(&s, now, &tx);
		ck_assert_uint_eq(s.deadline_ms - now, want[i]);
	}
	/* far past 32 doublings: no overflow, still the cap */
	while (s.tries < 70) {
		now = s.deadline_ms;
		sess_timeout(&s, now, &tx);
	}
	ck_assert_uint_eq(s.deadline_ms - now, 8000);
	/* progress resets the interval */
	feed_ack(&s, 1, now + 1, &tx);
	ck_assert_uint_eq(s.deadline_ms, now + 1 + 1000);
}
END_TEST

START_TEST(gives_up_after_retries)
{
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;
	unsigned resent = 0;

	sess_start_read(&s, &r, 2000, &lim_default, T0, &tx);
	feed_ack(&s, 1, T0 + 1, &tx);
	for (;;) {
		sess_timeout(&s, s.deadline_ms, &tx);
		if (s.state == SESS_DONE)
			break;
		ck_assert_uint_eq(tx.flags, SESS_TX_DATA);
		resent++;
		ck_assert_uint_le(resent, 100);
	}
	ck_assert_uint_eq(resent, lim_default.retries);
	ck_assert_int_eq(s.result, SESS_RES_TIMEOUT);
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_uint_eq(s.deadline_ms, 0);
	ck_assert_str_eq(sess_result_name(s.result), "timeout");
}
END_TEST

START_TEST(first_packet_sent_at_most_first_retries_plus_one)
{
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;
	unsigned sent, pass;

	/* pass 0: OACK first; pass 1: plain DATA 1 first */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			start_opts(&s, 2000, 1024, 0, &tx);
		else
			sess_start_read(&s, &r, 2000, &lim_default, T0, &tx);
		sent = tx.flags != 0;
		while (s.state != SESS_DONE) {
			sess_timeout(&s, s.deadline_ms, &tx);
			sent += tx.flags != 0;
			ck_assert_uint_le(sent, 100);
		}
		ck_assert_uint_eq(sent, lim_default.first_retries + 1);
		ck_assert_uint_eq(s.tx_pkts, lim_default.first_retries + 1);
		ck_assert_int_eq(s.result, SESS_RES_TIMEOUT);
	}
}
END_TEST

/*
 * A client's ERROR ends a read: after an OACK it is a probe when it is
 * the option refusal (8) or code 0, else the transfer was aborted; so is
 * any ERROR once data flowed. Rows: the options asked, how many ACKs
 * (from 0) came first, the code, and the outcome.
 */
static const struct client_error_case {
	const char	*what;
	bool		 tsize;
	uint32_t	 blksize, windowsize;
	unsigned	 acks;		/* at most 2 */
	uint16_t	 code;
	enum sess_result result;
	uint16_t	 err_code;
	const char	*name;
} client_error_cases[] = {
	/* EDK2: tsize 0 blksize 1468 windowsize 4, then ERROR 8 */
	{ "tsize probe", true, 1468, 4, 0, TFTP_EOPTNEG, SESS_RES_PROBE, 8,
	    "probe" },
	{ "error 0 after the OACK", false, 1408, 0, 0, TFTP_EUNDEF,
	    SESS_RES_PROBE, 0, "probe" },
	{ "error 2 after the OACK", false, 1408, 0, 0, TFTP_EACCESS,
	    SESS_RES_ABORTED, 2, "aborted" },
	/* GRUB closing */
	{ "error 0 mid-transfer", false, 1024, 0, 2, TFTP_EUNDEF,
	    SESS_RES_ABORTED, 0, "aborted" },
};

START_TEST(client_error_ends_read)
{
	const struct client_error_case	*c = &client_error_cases[_i];
	struct sess			 s;
	struct sess_tx			 tx;
	unsigned			 i;

	start_req(&s, 30000, c->tsize, c->blksize, c->windowsize, &tx);
	for (i = 0; i < c->acks; i++)
		feed_ack(&s, (uint16_t)i, T0 + 1 + i, &tx);
	feed_error(&s, c->code, T0 + 3, &tx);	/* after the ACKs */
	ck_assert_msg(tx.flags == 0, "%s: sends", c->what);
	ck_assert_int_eq(s.state, SESS_DONE);
	ck_assert_msg(s.result == c->result, "%s: result %s", c->what,
	    sess_result_name(s.result));
	ck_assert_uint_eq(s.err_code, c->err_code);
	ck_assert_uint_eq(s.deadline_ms, 0);
	ck_assert_str_eq(sess_result_name(s.result), c->name);
}
END_TEST

START_TEST(rollover_after_65535)
{
	struct sess s;
	struct sess_tx tx;
	uint64_t now = T0, size = 69999ull * 8 + 3;
	int saw_wire0 = 0;

	start_opts(&s, size, 8, 0, &tx);
	ck_assert_uint_eq(s.blksize, 8);
	ck_assert_uint_eq(s.nblocks, 70000);
	feed_ack(&s, 0, ++now, &tx);
	while (s.state == SESS_SENDING) {
		ck_assert_uint_eq(tx.flags, SESS_TX_DATA);
		ck_assert_uint_eq(tx.blk_count, 1);
		ck_assert_uint_eq(tx.blk_first, s.acked + 1);
		if (tx.blk_first == 65536) {
			ck_assert_uint_eq((uint16_t)tx.blk_first, 0);
			saw_wire0 = 1;
		}
		feed_ack(&s, (uint16_t)tx.blk_first, ++now, &tx);
	}
	ck_assert(saw_wire0);
	ck_assert_int_eq(s.result, SESS_RES_OK);
	ck_assert_uint_eq(s.acked, 70000);
	ck_assert_uint_eq(s.tx_bytes, size);
	ck_assert_uint_eq(s.n_dup_ack, 0);
}
END_TEST

START_TEST(rollover_windowed_maps_wire_acks)
{
	struct sess s;
	struct sess_tx tx;
	uint64_t now = T0, size = 70000ull * 8;

	start_opts(&s, size, 8, 64, &tx);
	feed_ack(&s, 0, ++now, &tx);
	while (s.state == SESS_SENDING) {
		/* ACK the last block of each window by its wire number */
		feed_ack(&s, (uint16_t)(tx.blk_first + tx.blk_count - 1),
		    ++now, &tx);
	}
	ck_assert_int_eq(s.result, SESS_RES_OK);
	ck_assert_uint_eq(s.acked, 70001);
	ck_assert_uint_eq(s.n_rexmit, 0);
}
END_TEST

START_TEST(window_sends_windowsize_blocks)
{
	struct sess s;
	struct sess_tx tx;

	start_opts(&s, 10 * 512, 0, 4, &tx);	/* 11 blocks */
	feed_ack(&s, 0, T0 + 1, &tx);
	tx_is(&tx, SESS_TX_DATA, 1, 4);
	ck_assert_uint_eq(s.sent, 4);
	feed_ack(&s, 4, T0 + 2, &tx);	/* EDK2 ACKs every 4th block */
	tx_is(&tx, SESS_TX_DATA, 5, 4);
	feed_ack(&s, 8, T0 + 3, &tx);
	tx_is(&tx, SESS_TX_DATA, 9, 3);
	ck_assert_uint_eq(s.tx_pkts, 1 + 11);
	feed_ack(&s, 11, T0 + 4, &tx);
	ck_assert_int_eq(s.result, SESS_RES_OK);
	ck_assert_uint_eq(s.tx_bytes, 10 * 512);
}
END_TEST

START_TEST(window_gap_ack_resends_from_next)
{
	struct sess s;
	struct sess_tx tx;

	start_opts(&s, 100 * 512, 0, 4, &tx);
	feed_ack(&s, 0, T0 + 1, &tx);
	/* block 3 lost: the client ACKs 2, the last in order */
	feed_ack(&s, 2, T0 + 2, &tx);
	tx_is(&tx, SESS_TX_DATA, 3, 4);
	ck_assert_uint_eq(s.acked, 2);
	ck_assert_uint_eq(s.sent, 6);
	ck_assert_uint_eq(s.n_dup_ack, 0);
	/* a timeout now resends what is outstanding: 3..6 */
	sess_timeout(&s, s.deadline_ms, &tx);
	tx_is(&tx, SESS_TX_DATA, 3, 4);
	ck_assert(tx.rexmit);
	/* 3 and 4 resent on the gap, then 3..6 on the timer */
	ck_assert_uint_eq(s.n_rexmit, 2 + 4);
	ck_assert_uint_eq(s.n_gap, 1);
}
END_TEST

START_TEST(window_dup_ack_resends_once)
{
	struct sess s;
	struct sess_tx tx;

	start_opts(&s, 100 * 512, 0, 4, &tx);
	feed_ack(&s, 0, T0 + 1, &tx);
	/* block 1 lost: atftp/EDK2 repeat ACK 0 */
	feed_ack(&s, 0, T0 + 2, &tx);
	tx_is(&tx, SESS_TX_DATA, 1, 4);
	ck_assert(tx.rexmit);
	ck_assert_uint_eq(s.n_rexmit, 4);
	feed_ack(&s, 0, T0 + 3, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_uint_eq(s.n_dup_ack, 2);
	/* progress re-arms it */
	feed_ack(&s, 4, T0 + 4, &tx);
	ck_assert_uint_eq(tx.blk_first, 5);
	ck_assert(!tx.rexmit);
	feed_ack(&s, 4, T0 + 5, &tx);
	tx_is(&tx, SESS_TX_DATA, 5, 4);
	feed_ack(&s, 4, T0 + 6, &tx);
	ck_assert_uint_eq(tx.flags, 0);
}
END_TEST

START_TEST(gap_resend_answers_later_dup_acks)
{
	struct sess s;
	struct sess_tx tx;

	start_opts(&s, 100 * 512, 0, 8, &tx);
	feed_ack(&s, 0, T0 + 1, &tx);		/* blocks 1..8 out */
	/* block 5 lost: the client ACKs 4 (gap), then repeats ACK 4 for
	 * the out-of-order 6, 7 and 8 it also saw */
	feed_ack(&s, 4, T0 + 2, &tx);
	tx_is(&tx, SESS_TX_DATA, 5, 8);
	feed_ack(&s, 4, T0 + 3, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	feed_ack(&s, 4, T0 + 4, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_uint_eq(s.n_dup_ack, 2);
	/* a full window ACKed is ordinary progress again */
	feed_ack(&s, 12, T0 + 5, &tx);
	ck_assert_uint_eq(tx.blk_first, 13);
	ck_assert(!s.dup_rexmit);
}
END_TEST

START_TEST(large_timeout_waits_for_first_ack)
{
	struct tftp_req r = req_make(TFTP_OPT_TIMEOUT | TFTP_OPT_TSIZE);
	struct sess s;
	struct sess_tx tx;

	/* "timeout 255" is granted as asked ... */
	r.opts.timeout_s = 255;
	ck_assert_int_eq(sess_start_read(&s, &r, 100000, &lim_default, T0,
	    &tx), 0);
	ck_assert(s.oack.set & TFTP_OPT_TIMEOUT);
	ck_assert_uint_eq(s.oack.timeout_s, 255);
	/* ... but until the client answers, the configured schedule holds:
	 * a spoofed request is given up as fast as any other */
	ck_assert_uint_eq(s.deadline_ms, T0 + 1000);
	sess_timeout(&s, s.deadline_ms, &tx);
	ck_assert_uint_le(s.deadline_ms - (T0 + 1000), 8000);
	/* once the client ACKed, its timeout is the interval */
	feed_ack(&s, 0, T0 + 1500, &tx);
	ck_assert_uint_eq(s.deadline_ms, T0 + 1500 + 255000);
}
END_TEST

START_TEST(ack_for_unsent_block_ignored)
{
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;

	sess_start_read(&s, &r, 100 * 512, &lim_default, T0, &tx);
	feed_ack(&s, 5, T0 + 1, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_uint_eq(s.acked, 0);
	ck_assert_uint_eq(s.n_dup_ack, 0);
	ck_assert(!s.progressed);
	ck_assert_uint_eq(s.deadline_ms, T0 + 1000);

	start_opts(&s, 100 * 512, 0, 4, &tx);
	feed_ack(&s, 0, T0 + 1, &tx);
	feed_ack(&s, 9, T0 + 2, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_uint_eq(s.acked, 0);
	ck_assert_uint_eq(s.n_dup_ack, 0);
	ck_assert_uint_eq(s.n_rx, 2);
}
END_TEST

START_TEST(other_packet_types_ignored)
{
	static const enum tftp_op ops[] = {
		TFTP_DATA, TFTP_RRQ, TFTP_WRQ, TFTP_OACK,
	};
	struct sess s;
	struct sess_tx tx;
	struct tftp_msg m;
	size_t i;

	start_opts(&s, 5000, 1024, 0, &tx);
	for (i = 0; i < 2 * sizeof(ops) / sizeof(ops[0]); i++) {
		if (i == sizeof(ops) / sizeof(ops[0]))
			feed_ack(&s, 0, T0 + 1, &tx);
		memset(&m, 0, sizeof(m));
		m.op = ops[i % (sizeof(ops) / sizeof(ops[0]))];
		sess_input(&s, &m, T0 + 2, &tx);
		ck_assert_uint_eq(tx.flags, 0);
		ck_assert_int_eq(s.result, SESS_RES_NONE);
	}
	ck_assert_uint_eq(s.acked, 0);
	ck_assert_uint_eq(s.sent, 1);
	ck_assert_uint_eq(s.n_rx, 9);
}
END_TEST

START_TEST(done_ignores_input)
{
	struct sess s;
	struct sess_tx tx;

	start_opts(&s, 5000, 1024, 0, &tx);
	feed_error(&s, TFTP_EOPTNEG, T0 + 1, &tx);
	feed_ack(&s, 0, T0 + 2, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	feed_error(&s, TFTP_EACCESS, T0 + 3, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	sess_timeout(&s, T0 + 100000, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	done_with(&s, SESS_RES_PROBE);
	ck_assert_uint_eq(s.err_code, 8);
	ck_assert_uint_eq(s.deadline_ms, 0);
	ck_assert_uint_eq(s.tx_pkts, 1);
}
END_TEST

START_TEST(last_ack_completes)
{
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;

	sess_start_read(&s, &r, 100, &lim_default, T0, &tx);
	ck_assert_uint_eq(s.nblocks, 1);
	feed_ack(&s, 1, T0 + 7, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	done_with(&s, SESS_RES_OK);
	ck_assert_uint_eq(s.acked, 1);
	ck_assert_str_eq(sess_result_name(s.result), "ok");
}
END_TEST

START_TEST(acked_bytes_count_delivery_not_resends)
{
	struct sess s;
	struct sess_tx tx;

	/* 1000 bytes at 512: nothing ACKed, one block, then all of it;
	 * retransmissions in between do not count. */
	start_opts(&s, 1000, 512, 0, &tx);
	ck_assert_uint_eq(sess_acked_bytes(&s), 0);
	feed_ack(&s, 0, T0 + 1, &tx);
	sess_timeout(&s, s.deadline_ms, &tx);
	ck_assert(tx.rexmit);
	ck_assert_uint_eq(sess_acked_bytes(&s), 0);
	feed_ack(&s, 1, T0 + 5000, &tx);
	ck_assert_uint_eq(sess_acked_bytes(&s), 512);
	feed_ack(&s, 2, T0 + 5001, &tx);
	ck_assert_int_eq(s.result, SESS_RES_OK);
	ck_assert_uint_eq(sess_acked_bytes(&s), 1000);
	ck_assert_uint_gt(s.tx_bytes, 1000);
}
END_TEST

START_TEST(counters_count_packets_and_bytes)
{
	struct sess s;
	struct sess_tx tx;

	/* OACK (0 bytes), then blocks of 512 and 488 */
	start_opts(&s, 1000, 512, 0, &tx);
	ck_assert_uint_eq(s.tx_pkts, 1);
	ck_assert_uint_eq(s.tx_bytes, 0);
	feed_ack(&s, 0, T0 + 1, &tx);
	ck_assert_uint_eq(s.tx_pkts, 2);
	ck_assert_uint_eq(s.tx_bytes, 512);
	feed_ack(&s, 1, T0 + 2, &tx);
	ck_assert_uint_eq(s.tx_pkts, 3);
	ck_assert_uint_eq(s.tx_bytes, 1000);
	sess_timeout(&s, s.deadline_ms, &tx);
	ck_assert_uint_eq(s.tx_pkts, 4);
	ck_assert_uint_eq(s.tx_bytes, 1488);
	ck_assert_uint_eq(s.n_rexmit, 1);
	feed_ack(&s, 1, T0 + 3000, &tx);	/* dup */
	feed_ack(&s, 2, T0 + 3001, &tx);
	ck_assert_int_eq(s.result, SESS_RES_OK);
	ck_assert_uint_eq(s.n_rx, 4);
	ck_assert_uint_eq(s.n_dup_ack, 1);
	ck_assert_uint_eq(s.tx_pkts, 4);
}
END_TEST

START_TEST(fail_ends_with_error)
{
	struct sess s;
	struct sess_tx tx;

	start_opts(&s, 5000, 1024, 0, &tx);
	sess_fail(&s, TFTP_EUNDEF);
	done_with(&s, SESS_RES_ERROR);
	ck_assert_str_eq(sess_result_name(s.result), "error");
	sess_timeout(&s, T0 + 5000, &tx);
	ck_assert_uint_eq(tx.flags, 0);
}
END_TEST

/* A transfer waiting for an exec's output: what the log line and the
 * timer read, nothing negotiated; started over by sess_start_read. */
START_TEST(pend_sets_defaults_then_start_resets)
{
	struct sess	 s;
	struct sess_tx	 tx;
	struct tftp_req	 r = req_make(TFTP_OPT_BLKSIZE);

	memset(&s, 0xa5, sizeof(s));
	sess_pend(&s, TFTP_RRQ, TFTP_MODE_NETASCII, T0, T0 + 7000);
	ck_assert_int_eq(s.op, TFTP_RRQ);
	ck_assert_int_eq(s.mode, TFTP_MODE_NETASCII);
	ck_assert_uint_eq(s.blksize, TFTP_BLKSIZE_DEFAULT);
	ck_assert_uint_eq(s.windowsize, 1);
	ck_assert_uint_eq(s.start_ms, T0);
	ck_assert_uint_eq(s.deadline_ms, T0 + 7000);
	ck_assert_int_eq(s.state, SESS_IDLE);
	ck_assert_int_eq(s.result, SESS_RES_NONE);
	ck_assert_uint_eq(s.oack.set, 0);
	ck_assert_uint_eq(s.n_rexmit, 0);
	ck_assert_uint_eq(sess_acked_bytes(&s), 0);
	ck_assert_int_eq(sess_srtt8(&s), -1);

	/* The output came: the real start, from then on. */
	r.opts.blksize = 1024;
	ck_assert_int_eq(sess_start_read(&s, &r, 3000, &lim_default, T0 + 50,
	    &tx), 0);
	ck_assert_uint_eq(s.start_ms, T0 + 50);
	ck_assert_uint_eq(s.blksize, 1024);
	ck_assert_uint_eq(tx.flags, SESS_TX_OACK);
	ck_assert_uint_eq(s.deadline_ms, T0 + 50 + lim_default.timeout_ms);
}
END_TEST

/* Replaced or drained while it waits: cut short, ABORTED. */
START_TEST(pend_close_is_aborted)
{
	struct sess	 s;

	sess_pend(&s, TFTP_RRQ, TFTP_MODE_OCTET, T0, T0 + 1000);
	ck_assert(sess_close(&s));
	ck_assert_int_eq(s.state, SESS_DONE);
	ck_assert_int_eq(s.result, SESS_RES_ABORTED);
	ck_assert_uint_eq(s.deadline_ms, 0);
}
END_TEST

START_TEST(result_names)
{
	ck_assert_str_eq(sess_result_name(SESS_RES_NONE), "running");
	ck_assert_str_eq(sess_result_name(SESS_RES_OK), "ok");
	ck_assert_str_eq(sess_result_name(SESS_RES_PROBE), "probe");
	ck_assert_str_eq(sess_result_name(SESS_RES_ABORTED), "aborted");
	ck_assert_str_eq(sess_result_name(SESS_RES_TIMEOUT), "timeout");
	ck_assert_str_eq(sess_result_name(SESS_RES_ERROR), "error");
}
END_TEST

/* ---- write side (WRQ) ---- */

#define MAX_NONE	UINT64_MAX

static uint8_t payload[TFTP_BLKSIZE_MAX];	/* DATA bytes, by reference */

static void
feed_data(struct sess *s, uint16_t block, size_t len, uint64_t now,
    struct sess_tx *tx)
{
	struct tftp_msg m;

	memset(&m, 0, sizeof(m));
	m.op = TFTP_DATA;
	m.u.data.block = block;
	m.u.data.data = payload;
	m.u.data.len = len;
	sess_input(s, &m, now, tx);
}

/* Start a WRQ with blksize/windowsize (0: not asked), no tsize. */
static void
start_write(struct sess *s, uint64_t max_bytes, uint32_t blksize,
    uint32_t windowsize, struct sess_tx *tx)
{
	struct tftp_req r = req_make(0);

	r.file = "switch1-confg";
	r.file_len = strlen(r.file);
	if (blksize != 0) {
		r.opts.set |= TFTP_OPT_BLKSIZE;
		r.opts.blksize = blksize;
	}
	if (windowsize != 0) {
		r.opts.set |= TFTP_OPT_WINDOWSIZE;
		r.opts.windowsize = windowsize;
	}
	ck_assert_int_eq(sess_start_write(s, &r, max_bytes, &lim_default, T0,
	    tx), 0);
}

/* Feed the next full block of a lock-step upload; expect WRITE + ACK. */
static void
feed_full_acked(struct sess *s, uint64_t blk, uint64_t now,
    struct sess_tx *tx)
{
	feed_data(s, (uint16_t)blk, s->blksize, now, tx);
	ck_assert_uint_eq(tx->flags, SESS_TX_WRITE | SESS_TX_ACK);
	ck_assert_uint_eq(tx->ack_block, blk);
	ck_assert_uint_eq(tx->wr_off, (blk - 1) * s->blksize);
	ck_assert_uint_eq(tx->wr_len, s->blksize);
}

START_TEST(wrq_no_options_acks_0)
{
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;

	r.n_unknown = 2;	/* unknown options alone: plain RFC 1350 */
	ck_assert_int_eq(sess_start_write(&s, &r, MAX_NONE, &lim_default, T0,
	    &tx), 0);
	ck_assert_int_eq(s.op, TFTP_WRQ);
	ck_assert_int_eq(s.state, SESS_RECEIVING);
	ck_assert_uint_eq(tx.flags, SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 0);
	ck_assert(!tx.rexmit);
	ck_assert_uint_eq(s.oack.set, 0);
	ck_assert_uint_eq(s.blksize, 512);
	ck_assert_uint_eq(s.windowsize, 1);
	ck_assert_uint_eq(s.deadline_ms, T0 + 1000);
	ck_assert_uint_eq(s.tx_pkts, 1);
	ck_assert_uint_eq(s.rcvd, 0);
	ck_assert(!s.progressed);
	ck_assert_int_eq(s.result, SESS_RES_NONE);
}
END_TEST

START_TEST(wrq_options_oack)
{
	struct tftp_req r = req_make(TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE |
	    TFTP_OPT_TIMEOUT);
	struct sess s;
	struct sess_tx tx;

	r.opts.blksize = 65464;		/* clamped to blksize_max */
	r.opts.tsize = 5000;		/* the client announces its size */
	r.opts.timeout_s = 3;
	r.opts.windowsize = 8;		/* bit not set: not granted */
	ck_assert_int_eq(sess_start_write(&s, &r, 5000, &lim_default, T0,
	    &tx), 0);
	ck_assert_int_eq(s.state, SESS_RECEIVING);
	ck_assert_uint_eq(tx.flags, SESS_TX_OACK);
	ck_assert_uint_eq(s.oack.set, TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE |
	    TFTP_OPT_TIMEOUT);
	ck_assert_uint_eq(s.oack.blksize, 1468);
	ck_assert_uint_eq(s.blksize, 1468);
	ck_assert_uint_eq(s.oack.tsize, 5000);
	ck_assert_uint_eq(s.size, 5000);
	ck_assert_uint_eq(s.oack.timeout_s, 3);
	/* configured schedule until the client's first DATA */
	ck_assert_uint_eq(s.deadline_ms, T0 + 1000);
	ck_assert_uint_eq(s.windowsize, 1);
	ck_assert_uint_eq(s.tx_pkts, 1);

	/* windowsize clamped; DATA 1 is the OACK's acknowledgement */
	start_write(&s, MAX_NONE, 0, 1000, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_OACK);
	ck_assert_uint_eq(s.oack.set, TFTP_OPT_WINDOWSIZE);
	ck_assert_uint_eq(s.windowsize, 64);
	feed_data(&s, 1, 512, T0 + 1, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_WRITE);
	ck_assert(s.progressed);
}
END_TEST

/* A WRQ that announced tsize must deliver that many bytes: an upload
 * that ends short (or long) is refused and not made final. */
START_TEST(wrq_size_differs_from_tsize_refused)
{
	struct tftp_req r = req_make(TFTP_OPT_TSIZE);
	struct sess s;
	struct sess_tx tx;
	uint16_t b;

	r.opts.tsize = 4 * 512;		/* announces 4 full blocks */
	ck_assert_int_eq(sess_start_write(&s, &r, MAX_NONE, &lim_default, T0,
	    &tx), 0);
	for (b = 1; b <= 3; b++) {
		feed_data(&s, b, 512, T0 + b, &tx);
		ck_assert_uint_eq(tx.flags, SESS_TX_WRITE | SESS_TX_ACK);
	}
	/* block 4 arrives empty: 1536 bytes, not 2048 */
	feed_data(&s, 4, 0, T0 + 4, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_ERROR);
	ck_assert_uint_eq(tx.err_code, TFTP_EUNDEF);
	done_with(&s, SESS_RES_ERROR);

	/* the announced size, then the empty last block: complete */
	ck_assert_int_eq(sess_start_write(&s, &r, MAX_NONE, &lim_default, T0,
	    &tx), 0);
	for (b = 1; b <= 4; b++)
		feed_data(&s, b, 512, T0 + b, &tx);
	feed_data(&s, 5, 0, T0 + 5, &tx);
	ck_assert(tx.flags & SESS_TX_COMMIT);
	ck_assert_int_eq(s.result, SESS_RES_OK);
	ck_assert_uint_eq(s.rx_bytes, 2048);

	/* no tsize announced: any size is complete */
	r = req_make(0);
	ck_assert_int_eq(sess_start_write(&s, &r, MAX_NONE, &lim_default, T0,
	    &tx), 0);
	feed_data(&s, 1, 100, T0 + 1, &tx);
	ck_assert(tx.flags & SESS_TX_COMMIT);
	ck_assert_int_eq(s.result, SESS_RES_OK);
}
END_TEST

START_TEST(wrq_tsize_over_max_refused)
{
	struct tftp_req r = req_make(TFTP_OPT_TSIZE | TFTP_OPT_BLKSIZE);
	struct sess s;
	struct sess_tx tx;

	r.opts.blksize = 1024;
	r.opts.tsize = 1000001;
	ck_assert_int_eq(sess_start_write(&s, &r, 1000000, &lim_default, T0,
	    &tx), TFTP_ENOSPACE);
	ck_assert_uint_eq(tx.flags, 0);
	done_with(&s, SESS_RES_ERROR);
	ck_assert_uint_eq(s.err_code, TFTP_ENOSPACE);
	ck_assert_uint_eq(s.tx_pkts, 0);
	ck_assert_uint_eq(s.deadline_ms, 0);
	sess_timeout(&s, T0 + 100000, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	/* exactly the cap fits */
	r.opts.tsize = 1000000;
	ck_assert_int_eq(sess_start_write(&s, &r, 1000000, &lim_default, T0,
	    &tx), 0);
	ck_assert_uint_eq(tx.flags, SESS_TX_OACK);
	ck_assert_uint_eq(s.oack.tsize, 1000000);
}
END_TEST

START_TEST(data_in_order_written_and_acked)
{
	struct sess s;
	struct sess_tx tx;

	start_write(&s, MAX_NONE, 0, 0, &tx);
	feed_data(&s, 1, 512, T0 + 5, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_WRITE | SESS_TX_ACK);
	ck_assert_uint_eq(tx.wr_off, 0);
	ck_assert_uint_eq(tx.wr_len, 512);
	ck_assert_ptr_eq(tx.wr_data, payload);
	ck_assert_uint_eq(tx.ack_block, 1);
	ck_assert(!tx.rexmit);
	ck_assert(s.progressed);
	ck_assert_uint_eq(s.deadline_ms, T0 + 5 + 1000);
	feed_data(&s, 2, 512, T0 + 6, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_WRITE | SESS_TX_ACK);
	ck_assert_uint_eq(tx.wr_off, 512);
	ck_assert_uint_eq(tx.ack_block, 2);
	ck_assert_int_eq(s.state, SESS_RECEIVING);
	ck_assert_uint_eq(s.rcvd, 2);
	ck_assert_uint_eq(s.rx_bytes, 1024);
	ck_assert_uint_eq(s.n_rx, 2);
	ck_assert_uint_eq(s.tx_pkts, 3);
	ck_assert_uint_eq(s.n_rexmit, 0);
	ck_assert_int_eq(s.result, SESS_RES_NONE);
	/* ACK and OACK from the peer mean nothing on the write side */
	feed_ack(&s, 2, T0 + 7, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_uint_eq(s.n_rx, 3);
}
END_TEST

START_TEST(last_short_block_commits_then_acks)
{
	struct sess s;
	struct sess_tx tx;

	start_write(&s, MAX_NONE, 0, 0, &tx);
	feed_full_acked(&s, 1, T0 + 1, &tx);
	feed_data(&s, 2, 100, T0 + 2, &tx);
	ck_assert_uint_eq(tx.flags,
	    SESS_TX_WRITE | SESS_TX_COMMIT | SESS_TX_ACK);
	ck_assert_uint_eq(tx.wr_off, 512);
	ck_assert_uint_eq(tx.wr_len, 100);
	ck_assert_uint_eq(tx.ack_block, 2);
	ck_assert_int_eq(s.state, SESS_DALLY);
	ck_assert_int_eq(s.result, SESS_RES_OK);
	ck_assert_uint_eq(s.rx_bytes, 612);
	ck_assert_uint_eq(s.deadline_ms, T0 + 2 + 1000);
	/* the dally ends with the deadline: nothing sent, still OK */
	sess_timeout(&s, s.deadline_ms, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	done_with(&s, SESS_RES_OK);

	/* the commit failed: the caller fails the session, no ACK goes */
	start_write(&s, MAX_NONE, 0, 0, &tx);
	feed_data(&s, 1, 10, T0 + 1, &tx);
	ck_assert(tx.flags & SESS_TX_COMMIT);
	sess_fail(&s, TFTP_ENOSPACE);
	done_with(&s, SESS_RES_ERROR);
	feed_data(&s, 1, 10, T0 + 2, &tx);
	ck_assert_uint_eq(tx.flags, 0);
}
END_TEST

START_TEST(dup_data_reacked_not_rewritten)
{
	struct sess s;
	struct sess_tx tx;

	start_write(&s, MAX_NONE, 0, 0, &tx);
	feed_full_acked(&s, 1, T0 + 1, &tx);
	feed_full_acked(&s, 2, T0 + 2, &tx);
	/* ACK 2 was lost: the client resends DATA 2 */
	feed_data(&s, 2, 512, T0 + 1002, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 2);
	ck_assert(tx.rexmit);
	ck_assert_uint_eq(s.n_dup_data, 1);
	ck_assert_uint_eq(s.n_rexmit, 1);
	ck_assert_uint_eq(s.rx_bytes, 1024);
	ck_assert_uint_eq(s.rcvd, 2);
	/* an older copy (delayed in the network) gets nothing */
	feed_data(&s, 1, 512, T0 + 1003, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_uint_eq(s.n_dup_data, 2);
	/* a dup does not move the deadline */
	ck_assert_uint_eq(s.deadline_ms, T0 + 2 + 1000);
	feed_full_acked(&s, 3, T0 + 1004, &tx);
	ck_assert_uint_eq(s.rx_bytes, 1536);
}
END_TEST

START_TEST(gap_in_window_acks_last_in_order)
{
	struct sess s;
	struct sess_tx tx;
	uint16_t b;

	start_write(&s, MAX_NONE, 0, 4, &tx);
	feed_data(&s, 1, 512, T0 + 1, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_WRITE);
	feed_data(&s, 2, 512, T0 + 2, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_WRITE);
	/* block 3 lost: 4 is past the gap, ACK 2 so the sender goes on */
	feed_data(&s, 4, 512, T0 + 3, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 2);
	ck_assert_uint_eq(s.rcvd, 2);
	ck_assert_uint_eq(s.rx_bytes, 1024);
	/* once per gap */
	feed_data(&s, 5, 512, T0 + 4, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	/* beyond one window past next: stray, ignored */
	feed_data(&s, 9, 512, T0 + 5, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	/* the sender restarts at 3 with a new window: 3..6, ACK 6 */
	for (b = 3; b <= 5; b++) {
		feed_data(&s, b, 512, T0 + 5 + b, &tx);
		ck_assert_uint_eq(tx.flags, SESS_TX_WRITE);
		ck_assert_uint_eq(tx.wr_off, (b - 1) * 512u);
	}
	feed_data(&s, 6, 512, T0 + 20, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_WRITE | SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 6);
	/* a new gap gets its own ACK */
	feed_data(&s, 8, 512, T0 + 21, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 6);
	ck_assert_uint_eq(s.rx_bytes, 6 * 512);
	ck_assert_uint_eq(s.n_dup_data, 0);
}
END_TEST

START_TEST(window_acks_every_nth)
{
	struct sess s;
	struct sess_tx tx;
	uint16_t b;
	unsigned acks = 0;

	/* EDK2-like windowsize 4: 11 full blocks, then a short 12th */
	start_write(&s, MAX_NONE, 0, 4, &tx);
	for (b = 1; b <= 11; b++) {
		feed_data(&s, b, 512, T0 + b, &tx);
		ck_assert(tx.flags & SESS_TX_WRITE);
		if (b % 4 == 0) {
			ck_assert_uint_eq(tx.flags,
			    SESS_TX_WRITE | SESS_TX_ACK);
			ck_assert_uint_eq(tx.ack_block, b);
			acks++;
		} else {
			ck_assert_uint_eq(tx.flags, SESS_TX_WRITE);
		}
	}
	/* the last block is ACKed even in the middle of a window */
	feed_data(&s, 12, 7, T0 + 12, &tx);
	ck_assert_uint_eq(tx.flags,
	    SESS_TX_WRITE | SESS_TX_COMMIT | SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 12);
	ck_assert_uint_eq(acks, 2);
	ck_assert_uint_eq(s.tx_pkts, 1 + 3);
	ck_assert_uint_eq(s.rx_bytes, 11 * 512 + 7);
	ck_assert_int_eq(s.result, SESS_RES_OK);
	/* the whole last window resent (ACK 12 lost): one ACK, no write */
	for (b = 9; b <= 12; b++) {
		feed_data(&s, b, b == 12 ? 7 : 512, T0 + 1000 + b, &tx);
		ck_assert_uint_eq(tx.flags, b == 12 ? SESS_TX_ACK : 0);
	}
	ck_assert_uint_eq(s.n_dup_data, 4);
}
END_TEST

START_TEST(write_rollover_after_65535)
{
	struct sess s;
	struct sess_tx tx;
	uint64_t blk, now = T0;
	int saw_wire0 = 0;

	start_write(&s, MAX_NONE, 8, 0, &tx);
	ck_assert_uint_eq(s.blksize, 8);
	for (blk = 1; blk <= 70000; blk++) {
		feed_data(&s, (uint16_t)blk, 8, ++now, &tx);
		ck_assert_uint_eq(tx.flags, SESS_TX_WRITE | SESS_TX_ACK);
		ck_assert_uint_eq(tx.ack_block, blk);
		ck_assert_uint_eq(tx.wr_off, (blk - 1) * 8);
		if (blk == 65536) {
			ck_assert_uint_eq((uint16_t)tx.ack_block, 0);
			saw_wire0 = 1;
		}
	}
	ck_assert(saw_wire0);
	/* a dup right after the wrap maps to the right block */
	feed_data(&s, (uint16_t)70000, 8, ++now, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 70000);
	feed_data(&s, (uint16_t)70001, 3, ++now, &tx);
	ck_assert_uint_eq(tx.flags,
	    SESS_TX_WRITE | SESS_TX_COMMIT | SESS_TX_ACK);
	ck_assert_uint_eq(tx.wr_off, 70000ull * 8);
	ck_assert_uint_eq(s.rx_bytes, 70000ull * 8 + 3);
	ck_assert_int_eq(s.result, SESS_RES_OK);
	ck_assert_uint_eq(s.n_dup_data, 1);
}
END_TEST

START_TEST(over_max_bytes_aborts)
{
	struct sess s;
	struct sess_tx tx;

	start_write(&s, 1000, 0, 0, &tx);
	feed_full_acked(&s, 1, T0 + 1, &tx);
	feed_data(&s, 2, 512, T0 + 2, &tx);	/* 1024 > 1000 */
	ck_assert_uint_eq(tx.flags, SESS_TX_ERROR);
	ck_assert_uint_eq(tx.err_code, TFTP_ENOSPACE);
	ck_assert_str_eq(tx.err_msg, "Disk full or allocation exceeded");
	done_with(&s, SESS_RES_ERROR);
	ck_assert_uint_eq(s.err_code, TFTP_ENOSPACE);
	ck_assert_uint_eq(s.rx_bytes, 512);
	ck_assert_uint_eq(s.deadline_ms, 0);
	ck_assert_uint_eq(s.tx_pkts, 3);

	/* exactly the cap is fine, the empty last block too */
	start_write(&s, 1024, 0, 0, &tx);
	feed_full_acked(&s, 1, T0 + 1, &tx);
	feed_full_acked(&s, 2, T0 + 2, &tx);
	feed_data(&s, 3, 0, T0 + 3, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_COMMIT | SESS_TX_ACK);
	ck_assert_int_eq(s.result, SESS_RES_OK);

	/* a cap of 0 takes the empty file only */
	start_write(&s, 0, 0, 0, &tx);
	feed_data(&s, 1, 1, T0 + 1, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_ERROR);
}
END_TEST

START_TEST(oversized_block_refused)
{
	struct sess s;
	struct sess_tx tx;

	/* blksize asked 2048, granted 1468: a client ignoring that */
	start_write(&s, MAX_NONE, 2048, 0, &tx);
	feed_data(&s, 1, 2048, T0 + 1, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_ERROR);
	ck_assert_uint_eq(tx.err_code, TFTP_EBADOP);
	ck_assert_int_eq(s.result, SESS_RES_ERROR);
	ck_assert_uint_eq(s.rx_bytes, 0);
}
END_TEST

START_TEST(client_error_aborts_write)
{
	struct sess s;
	struct sess_tx tx;

	start_write(&s, MAX_NONE, 0, 0, &tx);
	feed_full_acked(&s, 1, T0 + 1, &tx);
	feed_error(&s, TFTP_EUNDEF, T0 + 2, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	done_with(&s, SESS_RES_ABORTED);
	ck_assert_uint_eq(s.err_code, 0);
	ck_assert_uint_eq(s.deadline_ms, 0);
	feed_data(&s, 2, 10, T0 + 3, &tx);
	ck_assert_uint_eq(tx.flags, 0);

	/* ERROR 8 refusing our OACK: aborted, not a probe */
	start_write(&s, MAX_NONE, 1024, 0, &tx);
	feed_error(&s, TFTP_EOPTNEG, T0 + 1, &tx);
	ck_assert_int_eq(s.result, SESS_RES_ABORTED);
	ck_assert_uint_eq(s.err_code, 8);
}
END_TEST

START_TEST(write_timeout_reacks_then_gives_up)
{
	struct sess s;
	struct sess_tx tx;
	uint64_t now;
	unsigned resent = 0;

	/* nothing received after the OACK: OACK again, first_retries */
	start_write(&s, MAX_NONE, 1024, 0, &tx);
	while (s.state != SESS_DONE) {
		sess_timeout(&s, s.deadline_ms, &tx);
		if (tx.flags != 0) {
			ck_assert_uint_eq(tx.flags, SESS_TX_OACK);
			ck_assert(tx.rexmit);
			resent++;
		}
		ck_assert_uint_le(resent, 100);
	}
	ck_assert_uint_eq(resent, lim_default.first_retries);
	ck_assert_int_eq(s.result, SESS_RES_TIMEOUT);

	/* no options: ACK 0 again */
	start_write(&s, MAX_NONE, 0, 0, &tx);
	sess_timeout(&s, s.deadline_ms, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 0);

	/* after DATA: ACK of the last block, doubling, then retries */
	start_write(&s, MAX_NONE, 0, 0, &tx);
	feed_full_acked(&s, 1, T0 + 1, &tx);
	resent = 0;
	now = s.deadline_ms;
	ck_assert_uint_eq(now, T0 + 1 + 1000);
	for (;;) {
		sess_timeout(&s, now, &tx);
		if (s.state == SESS_DONE)
			break;
		ck_assert_uint_eq(tx.flags, SESS_TX_ACK);
		ck_assert_uint_eq(tx.ack_block, 1);
		ck_assert(tx.rexmit);
		resent++;
		ck_assert_uint_eq(s.deadline_ms - now,
		    resent == 1 ? 2000 : resent == 2 ? 4000 : 8000);
		now = s.deadline_ms;
		ck_assert_uint_le(resent, 100);
	}
	ck_assert_uint_eq(resent, lim_default.retries);
	ck_assert_int_eq(s.result, SESS_RES_TIMEOUT);
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_uint_eq(s.n_rexmit, lim_default.retries);

	/* in the middle of a window: ACK the last block in order */
	start_write(&s, MAX_NONE, 0, 8, &tx);
	feed_data(&s, 1, 512, T0 + 1, &tx);
	feed_data(&s, 2, 512, T0 + 2, &tx);
	feed_data(&s, 3, 512, T0 + 3, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_WRITE);
	sess_timeout(&s, s.deadline_ms, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 3);
	/* progress resets the tries; the window counts from ACK 3 */
	feed_data(&s, 4, 512, T0 + 5000, &tx);
	ck_assert_uint_eq(s.tries, 0);
	ck_assert_uint_eq(tx.flags, SESS_TX_WRITE);
}
END_TEST

START_TEST(dally_reacks_retransmitted_last_data)
{
	struct sess s;
	struct sess_tx tx;
	uint64_t end;

	start_write(&s, MAX_NONE, 0, 0, &tx);
	feed_full_acked(&s, 1, T0 + 1, &tx);
	feed_data(&s, 2, 30, T0 + 2, &tx);
	ck_assert_int_eq(s.state, SESS_DALLY);
	end = s.deadline_ms;
	/* the final ACK was lost: the client resends the last DATA */
	feed_data(&s, 2, 30, T0 + 900, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 2);
	ck_assert(tx.rexmit);
	ck_assert_int_eq(s.state, SESS_DALLY);
	ck_assert_int_eq(s.result, SESS_RES_OK);
	ck_assert_uint_eq(s.deadline_ms, end);
	ck_assert_uint_eq(s.rx_bytes, 542);
	/* an older block, or a block past the end: nothing */
	feed_data(&s, 1, 512, T0 + 901, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	feed_data(&s, 3, 512, T0 + 902, &tx);
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_uint_eq(s.rx_bytes, 542);
	/* an ERROR now cannot undo the committed file */
	feed_error(&s, TFTP_EUNDEF, T0 + 903, &tx);
	done_with(&s, SESS_RES_OK);
	sess_timeout(&s, end, &tx);
	ck_assert_uint_eq(tx.flags, 0);
}
END_TEST

START_TEST(empty_upload_single_zero_block)
{
	struct sess s;
	struct sess_tx tx;

	start_write(&s, MAX_NONE, 0, 0, &tx);
	feed_data(&s, 1, 0, T0 + 1, &tx);
	/* nothing to write; the file is made final (empty) and ACKed */
	ck_assert_uint_eq(tx.flags, SESS_TX_COMMIT | SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 1);
	ck_assert_int_eq(s.state, SESS_DALLY);
	ck_assert_int_eq(s.result, SESS_RES_OK);
	ck_assert_uint_eq(s.rx_bytes, 0);
	ck_assert_uint_eq(s.rcvd, 1);
}
END_TEST


/* ---- adaptive retransmission (RFC 1123 4.2.3.2, RFC 6298, Karn) ---- */

static const struct sess_limits lim_rto = {
	.blksize_max = 1468,
	.windowsize_max = 64,
	.timeout_ms = 1000,
	.timeout_max_ms = 5000,
	.retries = 5,
	.first_retries = 3,
	.rto_min_ms = 10,
};

/* Start a read with the adaptive limits; blksize asked: OACK first. */
static void
start_rto(struct sess *s, const struct sess_limits *lim, uint64_t size,
    uint32_t windowsize, struct sess_tx *tx)
{
	struct tftp_req r = req_make(TFTP_OPT_BLKSIZE);

	r.opts.blksize = 512;
	if (windowsize != 0) {
		r.opts.set |= TFTP_OPT_WINDOWSIZE;
		r.opts.windowsize = windowsize;
	}
	ck_assert_int_eq(sess_start_read(s, &r, size, lim, T0, tx), 0);
	ck_assert_uint_eq(tx->flags, SESS_TX_OACK);
}

START_TEST(before_first_sample_fixed_schedule)
{
	struct sess s;
	struct sess_tx tx;

	start_rto(&s, &lim_rto, 100 * 512, 0, &tx);
	ck_assert_uint_eq(sess_rto_ms(&s), 0);
	ck_assert_int_eq(sess_srtt8(&s), -1);
	ck_assert_uint_eq(s.deadline_ms, T0 + 1000);
}
END_TEST

START_TEST(rto_from_first_sample)
{
	struct sess s;
	struct sess_tx tx;

	start_rto(&s, &lim_rto, 100 * 512, 0, &tx);
	/* the OACK, sent once, answered after 40 ms: SRTT 40, RTTVAR 20 */
	feed_ack(&s, 0, T0 + 40, &tx);
	ck_assert_uint_eq(s.rtt_n, 1);
	ck_assert_int_eq(sess_srtt8(&s), 40 * 8);
	ck_assert_uint_eq(sess_rto_ms(&s), 40 + 4 * 20);
	ck_assert_uint_eq(tx.blk_first, 1);
	ck_assert_uint_eq(s.deadline_ms, T0 + 40 + 120);
	/* a second sample of 40: RTTVAR 3/4 * 20 = 15, RTO 40 + 60 */
	feed_ack(&s, 1, T0 + 80, &tx);
	ck_assert_uint_eq(s.rtt_n, 2);
	ck_assert_int_eq(sess_srtt8(&s), 40 * 8);
	ck_assert_uint_eq(sess_rto_ms(&s), 100);
	ck_assert_uint_eq(s.deadline_ms, T0 + 80 + 100);
}
END_TEST

START_TEST(karn_no_sample_after_rexmit)
{
	struct sess s;
	struct sess_tx tx;

	start_rto(&s, &lim_rto, 100 * 512, 0, &tx);
	/* the OACK was resent: its ACK 0 is ambiguous, no sample */
	sess_timeout(&s, T0 + 1000, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_OACK);
	feed_ack(&s, 0, T0 + 1005, &tx);
	ck_assert_uint_eq(s.rtt_n, 0);
	ck_assert_uint_eq(sess_rto_ms(&s), 0);
	ck_assert_uint_eq(s.deadline_ms, T0 + 1005 + 1000);
	/* DATA 1 sent once, ACKed after 4 ms: the first sample */
	feed_ack(&s, 1, T0 + 1009, &tx);
	ck_assert_uint_eq(s.rtt_n, 1);
	ck_assert_uint_eq(tx.blk_first, 2);
	/* DATA 2 resent on the RTO: its ACK gives no sample */
	sess_timeout(&s, s.deadline_ms, &tx);
	ck_assert(tx.rexmit);
	ck_assert_uint_eq(tx.blk_first, 2);
	feed_ack(&s, 2, s.deadline_ms - 1, &tx);
	ck_assert_uint_eq(s.rtt_n, 1);
	ck_assert_int_eq(sess_srtt8(&s), 4 * 8);
}
END_TEST

START_TEST(rto_clamped_to_floor)
{
	struct sess s;
	struct sess_tx tx;

	start_rto(&s, &lim_rto, 100 * 512, 0, &tx);
	/* loopback: answered within the same millisecond */
	feed_ack(&s, 0, T0, &tx);
	ck_assert_uint_eq(sess_rto_ms(&s), 10);
	ck_assert_uint_eq(s.deadline_ms, T0 + 10);
	feed_ack(&s, 1, T0, &tx);
	ck_assert_uint_eq(s.deadline_ms, T0 + 10);
	/* a lost DATA costs the floor, not the configured second */
	sess_timeout(&s, T0 + 10, &tx);
	ck_assert(tx.rexmit);
	ck_assert_uint_eq(tx.blk_first, 2);
	ck_assert_uint_eq(s.n_fast, 1);
	ck_assert_uint_eq(s.tries, 0);
}
END_TEST

START_TEST(rto_capped_by_client_timeout)
{
	struct sess_limits lim = lim_rto;
	struct tftp_req r = req_make(TFTP_OPT_TIMEOUT);
	struct sess s;
	struct sess_tx tx;

	lim.timeout_ms = 3000;
	lim.timeout_max_ms = 9000;
	r.opts.timeout_s = 2;	/* the client asked for 2 s */
	ck_assert_int_eq(sess_start_read(&s, &r, 100 * 512, &lim, T0, &tx), 0);
	/* a slow path: 1.5 s, so SRTT + 4 RTTVAR = 4.5 s */
	feed_ack(&s, 0, T0 + 1500, &tx);
	ck_assert_uint_eq(s.rtt_n, 1);
	ck_assert_uint_eq(sess_rto_ms(&s), 2000);
	ck_assert_uint_eq(s.deadline_ms, T0 + 1500 + 2000);
}
END_TEST

START_TEST(rto_doubles_and_resets_on_progress)
{
	struct sess s;
	struct sess_tx tx;
	uint64_t now = T0;

	start_rto(&s, &lim_rto, 100 * 512, 0, &tx);
	feed_ack(&s, 0, now, &tx);	/* RTO 10 */
	ck_assert_uint_eq(s.deadline_ms, now + 10);
	sess_timeout(&s, now + 10, &tx);
	ck_assert_uint_eq(s.deadline_ms, now + 10 + 20);
	sess_timeout(&s, now + 30, &tx);
	ck_assert_uint_eq(s.deadline_ms, now + 30 + 40);
	ck_assert_uint_eq(s.n_fast, 2);
	ck_assert_uint_eq(s.tries, 0);
	/* progress: back to the RTO itself */
	now += 35;
	feed_ack(&s, 1, now, &tx);
	ck_assert_uint_eq(s.backoff, 0);
	ck_assert_uint_eq(s.deadline_ms, now + 10);
}
END_TEST

/*
 * With an RTT sample, a peer that goes silent is given up at the same
 * time as with the fixed schedule alone (1+2+4+5+5+5 s), and gets only a
 * few early resends more.
 */
START_TEST(giveup_time_unchanged_by_rto)
{
	struct sess_limits fixed = lim_rto;
	struct sess a, b;
	struct sess_tx tx;
	uint64_t end_a = 0, end_b = 0;
	unsigned n = 0;

	fixed.rto_min_ms = 0;
	start_rto(&a, &lim_rto, 100 * 512, 0, &tx);
	start_rto(&b, &fixed, 100 * 512, 0, &tx);
	feed_ack(&a, 0, T0, &tx);
	feed_ack(&b, 0, T0, &tx);
	ck_assert_uint_eq(b.deadline_ms, T0 + 1000);
	while (a.state != SESS_DONE && n < 100) {
		end_a = a.deadline_ms;
		sess_timeout(&a, a.deadline_ms, &tx);
		n++;
	}
	while (b.state != SESS_DONE) {
		end_b = b.deadline_ms;
		sess_timeout(&b, b.deadline_ms, &tx);
	}
	ck_assert_int_eq(a.result, SESS_RES_TIMEOUT);
	ck_assert_int_eq(b.result, SESS_RES_TIMEOUT);
	ck_assert_uint_eq(end_a, end_b);
	ck_assert_uint_eq(end_b, T0 + 1000 + 2000 + 4000 + 5000 * 3);
	ck_assert_uint_eq(b.n_rexmit, 5);
	/* a also resends at 10, 30, 70, 150, 310, 630 ms, and at 2280 ms
	 * (1 s + 10 << 7) before the 3 s expiry: log2(5000 / 10) at most */
	ck_assert_uint_eq(a.n_fast, 7);
	ck_assert_uint_eq(a.n_rexmit, 5 + 7);
	ck_assert_uint_eq(n, a.n_rexmit + 1);
	ck_assert_uint_eq(a.tries, b.tries);
	ck_assert_uint_eq(a.tx_pkts, b.tx_pkts + 7);
}
END_TEST

/* A request that is never answered has no RTT: the bound of
 * first_retries + 1 packets at the configured schedule holds. */
START_TEST(spoofed_request_fixed_schedule)
{
	struct sess s;
	struct sess_tx tx;
	uint64_t expect[] = { 1000, 2000, 4000, 5000 };
	uint64_t now = T0;
	unsigned i;

	start_rto(&s, &lim_rto, 100 * 512, 0, &tx);
	for (i = 0; i < 4; i++) {
		ck_assert_uint_eq(s.deadline_ms, now + expect[i]);
		now = s.deadline_ms;
		sess_timeout(&s, now, &tx);
	}
	done_with(&s, SESS_RES_TIMEOUT);
	ck_assert_uint_eq(s.tx_pkts, 1 + 3);
	ck_assert_uint_eq(s.n_fast, 0);
}
END_TEST

START_TEST(rto_min_zero_keeps_fixed_schedule)
{
	struct sess_limits lim = lim_rto;
	struct sess s;
	struct sess_tx tx;

	lim.rto_min_ms = 0;
	start_rto(&s, &lim, 100 * 512, 0, &tx);
	feed_ack(&s, 0, T0 + 3, &tx);
	ck_assert_uint_eq(sess_rto_ms(&s), 0);
	ck_assert_uint_eq(s.deadline_ms, T0 + 3 + 1000);
}
END_TEST

START_TEST(gap_ack_resends_at_once)
{
	struct sess s;
	struct sess_tx tx;

	start_rto(&s, &lim_rto, 100 * 512, 8, &tx);
	feed_ack(&s, 0, T0 + 2, &tx);
	tx_is(&tx, SESS_TX_DATA, 1, 8);
	/* block 4 lost: the client ACKs 3 when 5 arrives */
	feed_ack(&s, 3, T0 + 3, &tx);
	tx_is(&tx, SESS_TX_DATA, 4, 8);
	ck_assert_uint_eq(s.n_gap, 1);
	ck_assert_uint_eq(s.n_rexmit, 5);	/* 4..8 again */
	/* a partial ACK is no RTT sample (sent on a later block) */
	ck_assert_uint_eq(s.rtt_n, 1);
	/* the window's last block is new: its ACK is a sample */
	feed_ack(&s, 11, T0 + 5, &tx);
	ck_assert_uint_eq(s.rtt_n, 2);
	ck_assert_uint_eq(tx.blk_first, 12);
}
END_TEST

START_TEST(dup_ack_storm_bounded)
{
	struct sess s;
	struct sess_tx tx;
	uint64_t pkts;
	unsigned i, sends = 0;

	start_rto(&s, &lim_rto, 1000 * 512, 16, &tx);
	feed_ack(&s, 0, T0 + 1, &tx);
	pkts = s.tx_pkts;
	/* block 1 lost; a client (or a replaying attacker) sends ACK 0
	 * a thousand times */
	for (i = 0; i < 1000; i++) {
		feed_ack(&s, 0, T0 + 2, &tx);
		if (tx.flags & SESS_TX_DATA)
			sends++;
	}
	ck_assert_uint_eq(sends, 1);
	ck_assert_uint_eq(s.tx_pkts, pkts + 16);
	ck_assert_uint_eq(s.n_dup_ack, 1000);
	/* after progress that stops at a gap, the same: one resend at
	 * the partial ACK and none for its duplicates */
	feed_ack(&s, 5, T0 + 3, &tx);
	ck_assert_uint_eq(tx.blk_first, 6);
	pkts = s.tx_pkts;
	for (i = 0; i < 1000; i++)
		feed_ack(&s, 5, T0 + 4, &tx);
	ck_assert_uint_eq(s.tx_pkts, pkts);
}
END_TEST

/*
 * A spurious timeout in a windowed transfer: the client had the window
 * and answers our copy of its last block with that ACK again after we
 * moved on. Resending the next window on that echo would make the client
 * echo again on every later window (Sorcerer's Apprentice).
 */
START_TEST(spurious_timeout_echo_no_apprentice)
{
	struct sess s;
	struct sess_tx tx;
	uint64_t pkts, w;

	start_rto(&s, &lim_rto, 1000 * 512, 4, &tx);
	feed_ack(&s, 0, T0, &tx);		/* 1..4 out, RTO 10 */
	sess_timeout(&s, T0 + 10, &tx);		/* the ACK was just late */
	ck_assert(tx.rexmit);
	feed_ack(&s, 4, T0 + 11, &tx);		/* the original ACK 4 */
	ck_assert_uint_eq(tx.blk_first, 5);
	ck_assert_uint_eq(s.rtt_n, 1);		/* Karn: no sample yet */
	feed_ack(&s, 4, T0 + 11, &tx);		/* echo of our copy of 4 */
	ck_assert_uint_eq(tx.flags, 0);
	/* the echo proves the timeout spurious: the late ACK's 11 ms is
	 * a sample after all (RFC 4015): RTTVAR 11/4, RTO 1 + 11 */
	ck_assert_uint_eq(s.rtt_n, 2);
	ck_assert_uint_eq(sess_rto_ms(&s), 12);
	pkts = s.tx_pkts;
	for (w = 8; w <= 40; w += 4) {
		feed_ack(&s, (uint16_t)w, T0 + 12, &tx);
		ck_assert_uint_eq(tx.blk_first, w + 1);
		ck_assert(!tx.rexmit);
	}
	ck_assert_uint_eq(s.tx_pkts, pkts + 9 * 4);
	ck_assert_uint_eq(s.n_rexmit, 4);
	/* a real loss signal later still resends at once */
	feed_ack(&s, 40, T0 + 13, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_DATA);
	ck_assert_uint_eq(tx.blk_first, 41);
}
END_TEST

/* A client slow by design (ACKs held 100 ms): RTTVAR tends to 0, the
 * RTO stays at twice the SRTT. */
START_TEST(rto_at_least_twice_srtt)
{
	struct sess s;
	struct sess_tx tx;
	uint64_t now = T0;
	unsigned i;

	start_rto(&s, &lim_rto, 1000 * 512, 0, &tx);
	now += 100;
	feed_ack(&s, 0, now, &tx);
	for (i = 1; i <= 40; i++) {
		now += 100;
		feed_ack(&s, (uint16_t)i, now, &tx);
	}
	ck_assert_int_eq(sess_srtt8(&s), 100 * 8);
	ck_assert_uint_lt(s.rttvar4, 10);
	ck_assert_uint_eq(sess_rto_ms(&s), 200);
	ck_assert_uint_eq(s.deadline_ms, now + 200);
}
END_TEST

START_TEST(old_dup_ack_never_resends)
{
	struct sess s;
	struct sess_tx tx;

	start_rto(&s, &lim_rto, 1000 * 512, 4, &tx);
	feed_ack(&s, 0, T0, &tx);
	feed_ack(&s, 4, T0, &tx);
	feed_ack(&s, 2, T0, &tx);		/* late copy of an old ACK */
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_uint_eq(s.n_dup_ack, 1);
}
END_TEST

START_TEST(upload_rtt_from_answered_ack)
{
	struct tftp_req r = req_make(0);
	struct sess s;
	struct sess_tx tx;

	ck_assert_int_eq(sess_start_write(&s, &r, UINT64_MAX, &lim_rto, T0,
	    &tx), 0);
	ck_assert_uint_eq(tx.flags, SESS_TX_ACK);
	ck_assert_uint_eq(s.deadline_ms, T0 + 1000);
	/* ACK 0, sent once, answered by DATA 1 after 30 ms */
	feed_data(&s, 1, 512, T0 + 30, &tx);
	ck_assert_uint_eq(s.rtt_n, 1);
	ck_assert_uint_eq(sess_rto_ms(&s), 30 + 60);
	ck_assert_uint_eq(s.deadline_ms, T0 + 30 + 90);
	/* our ACK 1 is lost: resent on the RTO, then DATA 2 is no sample */
	sess_timeout(&s, s.deadline_ms, &tx);
	ck_assert_uint_eq(tx.flags, SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 1);
	ck_assert(tx.rexmit);
	ck_assert_uint_eq(s.n_fast, 1);
	feed_data(&s, 2, 512, s.deadline_ms - 1, &tx);
	ck_assert_uint_eq(s.rtt_n, 1);
	/* ACK 2 sent once, DATA 3 answers it: a sample */
	feed_data(&s, 3, 512, s.deadline_ms - 1, &tx);
	ck_assert_uint_eq(s.rtt_n, 2);
}
END_TEST

START_TEST(upload_gap_ack_counted)
{
	struct sess s;
	struct sess_tx tx;

	start_write(&s, MAX_NONE, 0, 4, &tx);
	feed_data(&s, 1, 512, T0 + 1, &tx);
	feed_data(&s, 3, 512, T0 + 1, &tx);	/* 2 lost */
	ck_assert_uint_eq(tx.flags, SESS_TX_ACK);
	ck_assert_uint_eq(tx.ack_block, 1);
	feed_data(&s, 4, 512, T0 + 1, &tx);	/* once per gap */
	ck_assert_uint_eq(tx.flags, 0);
	ck_assert_uint_eq(s.n_gap, 1);
}
END_TEST

static Suite *
sess_suite(void)
{
	Suite *su = suite_create("sess");
	TCase *tc = tcase_create("rrq");

	tcase_add_test(tc, no_options_sends_data1);
	tcase_add_test(tc, options_send_oack_only_requested);
	tcase_add_test(tc, blksize_clamped_to_max);
	tcase_add_test(tc, windowsize_clamped_to_max);
	tcase_add_test(tc, tsize_reports_size);
	tcase_add_test(tc, timeout_option_sets_interval);
	tcase_add_test(tc, unknown_options_only_is_plain_rfc1350);
	tcase_add_test(tc, ack0_after_oack_starts_data);
	tcase_add_test(tc, empty_file_one_zero_block);
	tcase_add_test(tc, exact_multiple_ends_with_zero_block);
	tcase_add_test(tc, dup_ack_does_not_resend);
	tcase_add_test(tc, timeout_retransmits_same_block);
	tcase_add_test(tc, oack_timeout_resends_oack);
	tcase_add_test(tc, backoff_doubles_and_caps);
	tcase_add_test(tc, gives_up_after_retries);
	tcase_add_test(tc, first_packet_sent_at_most_first_retries_plus_one);
	tcase_add_loop_test(tc, client_error_ends_read, 0,
	    sizeof(client_error_cases) / sizeof(client_error_cases[0]));
	tcase_add_test(tc, rollover_after_65535);
	tcase_add_test(tc, rollover_windowed_maps_wire_acks);
	tcase_add_test(tc, window_sends_windowsize_blocks);
	tcase_add_test(tc, window_gap_ack_resends_from_next);
	tcase_add_test(tc, window_dup_ack_resends_once);
	tcase_add_test(tc, ack_for_unsent_block_ignored);
	tcase_add_test(tc, other_packet_types_ignored);
	tcase_add_test(tc, done_ignores_input);
	tcase_add_test(tc, last_ack_completes);
	tcase_add_test(tc, counters_count_packets_and_bytes);
	tcase_add_test(tc, acked_bytes_count_delivery_not_resends);
	tcase_add_test(tc, gap_resend_answers_later_dup_acks);
	tcase_add_test(tc, large_timeout_waits_for_first_ack);
	tcase_add_test(tc, fail_ends_with_error);
	tcase_add_test(tc, result_names);
	tcase_add_test(tc, pend_sets_defaults_then_start_resets);
	tcase_add_test(tc, pend_close_is_aborted);
	suite_add_tcase(su, tc);

	tc = tcase_create("wrq");
	tcase_add_test(tc, wrq_no_options_acks_0);
	tcase_add_test(tc, wrq_options_oack);
	tcase_add_test(tc, wrq_tsize_over_max_refused);
	tcase_add_test(tc, wrq_size_differs_from_tsize_refused);
	tcase_add_test(tc, data_in_order_written_and_acked);
	tcase_add_test(tc, last_short_block_commits_then_acks);
	tcase_add_test(tc, dup_data_reacked_not_rewritten);
	tcase_add_test(tc, gap_in_window_acks_last_in_order);
	tcase_add_test(tc, window_acks_every_nth);
	tcase_add_test(tc, write_rollover_after_65535);
	tcase_add_test(tc, over_max_bytes_aborts);
	tcase_add_test(tc, oversized_block_refused);
	tcase_add_test(tc, client_error_aborts_write);
	tcase_add_test(tc, write_timeout_reacks_then_gives_up);
	tcase_add_test(tc, dally_reacks_retransmitted_last_data);
	tcase_add_test(tc, empty_upload_single_zero_block);
	suite_add_tcase(su, tc);

	tc = tcase_create("rto");
	tcase_add_test(tc, before_first_sample_fixed_schedule);
	tcase_add_test(tc, rto_from_first_sample);
	tcase_add_test(tc, karn_no_sample_after_rexmit);
	tcase_add_test(tc, rto_clamped_to_floor);
	tcase_add_test(tc, rto_capped_by_client_timeout);
	tcase_add_test(tc, rto_doubles_and_resets_on_progress);
	tcase_add_test(tc, giveup_time_unchanged_by_rto);
	tcase_add_test(tc, spoofed_request_fixed_schedule);
	tcase_add_test(tc, rto_min_zero_keeps_fixed_schedule);
	tcase_add_test(tc, gap_ack_resends_at_once);
	tcase_add_test(tc, dup_ack_storm_bounded);
	tcase_add_test(tc, spurious_timeout_echo_no_apprentice);
	tcase_add_test(tc, old_dup_ack_never_resends);
	tcase_add_test(tc, rto_at_least_twice_srtt);
	tcase_add_test(tc, upload_rtt_from_answered_ack);
	tcase_add_test(tc, upload_gap_ack_counted);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return unit_run(sess_suite());
}
