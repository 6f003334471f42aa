/* SPDX-License-Identifier: MIT */
/*
 * Writing the network specs of one layer (default, cmdline, configuration; platform and
 * DHCP to come), each under the id "<layer>/..." so layers never collide. Each returns
 * rt_apply's result.
 */
#ifndef BASALT_CTRL_NETSPEC_H
#define BASALT_CTRL_NETSPEC_H

#include "api/config.pb-c.h"
#include "machined/core/runtime.h"

/*
 * A layer's precedence where two layers want different values of one field (a link's
 * MTU): default < cmdline < platform < dhcp4, dhcp6 < configuration. -1 for a name that is
 * no layer.
 */
int netspec_rank(const char *layer);

/* The link up, with its MTU (0: leave it). */
int netspec_link(struct rt_ctx *ctx, const char *layer, const char *name, unsigned mtu);
/* A link to create (kind bond, bridge, vlan, dummy) or a member of one (master); NULL fields are none. */
struct netspec_linkopts {
	const char *kind, *master, *parent;
	unsigned vlan_id;
	const void *bond;           /* Basalt__Config__Bond, or NULL */
	bool stp;
};
int netspec_link_opts(struct rt_ctx *ctx, const char *layer, const char *name, unsigned mtu,
		      const struct netspec_linkopts *o);
/* An operator (dhcp4) on a link. */
int netspec_operator(struct rt_ctx *ctx, const char *layer, const char *op, const char *link, unsigned metric);
/* cidr ("10.0.0.2/24") on link. */
int netspec_address(struct rt_ctx *ctx, const char *layer, const char *link, const char *cidr);
/* A route through link: destination a CIDR or "" for the default, gateway "" for on-link. */
int netspec_route(struct rt_ctx *ctx, const char *layer, const char *link, const char *destination,
		  const char *gateway, unsigned metric);
/* What else a route may carry. */
struct netspec_routeopts {
	const char *source;         /* the preferred source address, or NULL */
	unsigned mtu;               /* 0: the link's */
	bool onlink;                /* the gateway is on the link though no prefix of it holds it */
};
int netspec_route_opts(struct rt_ctx *ctx, const char *layer, const char *link, const char *destination,
		       const char *gateway, unsigned metric, const struct netspec_routeopts *o);

/*
 * A name under "<layer>/<source>": "node1.example.com" is the name node1 in the domain
 * example.com; a bare name takes domain (NULL or "" for none).
 */
int netspec_hostname(struct rt_ctx *ctx, const char *layer, const char *source, const char *name,
		     const char *domain);
/* DNS servers and search domains under "<layer>/<source>" (n == 0 and nsearch == 0: nothing written). */
int netspec_resolvers(struct rt_ctx *ctx, const char *layer, const char *source, const char *const *servers,
		      size_t n, const char *const *search, size_t nsearch);
/* NTP servers under "<layer>/<source>" (n == 0: nothing written). */
int netspec_timeservers(struct rt_ctx *ctx, const char *layer, const char *source, const char *const *servers,
			size_t n);

/*
 * Merging list-valued specs (resolvers, time servers): the values of the strongest layer
 * that names any; several specs of that rank (DHCP on two links) give their values in
 * the order added, each once. Values are borrowed from the specs for the run.
 */
#define NETSPEC_LIST_MAX 16
struct netspec_list {
	const char *v[NETSPEC_LIST_MAX];
	size_t n;
	int rank;               /* of the layer they came from; -2 while empty */
	const char *layer;
};
void netspec_list_init(struct netspec_list *l);
/* One spec's values, from layer: kept, added to, or ignored. */
void netspec_list_add(struct netspec_list *l, const char *layer, char *const *values, size_t n);

/*
 * For the controllers that change the network: when refused (ctrl_env's net_refused) and
 * some resource of type t asks for a change, the run fails with the reason (rt_fail's
 * value); else 0.
 */
/*
 * The link a machine.network deviceSelector picks among network/LinkStatus (the first
 * Ethernet link by name whose fields match its globs), copied to out; NULL when none does.
 */
const char *netspec_select_link(struct rt_ctx *ctx, const Basalt__Config__DeviceSelector *sel, char out[16]);
/* Whether machine.network names the link: an interface by name or selector, a bond's or
 * a bridge's member (ignored interfaces too: the user said to leave them alone). */
bool netspec_config_names(struct rt_ctx *ctx, const Basalt__Config__Network *net, const char *link);

/*
 * A machine.network as a layer's specs (the configuration layer's, or the platform's):
 * each interface's link, addressing, DHCP, bond, bridge and VLANs, and the resolvers. What
 * this release does not apply (WireGuard, a VIP) is named in gaps. 0 or -errno.
 */
int netspec_network(struct rt_ctx *ctx, const char *layer, const Basalt__Config__Network *net, char *gaps,
		    size_t gapslen);
int netspec_refuse(struct rt_ctx *ctx, const char *refused, const struct res_type *t);

#endif
