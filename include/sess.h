/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sess.h - one transfer, read direction (RRQ) or write direction (WRQ).
 * Pure: no syscalls, no clock, no allocation, no logging. The caller passes
 * `now` (monotonic ms) and decoded packets in; the session answers with a
 * struct sess_tx telling the caller what to put on the wire, and on the
 * write side what to write to the file. Bytes are never copied here: the
 * caller maps absolute block numbers to body offsets with sess_block_span()
 * (read), and writes tx->wr_data, which points into its own packet buffer,
 * at tx->wr_off (write).
 *
 * Blocks are numbered absolutely from 1 (uint64_t) so files of any size
 * work; the wire number is (abs & 0xffff), which wraps 65535 -> 0.
 * Absolute block 0 stands for the OACK (read) or for ACK 0 / the OACK
 * (write).
 */
#ifndef PTFTPD_SESS_H
#define PTFTPD_SESS_H

#include <stdbool.h>
#include <stdint.h>

#include "tftp.h"

enum sess_state {
	SESS_IDLE = 0,		/* not started */
	SESS_OACK_SENT,		/* OACK out, waiting for ACK 0 */
	SESS_SENDING,		/* window out, waiting for an ACK */
	SESS_DONE,		/* finished; see result */
	SESS_RECEIVING,		/* write: ACK 0 or OACK out, taking DATA */
	SESS_DALLY,		/* write: committed, final ACK out; re-ACK
				 * a retransmitted last DATA until the
				 * deadline (result is already OK) */
};

enum sess_result {
	SESS_RES_NONE = 0,	/* still running */
	SESS_RES_OK,		/* last block acknowledged */
	SESS_RES_PROBE,		/* ERROR 0/8 right after OACK: size probe */
	SESS_RES_ABORTED,	/* client sent ERROR during the transfer */
	SESS_RES_TIMEOUT,	/* retries exhausted / gave up */
	SESS_RES_ERROR,		/* server ended it (sess_fail) */
};

/* Server policy for negotiation and retransmission, from the config. */
struct sess_limits {
	uint32_t	blksize_max;	/* clamp for blksize (8..65464) */
	uint32_t	windowsize_max;	/* clamp for windowsize (1..65535) */
	uint32_t	timeout_ms;	/* retransmit interval w/o option */
	uint32_t	timeout_max_ms;	/* cap for interval after back-off */
	uint32_t	retries;	/* retransmissions without progress */
	uint32_t	first_retries;	/* same, before anything was ACKed */
	uint32_t	rto_min_ms;	/* floor of the adaptive RTO; 0: the
					 * fixed schedule alone (no RTT) */
};

/*
 * What to do now. The read side sets at most one flag. The write side may
 * set WRITE, COMMIT and ACK together, and the caller acts on them in this
 * order: write wr_data first, then commit (fsync + rename), then send the
 * ACK. If the write or the commit fails the caller calls sess_fail() and
 * sends an ERROR instead of the ACK: a client must never see the final ACK
 * of a file that is not safely under its final name.
 */
#define SESS_TX_OACK	(1u << 0)	/* encode s->oack and send it */
#define SESS_TX_DATA	(1u << 1)	/* send blocks blk_first.. +blk_count */
#define SESS_TX_ERROR	(1u << 2)	/* send ERROR err_code/err_msg */
#define SESS_TX_ACK	(1u << 3)	/* write: send ACK (uint16_t)ack_block */
#define SESS_TX_WRITE	(1u << 4)	/* write: wr_len bytes at wr_off */
#define SESS_TX_COMMIT	(1u << 5)	/* write: last block, make file final */

struct sess_tx {
	unsigned	 flags;
	uint64_t	 blk_first;	/* absolute block number, >= 1 */
	uint32_t	 blk_count;
	uint16_t	 err_code;
	const char	*err_msg;	/* static string */
	bool		 rexmit;	/* this is a retransmission */
	/* write direction */
	uint64_t	 ack_block;	/* absolute; the wire number is & 0xffff */
	uint64_t	 wr_off;	/* absolute offset in the wire stream */
	const uint8_t	*wr_data;	/* into the caller's packet buffer */
	uint32_t	 wr_len;	/* 1..blksize (WRITE is never empty) */
};

struct sess {
	enum sess_state	 state;
	enum sess_result result;
	uint16_t	 err_code;	/* ERROR code received or sent */
	enum tftp_mode	 mode;
	struct tftp_opts oack;		/* options granted (OACK content) */
	uint32_t	 blksize;
	uint32_t	 windowsize;
	uint32_t	 timeout_ms;	/* base retransmit interval */
	uint32_t	 timeout_max_ms;
	uint32_t	 timeout_cfg_ms;	/* configured, before any ACK */
	uint32_t	 retries;
	uint32_t	 first_retries;
	uint64_t	 size;		/* body bytes (after netascii) */
	uint64_t	 nblocks;	/* size / blksize + 1 */
	uint64_t	 acked;		/* highest block ACKed (0: none/OACK) */
	uint64_t	 sent;		/* highest block sent */
	uint64_t	 start_ms;
	uint64_t	 deadline_ms;	/* next timeout; 0 when DONE */
	uint32_t	 tries;		/* retransmissions since progress */
	bool		 progressed;	/* client ACKed something */
	bool		 dup_rexmit;	/* windowed: resent for a dup ACK */
	uint64_t	 echo_blk;	/* last block of our last resend */
	uint32_t	 echo_n;	/* its echoes (dup ACKs) to ignore */
	uint64_t	 late_rtt_ms;	/* first copy to ACK, if the resend
					 * proves spurious (echo) */
	/*
	 * Adaptive retransmission (RFC 1123 4.2.3.2, RFC 6298). SRTT and
	 * RTTVAR in Jacobson's fixed point, from replies to packets sent
	 * once (Karn). All the blocks of a burst leave at the same `now`,
	 * so one timestamp per burst is the per-block timestamp: rtt_ts_ms
	 * is when the packets from rtt_lo up (blocks; 0 is the OACK or
	 * ACK 0) were first sent, valid while rtt_armed. A retransmission
	 * disarms it. The fixed schedule (sess_interval) still runs as
	 * legacy_ms and alone counts tries: the give-up rule is unchanged.
	 */
	uint32_t	 rto_min_ms;
	uint32_t	 srtt8;		/* smoothed RTT, 1/8 ms */
	uint32_t	 rttvar4;	/* RTT variation, 1/4 ms */
	uint32_t	 rtt_n;		/* RTT samples taken */
	uint32_t	 backoff;	/* RTO doublings since progress */
	bool		 rtt_armed;
	uint64_t	 rtt_lo;
	uint64_t	 rtt_ts_ms;
	uint64_t	 legacy_ms;	/* next expiry of the fixed schedule */
	/* figures for the transfer log line and stats */
	uint32_t	 n_rexmit;	/* packets retransmitted */
	uint32_t	 n_dup_ack;	/* duplicate ACKs ignored */
	uint32_t	 n_gap;		/* gaps repaired at once: resent on a
					 * partial or duplicate ACK (read),
					 * gap ACKs sent (write) */
	uint32_t	 n_fast;	/* resends on the adaptive RTO before
					 * the fixed schedule's expiry */
	uint32_t	 n_rx;		/* packets received */
	uint64_t	 tx_pkts;	/* packets sent */
	uint64_t	 tx_bytes;	/* payload bytes sent in DATA */
	/* write direction (zero on the read side) */
	enum tftp_op	 op;		/* TFTP_RRQ or TFTP_WRQ */
	uint64_t	 max_bytes;	/* upload cap, UINT64_MAX: none */
	uint64_t	 tsize_wrq;	/* size the WRQ announced; 0: none */
	uint64_t	 rcvd;		/* highest block taken in order */
	uint64_t	 ack_sent;	/* block of the last ACK sent */
	bool		 gap_acked;	/* ACKed a gap since the last block */
	uint32_t	 n_dup_data;	/* duplicate DATA, never rewritten */
	uint64_t	 rx_bytes;	/* payload bytes taken for writing */
};

/*
 * Start a read transfer of a body of `size` bytes for request `req`.
 * Negotiates options (only those the client asked for, clamped to `lim`,
 * once each) and fills *tx with the first packet: the OACK if any option
 * was granted, else DATA 1 (RFC 1350 behaviour). Returns 0, or a TFTP
 * error code if the request cannot be served (then nothing is to be sent
 * by the session and the caller answers with that error). O(1).
 */
int	sess_start_read(struct sess *s, const struct tftp_req *req,
	    uint64_t size, const struct sess_limits *lim, uint64_t now,
	    struct sess_tx *tx);

/*
 * Start a write transfer (WRQ) of at most max_bytes wire bytes
 * (UINT64_MAX: no cap). Negotiates blksize, timeout and windowsize as the
 * read side does; a tsize the client announces is echoed, or refused when
 * it exceeds max_bytes: then the return is TFTP_ENOSPACE, the session is
 * DONE (RES_ERROR), nothing was acknowledged, and the caller answers
 * ERROR 3 and discards its upload file. Otherwise returns 0 and *tx holds
 * the OACK if any option was granted, else ACK 0. The session is byte
 * agnostic: netascii conversion is the caller's (fs_upload_write), and
 * max_bytes counts wire bytes, which are never fewer than file bytes. O(1).
 */
int	sess_start_write(struct sess *s, const struct tftp_req *req,
	    uint64_t max_bytes, const struct sess_limits *lim, uint64_t now,
	    struct sess_tx *tx);

/*
 * A transfer that waits for its content (an exec handler's output)
 * before its first packet: no option negotiated, nothing to send yet.
 * Sets what the log line, the counters and the timer read: op, mode, the
 * RFC 1350 blksize and windowsize, start_ms = now and deadline_ms (the
 * caller's give-up time). sess_start_read starts it over when the
 * content is there; sess_close ends it as ABORTED. O(1).
 */
void	sess_pend(struct sess *s, enum tftp_op op, enum tftp_mode mode,
	    uint64_t now, uint64_t deadline_ms);

/*
 * Feed one packet received from the session's peer. Fills *tx (flags 0
 * when nothing is to be sent). Read side: never retransmits on a duplicate
 * ACK in lock-step mode (RFC 1123 4.2.3.1). Write side: the next DATA in
 * order gives WRITE (unless empty), an ACK when it completes a window or
 * is short, and COMMIT when it is short (the last); tx->wr_data points
 * into m's buffer, so the caller writes it before reusing that buffer.
 * A DATA already written is never handed out again. Going past max_bytes
 * gives ERROR 3 with the session DONE (RES_ERROR). O(1).
 */
void	sess_input(struct sess *s, const struct tftp_msg *m, uint64_t now,
	    struct sess_tx *tx);

/*
 * Called when now >= s->deadline_ms: retransmit with back-off, or give up
 * (state DONE, result TIMEOUT, tx flags 0). On the write side the
 * retransmission is the OACK (nothing received yet) or an ACK of the last
 * block received in order; the end of SESS_DALLY makes the session DONE
 * with its result (OK) unchanged and nothing to send. O(1).
 */
void	sess_timeout(struct sess *s, uint64_t now, struct sess_tx *tx);

/*
 * End the session from the server side (I/O failure, including a failed
 * write or commit of an upload): DONE, RES_ERROR.
 */
void	sess_fail(struct sess *s, uint16_t code);

/* End without sending anything (replaced, drain); see sess.c. Returns
 * true when a running transfer was cut short (result ABORTED). */
bool	sess_close(struct sess *s);

/* Byte range of absolute block blk (1..nblocks) in the body. O(1). */
void	sess_block_span(const struct sess *s, uint64_t blk, uint64_t *off,
	    uint32_t *len);

/* Smoothed RTT in 1/8 ms, or -1 before the first sample. O(1). */
int64_t	sess_srtt8(const struct sess *s);

/* The adaptive RTO now (before back-off), or 0 when there is none and
 * the fixed schedule rules. O(1). */
uint32_t sess_rto_ms(const struct sess *s);

/* Payload bytes delivered: acknowledged (RRQ) or received (WRQ). */
uint64_t sess_acked_bytes(const struct sess *s);

/* "ok", "probe", "aborted", "timeout", "error", "running" */
const char *sess_result_name(enum sess_result r);

#endif
