/* SPDX-License-Identifier: MIT */
/*
 * RouteSpecController: adds the routes of network/RouteSpec once their link is there (a
 * gateway needs the link's address first: AddressStatus changes run it again), and
 * deletes the routes it added once no spec wants them. Routes it did not add are never
 * touched. (Until RouteStatus exists, a route deleted by hand comes back only when the
 * specs or the link's addresses change.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "machined/ctrl/controllers.h"
#include "netctl/rtnl.h"

#define ROUTES_MAX 256

static const struct rt_input inputs[] = {
	{ RES(ROUTE_SPEC), RT_WEAK }, { RES(LINK_STATUS), RT_WEAK }, { RES(ADDRESS_STATUS), RT_WEAK },
};

struct applied {
	struct rtnl_route r[ROUTES_MAX];
	char key[ROUTES_MAX][160];      /* what the spec said, with the link's index */
	bool wanted[ROUTES_MAX];
	size_t n;
};

static struct applied applied;

struct pass {
	struct rt_ctx *ctx;
	struct applied *a;
	int r;
};

static int parse_route(const Basalt__Network__RouteSpec *s, unsigned oif, struct rtnl_route *r)
{
	char ip[64];
	const char *slash;

	memset(r, 0, sizeof(*r));
	r->family = strcmp(s->family, "inet6") == 0 ? AF_INET6 : AF_INET;
	r->oif = oif;
	r->metric = s->metric;
	r->scope = s->gateway[0] ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	if (s->destination[0]) {
		if (!(slash = strchr(s->destination, '/')) || (size_t)(slash - s->destination) >= sizeof(ip))
			return -1;
		memcpy(ip, s->destination, (size_t)(slash - s->destination));
		ip[slash - s->destination] = '\0';
		if (inet_pton(r->family, ip, r->dst) != 1)
			return -1;
		r->dst_len = (unsigned)atoi(slash + 1);
	}
	if (s->gateway[0]) {
		if (inet_pton(r->family, s->gateway, r->gw) != 1)
			return -1;
		r->has_gw = true;
	}
	return 0;
}

static int apply_one(void *arg, const struct res *res)
{
	struct pass *p = arg;
	const Basalt__Network__RouteSpec *s = res_spec(res, RES(ROUTE_SPEC));
	const Basalt__Network__LinkStatus *l;
	struct rtnl_route rt;
	char key[160], err[256];
	size_t i;

	if (!s || !(l = res_spec(rt_get(p->ctx, RES(LINK_STATUS), s->linkname), RES(LINK_STATUS))))
		return 0;
	if (parse_route(s, l->index, &rt) < 0) {
		p->r = rt_fail(p->ctx, "%s: not a route (destination %s, gateway %s)", res->id, s->destination, s->gateway);
		return 0;
	}
	snprintf(key, sizeof(key), "%s %s %u %u %s", s->destination, s->gateway, l->index, s->metric, s->family);
	for (i = 0; i < p->a->n && strcmp(p->a->key[i], key) != 0; i++)
		;
	if (i < p->a->n && p->a->wanted[i])
		return 0;  /* two specs, one route */
	if (i < p->a->n) {
		p->a->wanted[i] = true;
		return 0;  /* added before, unchanged */
	}
	if (rtnl_route_change(true, &rt, err, sizeof(err)) < 0) {
		p->r = rt_fail(p->ctx, "%s", err);
		return 0;
	}
	if (p->a->n < ROUTES_MAX) {
		p->a->r[p->a->n] = rt;
		snprintf(p->a->key[p->a->n], sizeof(p->a->key[0]), "%s", key);
		p->a->wanted[p->a->n++] = true;
	}
	return 0;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct applied *a = arg;
	struct pass p = { ctx, a, 0 };
	char err[256];

	memset(a->wanted, 0, sizeof(a->wanted));
	rt_list(ctx, RES(ROUTE_SPEC), apply_one, &p);
	for (size_t i = 0; i < a->n;) {
		if (a->wanted[i]) {
			i++;
			continue;
		}
		if (rtnl_route_change(false, &a->r[i], err, sizeof(err)) < 0 && !strstr(err, "No such process"))
			p.r = rt_fail(ctx, "%s", err);
		memmove(&a->r[i], &a->r[i + 1], (a->n - i - 1) * sizeof(a->r[0]));
		memmove(a->key[i], a->key[i + 1], (a->n - i - 1) * sizeof(a->key[0]));
		memmove(&a->wanted[i], &a->wanted[i + 1], (a->n - i - 1) * sizeof(a->wanted[0]));
		a->n--;
	}
	return p.r;
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &applied;
}

const struct ctrl_def ctrl_route_spec = {
	.rt = { .name = "RouteSpecController", .inputs = inputs, .ninputs = 3, .reconcile = reconcile },
	.shared = state,
	.touches_machine = true,
};
