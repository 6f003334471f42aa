/* SPDX-License-Identifier: MIT */
/*
 * WireguardController: machine.network.interfaces[].wireguard applied to its link (which
 * NetworkConfigController asks LinkSpecController to create, kind wireguard), through
 * netctl's WireGuard backends: the kernel's over generic netlink, or the userspace API when
 * a daemon serves /var/run/wireguard/<link>.sock (wireguard-go). The config is the whole
 * truth for such a device (its peers replace the device's); a device that already is as
 * configured is left alone (read, compared, not set), and a change removes or updates the
 * peers it concerns one by one, so the others keep their sessions; a peer that roamed is
 * not pointed back while the config is unchanged. network/WireguardStatus/<link> says
 * what the backend reports: public key, port, peers with endpoints, handshakes and traffic.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/config.pb-c.h"
#include "api/network.pb-c.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/wgkey.h"
#include "machined/ctrl/controllers.h"
#include "netctl/wg.h"

static const struct rt_input inputs[] = { { RES(MACHINE_CONFIG), RT_WEAK }, { RES(LINK_STATUS), RT_WEAK } };
static const struct rt_output outputs[] = { { RES(WIREGUARD_STATUS), RT_EXCLUSIVE } };

#define WG_DEVICES_MAX 64

struct wgstate {
	const char *refused;        /* ctrl_env's net_refused */
	uint64_t sets;
	struct wg_counters c;
	struct {
		char name[WG_IFNAME_MAX];
		uint64_t hash;      /* of the config last applied to it */
	} applied[WG_DEVICES_MAX];
};

static struct wgstate wgstate;

static bool same_ip(const struct wg_ip *a, const struct wg_ip *b);

/* The device the config asks for; 0, or -EINVAL with the field in err. */
static int wanted(const char *name, const Basalt__Config__Wireguard *w, struct wg_device *d, char *err, size_t errlen)
{
	wg_device_init(d, name);
	if (!w->privatekey || wgkey_from_b64(w->privatekey, d->priv) < 0) {
		snprintf(err, errlen, "%s: wireguard.privateKey is not a base64 key", name);
		return -EINVAL;
	}
	/* Without a listenPort the device keeps the port it has (the kernel picked one). */
	d->flags = WGD_PRIVATE_KEY | WGD_FWMARK | WGD_REPLACE_PEERS | (w->has_listenport ? WGD_LISTEN_PORT : 0);
	d->port = w->has_listenport ? (uint16_t)w->listenport : 0;
	d->fwmark = w->has_firewallmark ? w->firewallmark : 0;
	for (size_t i = 0; i < w->n_peers; i++) {
		const Basalt__Config__WireguardPeer *c = w->peers[i];
		uint8_t pub[WG_KEY_LEN];
		struct wg_peer *p;

		if (!c->publickey || wgkey_from_b64(c->publickey, pub) < 0) {
			snprintf(err, errlen, "%s: wireguard.peers/%zu: not a base64 public key", name, i);
			return -EINVAL;
		}
		for (size_t j = 0; j < d->npeers; j++)
			if (!memcmp(d->peers[j].pub, pub, WG_KEY_LEN)) {
				snprintf(err, errlen, "%s: wireguard.peers/%zu: the publicKey of peers/%zu again", name, i, j);
				return -EINVAL;
			}
		if (!(p = wg_device_add_peer(d, pub))) {
			snprintf(err, errlen, "%s: wireguard.peers/%zu: out of memory", name, i);
			return -ENOMEM;
		}
		p->flags = WGP_REPLACE_IPS | WGP_KEEPALIVE;
		if (c->endpoint) {
			char host[256];
			unsigned port;
			struct ipaddr ip;

			if (!parse_hostport(c->endpoint, host, sizeof(host), &port) || !parse_ip(host, &ip)) {
				snprintf(err, errlen, "%s: wireguard.peers/%zu.endpoint %s: an IP address and port are "
					 "needed (host names are not looked up yet)", name, i, c->endpoint);
				return -EINVAL;
			}
			p->flags |= WGP_ENDPOINT;
			p->ep.family = ip.family == AF_INET6 ? 6 : 4;
			memcpy(p->ep.a, ip.addr, ip.family == AF_INET6 ? 16 : 4);
			p->ep.port = (uint16_t)port;
		}
		if (c->persistentkeepaliveinterval) {
			uint64_t ms;

			if (!parse_duration_ms(c->persistentkeepaliveinterval, &ms) || ms / 1000 > 65535) {
				snprintf(err, errlen, "%s: wireguard.peers/%zu.persistentKeepaliveInterval %s is not a duration "
					 "up to 65535 s", name, i, c->persistentkeepaliveinterval);
				return -EINVAL;
			}
			p->keepalive = (uint16_t)(ms / 1000);
		}
		if (c->n_allowedips > WG_PEER_IPS_MAX) {
			snprintf(err, errlen, "%s: wireguard.peers/%zu.allowedIPs: %zu, at most %d", name, i, c->n_allowedips,
				 WG_PEER_IPS_MAX);
			return -EINVAL;
		}
		for (size_t k = 0; k < c->n_allowedips; k++) {
			struct wg_ip *a = &p->ips[p->nips];
			struct ipaddr ip;
			unsigned len, bits;
			bool dup = false;

			if (!parse_cidr(c->allowedips[k], &ip, &len)) {
				snprintf(err, errlen, "%s: wireguard.peers/%zu.allowedIPs/%zu is not a CIDR", name, i, k);
				return -EINVAL;
			}
			/* As the kernel keeps it: the host bits cleared (10.0.0.1/24 is 10.0.0.0/24). */
			memset(a, 0, sizeof(*a));
			a->family = ip.family == AF_INET6 ? 6 : 4;
			bits = a->family == 6 ? 128 : 32;
			for (unsigned b = 0; b < bits / 8; b++) {
				unsigned keep = len >= (b + 1) * 8 ? 8 : len > b * 8 ? len - b * 8 : 0;

				a->a[b] = (uint8_t)(ip.addr[b] & (0xff00u >> keep));
			}
			a->cidr = (uint8_t)len;
			for (size_t m = 0; m < p->nips && !dup; m++)
				dup = same_ip(&p->ips[m], a);
			if (!dup)
				p->nips++;
		}
	}
	return 0;
}

static bool same_ip(const struct wg_ip *a, const struct wg_ip *b)
{
	return a->family == b->family && a->cidr == b->cidr && !memcmp(a->a, b->a, a->family == 6 ? 16 : 4);
}

static const struct wg_peer *peer_in(const struct wg_device *d, const uint8_t pub[WG_KEY_LEN])
{
	for (size_t i = 0; i < d->npeers; i++)
		if (!memcmp(d->peers[i].pub, pub, WG_KEY_LEN))
			return &d->peers[i];
	return NULL;
}

/*
 * Whether the device as read already is what is wanted (peers in any order, IPs in any
 * order). Endpoints count only with endpoints: a peer roams (the kernel follows where its
 * packets come from), which is no reason to set the device again.
 */
static bool matches(const struct wg_device *want, const struct wg_device *have, bool endpoints)
{
	if (!(have->flags & WGD_PRIVATE_KEY) || memcmp(want->priv, have->priv, WG_KEY_LEN) ||
	    (want->port && want->port != have->port) || want->fwmark != have->fwmark || want->npeers != have->npeers)
		return false;
	for (size_t i = 0; i < want->npeers; i++) {
		const struct wg_peer *w = &want->peers[i], *h = peer_in(have, w->pub);

		if (!h || h->keepalive != w->keepalive || h->nips != w->nips)
			return false;
		if (endpoints && (w->flags & WGP_ENDPOINT) &&
		    (h->ep.family != w->ep.family || h->ep.port != w->ep.port ||
		     memcmp(h->ep.a, w->ep.a, w->ep.family == 6 ? 16 : 4)))
			return false;
		for (size_t k = 0; k < w->nips; k++) {
			bool found = false;

			for (size_t m = 0; m < h->nips && !found; m++)
				found = same_ip(&w->ips[k], &h->ips[m]);
			if (!found)
				return false;
		}
	}
	return true;
}

static char *endpoint_text(const struct wg_endpoint *ep)
{
	char ip[INET6_ADDRSTRLEN] = "", out[INET6_ADDRSTRLEN + 10];

	if (!ep->family)
		return strdup("");
	inet_ntop(ep->family == 6 ? AF_INET6 : AF_INET, ep->a, ip, sizeof(ip));
	snprintf(out, sizeof(out), ep->family == 6 ? "[%s]:%u" : "%s:%u", ip, ep->port);
	return strdup(out);
}

static int publish(struct rt_ctx *ctx, const char *backend, const struct wg_device *d, uint64_t sets)
{
	Basalt__Network__WireguardStatus *s = malloc(sizeof(*s));
	char b64[WGKEY_B64_LEN + 1];
	uint8_t pub[WG_KEY_LEN];

	if (!s)
		return -ENOMEM;
	basalt__network__wireguard_status__init(s);
	s->linkname = strdup(d->name);
	s->backend = strdup(backend);
	if (d->flags & WGD_PUBLIC_KEY)
		memcpy(pub, d->pub, WG_KEY_LEN);
	else if (wgkey_public(d->priv, pub) < 0)
		memset(pub, 0, sizeof(pub));
	wgkey_b64(pub, b64);
	s->publickey = strdup(b64);
	s->listenport = d->port;
	s->firewallmark = d->fwmark;
	s->sets = sets;
	if (d->npeers && (s->peers = calloc(d->npeers, sizeof(*s->peers)))) {
		for (size_t i = 0; i < d->npeers; i++) {
			const struct wg_peer *p = &d->peers[i];
			Basalt__Network__WireguardPeerStatus *ps = malloc(sizeof(*ps));

			if (!ps)
				break;
			basalt__network__wireguard_peer_status__init(ps);
			wgkey_b64(p->pub, b64);
			ps->publickey = strdup(b64);
			ps->endpoint = endpoint_text(&p->ep);
			ps->persistentkeepaliveinterval = p->keepalive;
			ps->lasthandshake = p->handshake_sec;
			ps->rxbytes = p->rx;
			ps->txbytes = p->tx;
			if (p->nips && (ps->allowedips = calloc(p->nips, sizeof(char *))))
				for (size_t k = 0; k < p->nips; k++) {
					char ip[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 5];

					inet_ntop(p->ips[k].family == 6 ? AF_INET6 : AF_INET, p->ips[k].a, ip, sizeof(ip));
					snprintf(cidr, sizeof(cidr), "%s/%u", ip, p->ips[k].cidr);
					ps->allowedips[ps->n_allowedips++] = strdup(cidr);
				}
			s->peers[s->n_peers++] = ps;
		}
	}
	return rt_apply(ctx, res_new(RES(WIREGUARD_STATUS), d->name, &s->base));
}

/* FNV-1a of what the config asks of a device (a change of it is what sets endpoints again). */
static uint64_t hash_of(const struct wg_device *d)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const unsigned char *p;

#define MIX(ptr, n)                                                                                  \
	for (p = (const unsigned char *)(ptr); p < (const unsigned char *)(ptr) + (n); p++)          \
		h = (h ^ *p) * 0x100000001b3ull
	MIX(d->priv, WG_KEY_LEN);
	MIX(&d->flags, sizeof(d->flags));
	MIX(&d->port, sizeof(d->port));
	MIX(&d->fwmark, sizeof(d->fwmark));
	for (size_t i = 0; i < d->npeers; i++) {
		const struct wg_peer *q = &d->peers[i];

		MIX(q->pub, WG_KEY_LEN);
		MIX(&q->flags, sizeof(q->flags));
		MIX(&q->ep, sizeof(q->ep));
		MIX(&q->keepalive, sizeof(q->keepalive));
		MIX(q->ips, q->nips * sizeof(q->ips[0]));
	}
#undef MIX
	return h;
}

static uint64_t *applied_hash(struct wgstate *st, const char *name)
{
	size_t free_at = WG_DEVICES_MAX;

	for (size_t i = 0; i < WG_DEVICES_MAX; i++) {
		if (!strcmp(st->applied[i].name, name))
			return &st->applied[i].hash;
		if (!st->applied[i].name[0] && free_at == WG_DEVICES_MAX)
			free_at = i;
	}
	if (free_at == WG_DEVICES_MAX)
		return NULL;
	snprintf(st->applied[free_at].name, sizeof(st->applied[free_at].name), "%s", name);
	st->applied[free_at].hash = 0;
	return &st->applied[free_at].hash;
}

/*
 * The set that turns have into want without dropping a session: peers that should not be
 * there removed one by one, the others updated in place (their allowed IPs replaced), an
 * endpoint sent where the config changed it or the peer is new.
 */
static int build_set(const struct wg_device *want, const struct wg_device *have, bool cfg_changed,
		     struct wg_device *set)
{
	wg_device_init(set, want->name);
	set->flags = want->flags & ~(uint32_t)WGD_REPLACE_PEERS;
	memcpy(set->priv, want->priv, WG_KEY_LEN);
	set->port = want->port;
	set->fwmark = want->fwmark;
	for (size_t i = 0; i < have->npeers; i++) {
		struct wg_peer *p;

		if (peer_in(want, have->peers[i].pub))
			continue;
		if (!(p = wg_device_add_peer(set, have->peers[i].pub)))
			return -ENOMEM;
		p->flags = WGP_REMOVE;
	}
	for (size_t i = 0; i < want->npeers; i++) {
		const struct wg_peer *w = &want->peers[i];
		struct wg_peer *p = wg_device_add_peer(set, w->pub);

		if (!p)
			return -ENOMEM;
		*p = *w;
		if (!cfg_changed && peer_in(have, w->pub))
			p->flags &= ~(uint32_t)WGP_ENDPOINT;
	}
	return 0;
}

static int one(struct rt_ctx *ctx, struct wgstate *st, const char *name, const Basalt__Config__Wireguard *w)
{
	char err[320];
	const struct wg_ops *ops;
	struct wg_device want, have, set;
	uint64_t *last, h;
	bool cfg_changed;
	int r;

	/* The link first: LinkSpecController makes it (or a userspace daemon did). */
	if (!rt_get(ctx, RES(LINK_STATUS), name))
		return 0;
	ops = wg_uapi_serves(name) ? &wg_userspace : &wg_kernel;
	wg_device_init(&have, name);
	wg_device_init(&set, name);
	if ((r = wanted(name, w, &want, err, sizeof(err))) < 0)
		goto fail;
	h = hash_of(&want);
	last = applied_hash(st, name);
	cfg_changed = !last || *last != h;
	if ((r = ops->get(name, &have, &st->c, err, sizeof(err))) < 0)
		goto fail;
	if (!matches(&want, &have, cfg_changed)) {
		if ((r = build_set(&want, &have, cfg_changed, &set)) < 0) {
			snprintf(err, sizeof(err), "out of memory");
			goto fail;
		}
		if ((r = ops->set(&set, &st->c, err, sizeof(err))) < 0)
			goto fail;
		st->sets++;
		log_info("WireGuard %s: configured through the %s backend (%zu peers)", name, ops->name, want.npeers);
		wg_device_fini(&have);
		wg_device_init(&have, name);
		if ((r = ops->get(name, &have, &st->c, err, sizeof(err))) < 0)
			goto fail;
	}
	if (last)
		*last = h;
	r = publish(ctx, ops->name, &have, st->sets);
	wg_device_fini(&set);
	wg_device_fini(&have);
	wg_device_fini(&want);
	return r;
fail:
	wg_device_fini(&set);
	wg_device_fini(&have);
	wg_device_fini(&want);
	return rt_fail(ctx, "WireGuard %s: %s", name, err);
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct wgstate *st = arg;
	const Basalt__Config__Config *cfg = res_spec(rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1"), RES(MACHINE_CONFIG));
	const Basalt__Config__Network *net = cfg && cfg->machine ? cfg->machine->network : NULL;
	int r = 0, first = 0;

	for (size_t k = 0; net && k < net->n_interfaces; k++) {
		const Basalt__Config__Interface *i = net->interfaces[k];

		if (!i->wireguard || !i->interface || (i->has_ignore && i->ignore))
			continue;
		if (st->refused)
			return rt_fail(ctx, "%s", st->refused);
		/* Every device is tried; the first failure is the run's. */
		if ((r = one(ctx, st, i->interface, i->wireguard)) < 0 && !first)
			first = r;
	}
	return first;
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &wgstate;
}

static int start(void *s, const struct ctrl_env *env, struct rt_ctrl *self)
{
	(void)self;
	((struct wgstate *)s)->refused = env->net_refused;
	return 0;
}

const struct ctrl_def ctrl_wireguard = {
	.rt = { .name = "WireguardController", .inputs = inputs, .ninputs = 2, .outputs = outputs, .noutputs = 1,
		.reconcile = reconcile },
	.shared = state,
	.init = start,
	.touches_machine = true,
};
