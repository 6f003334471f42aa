// SPDX-License-Identifier: MIT
/*
 * The kernel's WireGuard backend: generic netlink family "wireguard" (linux/wireguard.h),
 * WG_CMD_SET_DEVICE and the WG_CMD_GET_DEVICE dump. A set that does not fit one message is
 * split between peers, as the kernel expects: the device's fields and WGDEVICE_F_REPLACE_PEERS
 * in the first only. A dump's messages may split a peer's allowed IPs: a peer that repeats
 * the last one's key continues it. Every attribute is read against its length; the private
 * and preshared keys are wiped from the buffers that carried them.
 */
#include "netctl/wg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MSG_MAX (32u << 10)    /* one set message; more peers go in the next */
#define RECV_MAX (64u << 10)


/* --- building a message --- */

struct msg {
	uint8_t *p;
	size_t len, cap;
	bool full;
};

static void *put(struct msg *m, uint16_t type, const void *data, size_t n)
{
	struct nlattr *a;
	size_t need = NLA_ALIGN(NLA_HDRLEN + n);

	if (m->full || m->len + need > m->cap) {
		m->full = true;
		return NULL;
	}
	a = (struct nlattr *)(m->p + m->len);
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + n);
	if (n)
		memcpy((uint8_t *)a + NLA_HDRLEN, data, n);
	memset((uint8_t *)a + NLA_HDRLEN + n, 0, need - NLA_HDRLEN - n);
	m->len += need;
	return a;
}

static void put_u16(struct msg *m, uint16_t type, uint16_t v)
{
	put(m, type, &v, sizeof(v));
}

static void put_u32(struct msg *m, uint16_t type, uint32_t v)
{
	put(m, type, &v, sizeof(v));
}

/* A nest opened: its offset, closed by nest_end (SIZE_MAX: it did not fit). */
static size_t nest(struct msg *m, uint16_t type)
{
	size_t off = m->len;

	return put(m, type | NLA_F_NESTED, NULL, 0) ? off : SIZE_MAX;
}

static void nest_end(struct msg *m, size_t off)
{
	if (off != SIZE_MAX && !m->full)
		((struct nlattr *)(m->p + off))->nla_len = (uint16_t)(m->len - off);
}

static void put_endpoint(struct msg *m, const struct wg_endpoint *ep)
{
	if (ep->family == 4) {
		struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(ep->port) };

		memcpy(&s.sin_addr, ep->a, 4);
		put(m, WGPEER_A_ENDPOINT, &s, sizeof(s));
	} else if (ep->family == 6) {
		struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(ep->port) };

		memcpy(&s.sin6_addr, ep->a, 16);
		put(m, WGPEER_A_ENDPOINT, &s, sizeof(s));
	}
}

static void put_peer(struct msg *m, const struct wg_peer *p)
{
	uint32_t flags = (p->flags & WGP_REMOVE ? WGPEER_F_REMOVE_ME : 0) |
			 (p->flags & WGP_REPLACE_IPS ? WGPEER_F_REPLACE_ALLOWEDIPS : 0) |
			 (p->flags & WGP_UPDATE_ONLY ? WGPEER_F_UPDATE_ONLY : 0);
	size_t ips, pn = nest(m, 0);

	put(m, WGPEER_A_PUBLIC_KEY, p->pub, WG_KEY_LEN);
	if (flags)
		put_u32(m, WGPEER_A_FLAGS, flags);
	if (!(p->flags & WGP_REMOVE)) {
		if (p->flags & WGP_PRESHARED_KEY)
			put(m, WGPEER_A_PRESHARED_KEY, p->psk, WG_KEY_LEN);
		if (p->flags & WGP_ENDPOINT)
			put_endpoint(m, &p->ep);
		if (p->flags & WGP_KEEPALIVE)
			put_u16(m, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, p->keepalive);
		if (p->nips) {
			ips = nest(m, WGPEER_A_ALLOWEDIPS);
			for (size_t i = 0; i < p->nips; i++) {
				size_t in = nest(m, 0);

				put_u16(m, WGALLOWEDIP_A_FAMILY, p->ips[i].family == 6 ? AF_INET6 : AF_INET);
				put(m, WGALLOWEDIP_A_IPADDR, p->ips[i].a, p->ips[i].family == 6 ? 16 : 4);
				put(m, WGALLOWEDIP_A_CIDR_MASK, &p->ips[i].cidr, 1);
				nest_end(m, in);
			}
			nest_end(m, ips);
		}
	}
	nest_end(m, pn);
}

/* The message header and the device's attributes; first: its fields and REPLACE_PEERS. */
static void start_set(struct msg *m, const struct wg_device *d, uint16_t family, bool first)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->p;
	struct genlmsghdr *g = (struct genlmsghdr *)(m->p + NLMSG_HDRLEN);

	memset(m->p, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	h->nlmsg_type = family;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	g->cmd = WG_CMD_SET_DEVICE;
	g->version = WG_GENL_VERSION;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->full = false;
	put(m, WGDEVICE_A_IFNAME, d->name, strlen(d->name) + 1);
	if (!first)
		return;
	if (d->flags & WGD_PRIVATE_KEY)
		put(m, WGDEVICE_A_PRIVATE_KEY, d->priv, WG_KEY_LEN);
	if (d->flags & WGD_LISTEN_PORT)
		put_u16(m, WGDEVICE_A_LISTEN_PORT, d->port);
	if (d->flags & WGD_FWMARK)
		put_u32(m, WGDEVICE_A_FWMARK, d->fwmark);
	if (d->flags & WGD_REPLACE_PEERS)
		put_u32(m, WGDEVICE_A_FLAGS, WGDEVICE_F_REPLACE_PEERS);
}

int wg_genl_format_set(const struct wg_device *d, uint16_t family, size_t *next, uint8_t *buf, size_t cap,
		       size_t *len)
{
	/* A nest's length is 16 bits: no message longer than that. */
	struct msg m = { buf, 0, cap > 0xffff ? 0xffff : cap, false };
	size_t peers, i = *next;

	if (cap < NLMSG_HDRLEN + GENL_HDRLEN + 64)
		return -ENOSPC;
	start_set(&m, d, family, i == 0);
	if (m.full)
		return -ENOSPC;
	if (i < d->npeers) {
		peers = nest(&m, WGDEVICE_A_PEERS);
		for (; i < d->npeers; i++) {
			size_t before = m.len;

			put_peer(&m, &d->peers[i]);
			if (m.full) {
				/* This peer goes in the next message (one peer alone must fit one). */
				if (i == *next)
					return -E2BIG;
				m.full = false;
				m.len = before;
				break;
			}
		}
		nest_end(&m, peers);
	}
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)m.len;
	*len = m.len;
	*next = i;
	return 0;
}

/* --- reading a message --- */

/* The attributes of [p, p+n): each checked to lie inside; a bad one stops the walk. */
#define FOR_ATTR(a, p, n)                                                                                 \
	for (const struct nlattr *a = (const struct nlattr *)(p);                                          \
	     (size_t)((const uint8_t *)a - (const uint8_t *)(p)) + NLA_HDRLEN <= (n) &&                      \
	     a->nla_len >= NLA_HDRLEN &&                                                                     \
	     (size_t)((const uint8_t *)a - (const uint8_t *)(p)) + a->nla_len <= (n);                        \
	     a = (const struct nlattr *)((const uint8_t *)a + NLA_ALIGN(a->nla_len)))

static const uint8_t *data(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

static size_t dlen(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static int type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

static bool fixed(const struct nlattr *a, void *out, size_t n)
{
	if (dlen(a) != n)
		return false;
	memcpy(out, data(a), n);
	return true;
}

static int parse_ip(const struct nlattr *n, struct wg_ip *ip, char *err, size_t errlen)
{
	uint16_t fam = 0;
	bool have_addr = false, have_mask = false;
	size_t alen = 0;
	uint8_t a[16] = { 0 };

	FOR_ATTR(x, data(n), dlen(n)) {
		switch (type(x)) {
		case WGALLOWEDIP_A_FAMILY:
			if (!fixed(x, &fam, 2))
				return wg_fail(err, errlen, -EBADMSG, "allowed IP: a family of %zu bytes", dlen(x));
			break;
		case WGALLOWEDIP_A_IPADDR:
			alen = dlen(x);
			if (alen != 4 && alen != 16)
				return wg_fail(err, errlen, -EBADMSG, "allowed IP: an address of %zu bytes", alen);
			memcpy(a, data(x), alen);
			have_addr = true;
			break;
		case WGALLOWEDIP_A_CIDR_MASK:
			if (!fixed(x, &ip->cidr, 1))
				return wg_fail(err, errlen, -EBADMSG, "allowed IP: a mask of %zu bytes", dlen(x));
			have_mask = true;
			break;
		}
	}
	if (!have_addr || !have_mask || (fam != AF_INET && fam != AF_INET6) || alen != (fam == AF_INET ? 4u : 16u) ||
	    ip->cidr > (fam == AF_INET ? 32 : 128))
		return wg_fail(err, errlen, -EBADMSG, "allowed IP: family %u, %zu address bytes, mask /%u do not agree",
			     fam, alen, ip->cidr);
	ip->family = fam == AF_INET ? 4 : 6;
	memcpy(ip->a, a, sizeof(ip->a));
	return 0;
}

static int parse_endpoint(const struct nlattr *x, struct wg_endpoint *ep, char *err, size_t errlen)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;

	memset(ep, 0, sizeof(*ep));
	if (dlen(x) == sizeof(s4)) {
		memcpy(&s4, data(x), sizeof(s4));
		if (s4.sin_family != AF_INET)
			return wg_fail(err, errlen, -EBADMSG, "endpoint: family %u in an IPv4 address", s4.sin_family);
		ep->family = 4;
		memcpy(ep->a, &s4.sin_addr, 4);
		ep->port = ntohs(s4.sin_port);
	} else if (dlen(x) == sizeof(s6)) {
		memcpy(&s6, data(x), sizeof(s6));
		if (s6.sin6_family != AF_INET6)
			return wg_fail(err, errlen, -EBADMSG, "endpoint: family %u in an IPv6 address", s6.sin6_family);
		ep->family = 6;
		memcpy(ep->a, &s6.sin6_addr, 16);
		ep->port = ntohs(s6.sin6_port);
	} else {
		return wg_fail(err, errlen, -EBADMSG, "endpoint: %zu bytes, not a socket address", dlen(x));
	}
	return 0;
}

static int parse_peer(const struct nlattr *n, struct wg_device *d, char *err, size_t errlen)
{
	struct wg_peer *p = NULL;
	uint8_t pub[WG_KEY_LEN];
	bool have_pub = false;
	int r;

	FOR_ATTR(x, data(n), dlen(n))
		if (type(x) == WGPEER_A_PUBLIC_KEY)
			have_pub = fixed(x, pub, WG_KEY_LEN);
	if (!have_pub)
		return wg_fail(err, errlen, -EBADMSG, "a peer without a 32-byte public key");
	/* The dump split this peer's allowed IPs: it continues the last one. */
	if (d->npeers && !memcmp(d->peers[d->npeers - 1].pub, pub, WG_KEY_LEN))
		p = &d->peers[d->npeers - 1];
	else if (!(p = wg_device_add_peer(d, pub)))
		return wg_fail(err, errlen, -ENOMEM, "peer %zu: out of memory or over %u peers", d->npeers, WG_PEERS_MAX);
	FOR_ATTR(x, data(n), dlen(n)) {
		switch (type(x)) {
		case WGPEER_A_PRESHARED_KEY:
			if (!fixed(x, p->psk, WG_KEY_LEN))
				return wg_fail(err, errlen, -EBADMSG, "peer %zu: a preshared key of %zu bytes", d->npeers - 1, dlen(x));
			p->flags |= WGP_PRESHARED_KEY;
			break;
		case WGPEER_A_ENDPOINT:
			if ((r = parse_endpoint(x, &p->ep, err, errlen)) < 0)
				return r;
			p->flags |= WGP_ENDPOINT;
			break;
		case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
			if (!fixed(x, &p->keepalive, 2))
				return wg_fail(err, errlen, -EBADMSG, "peer %zu: a keepalive of %zu bytes", d->npeers - 1, dlen(x));
			p->flags |= WGP_KEEPALIVE;
			break;
		case WGPEER_A_LAST_HANDSHAKE_TIME: {
			int64_t ts[2];

			if (!fixed(x, ts, sizeof(ts)))
				return wg_fail(err, errlen, -EBADMSG, "peer %zu: a handshake time of %zu bytes", d->npeers - 1,
					     dlen(x));
			p->handshake_sec = ts[0];
			p->handshake_nsec = ts[1];
			break;
		}
		case WGPEER_A_RX_BYTES:
		case WGPEER_A_TX_BYTES:
			if (!fixed(x, type(x) == WGPEER_A_RX_BYTES ? &p->rx : &p->tx, 8))
				return wg_fail(err, errlen, -EBADMSG, "peer %zu: a byte count of %zu bytes", d->npeers - 1, dlen(x));
			break;
		case WGPEER_A_ALLOWEDIPS:
			FOR_ATTR(ipn, data(x), dlen(x)) {
				if (p->nips >= WG_PEER_IPS_MAX)
					return wg_fail(err, errlen, -E2BIG, "peer %zu: more than %d allowed IPs", d->npeers - 1,
						     WG_PEER_IPS_MAX);
				if ((r = parse_ip(ipn, &p->ips[p->nips], err, errlen)) < 0)
					return r;
				p->nips++;
			}
			break;
		}
	}
	return 0;
}

int wg_genl_parse(const uint8_t *msg, size_t n, struct wg_device *d, char *err, size_t errlen)
{
	int r;

	if (n < GENL_HDRLEN)
		return wg_fail(err, errlen, -EBADMSG, "a message of %zu bytes, shorter than its header", n);
	msg += GENL_HDRLEN;
	n -= GENL_HDRLEN;
	FOR_ATTR(x, msg, n) {
		switch (type(x)) {
		case WGDEVICE_A_IFNAME:
			if (dlen(x) == 0 || dlen(x) > WG_IFNAME_MAX || data(x)[dlen(x) - 1] != '\0')
				return wg_fail(err, errlen, -EBADMSG, "a device name of %zu bytes", dlen(x));
			memcpy(d->name, data(x), dlen(x));
			break;
		case WGDEVICE_A_PRIVATE_KEY:
			if (!fixed(x, d->priv, WG_KEY_LEN))
				return wg_fail(err, errlen, -EBADMSG, "a private key of %zu bytes", dlen(x));
			d->flags |= WGD_PRIVATE_KEY;
			break;
		case WGDEVICE_A_PUBLIC_KEY:
			if (!fixed(x, d->pub, WG_KEY_LEN))
				return wg_fail(err, errlen, -EBADMSG, "a public key of %zu bytes", dlen(x));
			d->flags |= WGD_PUBLIC_KEY;
			break;
		case WGDEVICE_A_LISTEN_PORT:
			if (!fixed(x, &d->port, 2))
				return wg_fail(err, errlen, -EBADMSG, "a listen port of %zu bytes", dlen(x));
			d->flags |= WGD_LISTEN_PORT;
			break;
		case WGDEVICE_A_FWMARK:
			if (!fixed(x, &d->fwmark, 4))
				return wg_fail(err, errlen, -EBADMSG, "a firewall mark of %zu bytes", dlen(x));
			d->flags |= WGD_FWMARK;
			break;
		case WGDEVICE_A_PEERS:
			FOR_ATTR(pn, data(x), dlen(x))
				if ((r = parse_peer(pn, d, err, errlen)) < 0)
					return r;
			break;
		}
	}
	return 0;
}

/* --- talking to the kernel --- */

static int genl_socket(char *err, size_t errlen)
{
	struct timeval tv = { 2, 0 };
	int one = 1, fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0)
		return wg_fail(err, errlen, -errno, "generic netlink socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	/* An error's ack without the request in it: a set's keys never come back. */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return fd;
}

/* The kernel's error for a request: 0, or -errno with its extended ack text if any. */
static int ack_error(const struct nlmsghdr *h, const char *what, char *err, size_t errlen)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	const char *text = NULL;
	size_t off, n;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return wg_fail(err, errlen, -EBADMSG, "%s: a short error message", what);
	if (e->error == 0)
		return 0;
	/* The extended ack follows the request's header (its payload is left out: NLM_F_CAPPED). */
	off = NLMSG_LENGTH(sizeof(*e));
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len > sizeof(e->msg) ? NLMSG_ALIGN(e->msg.nlmsg_len - sizeof(e->msg)) : 0;
	if (h->nlmsg_flags & NLM_F_ACK_TLVS && off < h->nlmsg_len) {
		n = h->nlmsg_len - off;
		FOR_ATTR(x, (const uint8_t *)h + off, n)
			if (type(x) == NLMSGERR_ATTR_MSG && dlen(x) && data(x)[dlen(x) - 1] == '\0')
				text = (const char *)data(x);
	}
	return wg_fail(err, errlen, e->error, "%s: %s", what, text ? text : strerror(-e->error));
}

/* Sends buf and reads the answer: the acks (dump: false), or the dump's messages into d. */
static int transact(int fd, const uint8_t *buf, size_t len, struct wg_device *d, uint64_t *msgs, const char *what,
		    char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	uint8_t *rx = malloc(RECV_MAX);
	int r = 0;
	bool done = false;

	if (!rx)
		return wg_fail(err, errlen, -ENOMEM, "%s: out of memory", what);
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) != (ssize_t)len) {
		r = wg_fail(err, errlen, -errno, "%s: send: %s", what, strerror(errno));
		goto out;
	}
	while (!done) {
		ssize_t n = recv(fd, rx, RECV_MAX, 0);

		if (n < 0) {
			r = wg_fail(err, errlen, -errno, "%s: %s", what,
				  errno == EAGAIN ? "no answer from the kernel in 2 s" : strerror(errno));
			goto out;
		}
		/* n stays signed: NLMSG_NEXT may take it below zero, which ends the walk. */
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)rx; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_flags & NLM_F_DUMP_INTR) {
				/* The device changed while it was listed: what came is not whole. */
				r = wg_fail(err, errlen, -EAGAIN, "%s: changed while it was read; read again", what);
				goto out;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				/* A dump's end carries its error (the kernel's -EMSGSIZE, say). */
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&e, NLMSG_DATA(h), sizeof(int));
				if (e < 0) {
					r = wg_fail(err, errlen, e, "%s: %s", what, strerror(-e));
					goto out;
				}
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				r = ack_error(h, what, err, errlen);
				if (r < 0 || !d)
					done = true;
				if (r < 0)
					goto out;
				continue;
			}
			if (d) {
				(*msgs)++;
				if ((r = wg_genl_parse(NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN, d, err, errlen)) < 0)
					goto out;
			}
		}
	}
out:
	wg_wipe(rx, RECV_MAX);
	free(rx);
	return r;
}

/* The id of the "wireguard" family, or -errno naming why there is none. */
static int family_id(int fd, char *err, size_t errlen)
{
	uint8_t buf[128] = { 0 }, rx[4096];
	struct msg m = { buf, NLMSG_HDRLEN + GENL_HDRLEN, sizeof(buf), false };
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(buf + NLMSG_HDRLEN);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	ssize_t n;

	h->nlmsg_type = GENL_ID_CTRL;
	h->nlmsg_flags = NLM_F_REQUEST;
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	put(&m, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME, sizeof(WG_GENL_NAME));
	h->nlmsg_len = (uint32_t)m.len;
	if (sendto(fd, buf, m.len, 0, (struct sockaddr *)&sa, sizeof(sa)) != (ssize_t)m.len)
		return wg_fail(err, errlen, -errno, "generic netlink: %s", strerror(errno));
	if ((n = recv(fd, rx, sizeof(rx), 0)) < 0)
		return wg_fail(err, errlen, -errno, "generic netlink: %s", strerror(errno));
	for (const struct nlmsghdr *r = (const struct nlmsghdr *)rx; NLMSG_OK(r, n); r = NLMSG_NEXT(r, n)) {
		if (r->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(r);

			if (r->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error == -ENOENT)
				return wg_fail(err, errlen, -ENOENT, "the kernel has no WireGuard (no generic netlink "
								   "family \"wireguard\": module wireguard not loaded)");
			return ack_error(r, "generic netlink family wireguard", err, errlen);
		}
		if (r->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
			continue;
		FOR_ATTR(x, (const uint8_t *)NLMSG_DATA(r) + GENL_HDRLEN, r->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN)) {
			uint16_t id;

			if (type(x) == CTRL_ATTR_FAMILY_ID && fixed(x, &id, 2))
				return id;
		}
	}
	return wg_fail(err, errlen, -EBADMSG, "generic netlink: no family id in the answer");
}

static int genl_get(const char *ifname, struct wg_device *d, struct wg_counters *c, char *err, size_t errlen)
{
	uint8_t buf[128] = { 0 };
	struct msg m = { buf, NLMSG_HDRLEN + GENL_HDRLEN, sizeof(buf), false };
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(buf + NLMSG_HDRLEN);
	char what[64];
	uint64_t msgs = 0;
	int fd, fam, r;

	if ((r = wg_check_name(ifname, err, errlen)) < 0)
		return r;
	if ((fd = genl_socket(err, errlen)) < 0)
		return fd;
	if ((fam = family_id(fd, err, errlen)) < 0) {
		close(fd);
		return fam;
	}
	h->nlmsg_type = (uint16_t)fam;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP;
	g->cmd = WG_CMD_GET_DEVICE;
	g->version = WG_GENL_VERSION;
	put(&m, WGDEVICE_A_IFNAME, ifname, strlen(ifname) + 1);
	h->nlmsg_len = (uint32_t)m.len;
	snprintf(what, sizeof(what), "WireGuard device %s", ifname);
	r = transact(fd, buf, m.len, d, &msgs, what, err, errlen);
	close(fd);
	if (c) {
		c->gets++;
		c->messages += msgs;
	}
	return r;
}

static int genl_set(const struct wg_device *d, struct wg_counters *c, char *err, size_t errlen)
{
	uint8_t *buf;
	char what[64];
	size_t next = 0, len;
	int fd, fam, r;

	if ((r = wg_check_name(d->name, err, errlen)) < 0)
		return r;
	if ((fd = genl_socket(err, errlen)) < 0)
		return fd;
	if ((fam = family_id(fd, err, errlen)) < 0) {
		close(fd);
		return fam;
	}
	if (!(buf = malloc(MSG_MAX))) {
		close(fd);
		return wg_fail(err, errlen, -ENOMEM, "out of memory");
	}
	snprintf(what, sizeof(what), "set WireGuard device %s", d->name);
	if (c)
		c->sets++;
	do {
		if ((r = wg_genl_format_set(d, (uint16_t)fam, &next, buf, MSG_MAX, &len)) < 0) {
			wg_fail(err, errlen, r, "%s: peer %zu does not fit one message", what, next);
			break;
		}
		if (c)
			c->messages++;
		r = transact(fd, buf, len, NULL, NULL, what, err, errlen);
	} while (r == 0 && next < d->npeers);
	wg_wipe(buf, MSG_MAX);
	free(buf);
	close(fd);
	return r;
}

const struct wg_ops wg_kernel = {
	.name = "kernel",
	.get = genl_get,
	.set = genl_set,
};
