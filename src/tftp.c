/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tftp.c - the TFTP wire codec (RFC 1350, 2347, 2348, 2349, 7440).
 *
 * Owns the byte layout of every TFTP packet: decoding a datagram into a
 * struct tftp_msg whose strings point into the caller's buffer, and
 * encoding OACK, ERROR, ACK, requests and DATA headers into caller
 * buffers. It does not decide anything: which options to accept, what
 * block size to use, whether a file exists or a peer is allowed are the
 * session's and the router's business. Pure: no syscalls, no allocation,
 * no logging, no mutable globals; every read is bounded by the length the
 * caller passed, so any byte string is a safe input (fuzzed).
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "num.h"
#include "tftp.h"

/* Decimal digits of UINT64_MAX (18446744073709551615). */
#define TFTP_U64_DIGITS	20


/* Bounded write cursor for the encoders: once a write does not fit, the
 * cursor is marked failed and every later write is a no-op. */
struct tftp_wbuf {
	uint8_t	*p;
	size_t	 cap;
	size_t	 n;
	int	 failed;
};

static const char *const tftp_errtab[] = {
	[TFTP_EUNDEF] = "Not defined",
	[TFTP_ENOTFOUND] = "File not found",
	[TFTP_EACCESS] = "Access violation",
	[TFTP_ENOSPACE] = "Disk full or allocation exceeded",
	[TFTP_EBADOP] = "Illegal TFTP operation",
	[TFTP_EBADID] = "Unknown transfer ID",
	[TFTP_EEXISTS] = "File already exists",
	[TFTP_ENOUSER] = "No such user",
	[TFTP_EOPTNEG] = "Option negotiation failed",
};

static const char *const tftp_optab[] = {
	[TFTP_RRQ] = "RRQ",
	[TFTP_WRQ] = "WRQ",
	[TFTP_DATA] = "DATA",
	[TFTP_ACK] = "ACK",
	[TFTP_ERROR] = "ERROR",
	[TFTP_OACK] = "OACK",
};

static const char *const tftp_modetab[] = {
	[TFTP_MODE_OCTET] = "octet",
	[TFTP_MODE_NETASCII] = "netascii",
	[TFTP_MODE_MAIL] = "mail",
};

static uint16_t
tftp_get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void
tftp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ASCII-only lower case: locale independent, unlike tolower(3). */
static unsigned char
tftp_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* 1 if the n bytes at s equal the C string lit, ignoring ASCII case. */
static int
tftp_eq_nocase(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (lit[i] == '\0' ||
		    tftp_lower((unsigned char)s[i]) != (unsigned char)lit[i])
			return 0;
	}
	return lit[n] == '\0';
}

/*
 * Length of the NUL-terminated string at p into *n, looking at no more
 * than len bytes. Returns 0, or -1 when no NUL is inside those bytes.
 */
static int
tftp_strlen_in(const uint8_t *p, size_t len, size_t *n)
{
	const uint8_t *nul;

	if (len == 0)
		return -1;
	nul = memchr(p, '\0', len);
	if (nul == NULL)
		return -1;
	*n = (size_t)(nul - p);
	return 0;
}

/*
 * Apply one option name/value pair to o. Returns 1 if it was a valid
 * recognised option seen for the first time, 0 if it is to be ignored
 * (unknown name, invalid value, or a repeat of an option already set).
 */
static int
tftp_opt_apply(struct tftp_opts *o, const char *name, size_t name_len,
    const char *val, size_t val_len)
{
	enum num_result r;
	uint64_t v;

	r = num_dec(val, val_len, &v);
	if (r == NUM_BAD)
		return 0;
	if (tftp_eq_nocase(name, name_len, "blksize")) {
		/* RFC 2348: a larger request is answered with our maximum. */
		if ((o->set & TFTP_OPT_BLKSIZE) || v < TFTP_BLKSIZE_MIN)
			return 0;
		o->blksize = v > TFTP_BLKSIZE_MAX ? TFTP_BLKSIZE_MAX :
		    (uint32_t)v;
		o->set |= TFTP_OPT_BLKSIZE;
		return 1;
	}
	if (tftp_eq_nocase(name, name_len, "timeout")) {
		if ((o->set & TFTP_OPT_TIMEOUT) || v < TFTP_TIMEOUT_MIN_S ||
		    v > TFTP_TIMEOUT_MAX_S)
			return 0;
		o->timeout_s = (uint32_t)v;
		o->set |= TFTP_OPT_TIMEOUT;
		return 1;
	}
	if (tftp_eq_nocase(name, name_len, "tsize")) {
		if ((o->set & TFTP_OPT_TSIZE) || r != NUM_OK)
			return 0;
		o->tsize = v;
		o->set |= TFTP_OPT_TSIZE;
		return 1;
	}
	if (tftp_eq_nocase(name, name_len, "windowsize")) {
		if ((o->set & TFTP_OPT_WINDOWSIZE) || v < 1 ||
		    v > TFTP_WINDOWSIZE_MAX)
			return 0;
		o->windowsize = (uint32_t)v;
		o->set |= TFTP_OPT_WINDOWSIZE;
		return 1;
	}
	return 0;
}

/*
 * Parse RFC 2347 name/value pairs from p[0..len) into o. Returns how many
 * pairs (or trailing fragments) were ignored. Never fails: some PXE ROMs
 * pad requests with NULs or append junk, so a trailing fragment that is
 * not a complete NUL-terminated pair counts as one ignored item.
 */
static unsigned
tftp_opts_parse(const uint8_t *p, size_t len, struct tftp_opts *o)
{
	unsigned ignored = 0;
	size_t off = 0;

	while (off < len) {
		const uint8_t *name = p + off, *val;
		size_t nl, vl;

		if (tftp_strlen_in(name, len - off, &nl) < 0)
			goto trailing;
		val = name + nl + 1;
		if (tftp_strlen_in(val, len - off - nl - 1, &vl) < 0)
			goto trailing;
		if (!tftp_opt_apply(o, (const char *)name, nl,
		    (const char *)val, vl) && ignored < UINT_MAX)
			ignored++;
		off += nl + 1 + vl + 1;
	}
	return ignored;
trailing:
	return ignored < UINT_MAX ? ignored + 1 : ignored;
}

/* RRQ/WRQ body after the opcode: file, mode, options. */
static int
tftp_decode_req(const uint8_t *p, size_t len, struct tftp_req *r)
{
	const char *mode;
	size_t fl, ml;

	if (tftp_strlen_in(p, len, &fl) < 0 || fl == 0 || fl > TFTP_NAME_MAX)
		return TFTP_EBADOP;
	r->file = (const char *)p;
	r->file_len = fl;
	p += fl + 1;
	len -= fl + 1;

	if (tftp_strlen_in(p, len, &ml) < 0)
		return TFTP_EBADOP;
	mode = (const char *)p;
	if (tftp_eq_nocase(mode, ml, "octet"))
		r->mode = TFTP_MODE_OCTET;
	else if (tftp_eq_nocase(mode, ml, "netascii"))
		r->mode = TFTP_MODE_NETASCII;
	else if (tftp_eq_nocase(mode, ml, "mail"))
		r->mode = TFTP_MODE_MAIL;
	else
		return TFTP_EBADOP;
	p += ml + 1;
	len -= ml + 1;

	r->n_unknown = tftp_opts_parse(p, len, &r->opts);
	return 0;
}

/*
 * Returns 0 with *m filled, or TFTP_EBADOP. Strings in *m point into buf
 * and live as long as it does. On error the contents of *m are
 * unspecified. Costs one pass over the packet, no allocation.
 */
int
tftp_decode(const uint8_t *buf, size_t len, struct tftp_msg *m)
{
	unsigned op;
	size_t el;

	*m = (struct tftp_msg){ 0 };
	if (buf == NULL || len < 2)
		return TFTP_EBADOP;
	op = tftp_get16(buf);
	switch (op) {
	case TFTP_RRQ:
	case TFTP_WRQ:
		m->op = (enum tftp_op)op;
		return tftp_decode_req(buf + 2, len - 2, &m->u.req);
	case TFTP_DATA:
		if (len < TFTP_HDR_LEN)
			return TFTP_EBADOP;
		m->op = TFTP_DATA;
		m->u.data.block = tftp_get16(buf + 2);
		m->u.data.data = buf + TFTP_HDR_LEN;
		m->u.data.len = len - TFTP_HDR_LEN;
		return 0;
	case TFTP_ACK:
		/* Extra bytes after the block number are ignored. */
		if (len < TFTP_HDR_LEN)
			return TFTP_EBADOP;
		m->op = TFTP_ACK;
		m->u.ack.block = tftp_get16(buf + 2);
		return 0;
	case TFTP_ERROR:
		if (len < TFTP_HDR_LEN)
			return TFTP_EBADOP;
		m->op = TFTP_ERROR;
		m->u.error.code = tftp_get16(buf + 2);
		if (tftp_strlen_in(buf + TFTP_HDR_LEN, len - TFTP_HDR_LEN,
		    &el) < 0)
			m->u.error.msg = "";
		else
			m->u.error.msg = (const char *)buf + TFTP_HDR_LEN;
		return 0;
	case TFTP_OACK:
		m->op = TFTP_OACK;
		(void)tftp_opts_parse(buf + 2, len - 2, &m->u.oack);
		return 0;
	default:
		return TFTP_EBADOP;
	}
}

static void
tftp_wbuf_put(struct tftp_wbuf *w, const void *src, size_t n)
{
	if (w->failed || n > w->cap - w->n) {
		w->failed = 1;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->n, src, n);
	w->n += n;
}

static void
tftp_wbuf_put16(struct tftp_wbuf *w, uint16_t v)
{
	uint8_t b[2];

	tftp_put16(b, v);
	tftp_wbuf_put(w, b, sizeof(b));
}

/* s and its terminating NUL. */
static void
tftp_wbuf_putstr(struct tftp_wbuf *w, const char *s)
{
	tftp_wbuf_put(w, s, strlen(s) + 1);
}

/* v in decimal and a NUL. */
static void
tftp_wbuf_putdec(struct tftp_wbuf *w, uint64_t v)
{
	char tmp[TFTP_U64_DIGITS + 1];
	size_t i = sizeof(tmp);

	tmp[--i] = '\0';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	tftp_wbuf_put(w, tmp + i, sizeof(tmp) - i);
}

static void
tftp_wbuf_putopts(struct tftp_wbuf *w, const struct tftp_opts *o)
{
	if (o->set & TFTP_OPT_BLKSIZE) {
		tftp_wbuf_putstr(w, "blksize");
		tftp_wbuf_putdec(w, o->blksize);
	}
	if (o->set & TFTP_OPT_TIMEOUT) {
		tftp_wbuf_putstr(w, "timeout");
		tftp_wbuf_putdec(w, o->timeout_s);
	}
	if (o->set & TFTP_OPT_TSIZE) {
		tftp_wbuf_putstr(w, "tsize");
		tftp_wbuf_putdec(w, o->tsize);
	}
	if (o->set & TFTP_OPT_WINDOWSIZE) {
		tftp_wbuf_putstr(w, "windowsize");
		tftp_wbuf_putdec(w, o->windowsize);
	}
}

static size_t
tftp_wbuf_done(const struct tftp_wbuf *w)
{
	return w->failed ? 0 : w->n;
}

/*
 * OACK with the options whose bit is set in o, in the order blksize,
 * timeout, tsize, windowsize; values are written as given. Returns the
 * length, or 0 if it does not fit in cap. Costs O(length).
 */
size_t
tftp_encode_oack(uint8_t *buf, size_t cap, const struct tftp_opts *o)
{
	struct tftp_wbuf w = { buf, cap, 0, 0 };

	tftp_wbuf_put16(&w, TFTP_OACK);
	tftp_wbuf_putopts(&w, o);
	return tftp_wbuf_done(&w);
}

/*
 * ERROR with code and msg (tftp_strerror(code) if msg is NULL). A message
 * too long for cap is truncated; the result is always NUL-terminated.
 * Returns the length, or 0 if cap < 5. Costs O(length); msg is read at
 * most up to what fits.
 */
size_t
tftp_encode_error(uint8_t *buf, size_t cap, uint16_t code, const char *msg)
{
	size_t room, n;

	if (cap < TFTP_HDR_LEN + 1)
		return 0;
	if (msg == NULL)
		msg = tftp_strerror(code);
	room = cap - TFTP_HDR_LEN - 1;
	for (n = 0; n < room && msg[n] != '\0'; n++)
		buf[TFTP_HDR_LEN + n] = (uint8_t)msg[n];
	buf[TFTP_HDR_LEN + n] = '\0';
	tftp_put16(buf, TFTP_ERROR);
	tftp_put16(buf + 2, code);
	return TFTP_HDR_LEN + n + 1;
}

/* ACK for block. Returns 4, or 0 if cap < 4. O(1). */
size_t
tftp_encode_ack(uint8_t *buf, size_t cap, uint16_t block)
{
	if (cap < TFTP_HDR_LEN)
		return 0;
	tftp_put16(buf, TFTP_ACK);
	tftp_put16(buf + 2, block);
	return TFTP_HDR_LEN;
}

/*
 * RRQ or WRQ for file in mode (written as given, e.g. "octet"), with the
 * options set in o if o is not NULL, in the OACK order. Returns the
 * length, or 0 if it does not fit, op is not RRQ/WRQ, or file or mode is
 * NULL. Costs O(length).
 */
size_t
tftp_encode_req(uint8_t *buf, size_t cap, enum tftp_op op, const char *file,
    const char *mode, const struct tftp_opts *o)
{
	struct tftp_wbuf w = { buf, cap, 0, 0 };

	if ((op != TFTP_RRQ && op != TFTP_WRQ) || file == NULL || mode == NULL)
		return 0;
	tftp_wbuf_put16(&w, (uint16_t)op);
	tftp_wbuf_putstr(&w, file);
	tftp_wbuf_putstr(&w, mode);
	if (o != NULL)
		tftp_wbuf_putopts(&w, o);
	return tftp_wbuf_done(&w);
}

/* Writes opcode DATA and block into the 4 bytes at hdr. O(1). */
void
tftp_put_data_hdr(uint8_t hdr[TFTP_HDR_LEN], uint16_t block)
{
	tftp_put16(hdr, TFTP_DATA);
	tftp_put16(hdr + 2, block);
}

/* Static text for code; "Unknown error" outside 0..8. O(1). */
const char *
tftp_strerror(uint16_t code)
{
	if (code >= sizeof(tftp_errtab) / sizeof(tftp_errtab[0]))
		return "Unknown error";
	return tftp_errtab[code];
}

/* Static name of opcode op, or "?". O(1). */
const char *
tftp_opname(unsigned op)
{
	if (op >= sizeof(tftp_optab) / sizeof(tftp_optab[0]) ||
	    tftp_optab[op] == NULL)
		return "?";
	return tftp_optab[op];
}

/* Static name of mode, or "?" for a value outside the enum. O(1). */
const char *
tftp_modename(enum tftp_mode mode)
{
	if ((unsigned)mode >= sizeof(tftp_modetab) / sizeof(tftp_modetab[0]))
		return "?";
	return tftp_modetab[mode];
}
