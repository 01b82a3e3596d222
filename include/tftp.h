/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tftp.h - TFTP wire format (RFC 1350, 2347, 2348, 2349, 7440). Pure: no
 * syscalls, no allocation, no globals. Decoded strings point into the
 * caller's buffer and live as long as it does.
 */
#ifndef PTFTPD_TFTP_H
#define PTFTPD_TFTP_H

#include <stddef.h>
#include <stdint.h>

enum tftp_op {
	TFTP_RRQ = 1,
	TFTP_WRQ = 2,
	TFTP_DATA = 3,
	TFTP_ACK = 4,
	TFTP_ERROR = 5,
	TFTP_OACK = 6,
};

/* RFC 1350 error codes, plus 8 from RFC 2347. */
enum tftp_err {
	TFTP_EUNDEF = 0,	/* not defined, see message */
	TFTP_ENOTFOUND = 1,	/* file not found */
	TFTP_EACCESS = 2,	/* access violation */
	TFTP_ENOSPACE = 3,	/* disk full or allocation exceeded */
	TFTP_EBADOP = 4,	/* illegal TFTP operation */
	TFTP_EBADID = 5,	/* unknown transfer ID */
	TFTP_EEXISTS = 6,	/* file already exists */
	TFTP_ENOUSER = 7,	/* no such user */
	TFTP_EOPTNEG = 8,	/* option negotiation refused / transfer aborted */
};

enum tftp_mode {
	TFTP_MODE_OCTET = 0,
	TFTP_MODE_NETASCII = 1,
	TFTP_MODE_MAIL = 2,
};

/* Option bits: which options a request carried (valid ones only). */
#define TFTP_OPT_BLKSIZE	(1u << 0)
#define TFTP_OPT_TIMEOUT	(1u << 1)
#define TFTP_OPT_TSIZE		(1u << 2)
#define TFTP_OPT_WINDOWSIZE	(1u << 3)

#define TFTP_BLKSIZE_DEFAULT	512u
#define TFTP_BLKSIZE_MIN	8u
#define TFTP_BLKSIZE_MAX	65464u
#define TFTP_WINDOWSIZE_MAX	65535u
#define TFTP_TIMEOUT_MIN_S	1u
#define TFTP_TIMEOUT_MAX_S	255u
#define TFTP_HDR_LEN		4u
#define TFTP_NAME_MAX		512u	/* longest file name we accept */
#define TFTP_PKT_MAX		(TFTP_BLKSIZE_MAX + TFTP_HDR_LEN)

/* Option values. A field is meaningful only when its bit is set in `set`. */
struct tftp_opts {
	unsigned	set;		/* TFTP_OPT_* bits */
	uint32_t	blksize;
	uint32_t	timeout_s;
	uint64_t	tsize;
	uint32_t	windowsize;
};

struct tftp_req {
	const char	*file;		/* NUL-terminated, inside the packet */
	size_t		 file_len;
	enum tftp_mode	 mode;
	struct tftp_opts opts;		/* valid options only, first wins */
	unsigned	 n_unknown;	/* unknown or invalid options ignored */
};

struct tftp_msg {
	enum tftp_op	op;
	union {
		struct tftp_req	req;	/* RRQ, WRQ */
		struct {
			uint16_t	block;
			const uint8_t	*data;
			size_t		len;
		} data;			/* DATA */
		struct {
			uint16_t	block;
		} ack;			/* ACK */
		struct {
			uint16_t	code;
			const char	*msg;	/* NUL-terminated or "" */
		} error;		/* ERROR */
		struct tftp_opts oack;	/* OACK (client side, tests) */
	} u;
};

/*
 * Decode one datagram. Returns 0 and fills *m, or a TFTP error code
 * (TFTP_EBADOP for malformed or unknown packets) suitable for an ERROR
 * reply. Never reads past buf[len - 1]; strings must be NUL-terminated
 * inside the packet. Costs one pass over the packet.
 */
int	tftp_decode(const uint8_t *buf, size_t len, struct tftp_msg *m);

/*
 * Encoders write into buf (capacity cap) and return the length written,
 * or 0 if it does not fit. No allocation.
 */
size_t	tftp_encode_oack(uint8_t *buf, size_t cap, const struct tftp_opts *o);
size_t	tftp_encode_error(uint8_t *buf, size_t cap, uint16_t code,
	    const char *msg);
size_t	tftp_encode_ack(uint8_t *buf, size_t cap, uint16_t block);
/* Request encoder for test clients and the load generator. */
size_t	tftp_encode_req(uint8_t *buf, size_t cap, enum tftp_op op,
	    const char *file, const char *mode, const struct tftp_opts *o);
/* Writes the 4-byte DATA header for block into hdr. */
void	tftp_put_data_hdr(uint8_t hdr[TFTP_HDR_LEN], uint16_t block);

/* Short default message for an error code ("File not found", ...). */
const char *tftp_strerror(uint16_t code);
/* "RRQ", "WRQ", ... or "?" */
const char *tftp_opname(unsigned op);
/* "octet", "netascii", "mail" */
const char *tftp_modename(enum tftp_mode mode);

#endif
