/* SPDX-License-Identifier: MIT */
/*
 * machined's link to init: keeps the control socket connected (reconnecting with backoff),
 * watches service status, and sends service sets.
 */
#ifndef BASALT_INITLINK_H
#define BASALT_INITLINK_H

#include <stdbool.h>

#include "machined/ctrl/initclient.h"

struct initlink_hooks {
	void (*connected)(void *arg, bool up);
	/* A service's status; bootstrapped once init's initial list is complete. */
	void (*status)(void *arg, const Basalt__Init__ServiceStatus *st);
	void (*bootstrapped)(void *arg);
	/* init began a shutdown: action is a basalt.init.PowerAction. */
	void (*shutdown)(void *arg, int action);
	/* The answer to initlink_send_set: error 0, or init's reason. */
	void (*set_reply)(void *arg, int error, const char *message);
	void *arg;
};

struct initlink {
	struct loop *loop;
	struct initclient ic;
	char path[108];
	struct loop_timer reconnect;
	unsigned attempts;
	char last_error[256];   /* why the last connect failed */
	struct initlink_hooks hooks;
};

void initlink_start(struct initlink *l, struct loop *loop, const char *path,
		    const struct initlink_hooks *hooks);
void initlink_stop(struct initlink *l);
bool initlink_up(const struct initlink *l);
/* Sends a SetServices request (not taken over). */
int initlink_send_set(struct initlink *l, Basalt__Init__SetServices *set);

#endif
