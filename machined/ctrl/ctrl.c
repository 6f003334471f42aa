/* SPDX-License-Identifier: MIT */
#include "machined/ctrl/ctrl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const struct ctrl_def *const *started;
static size_t nstarted;
static void *owned[CTRL_MAX];  /* states ctrl_start allocated */
static void *states[CTRL_MAX]; /* every controller's state, owned or shared, for its fini */

int ctrl_start(const struct ctrl_env *env, const struct ctrl_def *const *table, size_t n, bool pure_only,
	       char *err, size_t errlen)
{
	if (n > CTRL_MAX) {
		snprintf(err, errlen, "%zu controllers: at most %d", n, CTRL_MAX);
		return -ENOSPC;
	}
	started = table;
	nstarted = n;
	for (size_t i = 0; i < n; i++) {
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
		rc.arg = states[i] = d->shared ? d->shared(env) : owned[i];
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
	for (size_t i = 0; i < nstarted; i++) {
		if (states[i] && started[i]->fini)
			started[i]->fini(states[i]);
		states[i] = NULL;
		free(owned[i]);
		owned[i] = NULL;
	}
}
