/* SPDX-License-Identifier: MIT */
/*
 * Writing the network specs of one layer (default, cmdline, configuration; platform and
 * DHCP to come), each under the id "<layer>/..." so layers never collide. Each returns
 * rt_apply's result.
 */
#ifndef BASALT_CTRL_NETSPEC_H
#define BASALT_CTRL_NETSPEC_H

#include "machined/core/runtime.h"

/* The link up, with its MTU (0: leave it). */
int netspec_link(struct rt_ctx *ctx, const char *layer, const char *name, unsigned mtu);
/* cidr ("10.0.0.2/24") on link. */
int netspec_address(struct rt_ctx *ctx, const char *layer, const char *link, const char *cidr);
/* A route through link: destination a CIDR or "" for the default, gateway "" for on-link. */
int netspec_route(struct rt_ctx *ctx, const char *layer, const char *link, const char *destination,
		  const char *gateway, unsigned metric);

#endif
