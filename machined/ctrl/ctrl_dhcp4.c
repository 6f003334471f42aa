/* SPDX-License-Identifier: MIT */
/*
 * DHCP4Controller: the DHCP layer of the network specs, IPv4. One client (netctl/dhcp4.c,
 * on a packet socket of netctl/dhcp4sock.c) per link that wants DHCP: those of the dhcp4
 * OperatorSpecs (the config's `dhcp: true`), and on a real machine with nothing configured (no
 * interfaces in the config, no ip= on the kernel command line) every Ethernet link with a
 * carrier. A lease becomes the link's address, its routes and MTU, its DNS and NTP servers
 * under the layer "dhcp4";
 * a lost lease takes them away; a link that no longer wants DHCP has its lease released.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "api/config.pb-c.h"
#include "api/network.pb-c.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netclient.h"
#include "machined/ctrl/netspec.h"
#include "netctl/dhcp4.h"
#include "netctl/dhcp4sock.h"

#define LAYER "dhcp4"
#define CLIENTS_MAX 32

static const struct rt_input inputs[] = {
	{ RES(MACHINE_CONFIG), RT_WEAK }, { RES(LINK_STATUS), RT_WEAK }, { RES(OPERATOR_SPEC), RT_WEAK },
};
static const struct rt_output outputs[] = {
	{ RES(LINK_SPEC), RT_SHARED },      { RES(ADDRESS_SPEC), RT_SHARED },    { RES(ROUTE_SPEC), RT_SHARED },
	{ RES(RESOLVER_SPEC), RT_SHARED },  { RES(TIMESERVER_SPEC), RT_SHARED }, { RES(HOSTNAME_SPEC), RT_SHARED },
	{ RES(OPERATOR_STATUS), RT_SHARED },
};

struct dhcp4_op;

struct client {
	struct netclient nc;    /* link, socket, timer, wanted */
	struct dhcp4_op *op;
	struct dhcp4_client c;
	uint8_t server_mac[6];  /* where the lease came from: renewals go there */
	unsigned metric;        /* of the routes it brings */
};

struct dhcp4_op {
	struct loop *loop;
	struct rt_ctrl *self;
	bool machine, cmdline;
	const char *refused;    /* ctrl_env's net_refused */
	struct client *cl[CLIENTS_MAX];
	size_t n;
};

static struct dhcp4_op op;

static const uint8_t broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static const char *ip4(const uint8_t *a, char *buf)
{
	return inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN);
}

/* Carries out what the state machine asked: a packet sent, the lease's change announced. */
static void act(struct client *cl, const struct dhcp4_action *a)
{
	static const uint8_t any[4] = { 0 };
	const struct dhcp4_lease *l = &cl->c.lease;
	uint8_t msg[DHCP4_PACKET_MAX];
	char err[256], b1[INET_ADDRSTRLEN], b2[INET_ADDRSTRLEN];
	size_t n;

	if (a->send && (n = dhcp4_build(msg, sizeof(msg), &a->req))) {
		bool own = a->req.ciaddr[0] | a->req.ciaddr[1] | a->req.ciaddr[2] | a->req.ciaddr[3];
		const uint8_t *dst = a->broadcast ? (const uint8_t *)"\xff\xff\xff\xff" : l->server;

		if (dhcp4sock_send(cl->nc.fd, cl->nc.index, a->broadcast ? broadcast_mac : cl->server_mac,
				   own ? a->req.ciaddr : any, dst, msg, n, err, sizeof(err)) < 0)
			log_debug("dhcp4 %s: %s", cl->nc.link, err);  /* the link not up yet: the next retransmission */
	}
	switch (a->event) {
	case DHCP4_EV_BOUND:
		log_info("dhcp4 %s: bound %s/%u from %s, lease %u s", cl->nc.link, ip4(l->addr, b1), l->prefix,
			 ip4(l->server, b2), l->lease_s);
		rt_kick(cl->op->self);
		break;
	case DHCP4_EV_RENEWED:
		log_debug("dhcp4 %s: renewed %s, lease %u s", cl->nc.link, ip4(l->addr, b1), l->lease_s);
		rt_kick(cl->op->self);
		break;
	case DHCP4_EV_LOST:
		log_warnx("dhcp4 %s: lease lost (expired or refused), discovering again", cl->nc.link);
		rt_kick(cl->op->self);
		break;
	case DHCP4_EV_NONE:
		break;
	}
	netclient_state(&cl->nc, (int)cl->c.state);
	netclient_arm(&cl->nc, cl->c.next_ms);
}

static void on_timer(void *arg)
{
	struct client *cl = arg;
	struct dhcp4_action a;

	dhcp4_tick(&cl->c, mono_ms(), &a);
	act(cl, &a);
}

static void on_packet(void *arg, uint32_t events)
{
	struct client *cl = arg;
	uint8_t pkt[DHCP4_PACKET_MAX + 64], mac[6];
	const uint8_t *msg;
	struct dhcp4_reply r;
	struct dhcp4_action a;
	char err[128];
	bool ready;
	ssize_t len;
	size_t n;

	(void)events;
	while ((len = dhcp4sock_recv(cl->nc.fd, pkt, sizeof(pkt), &ready, mac)) != -EAGAIN) {
		if (len < 0) {
			if (len == -EMSGSIZE)
				netclient_drop(&cl->nc);
			continue;
		}
		if (dhcp4_unframe(pkt, (size_t)len, ready, &msg, &n, err, sizeof(err)) < 0 ||
		    dhcp4_parse(msg, n, &r, err, sizeof(err)) < 0) {
			netclient_drop(&cl->nc);
			continue;
		}
		dhcp4_input(&cl->c, &r, mono_ms(), &a);
		if (a.event == DHCP4_EV_BOUND || a.event == DHCP4_EV_RENEWED)
			memcpy(cl->server_mac, mac, 6);
		act(cl, &a);
	}
}

static void client_free(struct client *cl)
{
	if (!cl)
		return;
	netclient_stop(&cl->nc);
	free(cl);
}

static struct client *client_new(struct dhcp4_op *o, const Basalt__Network__LinkStatus *l, const char *link,
				 const uint8_t mac[6], struct rt_ctx *ctx)
{
	struct client *cl = calloc(1, sizeof(*cl));
	char err[256];
	uint64_t seed = 0;
	int fd, r;

	if (!cl)
		return NULL;
	cl->op = o;
	if ((fd = dhcp4sock_open(l->index, err, sizeof(err))) < 0 ||
	    (r = netclient_start(&cl->nc, o->loop, o->self, l, link, fd, on_packet, on_timer, cl)) < 0) {
		rt_fail(ctx, "dhcp4 %s: %s", link, fd < 0 ? err : strerror(-r));
		free(cl);
		return NULL;
	}
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = mono_ns() ^ ((uint64_t)l->index << 32);
	dhcp4_init(&cl->c, mac, NULL, seed, mono_ms());
	netclient_arm(&cl->nc, cl->c.next_ms);
	log_info("dhcp4 %s: discovering", link);
	return cl;
}

static struct client *find(struct dhcp4_op *o, const char *link)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->cl[i]->nc.link, link) == 0)
			return o->cl[i];
	return NULL;
}

/* The link wants DHCP: its client kept, or started (again, when the link was replaced). */
static void want(struct dhcp4_op *o, struct rt_ctx *ctx, const char *link, unsigned metric)
{
	const Basalt__Network__LinkStatus *l = res_spec(rt_get(ctx, RES(LINK_STATUS), link), RES(LINK_STATUS));
	struct client *cl = find(o, link);
	uint8_t mac[6];

	if (cl && (!l || l->index != cl->nc.index)) {
		cl->nc.wanted = false;  /* gone or replaced: dropped below, a new one next run */
		rt_kick(o->self);
		return;
	}
	if (cl) {
		cl->nc.wanted = true;
		cl->metric = metric;
		return;
	}
	/* Not there or not up yet (its LinkStatus changing runs this again), or not Ethernet. */
	if (!l || !netclient_link_ready(l) || !parse_hwaddr(l->hardwareaddr, mac) || o->n == CLIENTS_MAX)
		return;
	if ((cl = client_new(o, l, link, mac, ctx))) {
		cl->nc.wanted = true;
		cl->metric = metric;
		o->cl[o->n++] = cl;
	}
}

struct pass {
	struct dhcp4_op *o;
	struct rt_ctx *ctx;
};

/* With nothing configured: every Ethernet link with a carrier. */
static int default_link(void *arg, const struct res *r)
{
	struct pass *d = arg;
	const Basalt__Network__LinkStatus *l = res_spec(r, RES(LINK_STATUS));

	if (l && strcmp(l->type, "ether") == 0 && !l->kind[0] && strcmp(l->operationalstate, "up") == 0)
		want(d->o, d->ctx, r->id, 1024);
	return 0;
}

/* The lease's DNS servers and search domains (option 119, else its domain), NTP servers, and host name. */
static int lease_servers(struct rt_ctx *ctx, const struct client *cl)
{
	const struct dhcp4_lease *l = &cl->c.lease;
	char buf[DHCP4_DNS_MAX + DHCP4_NTP_MAX][INET_ADDRSTRLEN];
	const char *dns[DHCP4_DNS_MAX], *ntp[DHCP4_NTP_MAX], *search[DHCP4_SEARCH_MAX];
	size_t nsearch = 0;
	int r;

	for (unsigned i = 0; i < l->ndns; i++)
		dns[i] = ip4(l->dns[i], buf[i]);
	for (unsigned i = 0; i < l->nntp; i++)
		ntp[i] = ip4(l->ntp[i], buf[DHCP4_DNS_MAX + i]);
	for (unsigned i = 0; i < l->nsearch; i++)
		search[nsearch++] = l->search[i];
	if (!nsearch && l->domain[0])
		search[nsearch++] = l->domain;
	if ((r = netspec_resolvers(ctx, LAYER, cl->nc.link, dns, l->ndns, search, nsearch)) < 0 ||
	    (l->hostname[0] && (r = netspec_hostname(ctx, LAYER, cl->nc.link, l->hostname, l->domain)) < 0))
		return r;
	return netspec_timeservers(ctx, LAYER, cl->nc.link, ntp, l->nntp);
}

static int operator_link(void *arg, const struct res *r)
{
	struct pass *d = arg;
	const Basalt__Network__OperatorSpec *s = res_spec(r, RES(OPERATOR_SPEC));

	if (s && strcmp(s->operator_, "dhcp4") == 0)
		want(d->o, d->ctx, s->linkname, s->routemetric ? s->routemetric : 1024);
	return 0;
}

static int write_lease(struct rt_ctx *ctx, const struct client *cl)
{
	const struct dhcp4_lease *l = &cl->c.lease;
	char a[INET_ADDRSTRLEN], cidr[INET_ADDRSTRLEN + 4], dst[INET_ADDRSTRLEN + 4], gw[INET_ADDRSTRLEN];
	unsigned prefix = l->prefix;
	int r;

	if (!prefix)  /* no subnet mask: the address's class (RFC 2132 3.3 leaves it to the client) */
		prefix = l->addr[0] < 128 ? 8 : l->addr[0] < 192 ? 16 : 24;
	snprintf(cidr, sizeof(cidr), "%s/%u", ip4(l->addr, a), prefix);
	if ((r = netspec_link(ctx, LAYER, cl->nc.link, l->mtu)) < 0 || (r = netspec_address(ctx, LAYER, cl->nc.link, cidr)) < 0)
		return r;
	for (unsigned i = 0; i < l->nroutes; i++) {
		const struct dhcp4_route *rt = &l->routes[i];
		bool onlink = !(rt->gw[0] | rt->gw[1] | rt->gw[2] | rt->gw[3]);

		dst[0] = '\0';
		if (rt->prefix)
			snprintf(dst, sizeof(dst), "%s/%u", ip4(rt->dst, a), rt->prefix);
		if ((r = netspec_route(ctx, LAYER, cl->nc.link, dst, onlink ? "" : ip4(rt->gw, gw), cl->metric)) < 0)
			return r;
	}
	return lease_servers(ctx, cl);
}

static int write_status(struct rt_ctx *ctx, struct client *cl)
{
	const struct dhcp4_lease *l = &cl->c.lease;
	char a[INET_ADDRSTRLEN], cidr[INET_ADDRSTRLEN + 4] = "", server[INET_ADDRSTRLEN] = "";

	if (cl->c.has_lease) {
		snprintf(cidr, sizeof(cidr), "%s/%u", ip4(l->addr, a), l->prefix);
		ip4(l->server, server);
	}
	return netclient_status(ctx, &cl->nc, "dhcp4", (int)cl->c.state, dhcp4_state_name(cl->c.state), cidr, server,
				cl->c.has_lease ? l->lease_s : 0);
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct dhcp4_op *o = arg;
	const Basalt__Config__Config *cfg = res_spec(rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1"), RES(MACHINE_CONFIG));
	const Basalt__Config__Network *net = cfg && cfg->machine ? cfg->machine->network : NULL;
	int r = 0;

	for (size_t i = 0; i < o->n; i++)
		o->cl[i]->nc.wanted = false;
	if ((r = netspec_refuse(ctx, o->refused, RES(OPERATOR_SPEC))) < 0)
		return r;
	if (net && net->n_interfaces) {
		struct pass d = { o, ctx };

		rt_list(ctx, RES(OPERATOR_SPEC), operator_link, &d);
	} else if (o->machine && !o->cmdline) {
		struct pass d = { o, ctx };

		rt_list(ctx, RES(LINK_STATUS), default_link, &d);
	}
	for (size_t i = o->n; i-- > 0;) {
		struct client *cl = o->cl[i];
		struct dhcp4_action a;

		if (cl->nc.wanted) {
			if ((cl->c.has_lease && (r = write_lease(ctx, cl)) < 0) || (r = write_status(ctx, cl)) < 0)
				return r;
			continue;
		}
		dhcp4_release(&cl->c, &a);
		a.event = DHCP4_EV_NONE;  /* this run writes no spec for it */
		act(cl, &a);
		log_info("dhcp4 %s: stopped", cl->nc.link);
		client_free(cl);
		o->cl[i] = o->cl[--o->n];
	}
	return 0;
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &op;
}

static int start(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct dhcp4_op *o = st;

	o->loop = env->loop;
	o->self = self;
	o->machine = env->machine;
	o->cmdline = env->cmdline_ip && env->cmdline_ip[0];
	o->refused = env->net_refused;
	return 0;
}

/* machined is ending: every lease is given back. */
static void fini(void *st)
{
	struct dhcp4_op *o = st;

	for (size_t i = 0; i < o->n; i++) {
		struct dhcp4_action a;

		dhcp4_release(&o->cl[i]->c, &a);
		a.event = DHCP4_EV_NONE;
		act(o->cl[i], &a);
		client_free(o->cl[i]);
	}
	memset(o, 0, sizeof(*o));
}

const struct ctrl_def ctrl_dhcp4 = {
	.rt = { .name = "DHCP4Controller", .inputs = inputs, .ninputs = 3, .outputs = outputs, .noutputs = 7,
		.reconcile = reconcile },
	.shared = state,
	.init = start,
	.fini = fini,
	.touches_machine = true,
};
