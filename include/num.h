/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * num.h - the one decimal number parser. Plain digits only: no sign, no
 * spaces, no base prefix, not empty. Used for command-line values, CIDR
 * lengths and TFTP option values alike, instead of atoi or strtoul
 * (which accept signs, spaces and wrap). It does not know what a number
 * is for: callers say the range and word their own message.
 */
#ifndef PTFTPD_NUM_H
#define PTFTPD_NUM_H

#include <stddef.h>
#include <stdint.h>

enum num_result {
	NUM_OK = 0,
	NUM_BAD,		/* empty or not plain decimal digits */
	NUM_OVERFLOW,		/* digits only, but above UINT64_MAX */
};

/*
 * The n bytes at s as a decimal number into *v (UINT64_MAX on overflow).
 * Pure: no errno, no globals. One pass over the digits.
 */
enum num_result num_dec(const char *s, size_t n, uint64_t *v);

/*
 * The NUL-terminated s in [min, max]: 0 with *out set, or -1 with errno
 * EINVAL (not a number) or ERANGE (too large or out of bounds); *out is
 * untouched then.
 */
int	num_parse_u64(const char *s, uint64_t min, uint64_t max,
	    uint64_t *out);

#endif
