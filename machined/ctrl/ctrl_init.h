/* SPDX-License-Identifier: MIT */
/* InitSyncController and ServiceStatusController: machined's side of init's socket. */
#ifndef BASALT_CTRL_INIT_H
#define BASALT_CTRL_INIT_H

#include <stddef.h>
#include <stdint.h>

#include "machined/ctrl/ctrl.h"
#include "machined/ctrl/initlink.h"
#include "machined/core/runtime.h"

#define INITCTRL_MAX 64

struct initctrl_status {
	char id[64];
	int state;        /* basalt.init.ServiceState */
	int pid;
	uint32_t restarts;
	int last_exit;
	char message[256];
};

struct initctrl {
	struct initlink link;
	struct rt_ctrl *sync_ctrl, *status_ctrl;
	uint8_t *acked;            /* the set init last accepted, packed */
	size_t ackedlen;
	uint8_t *sent;             /* the set awaiting init's answer */
	size_t sentlen;
	char reply_error[256];     /* init's reason for refusing the last set */
	struct initctrl_status status[INITCTRL_MAX];
	size_t nstatus;
	char stopped[INITCTRL_MAX][64];  /* held down through the API until started again */
	size_t nstopped;
	/* init began a shutdown (basalt.init.PowerAction); the owner learns it here. */
	void (*on_shutdown)(void *arg, int action);
	void *on_shutdown_arg;
};

/*
 * Readies ic (keeping its on_shutdown hook); the two controllers below drive it, and the
 * second opens the link to init (ctrl_env.init_socket) when it is registered.
 */
void initctrl_init(struct initctrl *ic);
/* Opens the link to init at socket (ServiceStatusController does, when registered). */
void initctrl_open_link(struct initctrl *ic, struct loop *loop, const char *socket);
const struct initctrl_status *initctrl_find_status(const struct initctrl *ic, const char *id);
void initctrl_stop(struct initctrl *ic);
/* Their state is ctrl_env.init (their ctrl_def's shared). */
void *initctrl_state(const struct ctrl_env *env);
extern const struct ctrl_def ctrl_init_sync;
extern const struct ctrl_def ctrl_service_status;

/* The answer to a request sent to init: error 0, or a positive errno and init's reason. */
typedef void initctrl_reply_fn(void *arg, int error, const char *message);
/*
 * Holds a service down (it leaves the set sent to init) until initctrl_start_service.
 * -ENOENT: no such service; -EPERM: machined itself.
 */
int initctrl_stop_service(struct initctrl *ic, struct rt *rt, const char *id, char *err,
			  size_t errlen);
/* Puts a stopped service back in the set; 0 if it was not stopped (nothing to do). */
int initctrl_start_service(struct initctrl *ic, const char *id);
/* Asks init to restart a service; reply runs with init's answer. */
int initctrl_restart_service(struct initctrl *ic, const char *id, initctrl_reply_fn *reply,
			     void *arg);
/* Asks init to reboot or power off (basalt.init.PowerAction). */
/* Reboot or power off; init wipes the nwipe devices of wipe once everything is unmounted. */
int initctrl_power(struct initctrl *ic, int action, char *const *wipe, size_t nwipe, initctrl_reply_fn *reply,
		   void *arg);

#endif
