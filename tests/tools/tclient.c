/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tclient.c - the pure part of the test clients' TFTP read protocol
 * (RFC 1350/2347/2348/2349/7440), shared by tftpc and loadgen: request
 * encoding, the strict OACK check, DATA classification with absolute
 * block numbers (the wire's 16-bit number rolls over 65535 -> 0), which
 * ACK a window makes due, byte verification and error text. It makes no
 * syscall, reads no clock, allocates nothing and keeps no globals, so
 * tests/unit/check_tclient.c drives it with bytes alone. Sockets, timers,
 * retransmission, loss injection and counting stay with the callers.
 *
 * Receiving, in short: ACK 0 answers an OACK; a DATA 1 without one means
 * the server took no option. Every window-th in-order block and the
 * short last one are ACKed; on a gap the last in-order block is ACKed
 * once; a repeat of the last block we have is ACKed again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tclient.h"

void
tclient_init(struct tclient *c)
{
	memset(c, 0, sizeof(*c));
	c->next = 1;
	c->blksize = TFTP_BLKSIZE_DEFAULT;
	c->window = 1;
}

bool
tclient_asked(const struct tclient_ask *ask)
{
	return ask->blksize || ask->windowsize || ask->timeout_s || ask->tsize;
}

size_t
tclient_request(uint8_t *buf, size_t cap, enum tftp_op op, const char *file,
    const char *mode, const struct tclient_ask *ask)
{
	struct tftp_opts o;

	memset(&o, 0, sizeof(o));
	if (ask->blksize) {
		o.set |= TFTP_OPT_BLKSIZE;
		o.blksize = ask->blksize;
	}
	if (ask->windowsize) {
		o.set |= TFTP_OPT_WINDOWSIZE;
		o.windowsize = ask->windowsize;
	}
	if (ask->timeout_s) {
		o.set |= TFTP_OPT_TIMEOUT;
		o.timeout_s = ask->timeout_s;
	}
	if (ask->tsize) {
		o.set |= TFTP_OPT_TSIZE;
		o.tsize = 0;
	}
	return tftp_encode_req(buf, cap, op, file, mode, &o);
}

/* The TFTP_OPT_ bit of an option name if ask asked for it, else 0. */
static unsigned
tclient_opt_asked(const struct tclient_ask *ask, const char *name)
{
	if (strcasecmp(name, "blksize") == 0 && ask->blksize)
		return TFTP_OPT_BLKSIZE;
	if (strcasecmp(name, "windowsize") == 0 && ask->windowsize)
		return TFTP_OPT_WINDOWSIZE;
	if (strcasecmp(name, "timeout") == 0 && ask->timeout_s)
		return TFTP_OPT_TIMEOUT;
	if (strcasecmp(name, "tsize") == 0 && ask->tsize)
		return TFTP_OPT_TSIZE;
	return 0;
}

/* The raw option list: every name asked for, each once. */
static int
tclient_oack_names(const struct tclient_ask *ask, const uint8_t *p,
    size_t len, char why[TCLIENT_WHY_LEN])
{
	size_t i = 2;
	unsigned seen = 0, bit;

	while (i < len) {
		const char *name = (const char *)p + i;

		if (memchr(p + i, '\0', len - i) == NULL) {
			snprintf(why, TCLIENT_WHY_LEN,
			    "OACK option name not NUL-terminated");
			return -1;
		}
		i += strlen(name) + 1;
		if (i >= len || memchr(p + i, '\0', len - i) == NULL) {
			snprintf(why, TCLIENT_WHY_LEN,
			    "OACK option without a value");
			return -1;
		}
		i += strlen((const char *)p + i) + 1;
		if ((bit = tclient_opt_asked(ask, name)) == 0) {
			snprintf(why, TCLIENT_WHY_LEN, "OACK carries option "
			    "\"%.40s\" that was not asked for", name);
			return -1;
		}
		if (seen & bit) {
			snprintf(why, TCLIENT_WHY_LEN,
			    "OACK repeats an option");
			return -1;
		}
		seen |= bit;
	}
	if (seen == 0) {
		snprintf(why, TCLIENT_WHY_LEN, "empty OACK");
		return -1;
	}
	return 0;
}

/* The values: returns 0 or -1 and why; applies nothing. */
static int
tclient_oack_values(const struct tclient_ask *ask, const struct tftp_opts *o,
    const uint64_t *tsize, char why[TCLIENT_WHY_LEN])
{
	if ((o->set & TFTP_OPT_BLKSIZE) && (o->blksize < TFTP_BLKSIZE_MIN ||
	    o->blksize > ask->blksize)) {
		snprintf(why, TCLIENT_WHY_LEN, "OACK blksize %u out of range",
		    o->blksize);
		return -1;
	}
	if ((o->set & TFTP_OPT_WINDOWSIZE) && (o->windowsize < 1 ||
	    o->windowsize > ask->windowsize)) {
		snprintf(why, TCLIENT_WHY_LEN, "OACK windowsize %u out of "
		    "range", o->windowsize);
		return -1;
	}
	if ((o->set & TFTP_OPT_TIMEOUT) && o->timeout_s != ask->timeout_s) {
		snprintf(why, TCLIENT_WHY_LEN,
		    "OACK timeout differs from the one asked");
		return -1;
	}
	if ((o->set & TFTP_OPT_TSIZE) && tsize != NULL && o->tsize != *tsize) {
		snprintf(why, TCLIENT_WHY_LEN, "OACK tsize %" PRIu64
		    ", expected %" PRIu64, o->tsize, *tsize);
		return -1;
	}
	return 0;
}

enum tclient_oack
tclient_oack(struct tclient *c, const struct tclient_ask *ask,
    const uint8_t *pkt, size_t len, const struct tftp_opts *o,
    const uint64_t *tsize, char why[TCLIENT_WHY_LEN])
{
	if (c->started)
		return TCLIENT_OACK_AGAIN;
	if (!tclient_asked(ask)) {
		snprintf(why, TCLIENT_WHY_LEN,
		    "OACK to a request without options");
		return TCLIENT_OACK_BAD;
	}
	if (tclient_oack_names(ask, pkt, len, why) != 0 ||
	    tclient_oack_values(ask, o, tsize, why) != 0)
		return TCLIENT_OACK_BAD;
	if (o->set & TFTP_OPT_BLKSIZE)
		c->blksize = o->blksize;
	if (o->set & TFTP_OPT_WINDOWSIZE)
		c->window = o->windowsize;
	c->started = true;
	return TCLIENT_OACK_OK;
}

int
tclient_data_check(struct tclient *c, uint16_t block, size_t len,
    char why[TCLIENT_WHY_LEN])
{
	if (!c->started) {
		if (block != 1) {
			snprintf(why, TCLIENT_WHY_LEN,
			    "first DATA is block %u, not 1", block);
			return -1;
		}
		c->started = true;
	}
	if (len > c->blksize) {
		snprintf(why, TCLIENT_WHY_LEN, "DATA %u has %zu bytes, blksize "
		    "is %u", block, len, c->blksize);
		return -1;
	}
	return 0;
}

enum tclient_step
tclient_data_step(struct tclient *c, uint16_t block)
{
	uint16_t d = (uint16_t)(block - (uint16_t)c->next);

	if (d == 0)
		return TCLIENT_NEW;
	if (d < 0x8000) {
		/* Ahead: one ACK per gap, the rest of the window is lost. */
		if (c->gap_acked == c->next)
			return TCLIENT_WAIT;
		c->gap_acked = c->next;
		return TCLIENT_GAP;
	}
	return block == (uint16_t)(c->next - 1) ? TCLIENT_OLD_ACK :
	    TCLIENT_OLD;
}

uint64_t
tclient_offset(const struct tclient *c)
{
	return (c->next - 1) * (uint64_t)c->blksize;
}

enum tclient_take
tclient_take(struct tclient *c, size_t len)
{
	c->next++;
	c->win_cnt++;
	c->gap_acked = 0;
	if (len < c->blksize)
		return TCLIENT_TAKE_LAST;
	return c->win_cnt >= c->window ? TCLIENT_TAKE_ACK : TCLIENT_TAKE_MORE;
}

uint64_t
tclient_ack(struct tclient *c)
{
	c->win_cnt = 0;
	return c->next - 1;
}

int
tclient_verify(const uint8_t *exp, uint64_t exp_size, uint64_t off,
    const uint8_t *d, size_t len, bool last, char why[TCLIENT_WHY_LEN])
{
	if (exp == NULL)
		return 0;
	if (off > exp_size || len > exp_size - off) {
		snprintf(why, TCLIENT_WHY_LEN, "received more than the %"
		    PRIu64 " expected bytes", exp_size);
		return -1;
	}
	if (len > 0 && memcmp(exp + off, d, len) != 0) {
		size_t i = 0;

		while (i < len && exp[off + i] == d[i])
			i++;
		snprintf(why, TCLIENT_WHY_LEN, "content differs at offset %"
		    PRIu64, off + i);
		return -1;
	}
	if (last && off + len != exp_size) {
		snprintf(why, TCLIENT_WHY_LEN, "got %" PRIu64 " bytes, "
		    "expected %" PRIu64, off + len, exp_size);
		return -1;
	}
	return 0;
}

void
tclient_error_text(const struct tftp_msg *m, char *buf, size_t n)
{
	const unsigned char *s = (const unsigned char *)m->u.error.msg;
	size_t o;
	int w;

	w = snprintf(buf, n, "ERROR %u \"", m->u.error.code);
	if (w < 0 || (size_t)w >= n)
		return;
	o = (size_t)w;
	for (; *s != '\0' && o + 5 < n; s++) {
		if (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\')
			buf[o++] = (char)*s;
		else
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", *s);
	}
	if (o + 2 <= n) {
		buf[o++] = '"';
		buf[o] = '\0';
	} else {
		buf[o] = '\0';
	}
}

uint64_t
tclient_rng(uint64_t *st)
{
	uint64_t z;

	*st += 0x9e3779b97f4a7c15ULL;
	z = *st;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

bool
tclient_rng_pct(uint64_t *st, unsigned pct)
{
	if (pct == 0)
		return false;
	return tclient_rng(st) % 100 < pct;
}
