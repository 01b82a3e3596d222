/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * num.c - decimal numbers from text: num_dec() for a counted span (TFTP
 * option values, which are not NUL-terminated in the packet) and
 * num_parse_u64() for a string with bounds. It owns the rule "digits
 * only" and overflow detection; it does not own messages or ranges.
 * num_dec() is pure; num_parse_u64() only adds errno.
 */
#include <errno.h>
#include <string.h>

#include "num.h"

enum num_result
num_dec(const char *s, size_t n, uint64_t *v)
{
	uint64_t	acc = 0;
	int		over = 0;
	size_t		i;

	if (n == 0)
		return NUM_BAD;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)((unsigned char)s[i] - '0');

		if (d > 9)
			return NUM_BAD;
		if (over)
			continue;	/* keep checking the remaining digits */
		if (acc > (UINT64_MAX - d) / 10)
			over = 1;
		else
			acc = acc * 10 + d;
	}
	*v = over ? UINT64_MAX : acc;
	return over ? NUM_OVERFLOW : NUM_OK;
}

int
num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t	v;

	switch (num_dec(s, s != NULL ? strlen(s) : 0, &v)) {
	case NUM_OK:
		break;
	case NUM_OVERFLOW:
		errno = ERANGE;
		return -1;
	default:
		errno = EINVAL;
		return -1;
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}
