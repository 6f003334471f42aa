/* SPDX-License-Identifier: MIT */
#include "machined/ctrl/initlink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/backoff.h"
#include "lib/log.h"

static bool on_event(void *arg, const Basalt__Init__Response *resp)
{
	struct initlink *l = arg;

	if (resp->result_case == BASALT__INIT__RESPONSE__RESULT_EVENT && l->hooks.status)
		l->hooks.status(l->hooks.arg, resp->event);
	else if (resp->result_case == BASALT__INIT__RESPONSE__RESULT_BOOTSTRAPPED && l->hooks.bootstrapped)
		l->hooks.bootstrapped(l->hooks.arg);
	else if (resp->result_case == BASALT__INIT__RESPONSE__RESULT_SHUTDOWN && l->hooks.shutdown)
		l->hooks.shutdown(l->hooks.arg, resp->shutdown);
	return true;
}

static bool on_set_reply(void *arg, const Basalt__Init__Response *resp)
{
	struct initlink *l = arg;

	if (l->hooks.set_reply)
		l->hooks.set_reply(l->hooks.arg, resp->error, resp->message);
	return false;
}

static void try_connect(void *arg)
{
	struct initlink *l = arg;
	struct backoff b = { 100, 200, 5000 };
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__WatchServices watch = BASALT__INIT__WATCH_SERVICES__INIT;

	if (initclient_connect(&l->ic, l->path, l->last_error, sizeof(l->last_error)) < 0) {
		if (l->attempts++ == 0)
			log_warnx("%s; retrying", l->last_error);
		loop_timer_arm(l->loop, &l->reconnect, backoff_delay_ms(&b, l->attempts));
		return;
	}
	if (l->attempts)
		log_info("connected to init after %u attempts", l->attempts);
	l->attempts = 0;
	l->last_error[0] = '\0';
	req.op_case = BASALT__INIT__REQUEST__OP_WATCH_SERVICES;
	req.watch_services = &watch;
	if (initclient_send(&l->ic, &req, on_event, l) < 0)
		log_warnx("watch services: cannot send to init");
	if (l->hooks.connected)
		l->hooks.connected(l->hooks.arg, true);
}

static void on_lost(void *arg, int reason)
{
	struct initlink *l = arg;

	snprintf(l->last_error, sizeof(l->last_error), "%s",
		 l->ic.refusal[0] ? l->ic.refusal : strerror(-reason));
	log_warnx("lost init's control socket: %s; reconnecting", l->last_error);
	if (l->hooks.connected)
		l->hooks.connected(l->hooks.arg, false);
	loop_timer_arm(l->loop, &l->reconnect, 100);
}

void initlink_start(struct initlink *l, struct loop *loop, const char *path,
		    const struct initlink_hooks *hooks)
{
	memset(l, 0, sizeof(*l));
	l->loop = loop;
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->hooks = *hooks;
	initclient_init(&l->ic, loop, on_lost, l);
	loop_timer_init(&l->reconnect, try_connect, l);
	try_connect(l);
}

void initlink_stop(struct initlink *l)
{
	loop_timer_cancel(l->loop, &l->reconnect);
	initclient_close(&l->ic);
}

bool initlink_up(const struct initlink *l)
{
	return initclient_connected(&l->ic);
}

int initlink_send_set(struct initlink *l, Basalt__Init__SetServices *set)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;

	req.op_case = BASALT__INIT__REQUEST__OP_SET_SERVICES;
	req.set_services = set;
	return initclient_send(&l->ic, &req, on_set_reply, l);
}
