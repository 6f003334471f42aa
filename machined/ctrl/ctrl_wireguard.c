/* SPDX-License-Identifier: MIT */
/*
 * WireguardController: machine.network.interfaces[].wireguard applied to its link (which
 * NetworkConfigController asks LinkSpecController to create, kind wireguard), through
 * netctl's WireGuard backends: the kernel's over generic netlink, or the userspace API when
 * a daemon serves /var/run/wireguard/<link>.sock (wireguard-go). The config is the whole
 * truth for such a device (its peers replace the device's); a device that already is as
 * configured is left alone (read, compared, not set). network/WireguardStatus/<link> says
 * what the backend reports: public key, port, peers with endpoints, handshakes and traffic.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "api/config.pb-c.h"
#include "api/network.pb-c.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/wgkey.h"
#include "machined/ctrl/controllers.h"
#include "netctl/wg.h"

static const struct rt_input inputs[] = { { RES(MACHINE_CONFIG), RT_WEAK }, { RES(LINK_STATUS), RT_WEAK } };
static const struct rt_output outputs[] = { { RES(WIREGUARD_STATUS), RT_EXCLUSIVE } };

struct wgstate {
	const char *refused;        /* ctrl_env's net_refused */
	uint64_t sets;
	struct wg_counters c;
};

static struct wgstate wgstate;

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

		if (!c->publickey || wgkey_from_b64(c->publickey, pub) < 0 || !(p = wg_device_add_peer(d, pub))) {
			snprintf(err, errlen, "%s: wireguard.peers/%zu: not a base64 public key (or out of memory)", name, i);
			return -EINVAL;
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
		for (size_t k = 0; k < c->n_allowedips && p->nips < WG_PEER_IPS_MAX; k++) {
			struct ipaddr ip;
			unsigned len;

			if (!parse_cidr(c->allowedips[k], &ip, &len)) {
				snprintf(err, errlen, "%s: wireguard.peers/%zu.allowedIPs/%zu is not a CIDR", name, i, k);
				return -EINVAL;
			}
			p->ips[p->nips].family = ip.family == AF_INET6 ? 6 : 4;
			memcpy(p->ips[p->nips].a, ip.addr, 16);
			p->ips[p->nips++].cidr = (uint8_t)len;
		}
	}
	return 0;
}

static bool same_ip(const struct wg_ip *a, const struct wg_ip *b)
{
	return a->family == b->family && a->cidr == b->cidr && !memcmp(a->a, b->a, a->family == 6 ? 16 : 4);
}

/* Whether the device as read already is what is wanted (peers in any order, IPs in any order). */
static bool matches(const struct wg_device *want, const struct wg_device *have)
{
	if (!(have->flags & WGD_PRIVATE_KEY) || memcmp(want->priv, have->priv, WG_KEY_LEN) ||
	    (want->port && want->port != have->port) || want->fwmark != have->fwmark || want->npeers != have->npeers)
		return false;
	for (size_t i = 0; i < want->npeers; i++) {
		const struct wg_peer *w = &want->peers[i], *h = NULL;

		for (size_t j = 0; j < have->npeers && !h; j++)
			if (!memcmp(have->peers[j].pub, w->pub, WG_KEY_LEN))
				h = &have->peers[j];
		if (!h || h->keepalive != w->keepalive || h->nips != w->nips)
			return false;
		if ((w->flags & WGP_ENDPOINT) && (h->ep.family != w->ep.family || h->ep.port != w->ep.port ||
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

static int one(struct rt_ctx *ctx, struct wgstate *st, const char *name, const Basalt__Config__Wireguard *w)
{
	char path[64 + WG_IFNAME_MAX], err[320];
	struct stat sb;
	const struct wg_ops *ops;
	struct wg_device want, have;
	int r;

	/* The link first: LinkSpecController makes it (or a userspace daemon did). */
	if (!rt_get(ctx, RES(LINK_STATUS), name))
		return 0;
	snprintf(path, sizeof(path), "%s/%s.sock", WG_UAPI_DIR, name);
	ops = stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode) ? &wg_userspace : &wg_kernel;
	if ((r = wanted(name, w, &want, err, sizeof(err))) < 0)
		goto fail;
	wg_device_init(&have, name);
	if ((r = ops->get(name, &have, &st->c, err, sizeof(err))) < 0) {
		wg_device_fini(&have);
		goto fail;
	}
	if (!matches(&want, &have)) {
		if ((r = ops->set(&want, &st->c, err, sizeof(err))) < 0) {
			wg_device_fini(&have);
			goto fail;
		}
		st->sets++;
		log_info("WireGuard %s: configured through the %s backend (%zu peers)", name, ops->name, want.npeers);
		wg_device_fini(&have);
		wg_device_init(&have, name);
		if ((r = ops->get(name, &have, &st->c, err, sizeof(err))) < 0) {
			wg_device_fini(&have);
			goto fail;
		}
	}
	r = publish(ctx, ops->name, &have, st->sets);
	wg_device_fini(&have);
	wg_device_fini(&want);
	return r;
fail:
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
