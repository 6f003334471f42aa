/* SPDX-License-Identifier: MIT */
/*
 * LinkSpecController: brings the links the network specs name up, with their MTU, when
 * network/LinkStatus says they are not (so a link set down by hand comes back up). A link
 * no spec names is never touched; one that leaves the specs is left as it is. Where layers
 * want different MTUs, the strongest layer's wins (netspec_rank).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"
#include "netctl/rtnl.h"

static const struct rt_input inputs[] = { { RES(LINK_SPEC), RT_WEAK }, { RES(LINK_STATUS), RT_WEAK } };

#define MERGED_MAX 128

/* The layers' wishes for one link, merged: up if any layer wants it up, the MTU of the strongest layer that sets one. */
struct merged {
	struct {
		char name[IFNAMSIZ];
		bool up;
		unsigned mtu;
		int rank;               /* of the layer the MTU came from */
	} e[MERGED_MAX];
	size_t n;
};

static int merge_one(void *arg, const struct res *r)
{
	struct merged *m = arg;
	const Basalt__Network__LinkSpec *s = res_spec(r, RES(LINK_SPEC));
	int rank = s ? netspec_rank(s->layer) : -1;
	size_t i;

	if (!s)
		return 0;
	for (i = 0; i < m->n && strcmp(m->e[i].name, s->name) != 0; i++)
		;
	if (i == m->n) {
		if (m->n == MERGED_MAX)
			return 0;
		memset(&m->e[i], 0, sizeof(m->e[i]));
		snprintf(m->e[i].name, IFNAMSIZ, "%s", s->name);
		m->e[i].rank = -2;
		m->n++;
	}
	m->e[i].up |= s->up;
	if (s->mtu && rank > m->e[i].rank) {
		m->e[i].mtu = s->mtu;
		m->e[i].rank = rank;
	}
	return 0;
}

static const char *refused;

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct merged *m = arg;
	int r = 0;
	char err[256];

	if ((r = netspec_refuse(ctx, refused, RES(LINK_SPEC))) < 0)
		return r;
	m->n = 0;
	rt_list(ctx, RES(LINK_SPEC), merge_one, m);
	for (size_t i = 0; i < m->n; i++) {
		const Basalt__Network__LinkStatus *l = res_spec(rt_get(ctx, RES(LINK_STATUS), m->e[i].name), RES(LINK_STATUS));
		bool up, mtu;

		if (!l)
			continue;  /* not there (yet): its LinkStatus appearing runs this again */
		up = m->e[i].up && !l->up;
		mtu = m->e[i].mtu && m->e[i].mtu != l->mtu;
		if ((up || mtu) && rtnl_link_set(l->index, up ? 1 : -1, mtu ? m->e[i].mtu : 0, err, sizeof(err)) < 0)
			r = rt_fail(ctx, "link %s: %s", m->e[i].name, err);
	}
	return r;
}

static int start(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	(void)st;
	(void)self;
	refused = env->net_refused;
	return 0;
}

const struct ctrl_def ctrl_link_spec = {
	.rt = { .name = "LinkSpecController", .inputs = inputs, .ninputs = 2, .reconcile = reconcile },
	.state_size = sizeof(struct merged),
	.init = start,
	.touches_machine = true,
};
