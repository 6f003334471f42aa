/* SPDX-License-Identifier: MIT */
/*
 * ServiceStatusController: mirrors init's status stream into runtime/Service, and shows a
 * service stopped through the API as stopped. Registering it opens the link to init.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/runtime.pb-c.h"
#include "lib/svcstate.h"
#include "machined/ctrl/ctrl_init.h"

static const struct rt_output status_out[] = { { RES(SERVICE), RT_EXCLUSIVE } };

static int status_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct initctrl *ic = arg;

	for (size_t i = 0; i < ic->nstatus; i++) {
		const struct initctrl_status *s = &ic->status[i];
		Basalt__Runtime__Service *svc = malloc(sizeof(*svc));
		int r;

		if (!svc)
			return -ENOMEM;
		basalt__runtime__service__init(svc);
		svc->state = strdup(svc_state_name(s->state));
		svc->running = s->state == BASALT__INIT__SERVICE_STATE__STATE_RUNNING;
		/* Until services have probes of their own, healthy means running. */
		svc->healthy = svc->running;
		svc->pid = s->pid;
		svc->restarts = s->restarts;
		svc->lastexit = s->last_exit;
		svc->message = strdup(s->message);
		r = rt_apply(ctx, res_new(RES(SERVICE), s->id, &svc->base));
		if (r < 0)
			return r;
	}
	/* A stopped service init has let go of still shows, as stopped. */
	for (size_t i = 0; i < ic->nstopped; i++) {
		Basalt__Runtime__Service *svc;

		if (initctrl_find_status(ic, ic->stopped[i]))
			continue;
		svc = malloc(sizeof(*svc));
		if (!svc)
			return -ENOMEM;
		basalt__runtime__service__init(svc);
		svc->state = strdup("stopped");
		svc->lastexit = -1;
		svc->message = strdup("stopped through the API; start it with osctl service <id> start");
		if (rt_apply(ctx, res_new(RES(SERVICE), ic->stopped[i], &svc->base)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The link to init opens once both controllers exist: its events kick them. */
static int status_start(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct initctrl *ic = state;
	ic->status_ctrl = self;
	initctrl_open_link(ic, env->loop, env->init_socket);
	return 0;
}

const struct ctrl_def ctrl_service_status = {
	.rt = { "ServiceStatusController", NULL, 0, status_out, 1, status_reconcile, NULL },
	.shared = initctrl_state,
	.init = status_start,
	.touches_machine = true,
};
