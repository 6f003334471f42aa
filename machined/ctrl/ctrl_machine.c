/* SPDX-License-Identifier: MIT */
/* MachineStatusController: where the machine is in its life, and what it is waiting for. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/runtime.pb-c.h"
#include "machined/ctrl/controllers.h"

static const struct rt_input inputs[] = {
	{ RES(CONFIG_STATUS), RT_WEAK },
	{ RES(SERVICE_SPEC), RT_WEAK },
	{ RES(SERVICE), RT_WEAK },
};
static const struct rt_output outputs[] = { { RES(MACHINE_STATUS), RT_EXCLUSIVE } };

struct check {
	struct rt_ctx *ctx;
	Basalt__Runtime__MachineStatus *ms;
	size_t specs, running;
};

__attribute__((format(printf, 2, 3))) static void unmet(Basalt__Runtime__MachineStatus *ms,
							     const char *fmt, ...)
{
	char buf[512], **v = realloc(ms->unmetconditions, (ms->n_unmetconditions + 1) * sizeof(*v));
	va_list ap;

	if (!v)
		return;
	ms->unmetconditions = v;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	v[ms->n_unmetconditions] = strdup(buf);
	if (v[ms->n_unmetconditions])
		ms->n_unmetconditions++;
}

static int check_service(void *arg, const struct res *spec)
{
	struct check *c = arg;
	const struct res *r = rt_get(c->ctx, RES(SERVICE), spec->id);
	const Basalt__Runtime__Service *s = res_spec(r, RES(SERVICE));

	c->specs++;
	if (s && strcmp(s->state, "running") == 0)
		c->running++;
	else if (s)
		unmet(c->ms, "service %s is %s", spec->id, s->state);
	else
		unmet(c->ms, "service %s is not reported by init yet", spec->id);
	return 0;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct machine_status *m = arg;
	const struct res *cr = rt_get(ctx, RES(CONFIG_STATUS), "config");
	const Basalt__Runtime__ConfigStatus *cs = res_spec(cr, RES(CONFIG_STATUS));
	Basalt__Runtime__MachineStatus *ms = calloc(1, sizeof(*ms));
	Basalt__Runtime__MachineReady *ready = calloc(1, sizeof(*ready));
	struct check c = { ctx, ms, 0, 0 };
	const char *stage;

	if (!ms || !ready) {
		free(ms);
		free(ready);
		return -ENOMEM;
	}
	basalt__runtime__machine_status__init(ms);
	basalt__runtime__machine_ready__init(ready);
	ms->ready = ready;
	rt_list(ctx, RES(SERVICE_SPEC), check_service, &c);
	ready->config = cs && strcmp(cs->state, "loaded") == 0;
	ready->services = c.specs > 0 && c.running == c.specs;
	if (!cs)
		unmet(ms, "the machine config has not been looked for yet");
	else if (!ready->config)
		unmet(ms, "no machine config in force: %s", cs->message);
	if (m->ending)
		stage = m->ending;
	else if (!cs)
		stage = "booting";
	else if (!ready->config)
		stage = "maintenance";
	else
		stage = ready->services ? "running" : "booting";
	ms->stage = strdup(stage);
	return rt_apply(ctx, res_new(RES(MACHINE_STATUS), "machine", &ms->base));
}

static void *status_of(const struct ctrl_env *env)
{
	return env->status;
}

static int status_init(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct machine_status *m = state;

	(void)env;
	m->ending = NULL;
	m->ctrl = self;
	return 0;
}

const struct ctrl_def ctrl_machine_status = {
	.rt = { .name = "MachineStatusController", .inputs = inputs, .ninputs = 3,
		.outputs = outputs, .noutputs = 1, .reconcile = reconcile },
	.shared = status_of,
	.init = status_init,
};

void machine_status_ending(struct machine_status *m, bool reboot)
{
	/* The first word stands: a SIGTERM after init said "reboot" is the same shutdown. */
	if (!m->ending)
		m->ending = reboot ? "rebooting" : "shutting-down";
	rt_kick(m->ctrl);
}
