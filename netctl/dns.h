/* SPDX-License-Identifier: MIT */
/*
 * DNS (RFC 1035), the stub's part: a recursive query for one name's A or AAAA records, and
 * the answer read with every length and compression pointer checked (pointers only
 * backwards, a bounded number of them), its addresses collected whatever CNAMEs led to
 * them. For the names machined looks up itself (time servers); no cache, no TCP.
 */
#ifndef BASALT_NETCTL_DNS_H
#define BASALT_NETCTL_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_PORT 53
#define DNS_MSG_MAX 512        /* a UDP answer without EDNS */
#define DNS_NAME_MAX 253       /* in dotted form, without the root dot */
#define DNS_ADDRS_MAX 8
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28

struct dns_answer {
	uint8_t addr[DNS_ADDRS_MAX][16];  /* 4 bytes each for A */
	unsigned naddr;
	uint32_t ttl;                     /* the smallest of their TTLs */
};

/* The query for name (a trailing dot allowed) into buf; its length, or 0 for a name DNS
 * cannot carry (an empty or over-long label, over 253 bytes) or a buffer too small. */
size_t dns_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype);
/*
 * The answer to that query: 0 with its addresses of qtype (none is not an error: a name
 * with only the other family's), or -1 with why in err (not ours, truncated, a server's
 * error such as NXDOMAIN, a malformed record).
 */
int dns_parse(const uint8_t *msg, size_t len, uint16_t id, const char *name, uint16_t qtype, struct dns_answer *out,
	      char *err, size_t errlen);

#endif
