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

struct netclient {
	struct loop *loop;
	char link[IFNAMSIZ];
	unsigned index;
	int fd;                     /* -1 for none */
	struct loop_watch *w;
	struct loop_timer timer;
	bool wanted;                /* by the controller's last run */
};

/* Takes fd over: watched with on_read, the timer set to call on_timer, both with arg. 0, or -errno (fd closed). */
int netclient_start(struct netclient *c, struct loop *loop, const Basalt__Network__LinkStatus *l,
		    const char *link, int fd, loop_io_fn *on_read, loop_timer_fn *on_timer, void *arg);
/* The timer set for next_ms on the monotonic clock (UINT64_MAX: none). */
void netclient_arm(struct netclient *c, uint64_t next_ms);
/* Timer and watch gone, socket closed. */
void netclient_stop(struct netclient *c);
/* A client starts on a link that is up with a carrier: a first message into a down link is
 * lost, and the next would be seconds later. */
bool netclient_link_ready(const Basalt__Network__LinkStatus *l);

#endif
