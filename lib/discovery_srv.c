/* SPDX-License-Identifier: MIT */
/* The discovery registry on a gRPC server (see discovery_srv.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/discovery_srv.h"

#define RATE_SLOTS 4096u     /* client addresses sharing a slot share its budget */
#define TICK_MS 500u         /* expiry and stalled-watcher sweep */

struct rate_slot {
	uint8_t ip[16];
	uint8_t iplen;
	double tokens;
	uint64_t at_ms;          /* when tokens was last brought up to date */
};

struct dwatch {
	struct disc_server *s;
	struct grpc_call *call;
	struct disc_watcher *w;
	size_t base;             /* queued bytes when the snapshot was out */
	uint64_t since_ms;
	struct dwatch *prev, *next;
};

struct disc_server {
	struct disc_server_opts o;
	struct disc_registry *reg;
	struct loop_timer tick;
	struct rate_slot *slots;
	struct dwatch *watches;
	unsigned long limited;
};

/* The client's address from grpc_call_peer_addr's "ip:port" or "[ip6]:port", as 4 or 16 bytes. */
static size_t peer_ip(const char *peer, uint8_t out[16])
{
	char ip[INET6_ADDRSTRLEN + 2];
	const char *end;
	size_t n;

	if (peer[0] == '[') {
		if (!(end = strchr(peer, ']')) || (n = (size_t)(end - peer - 1)) >= sizeof(ip))
			return 0;
		memcpy(ip, peer + 1, n);
		ip[n] = '\0';
		if (inet_pton(AF_INET6, ip, out) != 1)
			return 0;
		static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		if (memcmp(out, v4mapped, sizeof(v4mapped)) == 0) {
			memmove(out, out + 12, 4);
			return 4;
		}
		return 16;
	}
	if (!(end = strrchr(peer, ':')) || (n = (size_t)(end - peer)) >= sizeof(ip))
		return 0;
	memcpy(ip, peer, n);
	ip[n] = '\0';
	return inet_pton(AF_INET, ip, out) == 1 ? 4 : 0;
}

/* A token bucket per address slot: true when the request may go on. */
static bool rate_ok(struct disc_server *s, const uint8_t *ip, size_t iplen)
{
	uint64_t h = 1469598103934665603ull, t = mono_ms();
	double burst = s->o.burst ? s->o.burst : 4.0 * s->o.rate;

	if (!s->o.rate)
		return true;
	for (size_t i = 0; i < iplen; i++)
		h = (h ^ ip[i]) * 1099511628211ull;
	struct rate_slot *r = &s->slots[h % RATE_SLOTS];

	if (r->iplen != iplen || memcmp(r->ip, ip, iplen) != 0) {
		/* A new address in the slot starts with a full bucket only if the slot's last
		 * user has had time to refill it: sharing never adds budget. */
		memcpy(r->ip, ip, iplen);
		r->iplen = (uint8_t)iplen;
	}
	if (!r->at_ms)
		r->tokens = burst;
	else
		r->tokens += (double)(t - r->at_ms) * s->o.rate / 1000.0;
	if (r->tokens > burst)
		r->tokens = burst;
	r->at_ms = t;
	if (r->tokens < 1.0) {
		s->limited++;
		return false;
	}
	r->tokens -= 1.0;
	return true;
}

/* --- watches --- */

static void dwatch_free(struct dwatch *d)
{
	struct disc_server *s = d->s;

	if (d->prev)
		d->prev->next = d->next;
	else
		s->watches = d->next;
	if (d->next)
		d->next->prev = d->prev;
	free(d);
}

static int on_event(void *arg, const uint8_t *msg, size_t len)
{
	struct dwatch *d = arg;

	if (grpc_call_send(d->call, msg, len) < 0)
		return -1;
	/* The snapshot may sit unread for a while; beyond it, only so much may pile up. */
	return d->w && grpc_call_queued(d->call) > d->base + d->s->o.watch_behind_max;
}

static void on_gone(void *arg, int code, const char *why)
{
	struct dwatch *d = arg;

	grpc_call_abort(d->call, code, why);
	dwatch_free(d);
}

static void on_cancel(void *arg, struct grpc_call *c)
{
	struct dwatch *d = arg;

	disc_unwatch(d->s->reg, d->w);
	grpc_call_finish(c, GRPC_CANCELLED, NULL);
	dwatch_free(d);
}

static void start_watch(struct disc_server *s, struct grpc_call *c, const uint8_t *req, size_t len)
{
	struct dwatch *d = calloc(1, sizeof(*d));
	char why[256] = "";
	int code;

	if (!d) {
		grpc_call_finish(c, GRPC_RESOURCE_EXHAUSTED, "watch: out of memory");
		return;
	}
	*d = (struct dwatch){ .s = s, .call = c, .since_ms = mono_ms() };
	if ((code = disc_watch(s->reg, req, len, on_event, on_gone, d, &d->w, why, sizeof(why))) != GRPC_OK) {
		free(d);
		grpc_call_abort(c, code, why);
		return;
	}
	d->base = grpc_call_queued(c);
	d->next = s->watches;
	if (s->watches)
		s->watches->prev = d;
	s->watches = d;
	grpc_call_on_cancel(c, on_cancel, d);
}

/*
 * A watcher still more than watch_behind_max behind once snapshot_secs have passed has not
 * taken its snapshot: dropped. What it has taken of it no longer counts as its allowance.
 */
static void sweep_stalled(struct disc_server *s)
{
	uint64_t t = mono_ms();

	for (struct dwatch *d = s->watches, *nx; d; d = nx) {
		size_t q = grpc_call_queued(d->call);

		nx = d->next;
		if (q < d->base)
			d->base = q;
		if (q > s->o.watch_behind_max && t - d->since_ms > (uint64_t)s->o.snapshot_secs * 1000) {
			disc_unwatch(s->reg, d->w);
			grpc_call_abort(d->call, GRPC_RESOURCE_EXHAUSTED,
					"watch: the snapshot was not taken in time; watch again");
			dwatch_free(d);
		}
	}
}

static void on_tick(void *arg)
{
	struct disc_server *s = arg;

	disc_expire(s->reg);
	sweep_stalled(s);
	loop_timer_arm(s->o.loop, &s->tick, TICK_MS);
}

/* --- calls --- */

bool disc_server_handle(struct disc_server *s, struct grpc_call *c)
{
	const char *method = grpc_call_method(c);
	uint8_t ip[16], *reply = NULL;
	size_t iplen, len, rlen;
	const uint8_t *req;
	char why[256] = "";
	int code;

	if (!disc_is_method(method))
		return false;
	iplen = peer_ip(grpc_call_peer_addr(c), ip);
	if (!rate_ok(s, ip, iplen)) {
		grpc_call_finish(c, GRPC_RESOURCE_EXHAUSTED, "rate limit: too many requests from this address");
		return true;
	}
	req = grpc_call_request(c, &len);
	if (disc_is_watch(method)) {
		start_watch(s, c, req, len);
		return true;
	}
	code = disc_unary(s->reg, method, iplen ? ip : NULL, iplen, req, len, &reply, &rlen, why, sizeof(why));
	if (code == GRPC_OK && grpc_call_send(c, reply, rlen) < 0)
		code = GRPC_RESOURCE_EXHAUSTED;
	free(reply);
	grpc_call_finish(c, code, code == GRPC_OK ? NULL : why);
	return true;
}

struct disc_registry *disc_server_registry(struct disc_server *s)
{
	return s->reg;
}

unsigned long disc_server_limited(const struct disc_server *s)
{
	return s->limited;
}

int disc_server_new(const struct disc_server_opts *o, struct disc_server **out)
{
	struct disc_server *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->o = *o;
	if (!s->o.watch_behind_max)
		s->o.watch_behind_max = 256u << 10;
	if (!s->o.snapshot_secs)
		s->o.snapshot_secs = 30;
	if (!(s->slots = calloc(RATE_SLOTS, sizeof(*s->slots))) || disc_new(o->limits, NULL, NULL, &s->reg) < 0) {
		free(s->slots);
		free(s);
		return -ENOMEM;
	}
	loop_timer_init(&s->tick, on_tick, s);
	loop_timer_arm(s->o.loop, &s->tick, TICK_MS);
	*out = s;
	return 0;
}

void disc_server_free(struct disc_server *s)
{
	if (!s)
		return;
	loop_timer_cancel(s->o.loop, &s->tick);
	/* Each watch is told by the registry (on_gone frees it). */
	disc_free(s->reg);
	while (s->watches)
		dwatch_free(s->watches);
	free(s->slots);
	free(s);
}
