/* SPDX-License-Identifier: MIT */
/*
 * One supervised service as an explicit state machine: svc_dispatch looks up
 * table[state][event] and runs that action, which returns the next state.
 */
#ifndef BASALT_SVC_H
#define BASALT_SVC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "init/spec.h"
#include "lib/loop.h"
#include "lib/ring.h"
#include "lib/svcstate.h"

struct supervisor;

/* Values match basalt.init.ServiceState. */
/* The numbers of api/init.proto's ServiceState; lib/svcstate.c names them. */
enum svc_state {
	SVC_DOWN = BASALT__INIT__SERVICE_STATE__STATE_DOWN,
	SVC_WAITING = BASALT__INIT__SERVICE_STATE__STATE_WAITING,
	SVC_RUNNING = BASALT__INIT__SERVICE_STATE__STATE_RUNNING,
	SVC_STOPPING = BASALT__INIT__SERVICE_STATE__STATE_STOPPING,
	SVC_BACKOFF = BASALT__INIT__SERVICE_STATE__STATE_BACKOFF,
	SVC_FINISHED = BASALT__INIT__SERVICE_STATE__STATE_FINISHED,
	SVC_NSTATES,
};

enum svc_event {
	SVC_EV_WANT,        /* added to the desired set */
	SVC_EV_UNWANT,      /* dropped from it, or shutdown */
	SVC_EV_DEPS_READY,  /* everything it depends on is running */
	SVC_EV_STOP,        /* unwanted and nothing running depends on it any more */
	SVC_EV_EXIT,        /* its main process exited (or never started) */
	SVC_EV_TIMER,       /* backoff elapsed, or stop grace ran out */
	SVC_EV_RESTART,     /* explicit restart request */
	SVC_NEVENTS,
};

/* A run shorter than this counts towards the backoff streak. */
#define SVC_STABLE_MS 10000

struct svc {
	struct spec spec;
	struct supervisor *sup;
	enum svc_state state;
	bool wanted;           /* in the desired set and not shutting down */
	bool removed;          /* dropped from the set: freed once down */
	bool restart_pending;  /* start again once the current stop completes */
	pid_t pid;             /* main process, 0 when none */
	int last_exit;         /* -1 before any exit, else status or 128+signal */
	unsigned restarts;     /* automatic and requested restarts since added */
	unsigned streak;       /* consecutive runs shorter than SVC_STABLE_MS */
	uint64_t since_ms;     /* boot_ms() of the last state change */
	uint64_t started_ms;   /* mono_ms() of the last start */
	uint64_t next_start_ms;  /* boot_ms() of the planned restart (BACKOFF) */
	char message[256];     /* why it is in this state */
	struct loop_timer timer;
	struct ring log;       /* stdout and stderr of every run */
	int log_rd, log_wr;    /* pipe shared by all runs; init keeps both ends */
	struct loop_watch *log_watch;
};

/* Takes ownership of *spec (zeroed on success). */
int svc_new(struct supervisor *sup, struct spec *spec, struct svc **out);
void svc_free(struct svc *s);
/* Runs one transition; the caller reconciles afterwards. */
void svc_dispatch(struct svc *s, enum svc_event ev);
/* The main process exited with wait status. */
void svc_exited(struct svc *s, int status);
bool svc_alive(const struct svc *s);

#endif
