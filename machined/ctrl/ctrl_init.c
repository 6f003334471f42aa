/* SPDX-License-Identifier: MIT */
/*
 * machined's side of init's socket: the state InitSyncController (ctrl_init_sync.c) and
 * ServiceStatusController (ctrl_service_status.c) share, the link's event hooks, and the
 * requests the API makes of init (stop, start, restart a service; reboot, power off).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "machined/ctrl/ctrl_init.h"

static struct initctrl_status *find_status(struct initctrl *ic, const char *id)
{
	return (struct initctrl_status *)initctrl_find_status(ic, id);
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

void *initctrl_state(const struct ctrl_env *env)
{
	return env->init;
}

void initctrl_open_link(struct initctrl *ic, struct loop *loop, const char *socket)
{
	struct initlink_hooks hooks = { on_connected, on_status, NULL, on_shutdown, on_set_reply, ic };

	initlink_start(&ic->link, loop, socket, &hooks);
}

const struct initctrl_status *initctrl_find_status(const struct initctrl *ic, const char *id)
{
	for (size_t i = 0; i < ic->nstatus; i++)
		if (strcmp(ic->status[i].id, id) == 0)
			return &ic->status[i];
	return NULL;
}

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

int initctrl_power(struct initctrl *ic, int action, char *const *wipe, size_t nwipe, initctrl_reply_fn *reply,
		   void *arg)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__Power pw = BASALT__INIT__POWER__INIT;

	pw.action = action;
	pw.wipe = (char **)wipe;
	pw.n_wipe = nwipe;
	req.op_case = BASALT__INIT__REQUEST__OP_POWER;
	req.power = &pw;
	return send_request(ic, &req, reply, arg);
}
