/* SPDX-License-Identifier: MIT */
/* HostnameConfigController: machine.network.hostname becomes network/HostnameSpec. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.pb-c.h"
#include "api/network.pb-c.h"
#include "machined/ctrl/controllers.h"

static const struct rt_input config_in[] = { { RES(MACHINE_CONFIG), RT_WEAK } };
static const struct rt_output spec_out[] = { { RES(HOSTNAME_SPEC), RT_EXCLUSIVE } };

static int config_reconcile(struct rt_ctx *ctx, void *arg)
{
	const struct res *cr = rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1");
	const Basalt__Config__Config *cfg = res_spec(cr, RES(MACHINE_CONFIG));
	const char *name = cfg && cfg->machine && cfg->machine->network ? cfg->machine->network->hostname : NULL;
	Basalt__Network__HostnameSpec *s;
	const char *dot;

	(void)arg;
	if (!name)
		return 0;  /* nothing written: a spec from an earlier config is cleaned up */
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	basalt__network__hostname_spec__init(s);
	/* "node1.example.com": the name is the first label, the rest the domain. */
	dot = strchr(name, '.');
	s->hostname = dot ? strndup(name, (size_t)(dot - name)) : strdup(name);
	s->domainname = strdup(dot ? dot + 1 : "");
	s->layer = strdup("configuration");
	return rt_apply(ctx, res_new(RES(HOSTNAME_SPEC), "hostname", &s->base));
}

const struct ctrl_def ctrl_hostname_config = {
	.rt = { .name = "HostnameConfigController", .inputs = config_in, .ninputs = 1,
		.outputs = spec_out, .noutputs = 1, .reconcile = config_reconcile },
};
