/* SPDX-License-Identifier: MIT */
/*
 * RouteSpecController: adds the routes of network/RouteSpec once their link is there (a
 * gateway needs the link's address first: AddressStatus changes run it again), puts back
 * those network/RouteStatus lacks (deleted by hand, or with their address), and deletes
 * the routes it added once no spec wants them. Routes it did not add are never touched.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "lib/keyset.h"
#include "lib/parse.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"
#include "machined/ctrl/netstatus.h"
#include "netctl/rtnl.h"

#define ROUTES_MAX 8192  /* routes it keeps track of; the set grows to this */

static const struct rt_input inputs[] = {
	{ RES(ROUTE_SPEC), RT_WEAK },
	{ RES(LINK_STATUS), RT_WEAK },
	{ RES(ADDRESS_STATUS), RT_WEAK },
	{ RES(ROUTE_STATUS), RT_WEAK },
};

/* One route this controller added, as it sent it (with its link's index then). */
struct applied_one {
	struct rtnl_route r;        /* the key: zeroed before it was filled */
	bool wanted;                /* by a spec, this run */
	bool fresh, failed;         /* new this run; its add refused */
};

struct applied {
	struct keyset set;          /* of struct applied_one */
	struct nlbatch batch;       /* this run's requests, sent together */
	const char *refused;        /* ctrl_env's net_refused */
	struct rt_ctx *ctx;         /* the run in progress, for the batch's errors */
	int r;
};

static struct applied applied;

#define DELETE_TAG SIZE_MAX           /* a delete's: already gone (with its link or address) is fine */
#define UNTRACKED_TAG (SIZE_MAX - 1)  /* an add the full set could not track */

static void on_error(void *arg, size_t tag, int error, const char *err)
{
	struct applied *a = arg;

	if (tag == DELETE_TAG && error == -ESRCH)
		return;
	if (tag < a->set.n)
		((struct applied_one *)keyset_at(&a->set, tag))->failed = true;
	/* Its link is down (not up yet): the link coming up runs this again. */
	if (tag != DELETE_TAG && error == -ENETDOWN)
		return;
	a->r = rt_fail(a->ctx, "%s", err);
}

static void request(struct applied *a, bool add, const struct rtnl_route *r, size_t tag)
{
	struct nlreq q;
	char what[RTNL_WHAT_MAX];

	if (rtnl_route_req(&q, add, r, what, sizeof(what)) < 0)
		a->r = rt_fail(a->ctx, "%s", what);
	else
		nlbatch_add(&a->batch, &q, what, tag);
}

/* The route s asks for through link oif (zeroed first, so two equal asks compare equal). */
static int parse_route(const Basalt__Network__RouteSpec *s, unsigned oif, struct rtnl_route *r)
{
	struct ipaddr dst = { 0 }, gw = { 0 }, src = { 0 };
	int family = strcmp(s->family, "inet6") == 0 ? AF_INET6 : AF_INET;

	memset(r, 0, sizeof(*r));
	if ((s->destination[0] && (!parse_cidr(s->destination, &dst, &r->dst_len) || dst.family != family)) ||
	    (s->gateway[0] && (!parse_ip(s->gateway, &gw) || gw.family != family)) ||
	    (s->source[0] && (!parse_ip(s->source, &src) || src.family != family)))
		return -1;
	memcpy(r->src, src.addr, sizeof(r->src));
	r->has_src = s->source[0] != '\0';
	r->mtu = s->mtu;
	r->onlink = s->onlink && s->gateway[0];
	r->family = family;
	r->oif = oif;
	r->metric = s->metric;
	r->scope = s->gateway[0] ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	memcpy(r->dst, dst.addr, sizeof(r->dst));
	memcpy(r->gw, gw.addr, sizeof(r->gw));
	r->has_gw = s->gateway[0] != '\0';
	return 0;
}

/*
 * Two routes the kernel keeps in one place (destination, table, metric, link): an add of the
 * one (NLM_F_REPLACE) replaced the other, so deleting the other would delete it.
 */
static bool same_slot(const struct rtnl_route *a, const struct rtnl_route *b)
{
	return a->family == b->family && a->dst_len == b->dst_len && !memcmp(a->dst, b->dst, sizeof(a->dst)) &&
	       a->table == b->table && a->metric == b->metric && a->oif == b->oif;
}

static bool slot_wanted(const struct applied *a, const struct rtnl_route *r)
{
	for (size_t i = 0; i < a->set.n; i++) {
		const struct applied_one *e = keyset_at(&a->set, i);

		if (e->wanted && !(e->fresh && e->failed) && same_slot(&e->r, r))
			return true;
	}
	return false;
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
	struct applied *a = arg;
	const Basalt__Network__RouteSpec *s = res_spec(res, RES(ROUTE_SPEC));
	const Basalt__Network__LinkStatus *l;
	struct applied_one *e;
	struct rtnl_route rt;

	if (!s || !(l = res_spec(rt_get(a->ctx, RES(LINK_STATUS), s->linkname), RES(LINK_STATUS))))
		return 0;
	if (parse_route(s, l->index, &rt) < 0) {
		a->r = rt_fail(a->ctx, "%s: not a route (destination %s, gateway %s)", res->id, s->destination,
			       s->gateway);
		return 0;
	}
	if ((e = keyset_find(&a->set, &rt))) {
		bool again = e->wanted;  /* a second spec for the same route */

		e->wanted = true;
		if (again || in_kernel(a->ctx, &rt, s->linkname))
			return 0;  /* added before, unchanged */
	} else if ((e = keyset_add(&a->set, &rt))) {
		e->wanted = e->fresh = true;
	}
	/* Tracked as far as there is room; the tag finds the entry again if the add fails. */
	request(a, true, &rt, e ? (size_t)((unsigned char *)e - a->set.e) / a->set.esize : UNTRACKED_TAG);
	return 0;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct applied *a = arg;

	a->ctx = ctx;
	if ((a->r = netspec_refuse(ctx, a->refused, RES(ROUTE_SPEC))) < 0)
		return a->r;
	for (size_t i = 0; i < a->set.n; i++) {
		struct applied_one *e = keyset_at(&a->set, i);

		e->wanted = e->fresh = e->failed = false;
	}
	rt_list(ctx, RES(ROUTE_SPEC), apply_one, a);
	nlbatch_flush(&a->batch);
	/* Ours and no longer wanted: deleted. A new one the kernel refused was never ours. */
	for (size_t i = a->set.n; i-- > 0;) {
		const struct applied_one *e = keyset_at(&a->set, i);

		/* One whose source, MTU or on-link flag changed was replaced by its successor's add. */
		if (!e->wanted && !slot_wanted(a, &e->r))
			request(a, false, &e->r, DELETE_TAG);
		if (!e->wanted || (e->fresh && e->failed))
			keyset_del_at(&a->set, i);
	}
	nlbatch_flush(&a->batch);
	return a->r;
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &applied;
}

static void fini(void *st)
{
	keyset_fini(&((struct applied *)st)->set);
}

static int start(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct applied *a = st;

	(void)self;
	keyset_init(&a->set, sizeof(struct applied_one), sizeof(struct rtnl_route), ROUTES_MAX);
	nlbatch_init(&a->batch, on_error, a);
	a->refused = env->net_refused;
	return 0;
}

const struct ctrl_def ctrl_route_spec = {
	.rt = { .name = "RouteSpecController", .inputs = inputs, .ninputs = 4, .reconcile = reconcile },
	.shared = state,
	.init = start,
	.fini = fini,
	.touches_machine = true,
};
