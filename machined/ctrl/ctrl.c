/* SPDX-License-Identifier: MIT */
#include "machined/ctrl/ctrl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "machined/ctrl/config.h"
#include "machined/ctrl/controllers.h"

/* Every controller machined runs from a table (the init link's and the API's start with them). */
static const struct ctrl_def *const table[] = {
	&ctrl_machine_config, &ctrl_machine_status, &ctrl_service_specs, &ctrl_version,
	&ctrl_hostname_config, &ctrl_hostname_apply,
};
#define NCTRL (sizeof(table) / sizeof(table[0]))

static void *owned[NCTRL];  /* states ctrl_start allocated */

int ctrl_start(const struct ctrl_env *env, bool pure_only, char *err, size_t errlen)
{
	for (size_t i = 0; i < NCTRL; i++) {
		const struct ctrl_def *d = table[i];
		struct rt_controller rc = d->rt;
		struct rt_ctrl *self = NULL;
		int r;

		if (pure_only && d->touches_machine)
			continue;
		if (d->state_size && !(owned[i] = calloc(1, d->state_size))) {
			snprintf(err, errlen, "%s: out of memory", d->rt.name);
			return -ENOMEM;
		}
		rc.arg = d->shared ? d->shared(env) : owned[i];
		r = rt_register(env->rt, &rc, &self, err, errlen);
		if (r == 0 && d->init)
			r = d->init(rc.arg, env, self);
		if (r < 0)
			return r;
	}
	return 0;
}

void ctrl_stop(void)
{
	for (size_t i = 0; i < NCTRL; i++) {
		if (owned[i] && table[i]->fini)
			table[i]->fini(owned[i]);
		free(owned[i]);
		owned[i] = NULL;
	}
}
