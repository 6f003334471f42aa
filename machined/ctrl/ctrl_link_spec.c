/* SPDX-License-Identifier: MIT */
/*
 * LinkSpecController: brings the links the network specs name up, with their MTU, when
 * network/LinkStatus says they are not (so a link set down by hand comes back up). A link
 * no spec names is never touched; one that leaves the specs is left as it is.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "machined/ctrl/controllers.h"
#include "netctl/rtnl.h"

static const struct rt_input inputs[] = { { RES(LINK_SPEC), RT_WEAK }, { RES(LINK_STATUS), RT_WEAK } };

struct pass {
	struct rt_ctx *ctx;
	int r;
};

static int apply_one(void *arg, const struct res *r)
{
	struct pass *p = arg;
	const Basalt__Network__LinkSpec *s = res_spec(r, RES(LINK_SPEC));
	const Basalt__Network__LinkStatus *l;
	char err[256];

	if (!s || !(l = res_spec(rt_get(p->ctx, RES(LINK_STATUS), s->name), RES(LINK_STATUS))))
		return 0;  /* not there (yet): its LinkStatus appearing runs this again */
	if ((s->up && !l->up) || (s->mtu && s->mtu != l->mtu)) {
		if (rtnl_link_set(l->index, s->up && !l->up ? 1 : -1, s->mtu != l->mtu ? s->mtu : 0, err, sizeof(err)) < 0)
			p->r = rt_fail(p->ctx, "link %s: %s", s->name, err);
	}
	return 0;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct pass p = { ctx, 0 };

	(void)arg;
	rt_list(ctx, RES(LINK_SPEC), apply_one, &p);
	return p.r;
}

const struct ctrl_def ctrl_link_spec = {
	.rt = { .name = "LinkSpecController", .inputs = inputs, .ninputs = 2, .reconcile = reconcile },
	.touches_machine = true,
};
