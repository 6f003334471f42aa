/* SPDX-License-Identifier: MIT */
#include "netctl/dns.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HDR 12
#define POINTERS_MAX 16  /* compression pointers followed in one name */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

size_t dns_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype)
{
	size_t n = strlen(name), at = HDR;

	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > DNS_NAME_MAX || cap < HDR + n + 2 + 4)
		return 0;
	memset(buf, 0, HDR);
	put16(buf, id);
	buf[2] = 0x01;   /* RD: recursion desired */
	put16(buf + 4, 1);
	for (size_t i = 0; i < n;) {
		size_t l = strcspn(name + i, ".");

		if (l == 0 || l > 63 || i + l > n)
			return 0;
		buf[at++] = (uint8_t)l;
		memcpy(buf + at, name + i, l);
		at += l;
		i += l + 1;
	}
	buf[at++] = 0;
	put16(buf + at, qtype);
	put16(buf + at + 2, 1);   /* IN */
	return at + 4;
}

/*
 * Reads the name at *off into out (dotted, lower case kept as sent), moving *off past it
 * in the message; false for a name that runs off the end, points forwards or loops.
 */
static bool read_name(const uint8_t *msg, size_t len, size_t *off, char *out, size_t cap)
{
	size_t p = *off, o = 0, end = 0;
	unsigned hops = 0;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return false;
		l = msg[p];
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (p + 1 >= len || ++hops > POINTERS_MAX)
				return false;
			to = (size_t)(l & 0x3f) << 8 | msg[p + 1];
			if (to >= p)
				return false;  /* only backwards: no loop can form */
			if (!end)
				end = p + 2;
			p = to;
			continue;
		}
		if (l & 0xc0)
			return false;  /* the reserved label types */
		if (l == 0) {
			if (!end)
				end = p + 1;
			break;
		}
		if (p + 1 + l > len || o + l + 2 > cap)
			return false;
		if (o)
			out[o++] = '.';
		memcpy(out + o, msg + p + 1, l);
		o += l;
		p += 1 + l;
	}
	out[o] = '\0';
	*off = end;
	return true;
}

static bool same_name(const char *a, const char *b)
{
	size_t n = strlen(b);

	if (n && b[n - 1] == '.')
		n--;
	return strlen(a) == n && strncasecmp(a, b, n) == 0;
}

static const char *rcode_name(unsigned rc)
{
	static const char *const names[] = { "no error", "the server could not read the query (FORMERR)",
					     "the server failed (SERVFAIL)", "no such name (NXDOMAIN)",
					     "the server does not do that (NOTIMP)", "the server refused (REFUSED)" };

	return rc < sizeof(names) / sizeof(names[0]) ? names[rc] : "an error from the server";
}

/* The answer section's records: the addresses of qtype kept. */
static int answers(const uint8_t *msg, size_t len, size_t off, unsigned count, uint16_t qtype, struct dns_answer *out,
		   char *err, size_t errlen)
{
	char owner[DNS_NAME_MAX + 2];

	for (unsigned i = 0; i < count; i++) {
		uint16_t type, cls, rdlen;
		uint32_t ttl;

		if (!read_name(msg, len, &off, owner, sizeof(owner)) || off + 10 > len) {
			snprintf(err, errlen, "answer record %u malformed", i + 1);
			return -1;
		}
		type = get16(msg + off);
		cls = get16(msg + off + 2);
		ttl = (uint32_t)get16(msg + off + 4) << 16 | get16(msg + off + 6);
		rdlen = get16(msg + off + 8);
		off += 10;
		if (off + rdlen > len) {
			snprintf(err, errlen, "answer record %u runs past the message", i + 1);
			return -1;
		}
		if (cls == 1 && type == qtype && rdlen == (qtype == DNS_TYPE_A ? 4 : 16) && out->naddr < DNS_ADDRS_MAX) {
			memcpy(out->addr[out->naddr++], msg + off, rdlen);
			if (out->naddr == 1 || ttl < out->ttl)
				out->ttl = ttl;
		}
		off += rdlen;
	}
	return 0;
}

int dns_parse(const uint8_t *msg, size_t len, uint16_t id, const char *name, uint16_t qtype, struct dns_answer *out,
	      char *err, size_t errlen)
{
	char qname[DNS_NAME_MAX + 2];
	size_t off = HDR;
	unsigned rc;

	memset(out, 0, sizeof(*out));
	if (len < HDR || get16(msg) != id || !(msg[2] & 0x80)) {
		snprintf(err, errlen, "not an answer to our query");
		return -1;
	}
	if (msg[2] & 0x02) {
		snprintf(err, errlen, "the answer was truncated (too many records for UDP)");
		return -1;
	}
	if ((rc = msg[3] & 0x0f) != 0) {
		snprintf(err, errlen, "%s", rcode_name(rc));
		return -1;
	}
	if (get16(msg + 4) != 1 || !read_name(msg, len, &off, qname, sizeof(qname)) || off + 4 > len ||
	    !same_name(qname, name) || get16(msg + off) != qtype || get16(msg + off + 2) != 1) {
		snprintf(err, errlen, "the answer's question is not ours");
		return -1;
	}
	return answers(msg, len, off + 4, get16(msg + 6), qtype, out, err, errlen);
}
