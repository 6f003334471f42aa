/* SPDX-License-Identifier: MIT */
/* VersionController: runtime/Version/version, what this machine runs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "api/runtime.pb-c.h"
#include "machined/ctrl/controllers.h"

#ifndef BASALT_VERSION
#error "BASALT_VERSION is set by the build from the VERSION file"
#endif

static const struct rt_output outputs[] = { { RES(VERSION), RT_EXCLUSIVE } };

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	Basalt__Runtime__Version *v = malloc(sizeof(*v));
	struct utsname u;

	(void)arg;
	if (!v)
		return -ENOMEM;
	basalt__runtime__version__init(v);
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	v->version = strdup(BASALT_VERSION);
	v->name = strdup("Basalt");
	v->kernel = strdup(u.release);
	v->arch = strdup(u.machine);
	return rt_apply(ctx, res_new(RES(VERSION), "version", &v->base));
}

const struct ctrl_def ctrl_version = {
	.rt = { .name = "VersionController",
		.outputs = outputs, .noutputs = 1, .reconcile = reconcile },
};
