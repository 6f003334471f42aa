/* SPDX-License-Identifier: MIT */
/* HostnameConfigController: machine.network.hostname becomes network/HostnameSpec/configuration/hostname. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.pb-c.h"
#include "api/network.pb-c.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"

static const struct rt_input config_in[] = { { RES(MACHINE_CONFIG), RT_WEAK } };
static const struct rt_output spec_out[] = { { RES(HOSTNAME_SPEC), RT_SHARED } };

static int config_reconcile(struct rt_ctx *ctx, void *arg)
{
	const struct res *cr = rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1");
	const Basalt__Config__Config *cfg = res_spec(cr, RES(MACHINE_CONFIG));
	const char *name = cfg && cfg->machine && cfg->machine->network ? cfg->machine->network->hostname : NULL;

	(void)arg;
	if (!name)
		return 0;  /* nothing written: a spec from an earlier config is cleaned up */
	return netspec_hostname(ctx, "configuration", "hostname", name, NULL);
}

const struct ctrl_def ctrl_hostname_config = {
	.rt = { .name = "HostnameConfigController", .inputs = config_in, .ninputs = 1,
		.outputs = spec_out, .noutputs = 1, .reconcile = config_reconcile },
};
