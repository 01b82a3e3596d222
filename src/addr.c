/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr.c - IP addresses, address blocks and MAC addresses as text and as
 * bytes: parsing "10.0.0.0/8" and "fd00::/8" (acl, rewrite client,
 * limits.per_client), matching a client against a block, the IPv4-mapped
 * rules of a dual-stack socket, and the text forms ${client_ip} and
 * ${mac} take. Every module that reads or prints an address comes here,
 * as nginx's ngx_inet.c serves its modules.
 *
 * It does not own what a block means in a policy (route.c: acl and
 * rewrite, first match; limit.c: caps) nor the messages for a bad one
 * (conf.c). Pure: inet_pton/inet_ntop only, no syscalls, no allocation,
 * no globals.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "num.h"

/* ::ffff:a.b.c.d? On bytes, which need no alignment. */
static bool
addr_is_mapped(const uint8_t a[16])
{
	static const uint8_t	prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

int
addr_parse(const char *s, bool unmap, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) != 1) {
		memset(addr, 0, 16);
		return -1;
	}
	*family = AF_INET6;
	if (unmap && addr_is_mapped(addr)) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
	}
	return 0;
}

/* Mask of the prefix bits in byte i of a /bits prefix. */
static uint8_t
addr_byte_mask(unsigned bits, unsigned i)
{
	if (bits >= 8 * (i + 1))
		return 0xff;
	if (bits <= 8 * i)
		return 0;
	return (uint8_t)(0xff << (8 - (bits - 8 * i)));
}

bool
addr_prefix_match(const uint8_t *a, const uint8_t *net, unsigned bits)
{
	unsigned	i;

	for (i = 0; i < 16; i++) {
		uint8_t m = addr_byte_mask(bits, i);

		if (m == 0)
			break;
		if (((a[i] ^ net[i]) & m) != 0)
			return false;
	}
	return true;
}

bool
addr_host_bits(const uint8_t *a, unsigned bits, unsigned nbits)
{
	unsigned	i;

	for (i = 0; i < nbits / 8; i++)
		if (a[i] & (uint8_t)~addr_byte_mask(bits, i))
			return true;
	return false;
}

int
addr_cidr_parse(const char *s, struct addr_cidr *out)
{
	struct addr_cidr	 n;
	char			 buf[ADDR_IP_LEN + 8], *slash;
	uint64_t		 len;
	unsigned		 i, max;
	int			 host = 0;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	memset(&n, 0, sizeof(n));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (addr_parse(buf, false, &n.family, n.addr) == -1)
		return -1;
	max = n.family == AF_INET ? 32 : 128;
	len = max;
	if (slash != NULL && num_parse_u64(slash, 0, max, &len) == -1)
		return -1;
	n.prefix_len = (unsigned)len;
	/* ::ffff:a.b.c.d/len of at least 96 is the IPv4 block */
	if (n.family == AF_INET6 && n.prefix_len >= 96 &&
	    addr_is_mapped(n.addr)) {
		memmove(n.addr, n.addr + 12, 4);
		memset(n.addr + 4, 0, 12);
		n.family = AF_INET;
		n.prefix_len -= 96;
		max = 32;
	}
	if (addr_host_bits(n.addr, n.prefix_len, max)) {
		host = 1;
		for (i = 0; i < max / 8; i++)
			n.addr[i] &= addr_byte_mask(n.prefix_len, i);
	}
	*out = n;
	return host;
}

unsigned
addr_cidr_mapped(const struct addr_cidr *net, uint8_t addr[16])
{
	if (net->family != AF_INET) {
		memcpy(addr, net->addr, 16);
		return net->prefix_len;
	}
	memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
	memcpy(addr + 12, net->addr, 4);
	return 96 + net->prefix_len;
}

int
addr_of(const struct sockaddr_storage *ss, int *family, uint8_t a[16])
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)ss;

	memset(a, 0, 16);
	if (ss == NULL)
		return -1;
	if (ss->ss_family == AF_INET) {
		*family = AF_INET;
		memcpy(a, &s4->sin_addr, 4);
		return 0;
	}
	if (ss->ss_family != AF_INET6)
		return -1;
	if (addr_is_mapped(s6->sin6_addr.s6_addr)) {
		*family = AF_INET;
		memcpy(a, &s6->sin6_addr.s6_addr[12], 4);
	} else {
		*family = AF_INET6;
		memcpy(a, &s6->sin6_addr, 16);
	}
	return 0;
}

int
addr_key(const struct sockaddr_storage *ss, uint8_t key[16])
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		memset(key, 0, 10);
		key[10] = 0xff;
		key[11] = 0xff;
		memcpy(key + 12, &sin->sin_addr, 4);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		memcpy(key, &sin6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

int
addr_cidr_match(const struct addr_cidr *net,
    const struct sockaddr_storage *ss)
{
	uint8_t	a[16];
	int	family;

	if (addr_of(ss, &family, a) == -1 || family != net->family)
		return 0;
	return addr_prefix_match(a, net->addr, net->prefix_len);
}

void
addr_format_ip(const struct sockaddr_storage *ss, char *buf, uint16_t *port)
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)ss;
	uint8_t				 a[16];
	int				 family;

	buf[0] = '\0';
	if (port != NULL)
		*port = 0;
	if (addr_of(ss, &family, a) == -1)
		return;
	if (inet_ntop(family, a, buf, ADDR_IP_LEN) == NULL)
		buf[0] = '\0';
	if (port != NULL)
		*port = ntohs(ss->ss_family == AF_INET ? s4->sin_port :
		    s6->sin6_port);
}

void
addr_format_cidr(const struct addr_cidr *net, char buf[ADDR_CIDR_LEN])
{
	char	a[ADDR_IP_LEN];

	if (inet_ntop(net->family, net->addr, a, sizeof(a)) == NULL)
		a[0] = '\0';
	snprintf(buf, ADDR_CIDR_LEN, "%s/%u", a, net->prefix_len);
}

int
addr_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
addr_is_sep(int c)
{
	return c == '-' || c == ':';
}

const char *
addr_mac_parse(const char *s, uint8_t b[6])
{
	unsigned	k;

	for (k = 0; k < 6; k++) {
		if (k > 0) {
			if (!addr_is_sep(*s))
				return NULL;
			s++;
		}
		if (addr_hex(s[0]) < 0 || addr_hex(s[1]) < 0)
			return NULL;
		b[k] = (uint8_t)(addr_hex(s[0]) << 4 | addr_hex(s[1]));
		s += 2;
	}
	return s;
}

void
addr_format_mac(const uint8_t b[6], char out[ADDR_MAC_LEN])
{
	snprintf(out, ADDR_MAC_LEN, "%02x:%02x:%02x:%02x:%02x:%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5]);
}

/*
 * pxelinux asks for pxelinux.cfg/01-aa-bb-cc-dd-ee-ff (ARP hardware type
 * 1, Ethernet, then the MAC with hyphens) and GRUB for
 * grub.cfg-01-aa-bb-cc-dd-ee-ff: look anywhere in the name. The bounds
 * checks keep "101-..." or a longer hex chain from giving a shifted MAC.
 */
int
addr_mac_in_name(const char *name, char out[ADDR_MAC_LEN])
{
	const char	*e;
	uint8_t		 b[6];
	size_t		 i;

	out[0] = '\0';
	for (i = 0; name[i] != '\0'; i++) {
		if (name[i] != '0' || name[i + 1] != '1' ||
		    !addr_is_sep(name[i + 2]))
			continue;
		if (i > 0 && addr_hex(name[i - 1]) >= 0)
			continue;
		if ((e = addr_mac_parse(name + i + 3, b)) == NULL)
			continue;
		if (addr_hex(e[0]) >= 0 || (addr_is_sep(e[0]) &&
		    addr_hex(e[1]) >= 0 && addr_hex(e[2]) >= 0))
			continue;
		addr_format_mac(b, out);
		return 1;
	}
	return 0;
}
