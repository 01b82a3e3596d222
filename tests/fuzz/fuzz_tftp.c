/* SPDX-License-Identifier: BSD-2-Clause */
// LINK: tftp num
/*
 * fuzz_tftp.c - libFuzzer entry point for the TFTP codec. Decodes any byte
 * string with tftp_decode and, for a request, encodes the OACK the server
 * would answer with from the decoded options, checking that it decodes to
 * the same options. Owns nothing else; the sanitizers find the bugs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tftp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_oack(const struct tftp_opts *o)
{
	uint8_t out[128];
	struct tftp_msg back;
	size_t n;

	n = tftp_encode_oack(out, sizeof(out), o);
	/* Four options in decimal always fit in 128 bytes. */
	if (n == 0)
		abort();
	if (tftp_decode(out, n, &back) != 0 || back.op != TFTP_OACK ||
	    back.u.oack.set != o->set)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tftp_msg m;
	uint8_t err[64];

	if (tftp_decode(data, size, &m) != 0)
		return 0;
	switch (m.op) {
	case TFTP_RRQ:
	case TFTP_WRQ:
		if (m.u.req.file_len == 0 ||
		    m.u.req.file_len > TFTP_NAME_MAX ||
		    strlen(m.u.req.file) != m.u.req.file_len)
			abort();
		(void)tftp_modename(m.u.req.mode);
		fuzz_check_oack(&m.u.req.opts);
		break;
	case TFTP_ERROR:
		/* Echo the peer's message through a small buffer: truncation. */
		if (tftp_encode_error(err, sizeof(err), m.u.error.code,
		    m.u.error.msg) == 0)
			abort();
		break;
	case TFTP_OACK:
		fuzz_check_oack(&m.u.oack);
		break;
	default:
		break;
	}
	return 0;
}
