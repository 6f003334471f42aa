/* SPDX-License-Identifier: MIT */
/*
 * init's control socket: a unix stream socket, root only (SO_PEERCRED), speaking framed
 * basalt.init.Request / Response messages (api/init.proto).
 */
#ifndef BASALT_CTL_H
#define BASALT_CTL_H

#include <stddef.h>
#include <sys/types.h>

#include "init/supervisor.h"
#include "lib/loop.h"

#define CTL_MAX_REQUEST (256u << 10)  /* larger requests are refused and the peer dropped */
#ifndef CTL_MAX_QUEUED
#define CTL_MAX_QUEUED (1u << 20)     /* a watcher this far behind is dropped (unit tests: less) */
#endif
#define CTL_MAX_CONNS 64
#define CTL_CHUNK (16u << 10)         /* log bytes per LogChunk */

struct ctl_conn;

/* action is a basalt.init.PowerAction value. Called after the reply was written. */
/* A power request: action, and the devices to wipe after the unmount (0 to CTL_WIPE_MAX,
 * each checked: "/dev/" and a name of letters, digits, '/', '_', '-' and '.', no ".."). */
#define CTL_WIPE_MAX 4
#define CTL_WIPE_PATH 64
typedef void ctl_power_fn(void *arg, int action, char *const *wipe, size_t nwipe);

struct ctl_server {
	struct loop *loop;
	struct supervisor *sup;
	int lfd;
	struct loop_watch *lwatch;
	struct ctl_conn *conns;  /* doubly linked */
	size_t nconns;
	struct ctl_conn *dead;   /* closed, freed by reap after the loop turn */
	struct loop_timer reap;
	uid_t allowed_uid;
	ctl_power_fn *power;
	void *power_arg;
	char path[108];
};

void ctl_init(struct ctl_server *srv, struct loop *loop, struct supervisor *sup,
	      ctl_power_fn *power, void *power_arg);
/* Creates the socket at path (mode 0600, parent directory 0700). err says why not. */
int ctl_listen(struct ctl_server *srv, const char *path, char *err, size_t errlen);
/* Serves an already connected socket (tests; no credential check). Takes fd. */
int ctl_attach(struct ctl_server *srv, int fd);
void ctl_fini(struct ctl_server *srv);

/* Tells watchers a shutdown began (action: basalt.init.PowerAction). */
void ctl_notify_shutdown(struct ctl_server *srv, int action);
/* Supervisor hooks: push a status event to watchers, new output to followers. */
void ctl_service_changed(struct ctl_server *srv, struct svc *s);
void ctl_service_log(struct ctl_server *srv, struct svc *s);

#endif
