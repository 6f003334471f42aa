/* SPDX-License-Identifier: MIT */
/*
 * LinkSpecController: makes the links the network specs name what they ask, over
 * netlink, when network/LinkStatus says they are not: creates the bonds, bridges, VLANs
 * and dummies (netctl/link.c), puts members into their bond or bridge, brings links up
 * with their MTU (a link set down by hand comes back up). The links of a kind the specs
 * ask for (created, or found there already) it deletes once no spec wants them, and
 * members it put in it takes out; any other link is never deleted, and one that leaves
 * the specs is left as it is. Where layers want different MTUs, the strongest layer's
 * wins (netspec_rank).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "api/network.pb-c.h"
#include "lib/parse.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"
#include "netctl/link.h"
#include "netctl/rtnl.h"
#include "netctl/wg.h"

static const struct rt_input inputs[] = { { RES(LINK_SPEC), RT_WEAK }, { RES(LINK_STATUS), RT_WEAK } };

#define MERGED_MAX 128
#define OWNED_MAX 64

/* The layers' wishes for one link, merged: up if any layer wants it up, the MTU of the
 * strongest layer that sets one, the kind and membership of the one that names them. */
struct merged {
	char name[IFNAMSIZ];
	bool up;
	unsigned mtu;
	int rank;                   /* of the layer the MTU came from */
	const Basalt__Network__LinkSpec *shape;  /* the spec naming a kind or master, borrowed for the run */
};

/* Links this controller created, and members it put into a master, by name. */
struct owned {
	char name[IFNAMSIZ];
	bool wanted;                /* by a spec, this run */
};

struct linkspec {
	struct merged m[MERGED_MAX];
	size_t n;
	struct owned created[OWNED_MAX], enslaved[OWNED_MAX];
	size_t ncreated, nenslaved;
	const char *refused;        /* ctrl_env's net_refused */
};

static int merge_one(void *arg, const struct res *r)
{
	struct linkspec *ls = arg;
	const Basalt__Network__LinkSpec *s = res_spec(r, RES(LINK_SPEC));
	int rank = s ? netspec_rank(s->layer) : -1;
	size_t i;

	if (!s)
		return 0;
	for (i = 0; i < ls->n && strcmp(ls->m[i].name, s->name) != 0; i++)
		;
	if (i == ls->n) {
		if (ls->n == MERGED_MAX)
			return 0;
		memset(&ls->m[i], 0, sizeof(ls->m[i]));
		snprintf(ls->m[i].name, IFNAMSIZ, "%s", s->name);
		ls->m[i].rank = -2;
		ls->n++;
	}
	ls->m[i].up |= s->up;
	if (s->mtu && rank > ls->m[i].rank) {
		ls->m[i].mtu = s->mtu;
		ls->m[i].rank = rank;
	}
	if ((s->kind[0] || s->master[0]) && !ls->m[i].shape)
		ls->m[i].shape = s;
	return 0;
}

static const Basalt__Network__LinkStatus *status(struct rt_ctx *ctx, const char *name)
{
	return res_spec(rt_get(ctx, RES(LINK_STATUS), name), RES(LINK_STATUS));
}

/* Marks name in list wanted, adding it if new (as far as there is room). */
static void own(struct owned *list, size_t *n, const char *name)
{
	size_t i;

	for (i = 0; i < *n && strcmp(list[i].name, name) != 0; i++)
		;
	if (i == *n && *n < OWNED_MAX)
		snprintf(list[(*n)++].name, IFNAMSIZ, "%s", name);
	if (i < *n)
		list[i].wanted = true;
}

static int create(struct rt_ctx *ctx, struct linkspec *ls, const struct merged *m)
{
	const Basalt__Network__LinkSpec *s = m->shape;
	const Basalt__Network__LinkStatus *parent = s->parent[0] ? status(ctx, s->parent) : NULL;
	struct link_want w = { .stp = s->stp ? 1 : 0, .mtu = m->mtu };
	char err[256];
	int r;

	if (s->parent[0] && !parent)
		return 0;  /* the VLAN's parent first: its LinkStatus runs this again */
	snprintf(w.name, sizeof(w.name), "%s", s->name);
	snprintf(w.kind, sizeof(w.kind), "%s", s->kind);
	w.parent = parent ? parent->index : 0;
	w.vlan_id = s->vlanid;
	if (s->bond) {
		snprintf(w.bond_mode, sizeof(w.bond_mode), "%s", s->bond->mode);
		snprintf(w.xmit_hash_policy, sizeof(w.xmit_hash_policy), "%s", s->bond->xmithashpolicy);
		snprintf(w.lacp_rate, sizeof(w.lacp_rate), "%s", s->bond->lacprate);
		w.miimon = s->bond->miimon;
		w.updelay = s->bond->updelay;
		w.downdelay = s->bond->downdelay;
		w.min_links = s->bond->minlinks;
		w.arp_interval = s->bond->arpinterval;
		w.use_carrier = s->bond->usecarrier;
		snprintf(w.ad_select, sizeof(w.ad_select), "%s", s->bond->adselect);
		for (size_t i = 0; i < s->bond->n_arpiptarget && w.narp < 16; i++) {
			struct ipaddr ip;

			if (parse_ip(s->bond->arpiptarget[i], &ip) && ip.family == AF_INET)
				memcpy(w.arp[w.narp++], ip.addr, 4);
		}
		if (s->bond->primary[0]) {
			/* The primary member by its index: it must be there first (its LinkStatus runs
			 * this again). */
			const Basalt__Network__LinkStatus *p = status(ctx, s->bond->primary);

			if (!p)
				return 0;
			w.primary = p->index;
		}
	}
	r = link_create(&w, err, sizeof(err));
	/*
	 * EEXIST: made by the last run, its LinkStatus not read yet; or, for a bond, the bond0
	 * the bonding module makes when it loads (on the first bond asked for): its options
	 * are set on it (a bond still without members takes them all).
	 */
	if (r == -EEXIST && strcmp(w.kind, "bond") == 0)
		r = link_change(&w, err, sizeof(err));
	if (r < 0 && r != -EEXIST)
		return rt_fail(ctx, "%s", err);
	own(ls->created, &ls->ncreated, s->name);
	return 0;
}

/* A member into its master: a bond takes only members that are down (they come up after). */
static int enslave(struct rt_ctx *ctx, struct linkspec *ls, const Basalt__Network__LinkStatus *l,
		   const Basalt__Network__LinkSpec *s)
{
	const Basalt__Network__LinkStatus *master = status(ctx, s->master);
	char err[256];

	if (!master)
		return 0;  /* created first: its LinkStatus runs this again */
	own(ls->enslaved, &ls->nenslaved, s->name);
	if (l->masterindex == master->index)
		return 0;
	if ((l->up && strcmp(master->kind, "bond") == 0 && rtnl_link_set(l->index, 0, 0, err, sizeof(err)) < 0) ||
	    link_set_master(l->index, master->index, err, sizeof(err)) < 0)
		return rt_fail(ctx, "link %s into %s: %s", s->name, s->master, err);
	return 0;
}

/* A WireGuard device a userspace daemon (wireguard-go) made: a tun link whose UAPI socket is
 * there. It stands for the wireguard link the config names; WireguardController sets it. */
static bool userspace_wg(const Basalt__Network__LinkStatus *l, const Basalt__Network__LinkSpec *s, const char *name)
{
	return strcmp(s->kind, "wireguard") == 0 && strcmp(l->kind, "tun") == 0 && wg_uapi_serves(name);
}

static int apply(struct rt_ctx *ctx, struct linkspec *ls, const struct merged *m)
{
	const Basalt__Network__LinkStatus *l = status(ctx, m->name);
	const Basalt__Network__LinkSpec *s = m->shape;
	char err[256];
	bool up, mtu;
	int r;

	if (s && s->kind[0]) {
		if (!l)
			return create(ctx, ls, m);
		if (strcmp(l->kind, s->kind) != 0 && !userspace_wg(l, s, m->name))
			return rt_fail(ctx, "link %s is a %s link; the config wants a %s", m->name,
				       l->kind[0] ? l->kind : "hardware", s->kind);
		/* Ours from here on: made by us (perhaps by a run whose LinkStatus came late), or
		 * named by the config with this kind; it goes when the config lets it go (a
		 * userspace daemon's device stays the daemon's). */
		if (strcmp(l->kind, s->kind) == 0)
			own(ls->created, &ls->ncreated, m->name);
	}
	if (!l)
		return 0;  /* not there (yet): its LinkStatus appearing runs this again */
	if (s && s->master[0] && (r = enslave(ctx, ls, l, s)) < 0)
		return r;
	up = m->up && !l->up;
	mtu = m->mtu && m->mtu != l->mtu;
	if ((up || mtu) && rtnl_link_set(l->index, up ? 1 : -1, mtu ? m->mtu : 0, err, sizeof(err)) < 0)
		return rt_fail(ctx, "link %s: %s", m->name, err);
	return 0;
}

/* What this controller made and no spec wants any more: members taken out, links deleted. */
static int undo(struct rt_ctx *ctx, struct linkspec *ls)
{
	char err[256];
	int r = 0;

	for (size_t i = ls->nenslaved; i-- > 0;) {
		const Basalt__Network__LinkStatus *l = status(ctx, ls->enslaved[i].name);

		if (ls->enslaved[i].wanted)
			continue;
		if (l && l->masterindex && link_set_master(l->index, 0, err, sizeof(err)) < 0)
			r = rt_fail(ctx, "link %s out of its master: %s", ls->enslaved[i].name, err);
		ls->enslaved[i] = ls->enslaved[--ls->nenslaved];
	}
	for (size_t i = ls->ncreated; i-- > 0;) {
		const Basalt__Network__LinkStatus *l = status(ctx, ls->created[i].name);

		if (ls->created[i].wanted)
			continue;
		if (l && link_delete(l->index, err, sizeof(err)) < 0 && !strstr(err, "No such device"))
			r = rt_fail(ctx, "%s", err);
		ls->created[i] = ls->created[--ls->ncreated];
	}
	return r;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct linkspec *ls = arg;
	int r = 0, e;

	if ((r = netspec_refuse(ctx, ls->refused, RES(LINK_SPEC))) < 0)
		return r;
	ls->n = 0;
	for (size_t i = 0; i < ls->ncreated; i++)
		ls->created[i].wanted = false;
	for (size_t i = 0; i < ls->nenslaved; i++)
		ls->enslaved[i].wanted = false;
	rt_list(ctx, RES(LINK_SPEC), merge_one, ls);
	for (size_t i = 0; i < ls->n; i++)
		if ((e = apply(ctx, ls, &ls->m[i])) < 0)
			r = e;
	if ((e = undo(ctx, ls)) < 0)
		r = e;
	return r;
}

static int start(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	(void)self;
	((struct linkspec *)st)->refused = env->net_refused;
	return 0;
}

const struct ctrl_def ctrl_link_spec = {
	.rt = { .name = "LinkSpecController", .inputs = inputs, .ninputs = 2, .reconcile = reconcile },
	.state_size = sizeof(struct linkspec),
	.init = start,
	.touches_machine = true,
};
