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
#include "lib/keyset.h"
#include "lib/parse.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"
#include "netctl/rtnl.h"

#define ADDED_MAX 8192  /* addresses it keeps track of; the set grows to this */

static const struct rt_input inputs[] = {
	{ RES(ADDRESS_SPEC), RT_WEAK }, { RES(LINK_STATUS), RT_WEAK }, { RES(ADDRESS_STATUS), RT_WEAK },
};

/* One address this controller added, by the AddressStatus id it has ("<link>/<cidr>"). */
struct added_one {
	char id[80];                /* the key: zero-padded */
	bool wanted;                /* by a spec, this run */
};

struct added {
	struct keyset set;          /* of struct added_one */
	struct nlbatch batch;       /* this run's requests, sent together */
	const char *refused;        /* ctrl_env's net_refused */
	struct rt_ctx *ctx;         /* the run in progress, for the batch's errors */
	int r;
};

static struct added added;

#define DELETE_TAG 1  /* a delete's: already gone (with its primary, its link) is fine */

static void on_error(void *arg, size_t tag, int error, const char *err)
{
	struct added *a = arg;

	if (tag == DELETE_TAG && (error == -EADDRNOTAVAIL || error == -ENODEV))
		return;
	a->r = rt_fail(a->ctx, "%s", err);
}

/* Marks id wanted, remembering it if it is new (as far as there is room). */
static void want(struct added *a, const char *id)
{
	char key[sizeof(((struct added_one *)0)->id)] = { 0 };
	struct added_one *e;

	snprintf(key, sizeof(key), "%s", id);
	if ((e = keyset_add(&a->set, key)))
		e->wanted = true;
}

static void request(struct added *a, bool add, int family, unsigned index, const void *ip, unsigned prefix)
{
	struct nlreq q;
	char what[RTNL_WHAT_MAX];

	if (rtnl_addr_req(&q, add, family, index, ip, prefix, what, sizeof(what)) < 0)
		a->r = rt_fail(a->ctx, "%s", what);
	else
		nlbatch_add(&a->batch, &q, what, add ? 0 : DELETE_TAG);
}

static int apply_one(void *arg, const struct res *r)
{
	struct added *a = arg;
	const Basalt__Network__AddressSpec *s = res_spec(r, RES(ADDRESS_SPEC));
	const Basalt__Network__LinkStatus *l;
	struct ipaddr ip;
	unsigned prefix;
	char id[80];

	if (!s || !(l = res_spec(rt_get(a->ctx, RES(LINK_STATUS), s->linkname), RES(LINK_STATUS))))
		return 0;
	if (!parse_cidr(s->address, &ip, &prefix)) {
		a->r = rt_fail(a->ctx, "%s: %s is not an address/prefix", r->id, s->address);
		return 0;
	}
	snprintf(id, sizeof(id), "%s/%s", s->linkname, s->address);
	want(a, id);
	if (!rt_get(a->ctx, RES(ADDRESS_STATUS), id))  /* the kernel lacks it */
		request(a, true, ip.family, l->index, ip.addr, prefix);
	return 0;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct added *a = arg;

	a->ctx = ctx;
	if ((a->r = netspec_refuse(ctx, a->refused, RES(ADDRESS_SPEC))) < 0)
		return a->r;
	for (size_t i = 0; i < a->set.n; i++)
		((struct added_one *)keyset_at(&a->set, i))->wanted = false;
	rt_list(ctx, RES(ADDRESS_SPEC), apply_one, a);
	/* Ours and no longer wanted: off the link, if it is still there. */
	for (size_t i = a->set.n; i-- > 0;) {
		const struct added_one *e = keyset_at(&a->set, i);
		const Basalt__Network__AddressStatus *as;
		struct ipaddr ip;
		unsigned prefix;

		if (e->wanted)
			continue;
		as = res_spec(rt_get(ctx, RES(ADDRESS_STATUS), e->id), RES(ADDRESS_STATUS));
		if (as && parse_cidr(as->address, &ip, &prefix))
			request(a, false, ip.family, as->linkindex, ip.addr, prefix);
		keyset_del_at(&a->set, i);
	}
	nlbatch_flush(&a->batch);
	return a->r;
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &added;
}

static void fini(void *st)
{
	keyset_fini(&((struct added *)st)->set);
}

static int start(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct added *a = st;

	(void)self;
	keyset_init(&a->set, sizeof(struct added_one), sizeof(((struct added_one *)0)->id), ADDED_MAX);
	nlbatch_init(&a->batch, on_error, a);
	a->refused = env->net_refused;
	return 0;
}

const struct ctrl_def ctrl_address_spec = {
	.rt = { .name = "AddressSpecController", .inputs = inputs, .ninputs = 3, .reconcile = reconcile },
	.shared = state,
	.init = start,
	.fini = fini,
	.touches_machine = true,
};
