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
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/network.pb-c.h"
#include "lib/log.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"
#include "netctl/dhcp6.h"
#include "netctl/dhcp6sock.h"

#define LAYER "dhcp6"
#define CLIENTS_MAX 32

static const struct rt_input inputs[] = { { RES(LINK_STATUS), RT_WEAK }, { RES(OPERATOR_SPEC), RT_WEAK } };
static const struct rt_output outputs[] = { { RES(ADDRESS_SPEC), RT_SHARED }, { RES(RESOLVER_SPEC), RT_SHARED } };

struct dhcp6_op;

struct client6 {
	struct dhcp6_op *op;
	char link[IFNAMSIZ];
	unsigned index;
	int fd;
	struct loop_watch *w;
	struct loop_timer timer;
	struct dhcp6_client c;
	bool wanted;
};

struct dhcp6_op {
	struct loop *loop;
	struct rt_ctrl *self;
	const char *refused;
	struct client6 *cl[CLIENTS_MAX];
	size_t n;
};

static struct dhcp6_op op6;

static void arm(struct client6 *cl)
{
	uint64_t now = mono_ms();

	loop_timer_cancel(cl->op->loop, &cl->timer);
	if (cl->c.next_ms != UINT64_MAX)
		loop_timer_arm(cl->op->loop, &cl->timer, cl->c.next_ms > now ? cl->c.next_ms - now : 0);
}

static void act(struct client6 *cl, const struct dhcp6_action *a)
{
	uint8_t msg[DHCP6_MSG_MAX];
	char err[256], ip[INET6_ADDRSTRLEN];
	size_t n;

	if (a->send && (n = dhcp6_build(msg, sizeof(msg), &a->req)) &&
	    dhcp6sock_send(cl->fd, cl->index, msg, n, err, sizeof(err)) < 0)
		log_debug("dhcp6 %s: %s", cl->link, err);  /* no link-local address yet: the next retransmission */
	if (a->event == DHCP6_EV_BOUND)
		log_info("dhcp6 %s: bound %s, valid %u s", cl->link,
			 inet_ntop(AF_INET6, cl->c.lease.addr, ip, sizeof(ip)), cl->c.lease.valid_s);
	else if (a->event == DHCP6_EV_LOST)
		log_warnx("dhcp6 %s: lease lost (expired or refused), soliciting again", cl->link);
	if (a->event != DHCP6_EV_NONE)
		rt_kick(cl->op->self);
	arm(cl);
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
	while ((n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0 || errno == EINTR) {
		if (n < 0 || dhcp6_parse(buf, (size_t)n, &r, err, sizeof(err)) < 0)
			continue;
		dhcp6_input(&cl->c, &r, mono_ms(), &a);
		act(cl, &a);
	}
}

static void client_free(struct client6 *cl)
{
	if (!cl)
		return;
	loop_timer_cancel(cl->op->loop, &cl->timer);
	if (cl->w)
		loop_watch_del(cl->op->loop, cl->w);
	if (cl->fd >= 0)
		close(cl->fd);
	free(cl);
}

static struct client6 *find(struct dhcp6_op *o, const char *link)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->cl[i]->link, link) == 0)
			return o->cl[i];
	return NULL;
}

static void want(struct dhcp6_op *o, struct rt_ctx *ctx, const char *link)
{
	const Basalt__Network__LinkStatus *l = res_spec(rt_get(ctx, RES(LINK_STATUS), link), RES(LINK_STATUS));
	struct client6 *cl = find(o, link);
	unsigned v[6];
	uint8_t mac[6];
	uint64_t seed = 0;
	char err[256];

	if (cl && (!l || l->index != cl->index)) {
		rt_kick(o->self);  /* gone or replaced: dropped below, a new one next run */
		return;
	}
	if (cl) {
		cl->wanted = true;
		return;
	}
	if (!l || o->n == CLIENTS_MAX || !l->up ||
	    (strcmp(l->operationalstate, "up") != 0 && strcmp(l->operationalstate, "unknown") != 0) ||
	    sscanf(l->hardwareaddr, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return;  /* not there or not up yet (its LinkStatus runs this again), or not Ethernet */
	if (!(cl = calloc(1, sizeof(*cl))))
		return;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	cl->op = o;
	snprintf(cl->link, sizeof(cl->link), "%s", link);
	cl->index = l->index;
	loop_timer_init(&cl->timer, on_timer, cl);
	if ((cl->fd = dhcp6sock_open(link, l->index, err, sizeof(err))) < 0 ||
	    loop_watch_add(o->loop, cl->fd, EPOLLIN, on_packet, cl, &cl->w) < 0) {
		rt_fail(ctx, "dhcp6 %s: %s", link, cl->fd < 0 ? err : strerror(errno));
		client_free(cl);
		return;
	}
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = mono_ns() ^ l->index;
	dhcp6_init(&cl->c, mac, l->index, seed, mono_ms());
	arm(cl);
	log_info("dhcp6 %s: soliciting", link);
	cl->wanted = true;
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
	if ((r = netspec_address(ctx, LAYER, cl->link, cidr)) < 0)
		return r;
	for (unsigned i = 0; i < l->ndns; i++)
		dns[i] = inet_ntop(AF_INET6, l->dns[i], dnsb[i], sizeof(dnsb[i]));
	for (unsigned i = 0; i < l->nsearch; i++)
		search[i] = l->search[i];
	return netspec_resolvers(ctx, LAYER, cl->link, dns, l->ndns, search, l->nsearch);
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct dhcp6_op *o = arg;
	struct pass p = { o, ctx };
	int r;

	if ((r = netspec_refuse(ctx, o->refused, RES(OPERATOR_SPEC))) < 0)
		return r;
	for (size_t i = 0; i < o->n; i++)
		o->cl[i]->wanted = false;
	rt_list(ctx, RES(OPERATOR_SPEC), operator_link, &p);
	for (size_t i = o->n; i-- > 0;) {
		struct client6 *cl = o->cl[i];
		struct dhcp6_action a;

		if (cl->wanted) {
			if (cl->c.has_lease && (r = write_lease(ctx, cl)) < 0)
				return r;
			continue;
		}
		dhcp6_release(&cl->c, &a);
		a.event = DHCP6_EV_NONE;
		act(cl, &a);
		log_info("dhcp6 %s: stopped", cl->link);
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
	.rt = { .name = "DHCP6Controller", .inputs = inputs, .ninputs = 2, .outputs = outputs, .noutputs = 2,
		.reconcile = reconcile },
	.shared = state,
	.init = start,
	.fini = fini,
	.touches_machine = true,
};
