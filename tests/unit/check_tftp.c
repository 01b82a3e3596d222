/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_tftp.c - unit tests for the TFTP wire codec (src/tftp.c): one test
 * per behaviour of tftp_decode and the encoders. Links tftp.o only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "tftp.h"
#include "testutil.h"

/* A packet literal and its length without the literal's own final NUL. */
#define PKT(s)	(const uint8_t *)(s), sizeof(s) - 1

static struct tftp_msg m;

static void
decode_ok(const uint8_t *buf, size_t len)
{
	ck_assert_int_eq(tftp_decode(buf, len, &m), 0);
}

/* Decode an RRQ "f" octet with one option name/value pair. */
static void
decode_one_opt(const char *name, const char *val)
{
	uint8_t buf[256];
	size_t n = 0, l;

	memcpy(buf, "\0\1f\0octet", 10);
	n = 10;
	l = strlen(name) + 1;
	memcpy(buf + n, name, l);
	n += l;
	l = strlen(val) + 1;
	memcpy(buf + n, val, l);
	n += l;
	decode_ok(buf, n);
	ck_assert_int_eq(m.op, TFTP_RRQ);
}

/* Packets tftp_decode must refuse with TFTP_EBADOP. */
static const struct bad_case {
	const uint8_t	*pkt;
	size_t		 len;
} bad_cases[] = {
	/* shorter than an opcode */
	{ PKT("") },
	{ PKT("\0") },
	/* an unknown mode */
	{ PKT("\0\1f\0binary\0") },
	{ PKT("\0\1f\0octe\0") },
	{ PKT("\0\1f\0octets\0") },
	{ PKT("\0\1f\0\0") },
	/* no NUL after the mode */
	{ PKT("\0\1f\0octet") },
	{ PKT("\0\1f\0") },
	/* no NUL after the file name */
	{ PKT("\0\1pxelinux.0") },
	{ PKT("\0\1") },
	/* an empty file name */
	{ PKT("\0\1\0octet\0") },
	/* an unknown opcode */
	{ PKT("\0\0f\0octet\0") },
	{ PKT("\0\7f\0octet\0") },
	{ PKT("\1\1f\0octet\0") },
	{ PKT("\377\377\0\0") },
	/* a short DATA */
	{ PKT("\0\3\0") },
	{ PKT("\0\3") },
	/* a short ACK */
	{ PKT("\0\4\0") },
	/* a short ERROR */
	{ PKT("\0\5\0") },
};

START_TEST(bad_packet_is_badop)
{
	ck_assert_msg(tftp_decode(bad_cases[_i].pkt, bad_cases[_i].len, &m) ==
	    TFTP_EBADOP, "bad_cases[%d] decoded", _i);
}
END_TEST

/* --- requests --- */

START_TEST(rrq_decodes_file_and_mode)
{
	decode_ok(PKT("\0\1pxelinux.0\0octet\0"));
	ck_assert_int_eq(m.op, TFTP_RRQ);
	ck_assert_str_eq(m.u.req.file, "pxelinux.0");
	ck_assert_uint_eq(m.u.req.file_len, 10);
	ck_assert_int_eq(m.u.req.mode, TFTP_MODE_OCTET);
	ck_assert_uint_eq(m.u.req.opts.set, 0);
	ck_assert_uint_eq(m.u.req.n_unknown, 0);
}
END_TEST

START_TEST(wrq_decodes_file_and_mode)
{
	decode_ok(PKT("\0\2up/load.bin\0netascii\0"));
	ck_assert_int_eq(m.op, TFTP_WRQ);
	ck_assert_str_eq(m.u.req.file, "up/load.bin");
	ck_assert_int_eq(m.u.req.mode, TFTP_MODE_NETASCII);
}
END_TEST

START_TEST(mode_is_case_insensitive)
{
	decode_ok(PKT("\0\1f\0OcTeT\0"));
	ck_assert_int_eq(m.u.req.mode, TFTP_MODE_OCTET);
	decode_ok(PKT("\0\1f\0NETASCII\0"));
	ck_assert_int_eq(m.u.req.mode, TFTP_MODE_NETASCII);
	decode_ok(PKT("\0\1f\0Mail\0"));
	ck_assert_int_eq(m.u.req.mode, TFTP_MODE_MAIL);
}
END_TEST

/* An RRQ for a name of n 'a's in octet mode, decoded; tftp_decode's rc. */
static int
decode_name_of(size_t n)
{
	uint8_t buf[TFTP_NAME_MAX + 16];

	ck_assert_uint_le(n, TFTP_NAME_MAX + 1);
	buf[0] = 0;
	buf[1] = TFTP_RRQ;
	memset(buf + 2, 'a', n);
	memcpy(buf + 2 + n, "\0octet", 7);
	return tftp_decode(buf, 2 + n + 7, &m);
}

START_TEST(filename_at_name_max_is_accepted)
{
	ck_assert_int_eq(decode_name_of(TFTP_NAME_MAX), 0);
	ck_assert_uint_eq(m.u.req.file_len, TFTP_NAME_MAX);
}
END_TEST

START_TEST(filename_over_name_max_is_badop)
{
	ck_assert_int_eq(decode_name_of(TFTP_NAME_MAX + 1), TFTP_EBADOP);
}
END_TEST

START_TEST(null_packet_is_badop)
{
	ck_assert_int_eq(tftp_decode(NULL, 0, &m), TFTP_EBADOP);
}
END_TEST

/* --- options --- */

/*
 * Option decoding: each row is an RRQ for "f" in octet mode, either one
 * option name and value (decode_one_opt) or a whole packet literal, and
 * what must come out: the option bits, the value of each option whose
 * bit is set, and how many options were counted unknown (-1: at least
 * one, where how padding counts is the codec's business).
 */
#define ALL_OPTS	(TFTP_OPT_BLKSIZE | TFTP_OPT_TIMEOUT | \
			 TFTP_OPT_TSIZE | TFTP_OPT_WINDOWSIZE)
#define ONE(n, v)	n, v, NULL, 0
#define LIT(p)		NULL, NULL, p, sizeof(p) - 1

static const struct opt_case {
	const char		*name, *val;	/* one option, or */
	const char		*pkt;		/* a packet literal */
	size_t			 len;
	struct tftp_opts	 want;	/* set and the values */
	int			 unknown;
} opt_cases[] = {
	{ LIT("\0\1f\0octet\0blksize\0001468\0timeout\0003\0"
	    "tsize\0000\0windowsize\00016\0"),
	    { ALL_OPTS, 1468, 3, 0, 16 }, 0 },
	/* names are case-insensitive */
	{ LIT("\0\1f\0octet\0BLKSIZE\0001024\0TimeOut\0005\0"
	    "TSize\00042\0WINDOWsize\0004\0"),
	    { ALL_OPTS, 1024, 5, 42, 4 }, 0 },
	/* blksize: 8..65464 taken, above clamped, below 8 ignored */
	{ ONE("blksize", "8"), { TFTP_OPT_BLKSIZE, 8, 0, 0, 0 }, 0 },
	{ ONE("blksize", "65464"), { TFTP_OPT_BLKSIZE, 65464, 0, 0, 0 }, 0 },
	{ ONE("blksize", "65465"),
	    { TFTP_OPT_BLKSIZE, TFTP_BLKSIZE_MAX, 0, 0, 0 }, 0 },
	{ ONE("blksize", "4294967297"),
	    { TFTP_OPT_BLKSIZE, TFTP_BLKSIZE_MAX, 0, 0, 0 }, 0 },
	{ ONE("blksize", "99999999999999999999999999"),
	    { TFTP_OPT_BLKSIZE, TFTP_BLKSIZE_MAX, 0, 0, 0 }, 0 },
	{ ONE("blksize", "7"), { 0, 0, 0, 0, 0 }, 1 },
	{ ONE("blksize", "0"), { 0, 0, 0, 0, 0 }, 1 },
	/* leading zeros are decimal, not octal */
	{ ONE("blksize", "01024"), { TFTP_OPT_BLKSIZE, 1024, 0, 0, 0 }, 0 },
	/* timeout: 1..255 */
	{ ONE("timeout", "0"), { 0, 0, 0, 0, 0 }, 1 },
	{ ONE("timeout", "256"), { 0, 0, 0, 0, 0 }, 1 },
	{ ONE("timeout", "1"), { TFTP_OPT_TIMEOUT, 0, 1, 0, 0 }, 0 },
	{ ONE("timeout", "255"), { TFTP_OPT_TIMEOUT, 0, 255, 0, 0 }, 0 },
	/* tsize: all of uint64_t, an overflow ignored */
	{ ONE("tsize", "18446744073709551615"),
	    { TFTP_OPT_TSIZE, 0, 0, UINT64_MAX, 0 }, 0 },
	{ ONE("tsize", "18446744073709551616"), { 0, 0, 0, 0, 0 }, 1 },
	{ ONE("tsize", "100000000000000000000000"), { 0, 0, 0, 0, 0 }, 1 },
	/* windowsize: 1..65535 */
	{ ONE("windowsize", "0"), { 0, 0, 0, 0, 0 }, 1 },
	{ ONE("windowsize", "65536"), { 0, 0, 0, 0, 0 }, 1 },
	{ ONE("windowsize", "65535"),
	    { TFTP_OPT_WINDOWSIZE, 0, 0, 0, 65535 }, 0 },
	/* a repeated option: the first wins, the rest count unknown */
	{ LIT("\0\1f\0octet\0blksize\0001024\0BLKSIZE\0002048\0"),
	    { TFTP_OPT_BLKSIZE, 1024, 0, 0, 0 }, 1 },
	/* ... the first valid one */
	{ LIT("\0\1f\0octet\0windowsize\0000\0windowsize\0008\0"
	    "windowsize\0009\0"), { TFTP_OPT_WINDOWSIZE, 0, 0, 0, 8 }, 2 },
	/* unknown options are counted */
	{ LIT("\0\1f\0octet\0multicast\0\0blksize\000512\0"
	    "utimeout\0001000\0"), { TFTP_OPT_BLKSIZE, 512, 0, 0, 0 }, 2 },
	/* a prefix of a name, or a name with a suffix, is unknown */
	{ LIT("\0\1f\0octet\0blk\000512\0blksizex\000512\0"),
	    { 0, 0, 0, 0, 0 }, 2 },
	/* junk after the options: a name with no value at all */
	{ LIT("\0\1f\0octet\0blksize\0001468\0tsize\0"),
	    { TFTP_OPT_BLKSIZE, 1468, 0, 0, 0 }, 1 },
	/* ... a value that is not NUL-terminated */
	{ LIT("\0\1f\0octet\0blksize\0001468\0tsize\0000"),
	    { TFTP_OPT_BLKSIZE, 1468, 0, 0, 0 }, 1 },
	/* ... bytes that are not even a NUL-terminated name */
	{ LIT("\0\1f\0octet\0\377\376junk"), { 0, 0, 0, 0, 0 }, 1 },
	/* NUL padding after the options */
	{ LIT("\0\1f\0octet\0tsize\0000\0\0\0\0\0\0"),
	    { TFTP_OPT_TSIZE, 0, 0, 0, 0 }, -1 },
};

START_TEST(options_decoded)
{
	const struct opt_case	*c = &opt_cases[_i];
	const struct tftp_opts	*got = &m.u.req.opts;

	if (c->name != NULL)
		decode_one_opt(c->name, c->val);
	else
		decode_ok((const uint8_t *)c->pkt, c->len);
	ck_assert_int_eq(m.op, TFTP_RRQ);
	ck_assert_uint_eq(got->set, c->want.set);
	if (c->want.set & TFTP_OPT_BLKSIZE)
		ck_assert_uint_eq(got->blksize, c->want.blksize);
	if (c->want.set & TFTP_OPT_TIMEOUT)
		ck_assert_uint_eq(got->timeout_s, c->want.timeout_s);
	if (c->want.set & TFTP_OPT_TSIZE)
		ck_assert(got->tsize == c->want.tsize);
	if (c->want.set & TFTP_OPT_WINDOWSIZE)
		ck_assert_uint_eq(got->windowsize, c->want.windowsize);
	if (c->unknown >= 0)
		ck_assert_uint_eq(m.u.req.n_unknown, (unsigned)c->unknown);
	else
		ck_assert_uint_ge(m.u.req.n_unknown, 1);
}
END_TEST

START_TEST(non_decimal_values_are_ignored)
{
	static const char *const bad[] = {
		"", "abc", "-512", "+512", " 512", "512 ", "0x200", "5.12",
		"512abc",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		decode_one_opt("blksize", bad[i]);
		ck_assert_uint_eq(m.u.req.opts.set, 0);
		ck_assert_uint_eq(m.u.req.n_unknown, 1);
		decode_one_opt("tsize", bad[i]);
		ck_assert_uint_eq(m.u.req.opts.set, 0);
	}
}
END_TEST

START_TEST(every_truncation_of_rrq_is_safe)
{
	static const uint8_t full[] = "\0\1pxelinux.0\0octet\0blksize\0001468"
	    "\0tsize\0000\0windowsize\0008\0";
	const size_t full_len = sizeof(full) - 1;
	const size_t mode_end = 2 + 11 + 6;	/* just past "octet\0" */
	size_t len;

	for (len = 0; len <= full_len; len++) {
		/* Exact-size heap copy: ASan and valgrind see any overread. */
		uint8_t *p = malloc(len ? len : 1);
		int r;

		ck_assert_ptr_nonnull(p);
		memcpy(p, full, len);
		r = tftp_decode(p, len, &m);
		if (len < mode_end) {
			ck_assert_int_eq(r, TFTP_EBADOP);
		} else {
			ck_assert_int_eq(r, 0);
			ck_assert_str_eq(m.u.req.file, "pxelinux.0");
		}
		free(p);
	}
	ck_assert_uint_eq(m.u.req.opts.set, TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE |
	    TFTP_OPT_WINDOWSIZE);
	ck_assert_uint_eq(m.u.req.n_unknown, 0);
}
END_TEST

/* --- DATA, ACK, ERROR, OACK --- */

START_TEST(data_decodes_block_and_payload)
{
	static const uint8_t pkt[] = "\0\3\1\2hello";

	decode_ok(pkt, sizeof(pkt) - 1);
	ck_assert_int_eq(m.op, TFTP_DATA);
	ck_assert_uint_eq(m.u.data.block, 0x0102);
	ck_assert_ptr_eq(m.u.data.data, pkt + 4);
	ck_assert_uint_eq(m.u.data.len, 5);
}
END_TEST

START_TEST(data_with_empty_payload)
{
	decode_ok(PKT("\0\3\377\377"));
	ck_assert_uint_eq(m.u.data.block, 65535);
	ck_assert_uint_eq(m.u.data.len, 0);
}
END_TEST

START_TEST(ack_ignores_extra_bytes)
{
	decode_ok(PKT("\0\4\0\7"));
	ck_assert_int_eq(m.op, TFTP_ACK);
	ck_assert_uint_eq(m.u.ack.block, 7);
	decode_ok(PKT("\0\4\1\0extra"));
	ck_assert_uint_eq(m.u.ack.block, 256);
}
END_TEST

START_TEST(error_decodes_code_and_msg)
{
	decode_ok(PKT("\0\5\0\1File not found\0"));
	ck_assert_int_eq(m.op, TFTP_ERROR);
	ck_assert_uint_eq(m.u.error.code, TFTP_ENOTFOUND);
	ck_assert_str_eq(m.u.error.msg, "File not found");
}
END_TEST

START_TEST(error_without_nul_has_empty_msg)
{
	decode_ok(PKT("\0\5\0\10aborted"));
	ck_assert_uint_eq(m.u.error.code, TFTP_EOPTNEG);
	ck_assert_str_eq(m.u.error.msg, "");
	decode_ok(PKT("\0\5\0\0"));
	ck_assert_str_eq(m.u.error.msg, "");
}
END_TEST

START_TEST(oack_decodes_options)
{
	decode_ok(PKT("\0\6blksize\0001468\0tsize\00042104\0"));
	ck_assert_int_eq(m.op, TFTP_OACK);
	ck_assert_uint_eq(m.u.oack.set, TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE);
	ck_assert_uint_eq(m.u.oack.blksize, 1468);
	ck_assert_uint_eq(m.u.oack.tsize, 42104);
}
END_TEST

START_TEST(oack_roundtrip)
{
	struct tftp_opts o = {
		.set = TFTP_OPT_BLKSIZE | TFTP_OPT_TIMEOUT | TFTP_OPT_TSIZE |
		    TFTP_OPT_WINDOWSIZE,
		.blksize = 1468, .timeout_s = 255, .tsize = UINT64_MAX,
		.windowsize = 65535,
	};
	uint8_t buf[128];
	size_t n;

	n = tftp_encode_oack(buf, sizeof(buf), &o);
	ck_assert_uint_gt(n, 0);
	decode_ok(buf, n);
	ck_assert_int_eq(m.op, TFTP_OACK);
	ck_assert_uint_eq(m.u.oack.set, o.set);
	ck_assert_uint_eq(m.u.oack.blksize, o.blksize);
	ck_assert_uint_eq(m.u.oack.timeout_s, o.timeout_s);
	ck_assert(m.u.oack.tsize == o.tsize);
	ck_assert_uint_eq(m.u.oack.windowsize, o.windowsize);
}
END_TEST

START_TEST(oack_encodes_only_set_options_in_order)
{
	static const uint8_t want[] = "\0\6blksize\000512\0windowsize\0004\0";
	struct tftp_opts o = {
		.set = TFTP_OPT_WINDOWSIZE | TFTP_OPT_BLKSIZE,
		.blksize = 512, .timeout_s = 9, .tsize = 9, .windowsize = 4,
	};
	uint8_t buf[64];
	size_t n;

	n = tftp_encode_oack(buf, sizeof(buf), &o);
	ck_assert_uint_eq(n, sizeof(want) - 1);
	ck_assert_mem_eq(buf, want, n);
}
END_TEST

START_TEST(oack_that_does_not_fit_returns_0)
{
	struct tftp_opts o = { .set = TFTP_OPT_TSIZE, .tsize = 12345 };
	uint8_t buf[64];
	size_t n;

	n = tftp_encode_oack(buf, sizeof(buf), &o);
	ck_assert_uint_eq(n, 2 + 6 + 6);
	ck_assert_uint_eq(tftp_encode_oack(buf, n, &o), n);
	ck_assert_uint_eq(tftp_encode_oack(buf, n - 1, &o), 0);
	ck_assert_uint_eq(tftp_encode_oack(buf, 1, &o), 0);
	ck_assert_uint_eq(tftp_encode_oack(buf, 0, &o), 0);
}
END_TEST

START_TEST(error_encodes_code_and_msg)
{
	static const uint8_t want[] = "\0\5\0\1File not found\0";
	uint8_t buf[64];
	size_t n;

	n = tftp_encode_error(buf, sizeof(buf), TFTP_ENOTFOUND,
	    "File not found");
	ck_assert_uint_eq(n, sizeof(want) - 1);
	ck_assert_mem_eq(buf, want, n);
}
END_TEST

START_TEST(error_null_msg_uses_strerror)
{
	uint8_t buf[64];
	size_t n;

	n = tftp_encode_error(buf, sizeof(buf), TFTP_EACCESS, NULL);
	decode_ok(buf, n);
	ck_assert_str_eq(m.u.error.msg, "Access violation");
}
END_TEST

START_TEST(error_msg_truncated_to_cap)
{
	uint8_t buf[16];
	size_t n;

	memset(buf, 0xaa, sizeof(buf));
	n = tftp_encode_error(buf, 10, TFTP_EUNDEF, "a very long message");
	ck_assert_uint_eq(n, 10);
	ck_assert_uint_eq(buf[9], 0);
	ck_assert_uint_eq(buf[10], 0xaa);
	decode_ok(buf, n);
	ck_assert_str_eq(m.u.error.msg, "a ver");
	/* Header and NUL only. */
	n = tftp_encode_error(buf, 5, TFTP_EUNDEF, "x");
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(buf[4], 0);
}
END_TEST

START_TEST(error_cap_below_5_returns_0)
{
	uint8_t buf[8];

	ck_assert_uint_eq(tftp_encode_error(buf, 4, TFTP_EUNDEF, ""), 0);
	ck_assert_uint_eq(tftp_encode_error(buf, 0, TFTP_EUNDEF, ""), 0);
}
END_TEST

START_TEST(ack_encodes_block)
{
	uint8_t buf[4];

	ck_assert_uint_eq(tftp_encode_ack(buf, sizeof(buf), 0xbeef), 4);
	ck_assert_mem_eq(buf, "\0\4\276\357", 4);
	ck_assert_uint_eq(tftp_encode_ack(buf, 3, 1), 0);
}
END_TEST

START_TEST(data_hdr_layout)
{
	uint8_t hdr[TFTP_HDR_LEN];

	tftp_put_data_hdr(hdr, 65535);
	ck_assert_mem_eq(hdr, "\0\3\377\377", 4);
	tftp_put_data_hdr(hdr, 1);
	ck_assert_mem_eq(hdr, "\0\3\0\1", 4);
}
END_TEST

START_TEST(req_roundtrip)
{
	struct tftp_opts o = {
		.set = TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE | TFTP_OPT_TIMEOUT |
		    TFTP_OPT_WINDOWSIZE,
		.blksize = 8, .timeout_s = 1, .tsize = 0, .windowsize = 1,
	};
	uint8_t buf[128];
	size_t n;

	n = tftp_encode_req(buf, sizeof(buf), TFTP_WRQ, "dir/file.img",
	    "netascii", &o);
	ck_assert_uint_gt(n, 0);
	decode_ok(buf, n);
	ck_assert_int_eq(m.op, TFTP_WRQ);
	ck_assert_str_eq(m.u.req.file, "dir/file.img");
	ck_assert_int_eq(m.u.req.mode, TFTP_MODE_NETASCII);
	ck_assert_uint_eq(m.u.req.opts.set, o.set);
	ck_assert_uint_eq(m.u.req.opts.blksize, 8);
	ck_assert_uint_eq(m.u.req.opts.timeout_s, 1);
	ck_assert(m.u.req.opts.tsize == 0);
	ck_assert_uint_eq(m.u.req.opts.windowsize, 1);
	ck_assert_uint_eq(m.u.req.n_unknown, 0);
}
END_TEST

START_TEST(req_without_options)
{
	static const uint8_t want[] = "\0\1a\0octet\0";
	uint8_t buf[32];
	size_t n;

	n = tftp_encode_req(buf, sizeof(buf), TFTP_RRQ, "a", "octet", NULL);
	ck_assert_uint_eq(n, sizeof(want) - 1);
	ck_assert_mem_eq(buf, want, n);
	ck_assert_uint_eq(tftp_encode_req(buf, n - 1, TFTP_RRQ, "a", "octet",
	    NULL), 0);
}
END_TEST

START_TEST(req_with_non_request_op_returns_0)
{
	uint8_t buf[32];

	ck_assert_uint_eq(tftp_encode_req(buf, sizeof(buf), TFTP_DATA, "a",
	    "octet", NULL), 0);
}
END_TEST

START_TEST(strerror_texts)
{
	ck_assert_str_eq(tftp_strerror(TFTP_EUNDEF), "Not defined");
	ck_assert_str_eq(tftp_strerror(TFTP_ENOTFOUND), "File not found");
	ck_assert_str_eq(tftp_strerror(TFTP_EACCESS), "Access violation");
	ck_assert_str_eq(tftp_strerror(TFTP_ENOSPACE),
	    "Disk full or allocation exceeded");
	ck_assert_str_eq(tftp_strerror(TFTP_EBADOP), "Illegal TFTP operation");
	ck_assert_str_eq(tftp_strerror(TFTP_EBADID), "Unknown transfer ID");
	ck_assert_str_eq(tftp_strerror(TFTP_EEXISTS), "File already exists");
	ck_assert_str_eq(tftp_strerror(TFTP_ENOUSER), "No such user");
	ck_assert_str_eq(tftp_strerror(TFTP_EOPTNEG),
	    "Option negotiation failed");
	ck_assert_str_eq(tftp_strerror(9), "Unknown error");
	ck_assert_str_eq(tftp_strerror(65535), "Unknown error");
}
END_TEST

START_TEST(opname_and_modename)
{
	ck_assert_str_eq(tftp_opname(TFTP_RRQ), "RRQ");
	ck_assert_str_eq(tftp_opname(TFTP_WRQ), "WRQ");
	ck_assert_str_eq(tftp_opname(TFTP_DATA), "DATA");
	ck_assert_str_eq(tftp_opname(TFTP_ACK), "ACK");
	ck_assert_str_eq(tftp_opname(TFTP_ERROR), "ERROR");
	ck_assert_str_eq(tftp_opname(TFTP_OACK), "OACK");
	ck_assert_str_eq(tftp_opname(0), "?");
	ck_assert_str_eq(tftp_opname(7), "?");
	ck_assert_str_eq(tftp_modename(TFTP_MODE_OCTET), "octet");
	ck_assert_str_eq(tftp_modename(TFTP_MODE_NETASCII), "netascii");
	ck_assert_str_eq(tftp_modename(TFTP_MODE_MAIL), "mail");
}
END_TEST

static Suite *
tftp_suite(void)
{
	Suite *s = suite_create("tftp");
	TCase *req = tcase_create("request");
	TCase *opt = tcase_create("options");
	TCase *other = tcase_create("other");
	TCase *enc = tcase_create("encode");

	tcase_add_test(req, rrq_decodes_file_and_mode);
	tcase_add_test(req, wrq_decodes_file_and_mode);
	tcase_add_test(req, mode_is_case_insensitive);
	tcase_add_loop_test(req, bad_packet_is_badop, 0,
	    sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(req, filename_at_name_max_is_accepted);
	tcase_add_test(req, filename_over_name_max_is_badop);
	tcase_add_test(req, null_packet_is_badop);
	suite_add_tcase(s, req);

	tcase_add_loop_test(opt, options_decoded, 0,
	    sizeof(opt_cases) / sizeof(opt_cases[0]));
	tcase_add_test(opt, non_decimal_values_are_ignored);
	tcase_add_test(opt, every_truncation_of_rrq_is_safe);
	suite_add_tcase(s, opt);

	tcase_add_test(other, data_decodes_block_and_payload);
	tcase_add_test(other, data_with_empty_payload);
	tcase_add_test(other, ack_ignores_extra_bytes);
	tcase_add_test(other, error_decodes_code_and_msg);
	tcase_add_test(other, error_without_nul_has_empty_msg);
	tcase_add_test(other, oack_decodes_options);
	suite_add_tcase(s, other);

	tcase_add_test(enc, oack_roundtrip);
	tcase_add_test(enc, oack_encodes_only_set_options_in_order);
	tcase_add_test(enc, oack_that_does_not_fit_returns_0);
	tcase_add_test(enc, error_encodes_code_and_msg);
	tcase_add_test(enc, error_null_msg_uses_strerror);
	tcase_add_test(enc, error_msg_truncated_to_cap);
	tcase_add_test(enc, error_cap_below_5_returns_0);
	tcase_add_test(enc, ack_encodes_block);
	tcase_add_test(enc, data_hdr_layout);
	tcase_add_test(enc, req_roundtrip);
	tcase_add_test(enc, req_without_options);
	tcase_add_test(enc, req_with_non_request_op_returns_0);
	tcase_add_test(enc, strerror_texts);
	tcase_add_test(enc, opname_and_modename);
	suite_add_tcase(s, enc);
	return s;
}

int
main(void)
{
	return unit_run(tftp_suite());
}
