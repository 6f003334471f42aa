/* SPDX-License-Identifier: MIT */
/*
 * InitSyncController: sends the runtime/ServiceSpec resources to init as its desired
 * service set, whenever they differ from what init last accepted (or was last sent).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/runtime.pb-c.h"
#include "lib/log.h"
#include "machined/ctrl/ctrl_init.h"

static const struct rt_input sync_in[] = { { RES(SERVICE_SPEC), RT_WEAK } };

struct set_build {
	const struct initctrl *ic;
	Basalt__Init__ServiceSpec specs[INITCTRL_MAX];
	Basalt__Init__ServiceSpec *ptrs[INITCTRL_MAX];
	size_t n;
};

static int add_spec(void *arg, const struct res *r)
{
	struct set_build *b = arg;
	const Basalt__Runtime__ServiceSpec *s = res_spec(r, RES(SERVICE_SPEC));
	Basalt__Init__ServiceSpec *p = &b->specs[b->n];

	if (!s)
		return 0;
	if (b->n == INITCTRL_MAX)
		return 1;
	for (size_t i = 0; i < b->ic->nstopped; i++)
		if (strcmp(b->ic->stopped[i], r->id) == 0)
			return 0;
	basalt__init__service_spec__init(p);
	p->id = r->id;
	p->argv = s->argv;
	p->n_argv = s->n_argv;
	p->env = s->env;
	p->n_env = s->n_env;
	p->depends = s->depends;
	p->n_depends = s->n_depends;
	p->restart = strcmp(s->restart, "never") == 0        ? BASALT__INIT__RESTART_POLICY__RESTART_NEVER
		     : strcmp(s->restart, "on-failure") == 0 ? BASALT__INIT__RESTART_POLICY__RESTART_ON_FAILURE
							     : BASALT__INIT__RESTART_POLICY__RESTART_ALWAYS;
	p->stop_timeout_ms = s->stoptimeoutms;
	p->log_ring_bytes = s->logringbytes;
	b->ptrs[b->n++] = p;
	return 0;
}

static bool same_bytes(const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	return a && b && la == lb && memcmp(a, b, la) == 0;
}

static int sync_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct initctrl *ic = arg;
	Basalt__Init__SetServices set = BASALT__INIT__SET_SERVICES__INIT;
	struct set_build *b = calloc(1, sizeof(*b));
	uint8_t *bytes;
	size_t len;
	int r = 0;

	if (!b)
		return -ENOMEM;
	b->ic = ic;
	if (!initlink_up(&ic->link)) {
		r = rt_fail(ctx, "not connected to init at %s: %s", ic->link.path,
			    ic->link.last_error[0] ? ic->link.last_error : "connecting");
		goto out;
	}
	if (ic->reply_error[0]) {
		r = rt_fail(ctx, "init refused the service set: %s", ic->reply_error);
		ic->reply_error[0] = '\0';
		free(ic->acked);
		ic->acked = NULL;
		goto out;
	}
	rt_list(ctx, RES(SERVICE_SPEC), add_spec, b);
	if (b->n == INITCTRL_MAX) {
		r = rt_fail(ctx, "more than %d services", INITCTRL_MAX);
		goto out;
	}
	set.services = b->ptrs;
	set.n_services = b->n;
	len = protobuf_c_message_get_packed_size(&set.base);
	bytes = malloc(len ? len : 1);
	if (!bytes) {
		r = -ENOMEM;
		goto out;
	}
	protobuf_c_message_pack(&set.base, bytes);
	if (same_bytes(bytes, len, ic->acked, ic->ackedlen) || same_bytes(bytes, len, ic->sent, ic->sentlen) ||
	    b->n == 0) {
		free(bytes);
		goto out;
	}
	if (initlink_send_set(&ic->link, &set) < 0) {
		free(bytes);
		r = rt_fail(ctx, "cannot send the service set to init");
		goto out;
	}
	free(ic->sent);
	ic->sent = bytes;
	ic->sentlen = len;
	log_info("sent %zu services to init", b->n);
out:
	free(b);
	return r;
}

static int sync_start(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct initctrl *ic = state;

	(void)env;
	ic->sync_ctrl = self;
	return 0;
}

const struct ctrl_def ctrl_init_sync = {
	.rt = { "InitSyncController", sync_in, 1, NULL, 0, sync_reconcile, NULL },
	.shared = initctrl_state,
	.init = sync_start,
	.touches_machine = true,
};
