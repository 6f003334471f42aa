/* SPDX-License-Identifier: MIT */
/*
 * DHCP6Controller: the DHCPv6 layer of the network specs, stateful addresses (SLAAC is the
 * kernel's). One client (netctl/dhcp6.c, on a socket of netctl/dhcp6sock.c) per link of a
 * dhcp6 OperatorSpec (the config's `dhcp: true` with `dhcpOptions.ipv6: true`), started
 * once the link is up. A lease becomes the link's address (a /128, as the prefix is the
 * router advertisements') and its DNS servers and domains under the layer "dhcp6"; a lost
 * lease takes them away; a link that no longer wants DHCPv6 has its lease released.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/network.pb-c.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netclient.h"
#include "machined/ctrl/netspec.h"
#include "netctl/dhcp6.h"
#include "netctl/dhcp6sock.h"

#define LAYER "dhcp6"
#define CLIENTS_MAX 32

static const struct rt_input inputs[] = { { RES(LINK_STATUS), RT_WEAK }, { RES(OPERATOR_SPEC), RT_WEAK } };
static const struct rt_output outputs[] = {
	{ RES(ADDRESS_SPEC), RT_SHARED }, { RES(RESOLVER_SPEC), RT_SHARED }, { RES(OPERATOR_STATUS), RT_SHARED },
};

struct dhcp6_op;

struct client6 {
	struct netclient nc;    /* link, socket, timer, wanted */
	struct dhcp6_op *op;
	struct dhcp6_client c;
};

struct dhcp6_op {
	struct loop *loop;
	struct rt_ctrl *self;
	const char *refused;
	struct client6 *cl[CLIENTS_MAX];
	size_t n;
};

static struct dhcp6_op op6;

static void act(struct client6 *cl, const struct dhcp6_action *a)
{
	uint8_t msg[DHCP6_MSG_MAX];
	char err[256], ip[INET6_ADDRSTRLEN];
	size_t n;

	if (a->send && (n = dhcp6_build(msg, sizeof(msg), &a->req)) &&
	    dhcp6sock_send(cl->nc.fd, cl->nc.index, msg, n, err, sizeof(err)) < 0)
		log_debug("dhcp6 %s: %s", cl->nc.link, err);  /* no link-local address yet: the next retransmission */
	if (a->event == DHCP6_EV_BOUND)
		log_info("dhcp6 %s: bound %s, valid %u s", cl->nc.link,
			 inet_ntop(AF_INET6, cl->c.lease.addr, ip, sizeof(ip)), cl->c.lease.valid_s);
	else if (a->event == DHCP6_EV_LOST)
		log_warnx("dhcp6 %s: lease lost (expired or refused), soliciting again", cl->nc.link);
	if (a->event != DHCP6_EV_NONE)
		rt_kick(cl->op->self);
	netclient_state(&cl->nc, (int)cl->c.state);
	netclient_arm(&cl->nc, cl->c.next_ms);
}

static void on_timer(void *arg)
{
	struct client6 *cl = arg;
	struct dhcp6_action a;

	dhcp6_tick(&cl->c, mono_ms(), &a);
	act(cl, &a);
}

static void on_packet(void *arg, uint32_t events)
{
	struct client6 *cl = arg;
	uint8_t buf[DHCP6_MSG_MAX];
	struct dhcp6_reply r;
	struct dhcp6_action a;
	char err[128];
	ssize_t n;

	(void)events;
	while ((n = recv(cl->nc.fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0 || errno == EINTR) {
		if (n < 0)
			continue;
		if (dhcp6_parse(buf, (size_t)n, &r, err, sizeof(err)) < 0) {
			netclient_drop(&cl->nc);
			continue;
		}
		dhcp6_input(&cl->c, &r, mono_ms(), &a);
		act(cl, &a);
	}
}

static void client_free(struct client6 *cl)
{
	if (!cl)
		return;
	netclient_stop(&cl->nc);
	free(cl);
}

static struct client6 *find(struct dhcp6_op *o, const char *link)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->cl[i]->nc.link, link) == 0)
			return o->cl[i];
	return NULL;
}

static void want(struct dhcp6_op *o, struct rt_ctx *ctx, const char *link)
{
	const Basalt__Network__LinkStatus *l = res_spec(rt_get(ctx, RES(LINK_STATUS), link), RES(LINK_STATUS));
	struct client6 *cl = find(o, link);
	uint8_t mac[6];
	uint64_t seed = 0;
	char err[256];
	int fd, r;

	if (cl && (!l || l->index != cl->nc.index)) {
		rt_kick(o->self);  /* gone or replaced: dropped below, a new one next run */
		return;
	}
	if (cl) {
		cl->nc.wanted = true;
		return;
	}
	/* Not there or not up yet (its LinkStatus changing runs this again), or not Ethernet. */
	if (!l || o->n == CLIENTS_MAX || !netclient_link_ready(l) || !parse_hwaddr(l->hardwareaddr, mac))
		return;
	if (!(cl = calloc(1, sizeof(*cl))))
		return;
	cl->op = o;
	if ((fd = dhcp6sock_open(link, l->index, err, sizeof(err))) < 0 ||
	    (r = netclient_start(&cl->nc, o->loop, o->self, l, link, fd, on_packet, on_timer, cl)) < 0) {
		rt_fail(ctx, "dhcp6 %s: %s", link, fd < 0 ? err : strerror(-r));
		free(cl);
		return;
	}
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = mono_ns() ^ l->index;
	dhcp6_init(&cl->c, mac, l->index, seed, mono_ms());
	netclient_arm(&cl->nc, cl->c.next_ms);
	log_info("dhcp6 %s: soliciting", link);
	cl->nc.wanted = true;
	o->cl[o->n++] = cl;
}

struct pass {
	struct dhcp6_op *o;
	struct rt_ctx *ctx;
};

static int operator_link(void *arg, const struct res *r)
{
	struct pass *p = arg;
	const Basalt__Network__OperatorSpec *s = res_spec(r, RES(OPERATOR_SPEC));

	if (s && strcmp(s->operator_, "dhcp6") == 0)
		want(p->o, p->ctx, s->linkname);
	return 0;
}

static int write_lease(struct rt_ctx *ctx, const struct client6 *cl)
{
	const struct dhcp6_lease *l = &cl->c.lease;
	char ip[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 5], dnsb[DHCP6_DNS_MAX][INET6_ADDRSTRLEN];
	const char *dns[DHCP6_DNS_MAX], *search[DHCP6_SEARCH_MAX];
	int r;

	snprintf(cidr, sizeof(cidr), "%s/128", inet_ntop(AF_INET6, l->addr, ip, sizeof(ip)));
	if ((r = netspec_address(ctx, LAYER, cl->nc.link, cidr)) < 0)
		return r;
	for (unsigned i = 0; i < l->ndns; i++)
		dns[i] = inet_ntop(AF_INET6, l->dns[i], dnsb[i], sizeof(dnsb[i]));
	for (unsigned i = 0; i < l->nsearch; i++)
		search[i] = l->search[i];
	return netspec_resolvers(ctx, LAYER, cl->nc.link, dns, l->ndns, search, l->nsearch);
}

/* The server named by its DUID, in hex. */
static int write_status(struct rt_ctx *ctx, struct client6 *cl)
{
	const struct dhcp6_lease *l = &cl->c.lease;
	char ip[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 5] = "", server[2 * DHCP6_DUID_MAX + 1] = "";

	if (cl->c.has_lease) {
		snprintf(cidr, sizeof(cidr), "%s/128", inet_ntop(AF_INET6, l->addr, ip, sizeof(ip)));
		for (size_t i = 0; i < l->server_id_len && i < DHCP6_DUID_MAX; i++)
			snprintf(server + 2 * i, 3, "%02x", l->server_id[i]);
	}
	return netclient_status(ctx, &cl->nc, "dhcp6", (int)cl->c.state, dhcp6_state_name(cl->c.state), cidr, server,
				cl->c.has_lease ? l->valid_s : 0);
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct dhcp6_op *o = arg;
	struct pass p = { o, ctx };
	int r;

	if ((r = netspec_refuse(ctx, o->refused, RES(OPERATOR_SPEC))) < 0)
		return r;
	for (size_t i = 0; i < o->n; i++)
		o->cl[i]->nc.wanted = false;
	rt_list(ctx, RES(OPERATOR_SPEC), operator_link, &p);
	for (size_t i = o->n; i-- > 0;) {
		struct client6 *cl = o->cl[i];
		struct dhcp6_action a;

		if (cl->nc.wanted) {
			if ((cl->c.has_lease && (r = write_lease(ctx, cl)) < 0) || (r = write_status(ctx, cl)) < 0)
				return r;
			continue;
		}
		dhcp6_release(&cl->c, &a);
		a.event = DHCP6_EV_NONE;
		act(cl, &a);
		log_info("dhcp6 %s: stopped", cl->nc.link);
		client_free(cl);
		o->cl[i] = o->cl[--o->n];
	}
	return 0;
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &op6;
}

static int start(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct dhcp6_op *o = st;

	o->loop = env->loop;
	o->self = self;
	o->refused = env->net_refused;
	return 0;
}

static void fini(void *st)
{
	struct dhcp6_op *o = st;

	for (size_t i = 0; i < o->n; i++) {
		struct dhcp6_action a;

		dhcp6_release(&o->cl[i]->c, &a);
		a.event = DHCP6_EV_NONE;
		act(o->cl[i], &a);
		client_free(o->cl[i]);
	}
	memset(o, 0, sizeof(*o));
}

const struct ctrl_def ctrl_dhcp6 = {
	.rt = { .name = "DHCP6Controller", .inputs = inputs, .ninputs = 2, .outputs = outputs, .noutputs = 3,
		.reconcile = reconcile },
	.shared = state,
	.init = start,
	.fini = fini,
	.touches_machine = true,
};
