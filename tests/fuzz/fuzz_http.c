/* SPDX-License-Identifier: MIT */
/*
 * HTTP as lib/http.c reads it. With bit 6 of the first byte set, the rest is a request's
 * head as osctl pxe serve reads it: parsed, or refused with a status and a message.
 * Otherwise it is a server's response as machined's client reads it: the first byte picks
 * where the input is split (the rest is fed in two parts) and whether the connection then
 * ends. The parser either completes with a body within its cap, asks for more, or fails
 * with a message; never reads or writes out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_resp r;
	size_t cut;
	int rc;

	if (size < 1)
		return 0;
	if (data[0] & 0x40) {
		struct http_req q;
		char err[128] = "", *copy = malloc(size);
		int status = 0;

		if (!copy)
			return 0;
		memcpy(copy, data + 1, size - 1);
		rc = http_req_parse(copy, size - 1, &q, &status, err, sizeof(err));
		if (rc < 0 && (!err[0] || status < 400))
			abort();
		if (rc > 0 && (q.path[0] != '/' || strlen(q.path) >= sizeof(q.path)))
			abort();
		free(copy);
		return 0;
	}
	cut = size > 1 ? data[0] % size : 0;
	http_resp_init(&r, 4096);
	rc = http_resp_feed(&r, data + 1, cut > 0 ? cut - 1 : 0);
	if (rc == 0)
		rc = http_resp_feed(&r, data + 1 + (cut > 0 ? cut - 1 : 0), size - 1 - (cut > 0 ? cut - 1 : 0));
	if (rc == 0 && (data[0] & 0x80))
		rc = http_resp_eof(&r);
	if (rc < 0 && !r.error[0])
		abort();
	if (rc > 0 && r.body.len > 4096)
		abort();
	http_resp_fini(&r);
	return 0;
}
