/* SPDX-License-Identifier: MIT */
/* Test fixture: a loop, a supervisor and a control server, with every change recorded. */
#ifndef BASALT_TEST_SUPFIX_H
#define BASALT_TEST_SUPFIX_H

#include <stdbool.h>

#include "init/ctl.h"
#include "init/supervisor.h"

#define SUPFIX_MAX_EVENTS 1024

struct supfix_event {
	char id[64];
	enum svc_state state;
	int pid;
	bool removed;
	uint64_t t_ms;  /* mono_ms() when recorded */
};

struct supfix {
	struct loop *loop;
	struct supervisor sup;
	struct ctl_server ctl;
	struct supfix_event ev[SUPFIX_MAX_EVENTS];
	size_t nev;
	bool all_down;
	int power_action;
	size_t nwipe;          /* the devices the last power request asked init to wipe */
	char wipe[4][64];
};

/* Starts a supervisor whose core service "machined" runs core_cmd under /bin/sh -c. */
void supfix_start(struct supfix *f, const char *core_cmd);
/* Kills every service process, reaps them and frees everything. */
void supfix_stop(struct supfix *f);

struct svc_opts {
	int restart;              /* enum spec_restart */
	unsigned stop_timeout_ms;
	unsigned base_ms, max_ms;
	const char *dep;
};
/* Fills s for id running cmd under /bin/sh -c. */
void supfix_spec(struct spec *s, const char *id, const char *cmd, const struct svc_opts *o);

/* Runs the loop until cond(f, arg) holds or ms pass; returns whether it held. */
bool supfix_run_until(struct supfix *f, bool (*cond)(struct supfix *, const void *),
		      const void *arg, int ms);
bool supfix_state_is(struct supfix *f, const char *id, enum svc_state st);
/* Index of the n-th (0-based) event for id entering st, or -1. */
long supfix_find_event(const struct supfix *f, const char *id, enum svc_state st, int n);
int supfix_count_events(const struct supfix *f, const char *id, enum svc_state st);

#endif
