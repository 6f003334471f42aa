/* SPDX-License-Identifier: MIT */
/*
 * TimeServerController: network/TimeServerStatus/timeservers from the layers'
 * TimeServerSpecs: the servers of the strongest layer that names any (netspec_list). The
 * time client reads it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"

static const struct rt_input inputs[] = { { RES(TIMESERVER_SPEC), RT_WEAK } };
static const struct rt_output outputs[] = { { RES(TIMESERVER_STATUS), RT_EXCLUSIVE } };

static int merge_one(void *arg, const struct res *r)
{
	const Basalt__Network__TimeServerSpec *s = res_spec(r, RES(TIMESERVER_SPEC));

	if (s)
		netspec_list_add(arg, s->layer, s->servers, s->n_servers);
	return 0;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct netspec_list l;
	Basalt__Network__TimeServerStatus *st;

	(void)arg;
	netspec_list_init(&l);
	rt_list(ctx, RES(TIMESERVER_SPEC), merge_one, &l);
	if (!(st = malloc(sizeof(*st))))
		return -ENOMEM;
	basalt__network__time_server_status__init(st);
	st->servers = calloc(l.n + 1, sizeof(char *));
	for (size_t i = 0; st->servers && i < l.n; i++)
		st->servers[st->n_servers++] = strdup(l.v[i]);
	st->layer = strdup(l.layer ? l.layer : "");
	return rt_apply(ctx, res_new(RES(TIMESERVER_STATUS), "timeservers", &st->base));
}

const struct ctrl_def ctrl_timeservers = {
	.rt = { .name = "TimeServerController", .inputs = inputs, .ninputs = 1, .outputs = outputs, .noutputs = 1,
		.reconcile = reconcile },
};
