/* SPDX-License-Identifier: MIT */
/*
 * AddressSpecController: puts the addresses of network/AddressSpec on their links when
 * network/AddressStatus lacks them (one deleted by hand is back on the next event), and
 * takes off the addresses it put there once no spec wants them. Addresses it did not add
 * (a CNI's, a person's) are never touched.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "lib/parse.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"
#include "netctl/rtnl.h"

#define ADDED_MAX 8192  /* addresses it keeps track of; the list grows to this */

static const struct rt_input inputs[] = {
	{ RES(ADDRESS_SPEC), RT_WEAK }, { RES(LINK_STATUS), RT_WEAK }, { RES(ADDRESS_STATUS), RT_WEAK },
};

/* What this controller added, by the AddressStatus id it has ("<link>/<cidr>"). */
struct added {
	struct added_one {
		char id[80];
		bool wanted;            /* by a spec, this run */
	} *e;
	size_t n, cap;
	const char *refused;        /* ctrl_env's net_refused */
};

static struct added added;

struct pass {
	struct rt_ctx *ctx;
	struct added *a;
	int r;
};

/* Marks id wanted, remembering it if it is new (as far as there is room). */
static void want(struct added *a, const char *id)
{
	size_t i;

	for (i = 0; i < a->n && strcmp(a->e[i].id, id) != 0; i++)
		;
	if (i == a->n && a->n == a->cap && a->cap < ADDED_MAX) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		struct added_one *e = realloc(a->e, cap * sizeof(*e));

		if (e) {
			a->e = e;
			a->cap = cap;
		}
	}
	if (i == a->n && a->n < a->cap)
		snprintf(a->e[a->n++].id, sizeof(a->e[0].id), "%s", id);
	if (i < a->n)
		a->e[i].wanted = true;
}

static int apply_one(void *arg, const struct res *r)
{
	struct pass *p = arg;
	const Basalt__Network__AddressSpec *s = res_spec(r, RES(ADDRESS_SPEC));
	const Basalt__Network__LinkStatus *l;
	struct ipaddr ip;
	unsigned prefix;
	char id[80], err[256];

	if (!s || !(l = res_spec(rt_get(p->ctx, RES(LINK_STATUS), s->linkname), RES(LINK_STATUS))))
		return 0;
	if (!parse_cidr(s->address, &ip, &prefix)) {
		p->r = rt_fail(p->ctx, "%s: %s is not an address/prefix", r->id, s->address);
		return 0;
	}
	snprintf(id, sizeof(id), "%s/%s", s->linkname, s->address);
	want(p->a, id);
	if (rt_get(p->ctx, RES(ADDRESS_STATUS), id))
		return 0;  /* the kernel has it */
	if (rtnl_addr_change(true, ip.family, l->index, ip.addr, prefix, err, sizeof(err)) < 0)
		p->r = rt_fail(p->ctx, "%s", err);
	return 0;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct added *a = arg;
	struct pass p = { ctx, a, 0 };
	char err[256];

	if ((p.r = netspec_refuse(ctx, a->refused, RES(ADDRESS_SPEC))) < 0)
		return p.r;
	for (size_t i = 0; i < a->n; i++)
		a->e[i].wanted = false;
	rt_list(ctx, RES(ADDRESS_SPEC), apply_one, &p);
	/* Ours and no longer wanted: off the link, if it is still there. */
	for (size_t i = a->n; i-- > 0;) {
		const Basalt__Network__AddressStatus *as =
			res_spec(rt_get(ctx, RES(ADDRESS_STATUS), a->e[i].id), RES(ADDRESS_STATUS));
		struct ipaddr ip;
		unsigned prefix;

		if (a->e[i].wanted)
			continue;
		if (as && parse_cidr(as->address, &ip, &prefix) &&
		    rtnl_addr_change(false, ip.family, as->linkindex, ip.addr, prefix, err, sizeof(err)) < 0) {
			p.r = rt_fail(ctx, "%s", err);
			continue;
		}
		a->e[i] = a->e[--a->n];
	}
	return p.r;
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &added;
}

static void fini(void *st)
{
	struct added *a = st;

	free(a->e);
	memset(a, 0, sizeof(*a));
}

static int start(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	(void)self;
	((struct added *)st)->refused = env->net_refused;
	return 0;
}

const struct ctrl_def ctrl_address_spec = {
	.rt = { .name = "AddressSpecController", .inputs = inputs, .ninputs = 3, .reconcile = reconcile },
	.shared = state,
	.init = start,
	.fini = fini,
	.touches_machine = true,
};
