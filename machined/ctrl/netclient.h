/* SPDX-License-Identifier: MIT */
/*
 * What a per-link protocol client of machined (DHCP4Controller's, DHCP6Controller's) has
 * around its state machine: the link it runs on, its socket watched on the loop, its
 * timer, and whether the last run still wanted it.
 */
#ifndef BASALT_CTRL_NETCLIENT_H
#define BASALT_CTRL_NETCLIENT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/network.pb-c.h"
#include "lib/loop.h"
#include "machined/core/runtime.h"

#define NETCLIENT_REPORT_MS 1000  /* dropped packets show in its status at most this late */

struct netclient {
	struct loop *loop;
	struct rt_ctrl *ctrl;       /* its controller, run again to report */
	char link[IFNAMSIZ];
	unsigned index;
	int fd;                     /* -1 for none */
	struct loop_watch *w;
	struct loop_timer timer;
	struct loop_timer report;   /* a run of ctrl after packets were dropped */
	uint64_t dropped;           /* packets dropped as malformed */
	int shown;                  /* the client state its status shows (-1: none yet) */
	bool wanted;                /* by the controller's last run */
};

/* Takes fd over: watched with on_read, the timer set to call on_timer, both with arg. 0, or -errno (fd closed). */
int netclient_start(struct netclient *c, struct loop *loop, struct rt_ctrl *ctrl, const Basalt__Network__LinkStatus *l,
		    const char *link, int fd, loop_io_fn *on_read, loop_timer_fn *on_timer, void *arg);
/* A packet dropped as malformed: counted, and reported by a run within NETCLIENT_REPORT_MS
 * (a flood of them costs one run a second, not one per packet). */
void netclient_drop(struct netclient *c);
/* The client's state changed from what its status shows: its controller runs again. */
void netclient_state(struct netclient *c, int state);
/* network/OperatorStatus/<op>/<link> as the client is now (address CIDR and server "" without a lease). */
int netclient_status(struct rt_ctx *ctx, struct netclient *c, const char *op, int state, const char *state_name,
		     const char *address, const char *server, uint32_t lease_s);
/* The timer set for next_ms on the monotonic clock (UINT64_MAX: none). */
void netclient_arm(struct netclient *c, uint64_t next_ms);
/* Timer and watch gone, socket closed. */
void netclient_stop(struct netclient *c);
/* A client starts on a link that is up with a carrier: a first message into a down link is
 * lost, and the next would be seconds later. */
bool netclient_link_ready(const Basalt__Network__LinkStatus *l);

#endif
