/* SPDX-License-Identifier: MIT */
/* DHCPv6: messages and the client's state machine (see dhcp6.h). */
#include <stdio.h>
#include <string.h>

#include "lib/parse.h"
#include "netctl/dhcp6.h"

enum {
	OPT_CLIENTID = 1, OPT_SERVERID = 2, OPT_IA_NA = 3, OPT_IAADDR = 5, OPT_ORO = 6, OPT_ELAPSED = 8,
	OPT_STATUS = 13, OPT_DNS = 23, OPT_DOMAINS = 24,
};

#define INFINITE UINT32_MAX
#define STATUS_NOADDRS 2

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint8_t *put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	return put16(p + 2, v & 0xffff);
}

static uint8_t *opt(uint8_t *o, unsigned code, const void *v, size_t n)
{
	o = put16(put16(o, code), (unsigned)n);
	if (n)
		memcpy(o, v, n);
	return o + n;
}

size_t dhcp6_duid_ll(uint8_t duid[10], const uint8_t mac[6])
{
	put16(put16(duid, 3), 1);
	memcpy(duid + 4, mac, 6);
	return 10;
}

size_t dhcp6_build(uint8_t *buf, size_t cap, const struct dhcp6_request *q)
{
	static const uint8_t oro[] = { 0, OPT_DNS, 0, OPT_DOMAINS };
	uint8_t *o = buf, ia[12 + 4 + 24], el[2];
	size_t ialen = 12;

	if (cap < DHCP6_MSG_MAX || q->duid_len > DHCP6_DUID_MAX || q->server_id_len > DHCP6_DUID_MAX)
		return 0;
	*o++ = (uint8_t)q->type;
	*o++ = (uint8_t)(q->xid >> 16);
	*o++ = (uint8_t)(q->xid >> 8);
	*o++ = (uint8_t)q->xid;
	o = opt(o, OPT_CLIENTID, q->duid, q->duid_len);
	if (q->server_id && (q->type == DHCP6_REQUEST || q->type == DHCP6_RENEW || q->type == DHCP6_RELEASE))
		o = opt(o, OPT_SERVERID, q->server_id, q->server_id_len);
	/* One IA_NA; T1, T2 and the lifetimes left to the server. */
	memset(ia, 0, sizeof(ia));
	put32(ia, q->iaid);
	if (q->addr) {
		put16(put16(ia + 12, OPT_IAADDR), 24);
		memcpy(ia + 16, q->addr, 16);
		ialen += 4 + 24;
	}
	o = opt(o, OPT_IA_NA, ia, ialen);
	put16(el, q->elapsed_cs);
	o = opt(o, OPT_ELAPSED, el, 2);
	if (q->type != DHCP6_RELEASE)
		o = opt(o, OPT_ORO, oro, sizeof(oro));
	return (size_t)(o - buf);
}

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

/* Walks options in p[0..n): fn per option; -1 when one runs past the end. */
typedef void opt_fn(void *arg, unsigned code, const uint8_t *v, size_t len);

static int walk(const uint8_t *p, size_t n, opt_fn *fn, void *arg)
{
	size_t i = 0;

	while (i < n) {
		unsigned code, len;

		if (n - i < 4)
			return -1;
		code = get16(p + i);
		len = get16(p + i + 2);
		if (n - i - 4 < len)
			return -1;
		fn(arg, code, p + i + 4, len);
		i += 4 + len;
	}
	return 0;
}

struct status {
	unsigned code;
	char *msg;
	size_t msglen;
};

static void status_of(struct status *s, const uint8_t *v, size_t len)
{
	if (len < 2)
		return;
	s->code = get16(v);
	if (s->msg && s->msglen)
		snprintf(s->msg, s->msglen, "%.*s", (int)(len - 2 < s->msglen ? len - 2 : s->msglen - 1), v + 2);
}

struct ia {
	struct dhcp6_reply *r;
	bool bad;
};

static void iaaddr_opt(void *arg, unsigned code, const uint8_t *v, size_t len)
{
	unsigned *st = arg;

	if (code == OPT_STATUS && len >= 2)
		*st = get16(v);
}

static void ia_opt(void *arg, unsigned code, const uint8_t *v, size_t len)
{
	struct ia *ia = arg;
	struct dhcp6_reply *r = ia->r;
	struct status s = { 0, NULL, 0 };

	if (code == OPT_STATUS) {
		status_of(&s, v, len);
		r->ia_status = s.code;
	} else if (code == OPT_IAADDR && len >= 24 && !r->has_addr) {
		uint32_t pref = get32(v + 16), valid = get32(v + 20);
		unsigned st = 0;

		if (walk(v + 24, len - 24, iaaddr_opt, &st) < 0)
			ia->bad = true;
		else if (valid && pref <= valid && st == 0) {
			memcpy(r->lease.addr, v, 16);
			r->lease.preferred_s = pref;
			r->lease.valid_s = valid;
			r->has_addr = true;
		}
	}
}

/* A domain list (RFC 3646): names in DNS wire form, uncompressed. */
static void domains(struct dhcp6_lease *l, const uint8_t *v, size_t len)
{
	size_t i = 0;

	while (i < len && l->nsearch < DHCP6_SEARCH_MAX) {
		char *out = l->search[l->nsearch];
		size_t o = 0;
		bool ok = true;

		while (i < len && v[i]) {
			unsigned lab = v[i];

			if (lab > 63 || i + 1 + lab > len || o + lab + 2 > DHCP6_NAME_MAX) {
				ok = false;
				break;
			}
			if (o)
				out[o++] = '.';
			memcpy(out + o, v + i + 1, lab);
			o += lab;
			i += 1 + lab;
		}
		if (!ok || i >= len)
			return;  /* a name that runs off the end ends the list */
		i++;
		out[o] = '\0';
		if (o && valid_hostname(out))
			l->nsearch++;
	}
}

static void top_opt(void *arg, unsigned code, const uint8_t *v, size_t len)
{
	struct ia *ia = arg;
	struct dhcp6_reply *r = ia->r;
	struct status s = { 0, r->message, sizeof(r->message) };

	switch (code) {
	case OPT_CLIENTID:
		if (len <= DHCP6_DUID_MAX) {
			memcpy(r->client_id, v, len);
			r->client_id_len = len;
		}
		break;
	case OPT_SERVERID:
		if (len && len <= DHCP6_DUID_MAX) {
			memcpy(r->lease.server_id, v, len);
			r->lease.server_id_len = len;
		}
		break;
	case OPT_IA_NA:
		if (len >= 12) {
			r->lease.t1_s = get32(v + 4);
			r->lease.t2_s = get32(v + 8);
			if (walk(v + 12, len - 12, ia_opt, ia) < 0)
				ia->bad = true;
		}
		break;
	case OPT_STATUS:
		status_of(&s, v, len);
		r->status = s.code;
		break;
	case OPT_DNS:
		for (size_t i = 0; i + 16 <= len && len % 16 == 0 && r->lease.ndns < DHCP6_DNS_MAX; i += 16)
			memcpy(r->lease.dns[r->lease.ndns++], v + i, 16);
		break;
	case OPT_DOMAINS:
		domains(&r->lease, v, len);
		break;
	}
}

int dhcp6_parse(const uint8_t *p, size_t n, struct dhcp6_reply *out, char *err, size_t errlen)
{
	struct ia ia = { out, false };
	struct dhcp6_lease *l = &out->lease;

	memset(out, 0, sizeof(*out));
	if (n < 4)
		return fail(err, errlen, "shorter than a DHCPv6 message");
	out->type = p[0];
	if (out->type != DHCP6_ADVERTISE && out->type != DHCP6_REPLY)
		return fail(err, errlen, "not an ADVERTISE or REPLY");
	out->xid = (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (walk(p + 4, n - 4, top_opt, &ia) < 0 || ia.bad)
		return fail(err, errlen, "an option runs past its end");
	if (!l->server_id_len)
		return fail(err, errlen, "no server identifier");
	if (!out->has_addr)
		return 0;
	/* T1/T2 of 0 are the client's to choose (RFC 8415 21.4): 0.5 and 0.8 of the preferred lifetime. */
	if (l->preferred_s == INFINITE) {
		l->t1_s = l->t2_s = INFINITE;
	} else if (!l->t1_s || !l->t2_s || l->t1_s > l->t2_s || l->t2_s > l->valid_s) {
		l->t1_s = l->preferred_s / 2;
		l->t2_s = (uint32_t)((uint64_t)l->preferred_s * 4 / 5);
	}
	return 0;
}

/* --- the client --- */

static uint32_t rnd(struct dhcp6_client *c)
{
	c->rand ^= c->rand << 13;
	c->rand ^= c->rand >> 7;
	c->rand ^= c->rand << 17;
	return (uint32_t)(c->rand >> 11);
}

/* RT = 2 RTprev (IRT at first), at most MRT, each +-10% (RFC 8415 15). */
static uint64_t backoff(struct dhcp6_client *c, uint64_t irt, uint64_t mrt)
{
	uint64_t rt = c->rt_ms ? 2 * c->rt_ms : irt;

	if (rt > mrt)
		rt = mrt;
	c->rt_ms = rt;
	return rt - rt / 10 + rnd(c) % (rt / 5 + 1);
}

static uint64_t lease_at(const struct dhcp6_client *c, uint32_t s)
{
	return s == INFINITE ? UINT64_MAX : c->bound_ms + (uint64_t)s * 1000;
}

static void begin(struct dhcp6_client *c, enum dhcp6_state s, uint64_t now)
{
	c->state = s;
	c->xid = rnd(c) & 0xffffff;
	c->began_ms = now;
	c->tries = 0;
	c->rt_ms = 0;
}

static void message(struct dhcp6_client *c, struct dhcp6_action *a, enum dhcp6_type type, uint64_t now)
{
	uint64_t cs = (now - c->began_ms) / 10;

	a->send = true;
	memset(&a->req, 0, sizeof(a->req));
	a->req.type = type;
	a->req.xid = c->xid;
	a->req.elapsed_cs = cs > 0xffff ? 0xffff : (uint16_t)cs;
	a->req.duid = c->duid;
	a->req.duid_len = c->duid_len;
	a->req.iaid = c->iaid;
	c->tries++;
}

static void solicit(struct dhcp6_client *c, struct dhcp6_action *a, uint64_t now)
{
	if (c->state != DHCP6_SOLICITING)
		begin(c, DHCP6_SOLICITING, now);
	message(c, a, DHCP6_SOLICIT, now);
	c->next_ms = now + backoff(c, 1000, 120000);
}

static void request(struct dhcp6_client *c, struct dhcp6_action *a, uint64_t now)
{
	message(c, a, DHCP6_REQUEST, now);
	a->req.server_id = c->offer.server_id;
	a->req.server_id_len = c->offer.server_id_len;
	a->req.addr = c->offer.addr;
	c->next_ms = now + backoff(c, 1000, 30000);
}

static void extend(struct dhcp6_client *c, struct dhcp6_action *a, uint64_t now)
{
	bool rebind = c->state == DHCP6_REBINDING;
	uint64_t until = lease_at(c, rebind ? c->lease.valid_s : c->lease.t2_s), next;

	message(c, a, rebind ? DHCP6_REBIND : DHCP6_RENEW, now);
	if (!rebind) {
		a->req.server_id = c->lease.server_id;
		a->req.server_id_len = c->lease.server_id_len;
	}
	a->req.addr = c->lease.addr;
	next = now + backoff(c, 10000, 600000);
	c->next_ms = next < until ? next : until;
}

static void lose(struct dhcp6_client *c, struct dhcp6_action *a, uint64_t now)
{
	c->has_lease = false;
	a->event = DHCP6_EV_LOST;
	c->state = DHCP6_INIT;
	solicit(c, a, now);
}

void dhcp6_init(struct dhcp6_client *c, const uint8_t mac[6], uint32_t iaid, uint64_t seed, uint64_t now_ms)
{
	memset(c, 0, sizeof(*c));
	c->duid_len = dhcp6_duid_ll(c->duid, mac);
	c->iaid = iaid;
	c->rand = seed ? seed : 0x9e3779b97f4a7c15ull;
	c->state = DHCP6_INIT;
	c->next_ms = now_ms;
}

void dhcp6_tick(struct dhcp6_client *c, uint64_t now, struct dhcp6_action *a)
{
	memset(a, 0, sizeof(*a));
	switch (c->state) {
	case DHCP6_INIT:
	case DHCP6_SOLICITING:
		solicit(c, a, now);
		break;
	case DHCP6_REQUESTING:
		if (c->tries >= 10) {  /* REQ_MAX_RC: the server went quiet after its ADVERTISE */
			c->state = DHCP6_INIT;
			solicit(c, a, now);
		} else {
			request(c, a, now);
		}
		break;
	case DHCP6_BOUND:
		begin(c, DHCP6_RENEWING, now);
		extend(c, a, now);
		break;
	case DHCP6_RENEWING:
		if (now >= lease_at(c, c->lease.t2_s))
			begin(c, DHCP6_REBINDING, now);
		extend(c, a, now);
		break;
	case DHCP6_REBINDING:
		if (now >= lease_at(c, c->lease.valid_s))
			lose(c, a, now);
		else
			extend(c, a, now);
		break;
	}
}

static void bind(struct dhcp6_client *c, const struct dhcp6_reply *r, struct dhcp6_action *a, uint64_t now)
{
	a->event = c->has_lease && memcmp(c->lease.addr, r->lease.addr, 16) == 0 ? DHCP6_EV_RENEWED : DHCP6_EV_BOUND;
	c->lease = r->lease;
	c->has_lease = true;
	c->bound_ms = now;
	c->state = DHCP6_BOUND;
	c->tries = 0;
	c->rt_ms = 0;
	c->next_ms = lease_at(c, c->lease.t1_s);
}

void dhcp6_input(struct dhcp6_client *c, const struct dhcp6_reply *r, uint64_t now, struct dhcp6_action *a)
{
	bool waiting = c->state == DHCP6_REQUESTING || c->state == DHCP6_RENEWING || c->state == DHCP6_REBINDING;

	memset(a, 0, sizeof(*a));
	if (r->xid != c->xid || r->client_id_len != c->duid_len || memcmp(r->client_id, c->duid, c->duid_len) != 0) {
		c->ignored++;
		return;
	}
	if (r->type == DHCP6_ADVERTISE && c->state == DHCP6_SOLICITING && r->has_addr && !r->status && !r->ia_status) {
		c->offer = r->lease;
		c->state = DHCP6_REQUESTING;
		c->tries = 0;
		c->rt_ms = 0;
		request(c, a, now);
	} else if (r->type == DHCP6_REPLY && waiting && r->has_addr && !r->status && !r->ia_status) {
		bind(c, r, a, now);
	} else if (r->type == DHCP6_REPLY && waiting) {
		/* Refused (NoAddrsAvail, NoBinding, ...): what is held goes, and we start over. */
		if (c->has_lease) {
			lose(c, a, now);
		} else {
			c->state = DHCP6_INIT;
			c->next_ms = now + 1000;
		}
	} else {
		c->ignored++;
	}
}

void dhcp6_release(struct dhcp6_client *c, struct dhcp6_action *a)
{
	memset(a, 0, sizeof(*a));
	if (c->has_lease) {
		begin(c, DHCP6_INIT, c->began_ms);
		message(c, a, DHCP6_RELEASE, c->began_ms);
		a->req.server_id = c->lease.server_id;
		a->req.server_id_len = c->lease.server_id_len;
		a->req.addr = c->lease.addr;
		a->event = DHCP6_EV_LOST;
	}
	c->has_lease = false;
	c->state = DHCP6_INIT;
	c->next_ms = UINT64_MAX;
}

const char *dhcp6_state_name(enum dhcp6_state s)
{
	static const char *const names[] = { "init", "soliciting", "requesting", "bound", "renewing", "rebinding" };

	return s <= DHCP6_REBINDING ? names[s] : "?";
}
