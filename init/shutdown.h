/* SPDX-License-Identifier: MIT */
/*
 * The ordered end: stop services in reverse dependency order, then SIGTERM and SIGKILL
 * whatever is left, sync, unmount, reboot(2). Runs on the loop; never returns control.
 */
#ifndef BASALT_SHUTDOWN_H
#define BASALT_SHUTDOWN_H

#include <stdbool.h>
#include <stdint.h>

#include "init/supervisor.h"
#include "lib/loop.h"

#define SHUTDOWN_SERVICES_MS 60000  /* after this, remaining services are killed */
#define SHUTDOWN_REST_TERM_MS 3000  /* grace for stray processes after SIGTERM */

enum shutdown_action {
	SHUTDOWN_NONE = 0,
	SHUTDOWN_REBOOT = 1,    /* basalt.init.PowerAction values */
	SHUTDOWN_POWEROFF = 2,
};

enum shutdown_phase {
	SD_IDLE,
	SD_SERVICES,   /* waiting for services to stop */
	SD_REST_TERM,  /* SIGTERM sent to every other process */
	SD_REST_KILL,  /* SIGKILL sent */
	SD_FINAL,
};

struct shutdown {
	struct loop *loop;
	struct supervisor *sup;
	bool container;  /* no unmounting: the mount namespace goes with us */
	enum shutdown_action action;
	enum shutdown_phase phase;
	struct loop_timer timer;
	uint64_t started_ms;
	/* Devices to wipe once everything is unmounted (a Reset). */
	char wipe[4][64];
	size_t nwipe;
	/* Called once the sequence starts, before any service stops (tells watchers). */
	void (*before_stop)(void *arg, enum shutdown_action action);
	void *before_stop_arg;
};

void shutdown_init(struct shutdown *sd, struct loop *loop, struct supervisor *sup, bool container);
/* Starts the sequence (true); later requests while it runs are logged and ignored (false). */
bool shutdown_begin(struct shutdown *sd, enum shutdown_action action, const char *why);
/* The same, wiping devices (at most 4, checked by the caller) after the unmount. */
bool shutdown_begin_wipe(struct shutdown *sd, enum shutdown_action action, const char *why, char *const *wipe,
			 size_t nwipe);
/* Hooks: the supervisor's all_down, and after every reap. */
void shutdown_services_down(struct shutdown *sd);
void shutdown_child_reaped(struct shutdown *sd);
const char *shutdown_action_name(enum shutdown_action a);

#endif
