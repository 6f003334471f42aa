/* SPDX-License-Identifier: MIT */
/*
 * NetworkConfigController: the configuration layer of the network specs, from
 * machine.network.interfaces[] (an interface named by `interface`): the link up with its
 * MTU, its addresses, its routes (DHCP is DHCP4Controller's); the resolvers of
 * machine.network.nameservers and searchDomains; the time servers of machine.time. Unlike the default layers it
 * also holds in a container, where the config naming a link is the user's say-so; the
 * guard of netguard.h still keeps a host's own network untouched. What this release does
 * not apply yet (a deviceSelector, bonds, bridges, VLANs, WireGuard, a VIP) is named in
 * the controller's status, never silently dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.pb-c.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"

static const struct rt_input inputs[] = { { RES(MACHINE_CONFIG), RT_WEAK } };
static const struct rt_output outputs[] = {
	{ RES(LINK_SPEC), RT_SHARED },      { RES(ADDRESS_SPEC), RT_SHARED },    { RES(ROUTE_SPEC), RT_SHARED },
	{ RES(RESOLVER_SPEC), RT_SHARED },  { RES(TIMESERVER_SPEC), RT_SHARED },
};

#define LAYER "configuration"

/* What this release cannot apply yet, by name. */
static const char *unsupported(const Basalt__Config__Interface *i)
{
	if (i->deviceselector)
		return "deviceSelector";
	if (i->bond)
		return "bond";
	if (i->bridge)
		return "bridge";
	if (i->n_vlans)
		return "vlans";
	if (i->wireguard)
		return "wireguard";
	if (i->vip)
		return "vip";
	return NULL;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	const Basalt__Config__Config *cfg = res_spec(rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1"), RES(MACHINE_CONFIG));
	const Basalt__Config__Network *net = cfg && cfg->machine ? cfg->machine->network : NULL;
	const Basalt__Config__Time *time = cfg && cfg->machine ? cfg->machine->time : NULL;
	char missing[256] = "";
	int r;

	(void)arg;
	if (time && !(time->has_disabled && time->disabled) &&
	    (r = netspec_timeservers(ctx, LAYER, "timeservers", (const char *const *)time->servers, time->n_servers)) < 0)
		return r;
	if (!net)
		return 0;
	if ((r = netspec_resolvers(ctx, LAYER, "resolvers", (const char *const *)net->nameservers, net->n_nameservers,
				   (const char *const *)net->searchdomains, net->n_searchdomains)) < 0)
		return r;
	for (size_t k = 0; k < net->n_interfaces; k++) {
		const Basalt__Config__Interface *i = net->interfaces[k];
		const char *u = unsupported(i);

		if (i->has_ignore && i->ignore)
			continue;
		if (u) {
			size_t n = strlen(missing);

			snprintf(missing + n, sizeof(missing) - n, "%s%s.%s", n ? ", " : "",
				 i->interface ? i->interface : "interfaces[]", u);
		}
		if (!i->interface)
			continue;
		if ((r = netspec_link(ctx, LAYER, i->interface, i->has_mtu ? i->mtu : 0)) < 0)
			return r;
		for (size_t a = 0; a < i->n_addresses; a++)
			if ((r = netspec_address(ctx, LAYER, i->interface, i->addresses[a])) < 0)
				return r;
		for (size_t a = 0; a < i->n_routes; a++) {
			const Basalt__Config__Route *rt = i->routes[a];

			if ((r = netspec_route(ctx, LAYER, i->interface, rt->network ? rt->network : "",
					       rt->gateway ? rt->gateway : "", rt->has_metric ? rt->metric : 1024)) < 0)
				return r;
		}
	}
	if (missing[0])
		return rt_fail(ctx, "not applied by this release yet: %s (the rest of machine.network is)", missing);
	return 0;
}

const struct ctrl_def ctrl_network_config = {
	.rt = { .name = "NetworkConfigController", .inputs = inputs, .ninputs = 1, .outputs = outputs,
		.noutputs = 5, .reconcile = reconcile },
};
