/* SPDX-License-Identifier: MIT */
#include "netctl/ipcfg.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/parse.h"

#define FIELDS 10
#define FIELD_MAX 64

static const char *const autoconfs[] = { "off", "none", "on", "any", "dhcp", "bootp", "rarp", "both", "dhcp6" };
static const char *const names[FIELDS] = { "client", "server", "gateway", "netmask", "hostname",
					    "device", "autoconf", "dns0", "dns1", "ntp0" };

static bool is_autoconf(const char *s)
{
	for (size_t i = 0; i < sizeof(autoconfs) / sizeof(autoconfs[0]); i++)
		if (strcmp(s, autoconfs[i]) == 0)
			return true;
	return false;
}

/* Splits on ':' outside brackets; -1 if there are too many fields or one is too long. */
static int split(const char *s, char f[FIELDS][FIELD_MAX], size_t *n)
{
	size_t len = 0;
	bool bracket = false;

	*n = 1;
	memset(f, 0, FIELDS * FIELD_MAX);
	for (; *s; s++) {
		if (*s == '[')
			bracket = true;
		else if (*s == ']')
			bracket = false;
		if (*s == ':' && !bracket) {
			if (*n == FIELDS)
				return -1;
			(*n)++;
			len = 0;
			continue;
		}
		if (len + 1 >= FIELD_MAX)
			return -1;
		f[*n - 1][len++] = *s;
	}
	return bracket ? -2 : 0;
}

/* An address of the expected family (0: either, setting it); IPv6 only as "[v6]". */
static int addr(const char *s, int *family, unsigned char out[16])
{
	char buf[FIELD_MAX];
	size_t n = strlen(s);
	bool bracket = n >= 2 && s[0] == '[' && s[n - 1] == ']';
	struct ipaddr ip;

	if (bracket) {
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
	}
	if (!parse_ip(bracket ? buf : s, &ip) || (ip.family == AF_INET6) != bracket ||
	    (*family && *family != ip.family))
		return -1;
	*family = ip.family;
	memcpy(out, ip.addr, 16);
	return 0;
}

/* A netmask's prefix length (contiguous ones only), or a bare length; -1 otherwise. */
static int mask_len(const char *s, int family)
{
	unsigned char m[16];
	int f = family, bits = 0;
	char *end;
	unsigned long v;

	if (*s && strspn(s, "0123456789") == strlen(s)) {
		v = strtoul(s, &end, 10);
		return v <= (family == AF_INET6 ? 128u : 32u) && strlen(s) <= 3 ? (int)v : -1;
	}
	if (family != AF_INET || addr(s, &f, m) < 0)
		return -1;
	for (int i = 0; i < 4; i++)
		for (int b = 7; b >= 0; b--) {
			bool one = m[i] >> b & 1;

			if (one && bits != i * 8 + (7 - b))
				return -1;  /* a one after a zero */
			bits += one;
		}
	return bits;
}

static int fail(char *err, size_t errlen, const char *field, const char *value, const char *why)
{
	snprintf(err, errlen, "ip=: %s \"%s\": %s", field, value, why);
	return -1;
}

int ipcfg_parse(const char *s, struct ipcfg *c, char *err, size_t errlen)
{
	char f[FIELDS][FIELD_MAX], *slash;
	size_t n;
	int r, fam;

	memset(c, 0, sizeof(*c));
	if (is_autoconf(s)) {
		memcpy(c->autoconf, s, strlen(s) + 1);
		return 0;
	}
	if ((r = split(s, f, &n)) < 0) {
		snprintf(err, errlen, "ip=%.80s: %s", s,
			 r == -2 ? "an unclosed '['" : "more than 10 fields, or a field over 63 characters");
		return -1;
	}
	if (f[0][0]) {
		if ((slash = strchr(f[0], '/')) != NULL)
			*slash++ = '\0';
		if (addr(f[0], &c->family, c->client) < 0)
			return fail(err, errlen, names[0], f[0], "not an IPv4 address or a bracketed IPv6 one");
		c->prefixlen = c->family == AF_INET ? 32 : 128;
		if (slash && (r = mask_len(slash, c->family)) < 0)
			return fail(err, errlen, "prefix", slash, "not a prefix length");
		if (slash)
			c->prefixlen = (unsigned)r;
	}
	fam = c->family;
	if (f[1][0] && addr(f[1], &fam, c->server) < 0)
		return fail(err, errlen, names[1], f[1], "not an address of the client's family");
	c->has_server = f[1][0] != '\0';
	if (f[2][0] && addr(f[2], &fam, c->gateway) < 0)
		return fail(err, errlen, names[2], f[2], "not an address of the client's family");
	c->has_gateway = f[2][0] != '\0';
	if (f[3][0]) {
		if (!c->family)
			return fail(err, errlen, names[3], f[3], "a netmask needs a client address");
		if ((r = mask_len(f[3], c->family)) < 0)
			return fail(err, errlen, names[3], f[3], "not a netmask (contiguous ones) or a prefix length");
		c->prefixlen = (unsigned)r;
	}
	if (strlen(f[4]) >= sizeof(c->hostname))
		return fail(err, errlen, names[4], f[4], "longer than 63 characters");
	snprintf(c->hostname, sizeof(c->hostname), "%s", f[4]);
	if (strlen(f[5]) >= sizeof(c->device) || strchr(f[5], '/'))
		return fail(err, errlen, names[5], f[5], "not a link name (at most 15 characters, no '/')");
	memcpy(c->device, f[5], strlen(f[5]) + 1);
	if (f[6][0] && !is_autoconf(f[6]))
		return fail(err, errlen, names[6], f[6], "expected off, none, on, any, dhcp, bootp, rarp, both or dhcp6");
	{
		const char *ac = f[6][0] ? f[6] : c->family ? "off" : "any";

		memcpy(c->autoconf, ac, strlen(ac) + 1);  /* one of autoconfs: it fits */
	}
	for (int i = 0; i < 2; i++) {
		int df = 0;

		if (f[7 + i][0] && addr(f[7 + i], &df, c->dns[i]) < 0)
			return fail(err, errlen, names[7 + i], f[7 + i], "not an address");
		c->has_dns[i] = f[7 + i][0] != '\0';
	}
	{
		int nf = 0;

		if (f[9][0] && addr(f[9], &nf, c->ntp) < 0)
			return fail(err, errlen, names[9], f[9], "not an address");
		c->has_ntp = f[9][0] != '\0';
	}
	return 0;
}
