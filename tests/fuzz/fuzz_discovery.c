/* SPDX-License-Identifier: MIT */
/*
 * The discovery registry against any sequence of requests: each record is a method byte,
 * a clock step and a length-prefixed request (Hello, AffiliateUpdate, AffiliateDelete,
 * List, Watch, an unwatch, an expiry), with small limits so they are reached. Its
 * accounting must come back to nothing once everything has expired.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/discovery.h"
#include "lib/grpc.h"

static uint64_t clock_now;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return clock_now;
}

struct w {
	struct disc_watcher *w;
	int sent;
	bool gone;
};

static int on_send(void *arg, const uint8_t *msg, size_t len)
{
	struct w *x = arg;

	(void)msg;
	(void)len;
	return ++x->sent % 7 == 0;   /* now and then a watcher that cannot keep up */
}

static void on_gone(void *arg, int code, const char *why)
{
	struct w *x = arg;

	(void)code;
	(void)why;
	x->gone = true;
	x->w = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "Hello", "AffiliateUpdate", "AffiliateDelete", "List", "Bogus" };
	struct disc_limits lim;
	struct disc_registry *r;
	struct disc_stats st;
	struct w ws[8] = { 0 };
	char method[64], why[256];
	uint8_t ip[4] = { 10, 0, 0, 1 };

	disc_limits_default(&lim);
	lim.affiliates_max = 8;
	lim.endpoints_max = 4;
	lim.clusters_max = 4;
	lim.watchers_max = 6;
	lim.bytes_max = 16384;
	lim.ttl_max_ms = 60000;
	clock_now = 1;
	if (disc_new(&lim, fake_clock, NULL, &r) < 0)
		return 0;
	while (size >= 3) {
		uint8_t op = data[0], step = data[1];
		size_t len = data[2] < size - 3 ? data[2] : size - 3;
		const uint8_t *req = data + 3;

		data += 3 + len;
		size -= 3 + len;
		clock_now += (uint64_t)step * 250;
		if (op < 5) {
			uint8_t *reply = NULL;
			size_t rlen;

			snprintf(method, sizeof(method), DISC_SERVICE "%s", methods[op]);
			disc_unary(r, method, ip, sizeof(ip), req, len, &reply, &rlen, why, sizeof(why));
			free(reply);
		} else if (op < 13) {
			struct w *x = &ws[op - 5];

			if (x->w) {
				disc_unwatch(r, x->w);
				x->w = NULL;
			} else {
				x->gone = false;
				disc_watch(r, req, len, on_send, on_gone, x, &x->w, why, sizeof(why));
			}
		} else {
			disc_expire(r);
		}
	}
	for (size_t i = 0; i < 8; i++)
		if (ws[i].w)
			disc_unwatch(r, ws[i].w);
	clock_now += 10 * 60000;
	disc_expire(r);
	disc_get_stats(r, &st);
	if (st.affiliates || st.endpoints || st.bytes || st.clusters || st.watchers)
		abort();  /* everything expired and nobody watches: nothing may be held */
	disc_free(r);
	return 0;
}
