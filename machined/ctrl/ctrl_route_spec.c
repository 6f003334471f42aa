/* SPDX-License-Identifier: MIT */
/*
 * RouteSpecController: adds the routes of network/RouteSpec once their link is there (a
 * gateway needs the link's address first: AddressStatus changes run it again), puts back
 * those network/RouteStatus lacks (deleted by hand, or with their address), and deletes
 * the routes it added once no spec wants them. Routes it did not add are never touched.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "lib/parse.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"
#include "machined/ctrl/netstatus.h"
#include "netctl/rtnl.h"

#define ROUTES_MAX 8192  /* routes it keeps track of; the list grows to this */

static const struct rt_input inputs[] = {
	{ RES(ROUTE_SPEC), RT_WEAK },
	{ RES(LINK_STATUS), RT_WEAK },
	{ RES(ADDRESS_STATUS), RT_WEAK },
	{ RES(ROUTE_STATUS), RT_WEAK },
};

/* The routes this controller added, as it sent them (with their link's index then). */
struct applied {
	struct applied_one {
		struct rtnl_route r;
		bool wanted;            /* by a spec, this run */
	} *e;
	size_t n, cap;
	const char *refused;        /* ctrl_env's net_refused */
};

static struct applied applied;

struct pass {
	struct rt_ctx *ctx;
	struct applied *a;
	int r;
};

/* The route s asks for through link oif (zeroed first, so two equal asks compare equal). */
static int parse_route(const Basalt__Network__RouteSpec *s, unsigned oif, struct rtnl_route *r)
{
	struct ipaddr dst = { 0 }, gw = { 0 };
	int family = strcmp(s->family, "inet6") == 0 ? AF_INET6 : AF_INET;

	memset(r, 0, sizeof(*r));
	if ((s->destination[0] && (!parse_cidr(s->destination, &dst, &r->dst_len) || dst.family != family)) ||
	    (s->gateway[0] && (!parse_ip(s->gateway, &gw) || gw.family != family)))
		return -1;
	r->family = family;
	r->oif = oif;
	r->metric = s->metric;
	r->scope = s->gateway[0] ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	memcpy(r->dst, dst.addr, sizeof(r->dst));
	memcpy(r->gw, gw.addr, sizeof(r->gw));
	r->has_gw = s->gateway[0] != '\0';
	return 0;
}

/* RouteStatus has the route (the kernel stores IPv6 routes without a metric at 1024). */
static bool in_kernel(struct rt_ctx *ctx, const struct rtnl_route *r, const char *link)
{
	struct rtnl_route k = *r;
	char id[256];

	if (!k.metric && k.family == AF_INET6)
		k.metric = 1024;
	netstatus_route_id(&k, link, id, sizeof(id));
	return rt_get(ctx, RES(ROUTE_STATUS), id) != NULL;
}

static int apply_one(void *arg, const struct res *res)
{
	struct pass *p = arg;
	const Basalt__Network__RouteSpec *s = res_spec(res, RES(ROUTE_SPEC));
	const Basalt__Network__LinkStatus *l;
	struct rtnl_route rt;
	char err[256];
	size_t i;

	if (!s || !(l = res_spec(rt_get(p->ctx, RES(LINK_STATUS), s->linkname), RES(LINK_STATUS))))
		return 0;
	if (parse_route(s, l->index, &rt) < 0) {
		p->r = rt_fail(p->ctx, "%s: not a route (destination %s, gateway %s)", res->id, s->destination, s->gateway);
		return 0;
	}
	for (i = 0; i < p->a->n && memcmp(&p->a->e[i].r, &rt, sizeof(rt)) != 0; i++)
		;
	if (i < p->a->n) {
		p->a->e[i].wanted = true;
		if (in_kernel(p->ctx, &rt, s->linkname))
			return 0;  /* added before, unchanged (or a second spec for the same route) */
	}
	if (rtnl_route_change(true, &rt, err, sizeof(err)) < 0) {
		p->r = rt_fail(p->ctx, "%s", err);
		return 0;
	}
	if (i == p->a->n && p->a->n == p->a->cap && p->a->cap < ROUTES_MAX) {
		size_t cap = p->a->cap ? 2 * p->a->cap : 64;
		struct applied_one *e = realloc(p->a->e, cap * sizeof(*e));

		if (e) {
			p->a->e = e;
			p->a->cap = cap;
		}
	}
	if (i == p->a->n && p->a->n < p->a->cap) {
		p->a->e[p->a->n].r = rt;
		p->a->e[p->a->n++].wanted = true;
	}
	return 0;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct applied *a = arg;
	struct pass p = { ctx, a, 0 };
	char err[256];

	if ((p.r = netspec_refuse(ctx, a->refused, RES(ROUTE_SPEC))) < 0)
		return p.r;
	for (size_t i = 0; i < a->n; i++)
		a->e[i].wanted = false;
	rt_list(ctx, RES(ROUTE_SPEC), apply_one, &p);
	/* Ours and no longer wanted: deleted (already gone with its link or address is fine). */
	for (size_t i = a->n; i-- > 0;) {
		int r;

		if (a->e[i].wanted)
			continue;
		r = rtnl_route_change(false, &a->e[i].r, err, sizeof(err));
		if (r < 0 && r != -ESRCH)
			p.r = rt_fail(ctx, "%s", err);
		a->e[i] = a->e[--a->n];
	}
	return p.r;
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &applied;
}

static void fini(void *st)
{
	struct applied *a = st;

	free(a->e);
	memset(a, 0, sizeof(*a));
}

static int start(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	(void)self;
	((struct applied *)st)->refused = env->net_refused;
	return 0;
}

const struct ctrl_def ctrl_route_spec = {
	.rt = { .name = "RouteSpecController", .inputs = inputs, .ninputs = 4, .reconcile = reconcile },
	.shared = state,
	.init = start,
	.fini = fini,
	.touches_machine = true,
};
