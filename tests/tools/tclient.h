/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tclient.h - the TFTP read client, written once for the test client
 * (tests/tools/tftpc.c) and the load generator (tests/bench/loadgen.c).
 * Pure part (tclient.c): the request with its options, the OACK check
 * (only options asked for, each once, within the asked bounds), DATA
 * classification (new, gap, resend) with absolute block numbers so the
 * 16-bit wire number rolls over, window bookkeeping (which ACK is due),
 * byte verification against the expected content and error text. No
 * syscalls, no clock, no allocation, no globals: packets and lengths go
 * in, decisions come out; the callers own sockets, timers and policy
 * (loss injection, stalls, counters). I/O part (tcio.c): what both
 * programs do the same way with sockets, clocks and arguments.
 */
#ifndef PTFTPD_TCLIENT_H
#define PTFTPD_TCLIENT_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tftp.h"

#define TCLIENT_WHY_LEN	160

/* The options a request asks for; 0 / false: not asked. */
struct tclient_ask {
	uint32_t	 blksize;
	uint32_t	 windowsize;
	unsigned	 timeout_s;
	bool		 tsize;		/* tsize 0: the server says the size */
};

/* One read transfer's protocol state. */
struct tclient {
	uint64_t	 next;		/* absolute number of the wanted block */
	uint64_t	 gap_acked;	/* `next` of the last gap ACK, 0 none */
	uint32_t	 blksize;	/* in force: 512 until an OACK */
	uint32_t	 window;	/* in force: 1 until an OACK */
	uint32_t	 win_cnt;	/* in-order blocks since the last ACK */
	bool		 started;	/* an OACK or DATA 1 settled options */
};

enum tclient_oack {
	TCLIENT_OACK_OK,	/* applied: send ACK 0 */
	TCLIENT_OACK_AGAIN,	/* a resend (our ACK 0 was lost): ACK 0
				 * again if c->next is still 1 */
	TCLIENT_OACK_BAD,	/* refused, *why says why */
};

/* What a DATA packet (length already checked) is. */
enum tclient_step {
	TCLIENT_NEW,		/* the block wanted: verify, then take it */
	TCLIENT_GAP,		/* a block is missing (RFC 7440): send the
				 * ACK tclient_ack() gives, once per gap */
	TCLIENT_WAIT,		/* the same gap again: drop it */
	TCLIENT_OLD,		/* a block we have (a resend): drop it */
	TCLIENT_OLD_ACK,	/* the last block we have, resent: our ACK
				 * was lost, send tclient_ack() again */
};

/* What taking an in-order block makes due. */
enum tclient_take {
	TCLIENT_TAKE_MORE,	/* the window is not full: no ACK yet */
	TCLIENT_TAKE_ACK,	/* the window is full: ACK now */
	TCLIENT_TAKE_LAST,	/* a short block, the last: ACK, done */
};

/* Fresh state: block 1 wanted, blksize 512, window 1. */
void	tclient_init(struct tclient *c);

/*
 * The RRQ or WRQ (op) for file in mode with the options of ask, into buf
 * (capacity cap). Returns its length, 0 if it does not fit.
 */
size_t	tclient_request(uint8_t *buf, size_t cap, enum tftp_op op,
	    const char *file, const char *mode, const struct tclient_ask *ask);

/* Whether ask asks for any option (an OACK may come back at all). */
bool	tclient_asked(const struct tclient_ask *ask);

/*
 * An OACK: pkt/len the raw packet (tftp_decode keeps only the options it
 * knows, so an unasked or unknown name is looked for here), o what
 * tftp_decode made of it. Every option must have been asked for, once,
 * blksize and windowsize within what was asked, timeout equal to it; if
 * tsize is not NULL an OACK tsize must equal *tsize. On OK the granted
 * blksize and window are in force and c->started is set.
 */
enum tclient_oack tclient_oack(struct tclient *c,
	    const struct tclient_ask *ask, const uint8_t *pkt, size_t len,
	    const struct tftp_opts *o, const uint64_t *tsize,
	    char why[TCLIENT_WHY_LEN]);

/*
 * The checks every DATA passes first: before any reply only block 1 may
 * come (the server took no option, RFC 2347: blksize 512, window 1 stay;
 * c->started is set), and no payload is longer than the block size.
 * Returns 0, or -1 and why.
 */
int	tclient_data_check(struct tclient *c, uint16_t block, size_t len,
	    char why[TCLIENT_WHY_LEN]);

/* Classifies DATA block against c->next (16-bit wire distance). A GAP
 * records that its ACK is going out. */
enum tclient_step tclient_data_step(struct tclient *c, uint16_t block);

/* Byte offset of the block wanted in the file. */
uint64_t tclient_offset(const struct tclient *c);

/* Takes the in-order block of len bytes (verified by the caller). */
enum tclient_take tclient_take(struct tclient *c, size_t len);

/* An ACK goes out now: returns its absolute block number (next - 1; the
 * wire carries it modulo 65536) and restarts the window count. */
uint64_t tclient_ack(struct tclient *c);

/*
 * The len bytes d received at offset off, compared with the expected
 * exp/exp_size; last: it is the short final block, so the length must
 * end exactly there. Returns 0, or -1 and why ("content differs at
 * offset N" names the first differing byte). exp NULL: nothing expected.
 */
int	tclient_verify(const uint8_t *exp, uint64_t exp_size, uint64_t off,
	    const uint8_t *d, size_t len, bool last,
	    char why[TCLIENT_WHY_LEN]);

/* "ERROR code \"message\"" of a decoded ERROR, the server's message with
 * bytes outside printable ASCII as \xNN (it comes from the network). */
void	tclient_error_text(const struct tftp_msg *m, char *buf, size_t n);

/* splitmix64: deterministic loss injection. pct 0 draws nothing. */
uint64_t tclient_rng(uint64_t *state);
bool	tclient_rng_pct(uint64_t *state, unsigned pct);

/* ---- I/O part (tcio.c): sockets, clock, arguments ---------------------- */

/* "a.b.c.d", "::1" or "[::1]" and port into *ss; -1 if not a literal. */
int	tcio_resolve(const char *host, unsigned port,
	    struct sockaddr_storage *ss, socklen_t *len);

/* Same IP address (the port is the server's transfer ID, not checked). */
bool	tcio_same_host(const struct sockaddr_storage *a,
	    const struct sockaddr_storage *b);

int	tcio_port(const struct sockaddr_storage *ss);

/* A window of big blocks arrives in one burst: SO_RCVBUFFORCE (root),
 * else SO_RCVBUF. Failure is harmless (a smaller buffer). */
void	tcio_rcvbuf(int fd, int bytes);

/* CLOCK_MONOTONIC in microseconds. */
uint64_t tcio_now_us(void);

/* A command-line number in [min, max]; on junk calls usage (which does
 * not return) with "what: bad value \"s\" (min..max)". */
uint64_t tcio_arg_u64(const char *s, uint64_t min, uint64_t max,
	    const char *what, void (*usage)(const char *));

#endif
