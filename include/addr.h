/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr.h - addresses and address blocks: the one place that parses,
 * matches and prints them. Owns struct addr_cidr (what the config keeps
 * for acl, rewrite client and limits.per_client blocks), the IPv4-mapped
 * rules (::ffff:a.b.c.d is the IPv4 client a.b.c.d), and the text forms
 * of IP and MAC addresses that templates, exec and modules see. It does
 * not own what a match means (route.c, limit.c) nor error messages
 * (conf.c). Pure: no syscalls, no clock, no allocation, no globals.
 */
#ifndef PTFTPD_ADDR_H
#define PTFTPD_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_IP_LEN	46	/* INET6_ADDRSTRLEN */
#define ADDR_MAC_LEN	18	/* "aa:bb:cc:dd:ee:ff" + NUL */
#define ADDR_CIDR_LEN	(ADDR_IP_LEN + 4)	/* address, "/128" */

/*
 * An address block: "10.0.0.0/8", "fd00::/8", or one host without "/len".
 * A block inside ::ffff:0:0/96 is stored as the IPv4 block it maps, so
 * IPv4 clients on a dual-stack socket and IPv4 rules meet in one family.
 */
struct addr_cidr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned	prefix_len;	/* 0..32 or 0..128 */
	uint8_t		addr[16];	/* network order, host bits zero */
};

/*
 * A numeric IPv4 or IPv6 address (no host names, no "/len") into
 * *family and addr (4 or 16 bytes used, the rest zero). With unmap, an
 * IPv4-mapped IPv6 address comes back as the IPv4 address. Returns 0, or
 * -1 if s is not an address.
 */
int	addr_parse(const char *s, bool unmap, int *family, uint8_t addr[16]);

/*
 * "a.b.c.d[/len]" or "x:y::z[/len]" into *out (no "/len": one host; len
 * is decimal digits only). Returns 0, 1 when the address had bits set
 * beyond len (*out then holds the block with them cleared, for a
 * message), or -1 if s is not an address or len is out of range (0..32,
 * 0..128). A block inside ::ffff:0:0/96 becomes the IPv4 block it maps.
 */
int	addr_cidr_parse(const char *s, struct addr_cidr *out);

/*
 * net as an IPv6 block: an IPv4 block becomes ::ffff:a.b.c.d/(96 + len),
 * the form struct limit_cidr keeps. Fills addr (16 bytes, network order)
 * and returns the prefix length (0..128). Constant cost.
 */
unsigned addr_cidr_mapped(const struct addr_cidr *net, uint8_t addr[16]);

/* Do the first bits of a and net agree? Constant cost. */
bool	addr_prefix_match(const uint8_t *a, const uint8_t *net,
	    unsigned bits);

/* Does a (nbits long) have a bit set past the first bits? */
bool	addr_host_bits(const uint8_t *a, unsigned bits, unsigned nbits);

/*
 * The family and address bytes of ss, an IPv4-mapped IPv6 address as
 * IPv4 (4 bytes). Returns 0, or -1 for NULL or another family (a
 * zeroed).
 */
int	addr_of(const struct sockaddr_storage *ss, int *family,
	    uint8_t a[16]);

/*
 * The 16-byte key of ss with IPv4 as IPv4-mapped IPv6, so 10.1.2.3 and
 * ::ffff:10.1.2.3 are one key. Returns 0, or -1 for another family.
 */
int	addr_key(const struct sockaddr_storage *ss, uint8_t key[16]);

/*
 * Is ss inside net? An IPv4-mapped IPv6 client is compared as the IPv4
 * address; a block of the other family never matches. Returns 1 or 0 (0
 * for NULL). Constant cost.
 */
int	addr_cidr_match(const struct addr_cidr *net,
	    const struct sockaddr_storage *ss);

/*
 * The address of ss as text into buf (ADDR_IP_LEN bytes), an IPv4-mapped
 * IPv6 address as IPv4, and its port into *port (may be NULL). NULL or
 * an unknown family gives "" and 0.
 */
void	addr_format_ip(const struct sockaddr_storage *ss, char *buf,
	    uint16_t *port);

/* net as "address/len" into buf ("10.1.2.0/23", "fd00::/64"). */
void	addr_format_cidr(const struct addr_cidr *net, char buf[ADDR_CIDR_LEN]);

/* The value of hex digit c (either case), or -1. */
int	addr_hex(int c);

/*
 * Six hex pairs at s, each after the first preceded by '-' or ':', into
 * b. Returns the character after them, or NULL.
 */
const char *addr_mac_parse(const char *s, uint8_t b[6]);

/* b as "aa:bb:cc:dd:ee:ff" (lower case) into out. */
void	addr_format_mac(const uint8_t b[6], char out[ADDR_MAC_LEN]);

/*
 * Find a pxelinux-style MAC in name: "01-" (ARP type 1) then six hex
 * pairs, separated by '-' or ':', anywhere in the name (not preceded by
 * a hex digit, not followed by one or by another separated pair). Writes
 * "aa:bb:cc:dd:ee:ff" in lower case to out and returns 1, or "" and 0.
 */
int	addr_mac_in_name(const char *name, char out[ADDR_MAC_LEN]);

#endif
