/* SPDX-License-Identifier: MIT */
/*
 * What LinkStatusController (ctrl_links.c), AddressStatusController (ctrl_addresses.c) and
 * RouteStatusController (ctrl_routes.c) share: the rtnetlink event socket that kicks them,
 * and the link names of the last link dump (an address or route names its link by them).
 */
#ifndef BASALT_CTRL_NETSTATUS_H
#define BASALT_CTRL_NETSTATUS_H

#include <linux/if.h>

#include "lib/loop.h"
#include "netctl/rtnl.h"
#include "machined/core/runtime.h"
#include "machined/ctrl/ctrl.h"

#define LINKS_MAX 512

struct netstatus {
	struct loop *loop;
	int ev_fd;                  /* the multicast groups */
	struct loop_watch *ev_w;
	struct rt_ctrl *links, *addrs, *routes;
	char names[LINKS_MAX][IFNAMSIZ];  /* by ifindex % LINKS_MAX, from the last link dump */
	unsigned idx[LINKS_MAX];
};

extern struct netstatus netstatus_shared;
void *netstatus_state(const struct ctrl_env *env);

/* One run of a controller over a dump. */
struct netstatus_run {
	struct rt_ctx *ctx;
	struct netstatus *ns;
	int r;
};

/* The name of link index as the last link dump had it, or "if<index>" for one it did not see. */
const char *netstatus_link_name(const struct netstatus *ns, unsigned index, char *buf, size_t len);
/* A route's network/RouteStatus id: "<family>/<destination>/<gateway>/<link>/<metric>". */
void netstatus_route_id(const struct rtnl_route *r, const char *link, char *buf, size_t len);

#endif
