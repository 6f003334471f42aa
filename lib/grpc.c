/* SPDX-License-Identifier: MIT */
#include "lib/grpc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const code_names[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
};

const char *grpc_code_name(int code)
{
	if (code < 0 || (size_t)code >= sizeof(code_names) / sizeof(code_names[0]))
		return "UNKNOWN";
	return code_names[code];
}

int grpc_code_from_http(int http_status)
{
	switch (http_status) {
	case 400:
		return GRPC_INTERNAL;
	case 401:
		return GRPC_UNAUTHENTICATED;
	case 403:
		return GRPC_PERMISSION_DENIED;
	case 404:
		return GRPC_UNIMPLEMENTED;
	case 429:
	case 502:
	case 503:
	case 504:
		return GRPC_UNAVAILABLE;
	default:
		return GRPC_UNKNOWN;
	}
}

int grpc_timeout_parse(const char *v, size_t len, uint64_t *ms)
{
	uint64_t n = 0;

	if (len < 2 || len > 9)
		return -EINVAL;
	for (size_t i = 0; i + 1 < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	switch (v[len - 1]) {
	case 'H':
		*ms = n * 3600000;
		break;
	case 'M':
		*ms = n * 60000;
		break;
	case 'S':
		*ms = n * 1000;
		break;
	case 'm':
		*ms = n;
		break;
	case 'u':
		*ms = (n + 999) / 1000;
		break;
	case 'n':
		*ms = (n + 999999) / 1000000;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

void grpc_timeout_format(uint64_t ms, char out[16])
{
	/* At most 8 digits: fall back to coarser units for long timeouts. */
	if (ms <= 99999999)
		snprintf(out, 16, "%llum", (unsigned long long)ms);
	else if (ms / 1000 <= 99999999)
		snprintf(out, 16, "%lluS", (unsigned long long)(ms / 1000));
	else
		snprintf(out, 16, "%lluH", (unsigned long long)(ms / 3600000 % 100000000));
}

size_t grpc_msg_encode(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (outlen == 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool plain = *p >= 0x20 && *p <= 0x7e && *p != '%';

		if (o + (plain ? 1 : 3) >= outlen)
			break;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return o;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t grpc_msg_decode(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < len && o + 1 < outlen; i++) {
		int hi, lo;

		if (in[i] == '%' && i + 2 < len && (hi = hexval(in[i + 1])) >= 0 &&
		    (lo = hexval(in[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
	return o;
}

void grpc_prefix(uint8_t out[GRPC_PREFIX], size_t len)
{
	out[0] = 0;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
}

void grpc_deframer_init(struct grpc_deframer *d, size_t max)
{
	buf_init(&d->b);
	d->max = max;
	d->taken = 0;
}

void grpc_deframer_fini(struct grpc_deframer *d)
{
	buf_fini(&d->b);
}

static size_t declared(const uint8_t *h)
{
	return (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
}

/* Checks every prefix now visible, so an oversized message is refused before its body. */
static int check_prefixes(const struct grpc_deframer *d)
{
	const uint8_t *p = buf_head(&d->b) + d->taken;
	size_t left = d->b.len - d->taken;

	while (left >= GRPC_PREFIX) {
		size_t n = declared(p);

		if (p[0] & 1)
			return -ENOTSUP;
		if (p[0] != 0 || n > d->max)
			return p[0] != 0 ? -EPROTO : -EMSGSIZE;
		if (left < GRPC_PREFIX + n)
			break;
		p += GRPC_PREFIX + n;
		left -= GRPC_PREFIX + n;
	}
	return 0;
}

int grpc_deframer_push(struct grpc_deframer *d, const void *p, size_t n)
{
	int r = buf_append(&d->b, p, n);

	return r < 0 ? r : check_prefixes(d);
}

int grpc_deframer_next(struct grpc_deframer *d, const uint8_t **msg, size_t *len)
{
	size_t n;

	buf_consume(&d->b, d->taken);
	d->taken = 0;
	if (d->b.len < GRPC_PREFIX)
		return 0;
	n = declared(buf_head(&d->b));
	if (d->b.len < GRPC_PREFIX + n)
		return 0;
	*msg = buf_head(&d->b) + GRPC_PREFIX;
	*len = n;
	d->taken = GRPC_PREFIX + n;
	return 1;
}

size_t grpc_deframer_partial(const struct grpc_deframer *d)
{
	return d->b.len - d->taken;
}
