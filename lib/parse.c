/* SPDX-License-Identifier: MIT */
#include "lib/parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

bool parse_ip(const char *s, struct ipaddr *out)
{
	struct ipaddr tmp;

	if (!out)
		out = &tmp;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = AF_INET6;
		return true;
	}
	return false;
}

bool parse_cidr(const char *s, struct ipaddr *out, unsigned *prefix)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long p;
	struct ipaddr tmp;

	if (!out)
		out = &tmp;
	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash || !isdigit((unsigned char)slash[1]))
		return false;
	*slash = '\0';
	p = strtoul(slash + 1, &end, 10);
	if (*end || !parse_ip(buf, out))
		return false;
	if (p > (out->family == AF_INET ? 32u : 128u))
		return false;
	if (prefix)
		*prefix = (unsigned)p;
	return true;
}

bool parse_mac(const char *s, bool glob)
{
	/* Six groups of two; with glob, '*' may also stand for the rest of the address. */
	for (int group = 0; group < 6; group++) {
		for (int i = 0; i < 2; i++, s++) {
			if (glob && *s == '*' && (s[1] == '\0'))
				return true;
			if (!(isxdigit((unsigned char)*s) || (glob && (*s == '*' || *s == '?'))))
				return false;
		}
		if (group < 5 && *s++ != ':')
			return false;
	}
	return *s == '\0';
}

bool parse_hwaddr(const char *s, uint8_t out[6])
{
	if (!s || !parse_mac(s, false))
		return false;
	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)strtoul(s + 3 * i, NULL, 16);
	return true;
}

bool parse_duration_ms(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {
		{ "ns", 1e-6 }, { "us", 1e-3 }, { "µs", 1e-3 }, { "ms", 1 },
		{ "s", 1000 },  { "m", 60000 }, { "h", 3600000 },
	};
	double total = 0;

	if (!*s)
		return false;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return true;
	}
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		size_t best = 0;
		int found = -1;

		if (end == s || v < 0 || *s == '+' || *s == '-' || isspace((unsigned char)*s))
			return false;
		s = end;
		/* Longest unit that matches here ("ms" before "m"). */
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);

			if (strncmp(s, units[i].unit, n) == 0 && n > best) {
				best = n;
				found = (int)i;
			}
		}
		if (found < 0)
			return false;
		total += v * units[found].ms;
		s += best;
	}
	if (total > 1e15)
		return false;
	*ms = (uint64_t)total;
	return true;
}

bool parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {
		{ "B", 1 },       { "", 1 },        { "kB", 1e3 },    { "KB", 1e3 },
		{ "MB", 1e6 },    { "GB", 1e9 },    { "TB", 1e12 },   { "K", 1024.0 },
		{ "M", 1048576.0 }, { "G", 1073741824.0 }, { "T", 1099511627776.0 },
		{ "KiB", 1024.0 }, { "MiB", 1048576.0 }, { "GiB", 1073741824.0 },
		{ "TiB", 1099511627776.0 },
	};
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0 || !isdigit((unsigned char)*s))
		return false;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v * units[i].mult > 1.8e19)
				return false;
			*bytes = (uint64_t)(v * units[i].mult);
			return true;
		}
	}
	return false;
}

bool valid_hostname(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!(isalnum((unsigned char)c) || c == '-' || c == '_'))
			return false;
		if (label == 0 && c == '-')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 ? s[n - 1] != '-' : n > 1;  /* a trailing dot is allowed */
}

bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) || !isprint((unsigned char)*s))
			return false;
	return true;
}

bool ip_in_prefix(const struct ipaddr *ip, const struct ipaddr *net, unsigned len)
{
	unsigned bits = ip->family == AF_INET ? 32 : 128, full;

	if (ip->family != net->family || len > bits)
		return false;
	full = len / 8;
	if (memcmp(ip->addr, net->addr, full) != 0)
		return false;
	return len % 8 == 0 || ((ip->addr[full] ^ net->addr[full]) & (0xff00 >> (len % 8)) & 0xff) == 0;
}

bool parse_hostport(const char *s, char *host, size_t hostlen, unsigned *port)
{
	const char *colon;
	char *end;
	unsigned long p;
	size_t n;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return false;
		n = (size_t)(close - s - 1);
		colon = close + 1;
		if (n >= hostlen)
			return false;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (!parse_ip(host, NULL) || strchr(host, ':') == NULL)
			return false;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return false;
		n = (size_t)(colon - s);
		if (n == 0 || n >= hostlen)
			return false;
		memcpy(host, s, n);
		host[n] = '\0';
		if (strchr(host, ':') || !(parse_ip(host, NULL) || valid_hostname(host)))
			return false;
	}
	p = strtoul(colon + 1, &end, 10);
	if (!isdigit((unsigned char)colon[1]) || *end || p == 0 || p > 65535)
		return false;
	*port = (unsigned)p;
	return true;
}

bool parse_host_opt_port(const char *s, char *host, size_t hostlen, unsigned *port)
{
	size_t n = strlen(s);

	*port = 0;
	if (parse_hostport(s, host, hostlen, port))
		return true;
	/* No port: a bare host. */
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']' || n - 2 >= hostlen)
			return false;
		memcpy(host, s + 1, n - 2);
		host[n - 2] = '\0';
		return strchr(host, ':') && parse_ip(host, NULL);
	}
	if (n == 0 || strchr(s, ':') || n >= hostlen)
		return false;
	memcpy(host, s, n + 1);
	return parse_ip(host, NULL) || valid_hostname(host);
}

bool parse_url(const char *s, struct url *out)
{
	const char *sep = strstr(s, "://"), *hp, *slash;
	char hostport[300];
	size_t n;

	memset(out, 0, sizeof(*out));
	out->path = "";
	if (!sep || sep == s || (size_t)(sep - s) >= sizeof(out->scheme))
		return false;
	for (const char *p = s; p < sep; p++)
		if (!isalpha((unsigned char)*p))
			return false;
	memcpy(out->scheme, s, (size_t)(sep - s));
	hp = sep + 3;
	slash = strchr(hp, '/');
	n = slash ? (size_t)(slash - hp) : strlen(hp);
	if (n == 0 || n >= sizeof(hostport))
		return false;
	memcpy(hostport, hp, n);
	hostport[n] = '\0';
	if (slash)
		out->path = slash;
	return parse_host_opt_port(hostport, out->host, sizeof(out->host), &out->port);
}
