/* SPDX-License-Identifier: MIT */
/* SNTP messages and arithmetic (see sntp.h). */
#include <stdio.h>
#include <string.h>

#include "netctl/sntp.h"

#define UNIX_TO_NTP 2208988800ull  /* seconds from 1900 to 1970 */

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

void sntp_request(uint8_t buf[SNTP_PACKET], uint64_t xmit)
{
	memset(buf, 0, SNTP_PACKET);
	buf[0] = 0 << 6 | 4 << 3 | 3;  /* no leap warning, version 4, client */
	put64(buf + 40, xmit);
}

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

int sntp_parse(const uint8_t *p, size_t n, uint64_t xmit, struct sntp_reply *out, char *err, size_t errlen)
{
	unsigned mode;

	memset(out, 0, sizeof(*out));
	if (n < SNTP_PACKET)
		return fail(err, errlen, "shorter than an NTP packet");
	out->leap = p[0] >> 6;
	out->version = p[0] >> 3 & 7;
	mode = p[0] & 7;
	out->stratum = p[1];
	out->poll = (int8_t)p[2];
	out->precision = (int8_t)p[3];
	out->refid = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
	out->orig = get64(p + 24);
	out->recv = get64(p + 32);
	out->xmit = get64(p + 40);
	if (mode != 4)
		return fail(err, errlen, "not a server's reply");
	if (out->version < 1 || out->version > 4)
		return fail(err, errlen, "an NTP version this client does not speak");
	if (out->orig != xmit)
		return fail(err, errlen, "not the reply to our request (its origin timestamp differs)");
	if (out->stratum == 0) {
		char code[5];

		memcpy(code, p + 12, 4);
		code[4] = '\0';
		for (int i = 0; i < 4; i++)
			if (code[i] < 0x20 || code[i] > 0x7e)
				code[i] = '?';
		snprintf(err, errlen, "the server refuses (kiss-o'-death %s)", code);
		return -1;
	}
	if (out->stratum > 15 || out->leap == 3)
		return fail(err, errlen, "the server is not synchronised");
	if (!out->recv || !out->xmit)
		return fail(err, errlen, "a zero timestamp");
	return 0;
}

/* A difference of NTP timestamps (units of 2^-32 s) in nanoseconds. */
static int64_t to_ns(int64_t d)
{
	return (int64_t)(((__int128)d * 1000000000) >> 32);
}

void sntp_offset(const struct sntp_reply *r, uint64_t t4, int64_t *offset_ns, int64_t *delay_ns)
{
	int64_t a = (int64_t)(r->recv - r->orig), b = (int64_t)(r->xmit - t4);
	int64_t c = (int64_t)(t4 - r->orig), d = (int64_t)(r->xmit - r->recv);

	*offset_ns = (to_ns(a) + to_ns(b)) / 2;
	*delay_ns = to_ns(c) - to_ns(d);
}

uint64_t sntp_from_timespec(const struct timespec *ts)
{
	uint64_t frac = ((uint64_t)ts->tv_nsec << 32) / 1000000000;

	return ((uint64_t)ts->tv_sec + UNIX_TO_NTP) << 32 | frac;
}
