/* SPDX-License-Identifier: MIT */
/*
 * PlatformMetadataController: runtime/PlatformMetadata/platform (see controllers.h), and
 * the host name the platform gives as the platform layer's network/HostnameSpec.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/runtime.pb-c.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"

static const struct rt_output outputs[] = { { RES(PLATFORM_METADATA), RT_EXCLUSIVE }, { RES(HOSTNAME_SPEC), RT_SHARED } };

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	const struct platform_status *ps = arg;
	Basalt__Runtime__PlatformMetadata *md;
	int r;

	if (!ps->known)
		return 0;
	if (ps->hostname[0] && (r = netspec_hostname(ctx, "platform", "platform", ps->hostname, NULL)) < 0)
		return r;
	if (!(md = malloc(sizeof(*md))))
		return -ENOMEM;
	basalt__runtime__platform_metadata__init(md);
	md->platform = strdup(ps->platform);
	md->hostname = strdup(ps->hostname);
	md->instanceid = strdup(ps->instance_id);
	md->instancetype = strdup(ps->instance_type);
	md->region = strdup(ps->region);
	md->zone = strdup(ps->zone);
	if ((md->externaladdresses = calloc(ps->n_external + 1, sizeof(char *))))
		for (unsigned i = 0; i < ps->n_external && i < sizeof(ps->external) / sizeof(ps->external[0]); i++)
			md->externaladdresses[md->n_externaladdresses++] = strdup(ps->external[i]);
	return rt_apply(ctx, res_new(RES(PLATFORM_METADATA), "platform", &md->base));
}

void platform_status_set(struct platform_status *ps)
{
	ps->known = true;
	if (ps->ctrl)
		rt_kick(ps->ctrl);
	if (ps->network_ctrl)
		rt_kick(ps->network_ctrl);
	if (ps->cmdline_ctrl)
		rt_kick(ps->cmdline_ctrl);
}

Basalt__Config__Network *platform_status_network(const struct platform_status *ps)
{
	if (!ps || !ps->network)
		return NULL;
	return basalt__config__network__unpack(NULL, ps->network_len, ps->network);
}

static void *state(const struct ctrl_env *env);

/* --- PlatformNetworkController --- */

static const struct rt_input net_inputs[] = { { RES(LINK_STATUS), RT_WEAK } };
static const struct rt_output net_outputs[] = {
	{ RES(LINK_SPEC), RT_SHARED },     { RES(ADDRESS_SPEC), RT_SHARED },  { RES(ROUTE_SPEC), RT_SHARED },
	{ RES(RESOLVER_SPEC), RT_SHARED }, { RES(OPERATOR_SPEC), RT_SHARED },
};

static int net_reconcile(struct rt_ctx *ctx, void *arg)
{
	const struct platform_status *ps = arg;
	Basalt__Config__Network *net = platform_status_network(ps);
	char gaps[512];
	int r;

	if (!net)
		return 0;
	r = netspec_network(ctx, "platform", net, gaps, sizeof(gaps));
	protobuf_c_message_free_unpacked(&net->base, NULL);
	return r;
}

static int net_init(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct platform_status *ps = st;

	(void)env;
	ps->network_ctrl = self;
	return 0;
}

static void fini(void *st)
{
	struct platform_status *ps = st;

	free(ps->network);
	ps->network = NULL;
	ps->network_len = 0;
}

const struct ctrl_def ctrl_platform_network = {
	.rt = { .name = "PlatformNetworkController", .inputs = net_inputs, .ninputs = 1, .outputs = net_outputs,
		.noutputs = 5, .reconcile = net_reconcile },
	.shared = state,
	.init = net_init,
	.fini = fini,
	.touches_machine = true,
};

static void *state(const struct ctrl_env *env)
{
	return env->platform;
}

static int init(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct platform_status *ps = st;

	(void)env;
	ps->ctrl = self;
	return 0;
}

const struct ctrl_def ctrl_platform_metadata = {
	.rt = { .name = "PlatformMetadataController", .outputs = outputs, .noutputs = 2, .reconcile = reconcile },
	.shared = state,
	.init = init,
	.touches_machine = true,
};
