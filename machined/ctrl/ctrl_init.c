/* SPDX-License-Identifier: MIT */
/*
 * The controllers that talk to init. InitSyncController sends the runtime/ServiceSpec
 * resources to init as its desired service set, whenever they differ from what init last
 * accepted. ServiceStatusController mirrors init's status stream into runtime/Service.
 */
#include "machined/ctrl/ctrl_init.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/runtime.pb-c.h"
#include "lib/log.h"
#include "lib/svcstate.h"

static const struct rt_input sync_in[] = { { RES(SERVICE_SPEC), RT_WEAK } };
static const struct rt_output status_out[] = { { RES(SERVICE), RT_EXCLUSIVE } };


/* --- the service set --- */

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

/* --- the status mirror --- */

static const struct initctrl_status *find_status_const(const struct initctrl *ic, const char *id)
{
	for (size_t i = 0; i < ic->nstatus; i++)
		if (strcmp(ic->status[i].id, id) == 0)
			return &ic->status[i];
	return NULL;
}

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

		if (find_status_const(ic, ic->stopped[i]))
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

static struct initctrl_status *find_status(struct initctrl *ic, const char *id)
{
	for (size_t i = 0; i < ic->nstatus; i++)
		if (strcmp(ic->status[i].id, id) == 0)
			return &ic->status[i];
	return NULL;
}

static void on_status(void *arg, const Basalt__Init__ServiceStatus *st)
{
	struct initctrl *ic = arg;
	struct initctrl_status *s = find_status(ic, st->id);

	if (st->removed) {
		if (s)
			*s = ic->status[--ic->nstatus];
	} else {
		if (!s && ic->nstatus < INITCTRL_MAX)
			s = &ic->status[ic->nstatus++];
		if (!s)
			return;
		snprintf(s->id, sizeof(s->id), "%s", st->id);
		s->state = (int)st->state;
		s->pid = st->pid;
		s->restarts = st->restarts;
		s->last_exit = st->last_exit;
		snprintf(s->message, sizeof(s->message), "%s", st->message);
	}
	rt_kick(ic->status_ctrl);
}

static void on_connected(void *arg, bool up)
{
	struct initctrl *ic = arg;

	/* A new connection starts from nothing: init resends every status, and the set is
	 * sent again (init keeps an identical one as it is). */
	free(ic->acked);
	free(ic->sent);
	ic->acked = ic->sent = NULL;
	if (!up)
		ic->nstatus = 0;
	rt_kick(ic->sync_ctrl);
	rt_kick(ic->status_ctrl);
}

static void on_set_reply(void *arg, int error, const char *message)
{
	struct initctrl *ic = arg;

	if (error) {
		snprintf(ic->reply_error, sizeof(ic->reply_error), "%s", message);
		log_warnx("init refused the service set: %s", message);
	} else {
		log_info("service set accepted by init");
		free(ic->acked);
		ic->acked = ic->sent;
		ic->ackedlen = ic->sentlen;
		ic->sent = NULL;
	}
	rt_kick(ic->sync_ctrl);
}

static void on_shutdown(void *arg, int action)
{
	struct initctrl *ic = arg;

	if (ic->on_shutdown)
		ic->on_shutdown(ic->on_shutdown_arg, action);
}

void initctrl_init(struct initctrl *ic)
{
	void (*keep)(void *, int) = ic->on_shutdown;
	void *keep_arg = ic->on_shutdown_arg;

	memset(ic, 0, sizeof(*ic));
	ic->on_shutdown = keep;
	ic->on_shutdown_arg = keep_arg;
}

static void *shared_init(const struct ctrl_env *env)
{
	return env->init;
}

static int sync_start(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct initctrl *ic = state;

	(void)env;
	ic->sync_ctrl = self;
	return 0;
}

/* The link to init opens once both controllers exist: its events kick them. */
static int status_start(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct initctrl *ic = state;
	struct initlink_hooks hooks = { on_connected, on_status, NULL, on_shutdown, on_set_reply, ic };

	ic->status_ctrl = self;
	initlink_start(&ic->link, env->loop, env->init_socket, &hooks);
	return 0;
}

const struct ctrl_def ctrl_init_sync = {
	.rt = { "InitSyncController", sync_in, 1, NULL, 0, sync_reconcile, NULL },
	.shared = shared_init,
	.init = sync_start,
	.touches_machine = true,
};

const struct ctrl_def ctrl_service_status = {
	.rt = { "ServiceStatusController", NULL, 0, status_out, 1, status_reconcile, NULL },
	.shared = shared_init,
	.init = status_start,
	.touches_machine = true,
};

void initctrl_stop(struct initctrl *ic)
{
	initlink_stop(&ic->link);
	free(ic->acked);
	free(ic->sent);
	ic->acked = ic->sent = NULL;
}

/* --- requests from the API --- */

int initctrl_stop_service(struct initctrl *ic, struct rt *rt, const char *id, char *err,
			  size_t errlen)
{
	if (!store_get(rt_store(rt), RES(SERVICE_SPEC), id)) {
		snprintf(err, errlen, "no service %s", id);
		return -ENOENT;
	}
	if (strcmp(id, "machined") == 0) {
		snprintf(err, errlen, "machined serves this API and cannot be stopped through it");
		return -EPERM;
	}
	for (size_t i = 0; i < ic->nstopped; i++)
		if (strcmp(ic->stopped[i], id) == 0)
			return 0;
	if (ic->nstopped == INITCTRL_MAX || strlen(id) >= sizeof(ic->stopped[0])) {
		snprintf(err, errlen, "too many stopped services");
		return -ENOSPC;
	}
	snprintf(ic->stopped[ic->nstopped++], sizeof(ic->stopped[0]), "%s", id);
	rt_kick(ic->sync_ctrl);
	rt_kick(ic->status_ctrl);
	return 0;
}

int initctrl_start_service(struct initctrl *ic, const char *id)
{
	for (size_t i = 0; i < ic->nstopped; i++) {
		if (strcmp(ic->stopped[i], id) != 0)
			continue;
		memmove(ic->stopped[i], ic->stopped[i + 1], (ic->nstopped - i - 1) * sizeof(ic->stopped[0]));
		ic->nstopped--;
		rt_kick(ic->sync_ctrl);
		rt_kick(ic->status_ctrl);
		return 1;
	}
	return 0;
}

struct init_reply {
	initctrl_reply_fn *fn;
	void *arg;
};

static bool on_init_reply(void *arg, const Basalt__Init__Response *resp)
{
	struct init_reply *r = arg;

	r->fn(r->arg, resp->error, resp->message);
	free(r);
	return false;
}

static int send_request(struct initctrl *ic, Basalt__Init__Request *req, initctrl_reply_fn *fn,
			void *arg)
{
	struct init_reply *r;

	if (!initlink_up(&ic->link))
		return -ENOTCONN;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fn = fn;
	r->arg = arg;
	if (initclient_send(&ic->link.ic, req, on_init_reply, r) < 0) {
		free(r);
		return -EIO;
	}
	return 0;
}

int initctrl_restart_service(struct initctrl *ic, const char *id, initctrl_reply_fn *reply,
			     void *arg)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__RestartService rs = BASALT__INIT__RESTART_SERVICE__INIT;

	rs.id = (char *)id;
	req.op_case = BASALT__INIT__REQUEST__OP_RESTART_SERVICE;
	req.restart_service = &rs;
	return send_request(ic, &req, reply, arg);
}

int initctrl_power(struct initctrl *ic, int action, initctrl_reply_fn *reply, void *arg)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__Power pw = BASALT__INIT__POWER__INIT;

	pw.action = action;
	req.op_case = BASALT__INIT__REQUEST__OP_POWER;
	req.power = &pw;
	return send_request(ic, &req, reply, arg);
}
