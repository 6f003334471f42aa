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
	return rt_apply(ctx, res_new(RES(PLATFORM_METADATA), "platform", &md->base));
}

void platform_status_set(struct platform_status *ps)
{
	ps->known = true;
	if (ps->ctrl)
		rt_kick(ps->ctrl);
}

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
