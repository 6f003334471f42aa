/* SPDX-License-Identifier: MIT */
/*
 * The service set: reconciles the desired set towards running processes, reaps every
 * child (services and orphans alike), and orders starts and stops by dependency.
 */
#ifndef BASALT_SUPERVISOR_H
#define BASALT_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>

#include "init/cgroup.h"
#include "init/svc.h"
#include "lib/loop.h"

struct supervisor_hooks {
	void (*changed)(void *arg, struct svc *s);  /* state or pid changed */
	void (*log)(void *arg, struct svc *s);      /* new output in s->log */
	void (*all_down)(void *arg);                /* supervisor_stop_all has finished */
	void *arg;
};

struct supervisor {
	struct loop *loop;
	struct cgroup_tree cg;        /* nbase == 0: no cgroups */
	struct svc **svcs;            /* in the order they were added */
	size_t nsvcs;
	char core_id[SPEC_ID_MAX + 1];  /* started first, stopped last, required in every set */
	bool stopping_all;
	bool echo_logs;               /* copy service output to init's log (basalt.debug) */
	unsigned orphans_reaped;
	struct supervisor_hooks hooks;
};

/* core is the built-in core service (machined); ownership passes to the supervisor. */
int supervisor_init(struct supervisor *sup, struct loop *loop, const struct cgroup_tree *cg,
		    struct spec *core, const struct supervisor_hooks *hooks);
void supervisor_fini(struct supervisor *sup);

/*
 * Makes set[0..n) the desired set: new services start, removed ones stop (dependents
 * first), changed ones restart with their new spec, unchanged ones are left alone.
 * Validates first; on error nothing changes. Consumes the specs on success.
 */
int supervisor_set(struct supervisor *sup, struct spec *set, size_t n, char *err, size_t errlen);
struct svc *supervisor_find(const struct supervisor *sup, const char *id);
int supervisor_restart(struct supervisor *sup, const char *id, char *err, size_t errlen);
int supervisor_signal(struct supervisor *sup, const char *id, int sig, char *err, size_t errlen);

/* Stops everything in reverse dependency order, then calls hooks.all_down. */
void supervisor_stop_all(struct supervisor *sup);
/* Kills every remaining service process group (shutdown deadline). */
void supervisor_kill_all(struct supervisor *sup);
bool supervisor_all_down(const struct supervisor *sup);

/* Reaps all exited children; call on SIGCHLD. */
void supervisor_reap(struct supervisor *sup);
/* Drives transitions that depend on other services until nothing changes. */
void supervisor_reconcile(struct supervisor *sup);

/* For svc.c: tell the hooks. */
void supervisor_notify_change(struct supervisor *sup, struct svc *s);
void supervisor_notify_log(struct supervisor *sup, struct svc *s);

#endif
