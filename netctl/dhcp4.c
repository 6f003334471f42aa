/* SPDX-License-Identifier: MIT */
/* DHCPv4: messages, framing and the client's state machine (see dhcp4.h). */
#include <stdio.h>
#include <string.h>

#include "lib/parse.h"
#include "netctl/dhcp4.h"

#define BOOTP_LEN 236            /* the fixed header, up to the cookie */
#define OPT_AT (BOOTP_LEN + 4)
#define MIN_MSG 300              /* what BOOTP relays expect at least */
#define OPT_VALUE_MAX 1024       /* one option's value, concatenated (RFC 3396) */
#define INFINITE UINT32_MAX

static const uint8_t cookie[4] = { 99, 130, 83, 99 };

enum {
	OPT_PAD = 0, OPT_MASK = 1, OPT_ROUTER = 3, OPT_DNS = 6, OPT_HOSTNAME = 12, OPT_DOMAIN = 15, OPT_MTU = 26,
	OPT_NTP = 42, OPT_REQUESTED = 50, OPT_LEASE = 51, OPT_OVERLOAD = 52, OPT_TYPE = 53, OPT_SERVER = 54,
	OPT_PRL = 55, OPT_MESSAGE = 56, OPT_MAXSIZE = 57, OPT_T1 = 58, OPT_T2 = 59, OPT_CLIENTID = 61,
	OPT_SEARCH = 119, OPT_ROUTES = 121, OPT_END = 255,
};

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* --- building --- */

static uint8_t *opt_put(uint8_t *o, uint8_t code, const void *v, size_t n)
{
	o[0] = code;
	o[1] = n;
	memcpy(o + 2, v, n);
	return o + 2 + n;
}

size_t dhcp4_build(uint8_t *buf, size_t cap, const struct dhcp4_request *q)
{
	static const uint8_t prl[] = { OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_HOSTNAME, OPT_DOMAIN, OPT_MTU, OPT_NTP,
				       OPT_LEASE, OPT_SERVER, OPT_T1, OPT_T2, OPT_SEARCH, OPT_ROUTES };
	uint8_t *o, type = q->type, id[7] = { 1 }, size[2];
	size_t hl = q->hostname ? strnlen(q->hostname, 64) : 0;

	if (cap < DHCP4_PACKET_MAX - 28 || hl > 63)
		return 0;
	memset(buf, 0, MIN_MSG);
	buf[0] = 1;  /* BOOTREQUEST */
	buf[1] = 1;  /* Ethernet */
	buf[2] = 6;
	put32(buf + 4, q->xid);
	put16(buf + 8, q->secs);
	memcpy(buf + 12, q->ciaddr, 4);
	memcpy(buf + 28, q->mac, 6);
	memcpy(buf + BOOTP_LEN, cookie, 4);
	o = buf + OPT_AT;
	o = opt_put(o, OPT_TYPE, &type, 1);
	memcpy(id + 1, q->mac, 6);
	o = opt_put(o, OPT_CLIENTID, id, sizeof(id));
	if (q->has_requested)
		o = opt_put(o, OPT_REQUESTED, q->requested, 4);
	if (q->has_server)
		o = opt_put(o, OPT_SERVER, q->server, 4);
	if (q->type == DHCP4_DISCOVER || q->type == DHCP4_REQUEST) {
		put16(size, DHCP4_PACKET_MAX);
		o = opt_put(o, OPT_MAXSIZE, size, 2);
		o = opt_put(o, OPT_PRL, prl, sizeof(prl));
		if (hl)
			o = opt_put(o, OPT_HOSTNAME, q->hostname, hl);
	}
	*o++ = OPT_END;
	return (size_t)(o - buf) < MIN_MSG ? MIN_MSG : (size_t)(o - buf);
}

/* --- parsing --- */

/* The option areas of a message in the order RFC 2131 reads them: options, file, sname. */
struct areas {
	const uint8_t *p[3];
	size_t n[3], count;
};

/* Walks one area: 0 when every option lies inside it up to END (or its end), else -1. */
static int area_check(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] != OPT_END) {
		if (p[i] == OPT_PAD) {
			i++;
			continue;
		}
		if (i + 1 >= n || i + 2 + p[i + 1] > n)
			return -1;
		i += 2 + p[i + 1];
	}
	return 0;
}

/* The value of code, its instances joined (RFC 3396): its length, or -1 when absent or longer than cap. */
static int opt_get(const struct areas *a, uint8_t code, uint8_t *out, size_t cap)
{
	size_t len = 0;
	bool found = false;

	for (size_t k = 0; k < a->count; k++)
		for (size_t i = 0; i < a->n[k] && a->p[k][i] != OPT_END;) {
			const uint8_t *p = a->p[k] + i;

			if (p[0] == OPT_PAD) {
				i++;
				continue;
			}
			if (p[0] == code) {
				if (len + p[1] > cap)
					return -1;
				memcpy(out + len, p + 2, p[1]);
				len += p[1];
				found = true;
			}
			i += 2 + p[1];
		}
	return found ? (int)len : -1;
}

/* A fixed-size option: true when present with exactly n bytes. */
static bool opt_fixed(const struct areas *a, uint8_t code, uint8_t *out, size_t n)
{
	uint8_t v[OPT_VALUE_MAX];

	if (opt_get(a, code, v, sizeof(v)) != (int)n)
		return false;
	memcpy(out, v, n);
	return true;
}

/* A name option (12, 15): text up to its first NUL, kept when it is a DNS name. */
static void opt_name(const struct areas *a, uint8_t code, char *out, size_t cap)
{
	uint8_t v[OPT_VALUE_MAX];
	int n = opt_get(a, code, v, sizeof(v));
	size_t len;

	out[0] = '\0';
	if (n <= 0)
		return;
	len = strnlen((const char *)v, (size_t)n);
	if (len && v[len - 1] == '.')
		len--;
	if (len == 0 || len >= cap)
		return;
	memcpy(out, v, len);
	out[len] = '\0';
	if (!valid_hostname(out))
		out[0] = '\0';
}

/* A list of IPv4 addresses (3, 6, 42), at most max, skipping 0.0.0.0. */
static unsigned opt_addrs(const struct areas *a, uint8_t code, uint8_t (*out)[4], unsigned max)
{
	uint8_t v[OPT_VALUE_MAX];
	int n = opt_get(a, code, v, sizeof(v));
	unsigned k = 0;

	if (n <= 0 || n % 4)
		return 0;
	for (int i = 0; i < n && k < max; i += 4)
		if (get32(v + i))
			memcpy(out[k++], v + i, 4);
	return k;
}

static unsigned mask_prefix(const uint8_t m[4])
{
	uint32_t v = get32(m);
	unsigned p = 0;

	while (p < 32 && v & (0x80000000u >> p))
		p++;
	return (p == 32 || (v << p) == 0) ? p : 0;  /* 0: not a contiguous mask */
}

/* Classless static routes (RFC 3442): width, the significant octets, the router; all or nothing. */
static unsigned opt_routes(const struct areas *a, struct dhcp4_route *out, unsigned max)
{
	uint8_t v[OPT_VALUE_MAX];
	int n = opt_get(a, OPT_ROUTES, v, sizeof(v));
	unsigned k = 0;

	for (int i = 0; i < n;) {
		unsigned w = v[i], sig = (w + 7) / 8;

		if (w > 32 || i + 1 + (int)sig + 4 > n || k == max)
			return 0;
		memset(out[k].dst, 0, 4);
		memcpy(out[k].dst, v + i + 1, sig);
		out[k].prefix = w;
		memcpy(out[k].gw, v + i + 1 + sig, 4);
		k++;
		i += 1 + sig + 4;
	}
	return k;
}

/*
 * One name in DNS wire form at *pos of d (RFC 1035 4.1.4); pointers may only go back, so a
 * loop cannot be built. The text into out (no trailing dot), *pos past the name; 0 or -1.
 */
static int wire_name(const uint8_t *d, size_t n, size_t *pos, char *out, size_t cap)
{
	size_t i = *pos, len = 0, end = 0, floor = *pos;
	bool jumped = false;

	out[0] = '\0';
	for (;;) {
		unsigned l;

		if (i >= n)
			return -1;
		l = d[i];
		if (l == 0) {
			*pos = jumped ? end : i + 1;
			return 0;
		}
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (i + 1 >= n)
				return -1;
			to = (size_t)(l & 0x3f) << 8 | d[i + 1];
			if (to >= floor)
				return -1;  /* only backwards, and each jump further back */
			if (!jumped)
				end = i + 2;
			jumped = true;
			floor = to;
			i = to;
			continue;
		}
		if (l > 63 || i + 1 + l > n || len + l + 2 > cap || len + l + 1 > 253)
			return -1;
		if (len)
			out[len++] = '.';
		memcpy(out + len, d + i + 1, l);
		len += l;
		out[len] = '\0';
		i += 1 + l;
	}
}

static unsigned opt_search(const struct areas *a, char (*out)[DHCP4_NAME_MAX], unsigned max)
{
	uint8_t v[OPT_VALUE_MAX];
	int n = opt_get(a, OPT_SEARCH, v, sizeof(v));
	size_t pos = 0;
	unsigned k = 0;

	while (n > 0 && pos < (size_t)n && k < max) {
		if (wire_name(v, (size_t)n, &pos, out[k], DHCP4_NAME_MAX) < 0)
			break;
		if (out[k][0] && valid_hostname(out[k]))
			k++;
	}
	return k;
}

static void lease_times(const struct areas *a, struct dhcp4_lease *l)
{
	uint8_t v[4];

	l->t1_s = opt_fixed(a, OPT_T1, v, 4) ? get32(v) : 0;
	l->t2_s = opt_fixed(a, OPT_T2, v, 4) ? get32(v) : 0;
	if (l->lease_s == INFINITE) {
		l->t1_s = l->t2_s = INFINITE;
		return;
	}
	/* Defaults (RFC 2131 4.4.5), and for times that contradict each other. */
	if (!l->t2_s || l->t2_s >= l->lease_s)
		l->t2_s = (uint32_t)((uint64_t)l->lease_s * 7 / 8);
	if (!l->t1_s || l->t1_s >= l->t2_s)
		l->t1_s = l->lease_s / 2 < l->t2_s ? l->lease_s / 2 : l->t2_s;
}

static void parse_lease(const struct areas *a, const uint8_t *msg, struct dhcp4_lease *l)
{
	uint8_t v[4];

	memcpy(l->addr, msg + 16, 4);
	if (!opt_fixed(a, OPT_SERVER, l->server, 4))
		memcpy(l->server, msg + 20, 4);  /* siaddr, from a server that names itself nowhere else */
	l->prefix = opt_fixed(a, OPT_MASK, v, 4) ? mask_prefix(v) : 0;
	l->nroutes = opt_routes(a, l->routes, DHCP4_ROUTES_MAX);
	if (!l->nroutes) {  /* the router option counts only without classless routes */
		uint8_t gw[1][4];

		if (opt_addrs(a, OPT_ROUTER, gw, 1)) {
			memset(&l->routes[0], 0, sizeof(l->routes[0]));
			memcpy(l->routes[0].gw, gw[0], 4);
			l->nroutes = 1;
		}
	}
	l->ndns = opt_addrs(a, OPT_DNS, l->dns, DHCP4_DNS_MAX);
	l->nntp = opt_addrs(a, OPT_NTP, l->ntp, DHCP4_NTP_MAX);
	opt_name(a, OPT_HOSTNAME, l->hostname, sizeof(l->hostname));
	opt_name(a, OPT_DOMAIN, l->domain, sizeof(l->domain));
	l->nsearch = opt_search(a, l->search, DHCP4_SEARCH_MAX);
	l->mtu = opt_fixed(a, OPT_MTU, v, 2) ? (unsigned)v[0] << 8 | v[1] : 0;
	if (l->mtu && l->mtu < 68)
		l->mtu = 0;
	lease_times(a, l);
}

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

int dhcp4_parse(const uint8_t *p, size_t n, struct dhcp4_reply *out, char *err, size_t errlen)
{
	struct areas a = { 0 };
	uint8_t v[4];

	memset(out, 0, sizeof(*out));
	if (n < OPT_AT)
		return fail(err, errlen, "shorter than a BOOTP message");
	a.p[0] = p + OPT_AT;
	a.n[0] = n - OPT_AT;
	a.count = 1;
	if (p[0] != 2 || p[1] != 1 || p[2] != 6)
		return fail(err, errlen, "not a BOOTP reply for Ethernet");
	if (memcmp(p + BOOTP_LEN, cookie, 4) != 0)
		return fail(err, errlen, "no DHCP magic cookie");
	if (area_check(a.p[0], a.n[0]) < 0)
		return fail(err, errlen, "an option runs past the end of the message");
	if (opt_fixed(&a, OPT_OVERLOAD, v, 1) && v[0] >= 1 && v[0] <= 3) {
		if (v[0] & 1) {
			a.p[a.count] = p + 108, a.n[a.count++] = 128;
		}
		if (v[0] & 2) {
			a.p[a.count] = p + 44, a.n[a.count++] = 64;
		}
		for (size_t k = 1; k < a.count; k++)
			if (area_check(a.p[k], a.n[k]) < 0)
				return fail(err, errlen, "an option runs past the end of the file or sname field");
	}
	if (!opt_fixed(&a, OPT_TYPE, v, 1))
		return fail(err, errlen, "no DHCP message type");
	out->type = v[0];
	if (out->type != DHCP4_OFFER && out->type != DHCP4_ACK && out->type != DHCP4_NAK)
		return fail(err, errlen, "not an OFFER, ACK or NAK");
	out->xid = get32(p + 4);
	memcpy(out->chaddr, p + 28, 6);
	if (out->type == DHCP4_NAK) {
		uint8_t m[OPT_VALUE_MAX];
		int ml = opt_get(&a, OPT_MESSAGE, m, sizeof(m));

		if (ml > 0)
			snprintf(out->message, sizeof(out->message), "%.*s", (int)strnlen((char *)m, (size_t)ml), m);
		opt_fixed(&a, OPT_SERVER, out->lease.server, 4);
		return 0;
	}
	if (!opt_fixed(&a, OPT_LEASE, v, 4) || !get32(v))
		return fail(err, errlen, "an OFFER or ACK without a lease time");
	out->lease.lease_s = get32(v);
	parse_lease(&a, p, &out->lease);
	return 0;
}

/* --- framing --- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The UDP checksum's sum over the pseudo-header (addresses, protocol, length) and the datagram. */
static uint16_t udp_sum(const uint8_t *ip, const uint8_t *udp, size_t ulen)
{
	uint32_t s = sum16(ip + 12, 8, 0) + 17 + (uint32_t)ulen;

	return fold(sum16(udp, ulen, s));
}

size_t dhcp4_frame(uint8_t *buf, size_t cap, const uint8_t src[4], const uint8_t dst[4], const uint8_t *msg,
		   size_t n)
{
	uint8_t *ip = buf, *udp = buf + 20;
	uint16_t c;

	if (n > DHCP4_PACKET_MAX - 28 || cap < n + 28)
		return 0;
	memset(buf, 0, 28);
	ip[0] = 0x45;
	put16(ip + 2, n + 28);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, n + 8);
	memmove(udp + 8, msg, n);
	c = udp_sum(ip, udp, n + 8);
	put16(udp + 6, c ? c : 0xffff);
	return n + 28;
}

int dhcp4_unframe(const uint8_t *pkt, size_t len, bool check_udp, const uint8_t **msg, size_t *n, char *err,
		  size_t errlen)
{
	size_t ihl, total, ulen;
	const uint8_t *udp;

	if (len < 20 || pkt[0] >> 4 != 4)
		return fail(err, errlen, "not an IPv4 packet");
	ihl = (size_t)(pkt[0] & 15) * 4;
	total = (size_t)pkt[2] << 8 | pkt[3];
	if (ihl < 20 || total < ihl + 8 || total > len)
		return fail(err, errlen, "an IPv4 header or total length that does not fit the packet");
	if (((pkt[6] << 8 | pkt[7]) & 0x3fff) != 0)
		return fail(err, errlen, "an IPv4 fragment");
	if (pkt[9] != 17)
		return fail(err, errlen, "not UDP");
	if (fold(sum16(pkt, ihl, 0)) != 0)
		return fail(err, errlen, "a bad IPv4 header checksum");
	udp = pkt + ihl;
	if ((udp[2] << 8 | udp[3]) != 68)
		return fail(err, errlen, "not for UDP port 68");
	ulen = (size_t)udp[4] << 8 | udp[5];
	if (ulen < 8 || ulen > total - ihl)
		return fail(err, errlen, "a UDP length that does not fit the packet");
	if (check_udp && (udp[6] | udp[7]) && udp_sum(pkt, udp, ulen) != 0)
		return fail(err, errlen, "a bad UDP checksum");
	*msg = udp + 8;
	*n = ulen - 8;
	return 0;
}

/* --- the client --- */

static uint32_t rnd(struct dhcp4_client *c)
{
	c->rand ^= c->rand << 13;
	c->rand ^= c->rand >> 7;
	c->rand ^= c->rand << 17;
	return (uint32_t)(c->rand >> 11);
}

/* Retransmission in SELECTING/REQUESTING (RFC 2131 4.1): 4, 8, 16, 32, 64 s, each +-1 s. */
static uint64_t backoff(struct dhcp4_client *c)
{
	unsigned t = c->tries < 5 ? c->tries : 5;

	return (2000ull << t) - 1000 + rnd(c) % 2001;
}

/* In RENEWING/REBINDING: half the time left until `until`, at least a second (RFC 2131 4.4.5). */
static uint64_t halfway(uint64_t now, uint64_t until)
{
	uint64_t left = until > now ? until - now : 0;

	return now + (left / 2 > 1000 ? left / 2 : left < 1000 ? left : 1000);
}

/* The lease's time s seconds after it began; never, for an infinite one. */
static uint64_t lease_at(const struct dhcp4_client *c, uint32_t s)
{
	return s == INFINITE ? UINT64_MAX : c->bound_ms + (uint64_t)s * 1000;
}

static void request(struct dhcp4_client *c, struct dhcp4_action *a, enum dhcp4_type type, bool broadcast,
		    uint64_t now)
{
	uint64_t secs = (now - c->began_ms) / 1000;

	a->send = true;
	a->broadcast = broadcast;
	memset(&a->req, 0, sizeof(a->req));
	a->req.type = type;
	a->req.xid = c->xid;
	a->req.secs = secs > 0xffff ? 0xffff : (uint16_t)secs;
	memcpy(a->req.mac, c->mac, 6);
	a->req.hostname = c->hostname[0] ? c->hostname : NULL;
	c->tries++;
}

/* A new exchange in state s. */
static void begin(struct dhcp4_client *c, enum dhcp4_state s, uint64_t now)
{
	c->state = s;
	c->xid = rnd(c);
	c->began_ms = now;
	c->tries = 0;
}

static void discover(struct dhcp4_client *c, struct dhcp4_action *a, uint64_t now)
{
	if (c->state != DHCP4_SELECTING)
		begin(c, DHCP4_SELECTING, now);
	request(c, a, DHCP4_DISCOVER, true, now);
	c->next_ms = now + backoff(c);
}

static void select_offer(struct dhcp4_client *c, struct dhcp4_action *a, uint64_t now)
{
	request(c, a, DHCP4_REQUEST, true, now);
	memcpy(a->req.requested, c->offer.addr, 4);
	memcpy(a->req.server, c->offer.server, 4);
	a->req.has_requested = a->req.has_server = true;
	c->next_ms = now + backoff(c);
}

/* RENEWING unicasts to the server, REBINDING broadcasts; both name the address in ciaddr. */
static void extend(struct dhcp4_client *c, struct dhcp4_action *a, uint64_t now)
{
	bool rebind = c->state == DHCP4_REBINDING;

	request(c, a, DHCP4_REQUEST, rebind, now);
	memcpy(a->req.ciaddr, c->lease.addr, 4);
	c->next_ms = halfway(now, lease_at(c, rebind ? c->lease.lease_s : c->lease.t2_s));
}

/* The lease is gone (expired, refused): say so, and start over. */
static void lose(struct dhcp4_client *c, struct dhcp4_action *a, uint64_t now)
{
	c->has_lease = false;
	a->event = DHCP4_EV_LOST;
	c->state = DHCP4_INIT;
	discover(c, a, now);
}

void dhcp4_init(struct dhcp4_client *c, const uint8_t mac[6], const char *hostname, uint64_t seed, uint64_t now_ms)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->mac, mac, 6);
	if (hostname)
		snprintf(c->hostname, sizeof(c->hostname), "%s", hostname);
	c->rand = seed ? seed : 0x9e3779b97f4a7c15ull;
	c->state = DHCP4_INIT;
	c->next_ms = now_ms;
}

void dhcp4_tick(struct dhcp4_client *c, uint64_t now, struct dhcp4_action *a)
{
	memset(a, 0, sizeof(*a));
	switch (c->state) {
	case DHCP4_INIT:
	case DHCP4_SELECTING:
		discover(c, a, now);
		break;
	case DHCP4_REQUESTING:
		if (c->tries >= 4) {  /* the server went quiet after its offer */
			c->state = DHCP4_INIT;
			discover(c, a, now);
		} else {
			select_offer(c, a, now);
		}
		break;
	case DHCP4_BOUND:
		begin(c, DHCP4_RENEWING, now);
		extend(c, a, now);
		break;
	case DHCP4_RENEWING:
		if (now >= lease_at(c, c->lease.t2_s))
			begin(c, DHCP4_REBINDING, now);
		extend(c, a, now);
		break;
	case DHCP4_REBINDING:
		if (now >= lease_at(c, c->lease.lease_s))
			lose(c, a, now);
		else
			extend(c, a, now);
		break;
	}
}

static void bind(struct dhcp4_client *c, const struct dhcp4_lease *l, struct dhcp4_action *a, uint64_t now)
{
	a->event = c->has_lease && memcmp(c->lease.addr, l->addr, 4) == 0 ? DHCP4_EV_RENEWED : DHCP4_EV_BOUND;
	c->lease = *l;
	c->has_lease = true;
	c->bound_ms = now;
	c->state = DHCP4_BOUND;
	c->tries = 0;
	c->next_ms = lease_at(c, l->t1_s);
}

void dhcp4_input(struct dhcp4_client *c, const struct dhcp4_reply *r, uint64_t now, struct dhcp4_action *a)
{
	bool waiting = c->state == DHCP4_REQUESTING || c->state == DHCP4_RENEWING || c->state == DHCP4_REBINDING;

	memset(a, 0, sizeof(*a));
	if (r->xid != c->xid || memcmp(r->chaddr, c->mac, 6) != 0 ||
	    (c->state == DHCP4_REQUESTING && memcmp(r->lease.server, c->offer.server, 4) != 0 &&
	     get32(r->lease.server) != 0)) {
		c->ignored++;
		return;
	}
	if (r->type == DHCP4_OFFER && c->state == DHCP4_SELECTING && get32(r->lease.addr)) {
		c->offer = r->lease;
		c->state = DHCP4_REQUESTING;
		c->tries = 0;
		select_offer(c, a, now);
	} else if (r->type == DHCP4_ACK && waiting && get32(r->lease.addr)) {
		bind(c, &r->lease, a, now);
	} else if (r->type == DHCP4_NAK && waiting) {
		c->naks++;
		if (c->has_lease) {
			lose(c, a, now);
		} else {
			c->state = DHCP4_INIT;
			c->next_ms = now + 1000;  /* not at once: a server that refuses everything is not flooded */
		}
	} else {
		c->ignored++;
	}
}

void dhcp4_release(struct dhcp4_client *c, struct dhcp4_action *a)
{
	memset(a, 0, sizeof(*a));
	if (c->has_lease) {
		begin(c, DHCP4_INIT, c->began_ms);
		request(c, a, DHCP4_RELEASE, false, c->began_ms);
		memcpy(a->req.ciaddr, c->lease.addr, 4);
		memcpy(a->req.server, c->lease.server, 4);
		a->req.has_server = true;
		a->req.hostname = NULL;
		a->event = DHCP4_EV_LOST;
	}
	c->has_lease = false;
	c->state = DHCP4_INIT;
	c->next_ms = UINT64_MAX;
}

const char *dhcp4_state_name(enum dhcp4_state s)
{
	static const char *const names[] = { "init", "selecting", "requesting", "bound", "renewing", "rebinding" };

	return s <= DHCP4_REBINDING ? names[s] : "?";
}
