/* SPDX-License-Identifier: MIT */
/*
 * Writing the network specs of one layer (default, cmdline, configuration; platform and
 * DHCP to come), each under the id "<layer>/..." so layers never collide. Each returns
 * rt_apply's result.
 */
#ifndef BASALT_CTRL_NETSPEC_H
#define BASALT_CTRL_NETSPEC_H

#include "machined/core/runtime.h"

/*
 * A layer's precedence where two layers want different values of one field (a link's
 * MTU): default < cmdline < platform < dhcp4, dhcp6 < configuration. -1 for a name that is
 * no layer.
 */
int netspec_rank(const char *layer);

/* The link up, with its MTU (0: leave it). */
int netspec_link(struct rt_ctx *ctx, const char *layer, const char *name, unsigned mtu);
/* cidr ("10.0.0.2/24") on link. */
int netspec_address(struct rt_ctx *ctx, const char *layer, const char *link, const char *cidr);
/* A route through link: destination a CIDR or "" for the default, gateway "" for on-link. */
int netspec_route(struct rt_ctx *ctx, const char *layer, const char *link, const char *destination,
		  const char *gateway, unsigned metric);

/*
 * For the controllers that change the network: when refused (ctrl_env's net_refused) and
 * some resource of type t asks for a change, the run fails with the reason (rt_fail's
 * value); else 0.
 */
int netspec_refuse(struct rt_ctx *ctx, const char *refused, const struct res_type *t);

#endif
