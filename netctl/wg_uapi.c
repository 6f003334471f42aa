// SPDX-License-Identifier: MIT
/*
 * The userspace backend: WireGuard's cross-platform API, text lines over a unix socket
 * (wireguard.com/xplatform). A set is "set=1", the device's and peers' lines, a blank
 * line; a get is "get=1" and a blank line; both are answered with "errno=N" and a blank
 * line (a get's fields first). The socket is local and its server answers at once, so a
 * call waits for it, bounded by a 2 s timeout.
 */
#include "netctl/wg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define UAPI_REPLY_MAX (64u << 20)  /* a get of WG_PEERS_MAX peers fits well within */
#define UAPI_TIMEOUT_S 2


/* An appender that stops at cap and remembers it did. */
struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

static void put_hex(struct out *o, const char *key, const uint8_t k[WG_KEY_LEN])
{
	char h[2 * WG_KEY_LEN + 1];

	for (size_t i = 0; i < WG_KEY_LEN; i++)
		snprintf(h + 2 * i, 3, "%02x", k[i]);
	put(o, "%s=%s\n", key, h);
}

static void addr_str(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static void put_peer(struct out *o, const struct wg_peer *p)
{
	char a[INET6_ADDRSTRLEN];

	put_hex(o, "public_key", p->pub);
	if (p->flags & WGP_REMOVE) {
		put(o, "remove=true\n");
		return;
	}
	if (p->flags & WGP_UPDATE_ONLY)
		put(o, "update_only=true\n");
	if (p->flags & WGP_PRESHARED_KEY)
		put_hex(o, "preshared_key", p->psk);
	if ((p->flags & WGP_ENDPOINT) && p->ep.family) {
		addr_str(p->ep.family, p->ep.a, a, sizeof(a));
		put(o, p->ep.family == 4 ? "endpoint=%s:%u\n" : "endpoint=[%s]:%u\n", a, p->ep.port);
	}
	if (p->flags & WGP_KEEPALIVE)
		put(o, "persistent_keepalive_interval=%u\n", p->keepalive);
	if (p->flags & WGP_REPLACE_IPS)
		put(o, "replace_allowed_ips=true\n");
	for (size_t i = 0; i < p->nips && i < WG_PEER_IPS_MAX; i++) {
		addr_str(p->ips[i].family, p->ips[i].a, a, sizeof(a));
		put(o, "allowed_ip=%s/%u\n", a, p->ips[i].cidr);
	}
}

int wg_uapi_format_set(const struct wg_device *d, char *out, size_t cap, size_t *len)
{
	struct out o = { out, 0, cap, cap == 0 };

	put(&o, "set=1\n");
	if (d->flags & WGD_PRIVATE_KEY)
		put_hex(&o, "private_key", d->priv);
	if (d->flags & WGD_LISTEN_PORT)
		put(&o, "listen_port=%u\n", d->port);
	if (d->flags & WGD_FWMARK)
		put(&o, "fwmark=%" PRIu32 "\n", d->fwmark);
	if (d->flags & WGD_REPLACE_PEERS)
		put(&o, "replace_peers=true\n");
	for (size_t i = 0; i < d->npeers; i++)
		put_peer(&o, &d->peers[i]);
	put(&o, "\n");
	if (o.full)
		return -ENOSPC;
	*len = o.len;
	return 0;
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

static bool parse_key(const char *v, uint8_t k[WG_KEY_LEN])
{
	if (strlen(v) != 2 * WG_KEY_LEN)
		return false;
	for (size_t i = 0; i < WG_KEY_LEN; i++) {
		int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		k[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* A decimal no larger than max, digits only. */
static bool parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;

	if (!*v || strlen(v) > 20)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return false;
		if (n > (UINT64_MAX - (uint64_t)(*v - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	if (n > max)
		return false;
	*out = n;
	return true;
}

static bool parse_ip(const char *s, uint8_t *family, uint8_t a[16])
{
	memset(a, 0, 16); /* a v4 address after a v6 one leaves nothing of it */
	if (inet_pton(AF_INET, s, a) == 1) {
		*family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*family = 6;
		return true;
	}
	return false;
}

/* "192.0.2.1:51820" or "[2001:db8::1]:51820"; v is modified. */
static bool parse_endpoint(char *v, struct wg_endpoint *ep)
{
	char *host = v, *colon;
	uint64_t port;

	if (*v == '[') {
		char *close = strchr(v, ']');

		if (!close || close[1] != ':')
			return false;
		*close = 0;
		host = v + 1;
		colon = close + 1;
	} else {
		colon = strrchr(v, ':');
		if (!colon)
			return false;
		*colon = 0;
	}
	if (!parse_u64(colon + 1, 65535, &port) || !parse_ip(host, &ep->family, ep->a))
		return false;
	if (*v == '[' && ep->family != 6)
		return false;
	ep->port = (uint16_t)port;
	return true;
}

/* "10.0.0.0/8" or "fd00::/64"; v is modified. */
static bool parse_allowed_ip(char *v, struct wg_ip *ip)
{
	char *slash = strchr(v, '/');
	uint64_t cidr;

	if (!slash)
		return false;
	*slash = 0;
	if (!parse_ip(v, &ip->family, ip->a))
		return false;
	if (!parse_u64(slash + 1, ip->family == 4 ? 32 : 128, &cidr))
		return false;
	ip->cidr = (uint8_t)cidr;
	return true;
}

/* One line of a get reply applied to d (peer: the peer being read, or NULL before the first). */
static int parse_line(char *key, char *v, struct wg_device *d, struct wg_peer **peer)
{
	struct wg_peer *p = *peer;
	uint64_t n;

	if (!strcmp(key, "public_key")) {
		uint8_t k[WG_KEY_LEN];

		if (!parse_key(v, k))
			return -EBADMSG;
		*peer = wg_device_add_peer(d, k);
		return *peer ? 0 : -ENOMEM;
	}
	if (!p) {
		if (!strcmp(key, "private_key")) {
			d->flags |= WGD_PRIVATE_KEY;
			return parse_key(v, d->priv) ? 0 : -EBADMSG;
		}
		if (!strcmp(key, "listen_port")) {
			d->flags |= WGD_LISTEN_PORT;
			if (!parse_u64(v, 65535, &n))
				return -EBADMSG;
			d->port = (uint16_t)n;
			return 0;
		}
		if (!strcmp(key, "fwmark")) {
			d->flags |= WGD_FWMARK;
			if (!parse_u64(v, UINT32_MAX, &n))
				return -EBADMSG;
			d->fwmark = (uint32_t)n;
			return 0;
		}
		return 0; /* a field this model does not hold */
	}
	if (!strcmp(key, "preshared_key")) {
		p->flags |= WGP_PRESHARED_KEY;
		return parse_key(v, p->psk) ? 0 : -EBADMSG;
	}
	if (!strcmp(key, "endpoint")) {
		p->flags |= WGP_ENDPOINT;
		return parse_endpoint(v, &p->ep) ? 0 : -EBADMSG;
	}
	if (!strcmp(key, "persistent_keepalive_interval")) {
		p->flags |= WGP_KEEPALIVE;
		if (!parse_u64(v, 65535, &n))
			return -EBADMSG;
		p->keepalive = (uint16_t)n;
		return 0;
	}
	if (!strcmp(key, "allowed_ip")) {
		if (p->nips >= WG_PEER_IPS_MAX)
			return -E2BIG;
		if (!parse_allowed_ip(v, &p->ips[p->nips]))
			return -EBADMSG;
		p->nips++;
		return 0;
	}
	if (!strcmp(key, "last_handshake_time_sec") || !strcmp(key, "last_handshake_time_nsec")) {
		if (!parse_u64(v, INT64_MAX, &n))
			return -EBADMSG;
		if (key[strlen(key) - 4] == 'n')
			p->handshake_nsec = (int64_t)n;
		else
			p->handshake_sec = (int64_t)n;
		return 0;
	}
	if (!strcmp(key, "rx_bytes") || !strcmp(key, "tx_bytes"))
		return parse_u64(v, UINT64_MAX, key[0] == 'r' ? &p->rx : &p->tx) ? 0 : -EBADMSG;
	return 0; /* protocol_version and fields added later */
}

int wg_uapi_parse_get(const char *text, size_t n, struct wg_device *d, char *err, size_t errlen)
{
	struct wg_peer *peer = NULL;
	char line[512];
	size_t pos = 0, lineno = 0;

	while (pos < n) {
		const char *nl = memchr(text + pos, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - (text + pos)) : n - pos;
		char *eq;
		int rc;

		lineno++;
		if (!nl)
			return wg_fail(err, errlen, -EBADMSG, "wireguard uapi: reply line %zu has no end", lineno);
		if (len == 0)
			return wg_fail(err, errlen, -EBADMSG, "wireguard uapi: reply ended without errno");
		if (len >= sizeof(line))
			return wg_fail(err, errlen, -EBADMSG, "wireguard uapi: reply line %zu is %zu bytes, over %zu",
				     lineno, len, sizeof(line) - 1);
		memcpy(line, text + pos, len);
		line[len] = 0;
		pos += len + 1;
		eq = strchr(line, '=');
		if (!eq || eq == line)
			return wg_fail(err, errlen, -EBADMSG, "wireguard uapi: reply line %zu is not key=value", lineno);
		*eq = 0;
		if (!strcmp(line, "errno")) {
			uint64_t e;

			if (!parse_u64(eq + 1, 4095, &e))
				return wg_fail(err, errlen, -EBADMSG, "wireguard uapi: errno \"%s\" is not a number", eq + 1);
			if (pos >= n || text[pos] != '\n')
				return wg_fail(err, errlen, -EBADMSG, "wireguard uapi: no blank line after errno");
			if (e)
				return wg_fail(err, errlen, -(int)e, "wireguard uapi: device answered errno %" PRIu64 " (%s)",
					     e, strerror((int)e));
			return 0;
		}
		rc = parse_line(line, eq + 1, d, &peer);
		if (rc == -E2BIG)
			return wg_fail(err, errlen, rc, "wireguard uapi: line %zu: a peer with over %d allowed IPs",
				     lineno, WG_PEER_IPS_MAX);
		if (rc == -ENOMEM)
			return wg_fail(err, errlen, rc, "wireguard uapi: line %zu: no memory for another peer (or over %d)",
				     lineno, WG_PEERS_MAX);
		if (rc)
			return wg_fail(err, errlen, rc, "wireguard uapi: line %zu: bad %s value \"%.64s\"", lineno, line,
				     eq + 1);
	}
	return wg_fail(err, errlen, -EBADMSG, "wireguard uapi: reply ended without errno");
}

static int full_write(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static bool reply_done(const char *buf, size_t len)
{
	/* a reply ends with its errno line and a blank line */
	return len >= 2 && buf[len - 1] == '\n' && buf[len - 2] == '\n';
}

/* Sends req to the device's socket and reads one reply (caller frees *reply). */
static int transact(const char *name, const char *req, size_t reqlen, char **reply, size_t *replylen, char *err,
		    size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = UAPI_TIMEOUT_S };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = -1, rc;

	if ((rc = wg_check_name(name, err, errlen)))
		return rc;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", WG_UAPI_DIR, name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = wg_fail(err, errlen, -errno, "wireguard uapi: socket: %s", strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = wg_fail(err, errlen, -errno, "wireguard uapi: connect %s: %s (is its userspace daemon running?)",
			   sa.sun_path, strerror(errno));
		goto out;
	}
	if ((rc = full_write(fd, req, reqlen))) {
		wg_fail(err, errlen, rc, "wireguard uapi: send to %s: %s", sa.sun_path, strerror(-rc));
		goto out;
	}
	while (!reply_done(buf, len)) {
		ssize_t r;

		if (cap - len < 4096) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *nb;

			if (ncap > UAPI_REPLY_MAX) {
				rc = wg_fail(err, errlen, -EMSGSIZE, "wireguard uapi: %s answered over %u bytes",
					   sa.sun_path, UAPI_REPLY_MAX);
				goto out;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				rc = wg_fail(err, errlen, -ENOMEM, "wireguard uapi: no memory for a %zu-byte reply", ncap);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		r = recv(fd, buf + len, cap - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = wg_fail(err, errlen, r < 0 ? -errno : -EPIPE, "wireguard uapi: %s: %s", sa.sun_path,
				   r < 0 ? (errno == EAGAIN ? "no reply within 2 s" : strerror(errno))
					 : "closed before its reply ended");
			goto out;
		}
		len += (size_t)r;
	}
	*reply = buf;
	*replylen = len;
	buf = NULL;
	rc = 0;
out:
	if (buf) {
		memset(buf, 0, len); /* a get reply holds the private key */
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static void drop_reply(char *reply, size_t len)
{
	if (reply) {
		volatile char *v = reply;

		for (size_t i = 0; i < len; i++)
			v[i] = 0;
		free(reply);
	}
}

static int uapi_get(const char *ifname, struct wg_device *d, struct wg_counters *c, char *err, size_t errlen)
{
	static const char req[] = "get=1\n\n";
	char *reply = NULL;
	size_t len = 0;
	int rc;

	rc = transact(ifname, req, sizeof(req) - 1, &reply, &len, err, errlen);
	if (c) {
		c->gets++;
		c->messages++;
	}
	if (rc)
		return rc;
	if (!d->name[0])
		strncpy(d->name, ifname, sizeof(d->name) - 1);
	rc = wg_uapi_parse_get(reply, len, d, err, errlen);
	drop_reply(reply, len);
	return rc;
}

/* A set's size bound: the device's lines, each peer's (keys, endpoint, flags) and its allowed IPs. */
static size_t set_size(const struct wg_device *d)
{
	size_t n = 256;

	for (size_t i = 0; i < d->npeers; i++)
		n += 512 + d->peers[i].nips * 64;
	return n;
}

static int uapi_set(const struct wg_device *d, struct wg_counters *c, char *err, size_t errlen)
{
	size_t cap = set_size(d), len = 0, rlen = 0;
	char *req = malloc(cap), *reply = NULL;
	struct wg_device ack;
	int rc;

	if (!req)
		return wg_fail(err, errlen, -ENOMEM, "wireguard uapi: no memory for a set of %zu peers", d->npeers);
	rc = wg_uapi_format_set(d, req, cap, &len);
	if (rc) {
		wg_fail(err, errlen, rc, "wireguard uapi: set of %zu peers does not fit %zu bytes", d->npeers, cap);
		goto out;
	}
	rc = transact(d->name, req, len, &reply, &rlen, err, errlen);
	if (c) {
		c->sets++;
		c->messages++;
	}
	if (rc)
		goto out;
	wg_device_init(&ack, NULL);
	rc = wg_uapi_parse_get(reply, rlen, &ack, err, errlen);
	wg_device_fini(&ack);
out:
	drop_reply(req, cap);
	drop_reply(reply, rlen);
	return rc;
}

const struct wg_ops wg_userspace = {
	.name = "userspace",
	.get = uapi_get,
	.set = uapi_set,
};
