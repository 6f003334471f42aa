/* SPDX-License-Identifier: MIT */
/*
 * NetworkConfigController: the configuration layer of the network specs, from
 * machine.network.interfaces[], each named by `interface` or found by its deviceSelector
 * among network/LinkStatus: the link up with its MTU, addresses and routes; a bond, bridge
 * or dummy link to create, with its members; its VLANs, each a link of its own with its
 * addressing; DHCP as an OperatorSpec for DHCP4Controller. Also the resolvers of
 * machine.network.nameservers and searchDomains, and the time servers of machine.time.
 * Unlike the default layers it also holds in a container, where the config naming a link
 * is the user's say-so; the guard of netguard.h still keeps a host's own network
 * untouched. What this release does not apply yet (WireGuard, a VIP) is named in the
 * controller's status, never silently dropped.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.pb-c.h"
#include "api/network.pb-c.h"
#include "lib/parse.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"

static const struct rt_input inputs[] = { { RES(MACHINE_CONFIG), RT_WEAK }, { RES(LINK_STATUS), RT_WEAK } };
static const struct rt_output outputs[] = {
	{ RES(LINK_SPEC), RT_SHARED },      { RES(ADDRESS_SPEC), RT_SHARED },    { RES(ROUTE_SPEC), RT_SHARED },
	{ RES(RESOLVER_SPEC), RT_SHARED },  { RES(TIMESERVER_SPEC), RT_SHARED }, { RES(OPERATOR_SPEC), RT_SHARED },
};


/* What could not be applied, by name, for the controller's status. */
struct gaps {
	char text[512];
};

static void gap(struct gaps *g, const char *where, const char *what)
{
	size_t n = strlen(g->text);

	if (n < sizeof(g->text))
		snprintf(g->text + n, sizeof(g->text) - n, "%s%s.%s", n ? ", " : "", where, what);
}

/*
 * Whether a gateway lies outside every prefix of the link's configured addresses (a /32
 * address with its gateway beside it, as some clouds hand out): such a route is added with
 * RTNH_F_ONLINK, which tells the kernel the gateway is reachable on the link anyway.
 */
static bool gateway_off_prefixes(const char *gateway, char **addrs, size_t naddrs)
{
	struct ipaddr gw, a;
	unsigned len;

	if (!gateway || !*gateway || !parse_ip(gateway, &gw))
		return false;
	for (size_t i = 0; i < naddrs; i++)
		if (parse_cidr(addrs[i], &a, &len) && a.family == gw.family && ip_in_prefix(&gw, &a, len))
			return false;
	return true;
}

/* Addresses, routes and DHCP of a link (an interface's or a VLAN's). */
static int addressing(struct rt_ctx *ctx, const char *layer, const char *link, char **addrs, size_t naddrs,
		      Basalt__Config__Route **routes, size_t nroutes, bool dhcp, const Basalt__Config__DhcpOptions *opts)
{
	int r;

	for (size_t a = 0; a < naddrs; a++)
		if ((r = netspec_address(ctx, layer, link, addrs[a])) < 0)
			return r;
	for (size_t a = 0; a < nroutes; a++) {
		const Basalt__Config__Route *rt = routes[a];

		struct netspec_routeopts o = { .source = rt->source, .mtu = rt->has_mtu ? rt->mtu : 0,
						.onlink = naddrs && gateway_off_prefixes(rt->gateway, addrs, naddrs) };

		if ((r = netspec_route_opts(ctx, layer, link, rt->network ? rt->network : "",
					    rt->gateway ? rt->gateway : "", rt->has_metric ? rt->metric : 1024, &o)) < 0)
			return r;
	}
	if (dhcp && (!opts || !opts->has_ipv4 || opts->ipv4) &&
	    (r = netspec_operator(ctx, layer, "dhcp4", link, opts && opts->has_routemetric ? opts->routemetric : 0)) < 0)
		return r;
	if (dhcp && opts && opts->has_ipv6 && opts->ipv6 &&
	    (r = netspec_operator(ctx, layer, "dhcp6", link, opts->has_routemetric ? opts->routemetric : 0)) < 0)
		return r;
	return 0;
}

/* A bond's or bridge's members, each up and in it. */
static int members(struct rt_ctx *ctx, const char *layer, const char *master, char **names, size_t n,
		   Basalt__Config__DeviceSelector **sels, size_t nsels)
{
	struct netspec_linkopts o = { .master = master };
	char found[IFNAMSIZ];
	int r;

	for (size_t i = 0; i < n; i++)
		if ((r = netspec_link_opts(ctx, layer, names[i], 0, &o)) < 0)
			return r;
	for (size_t i = 0; i < nsels; i++) {
		const char *m = netspec_select_link(ctx, sels[i], found);

		if (m && (r = netspec_link_opts(ctx, layer, m, 0, &o)) < 0)
			return r;
	}
	return 0;
}

static int interface(struct rt_ctx *ctx, const char *layer, const Basalt__Config__Interface *i, struct gaps *g)
{
	struct netspec_linkopts o = { 0 };
	char found[IFNAMSIZ], vname[IFNAMSIZ + 16];
	const char *name = i->interface;
	int r;

	if (!name && i->deviceselector && !(name = netspec_select_link(ctx, i->deviceselector, found)))
		return 0;  /* no such link (yet): a LinkStatus appearing runs this again */
	if (!name)
		return 0;
	if (i->vip)
		gap(g, name, "vip");
	if (i->bond) {
		o.kind = "bond";
		o.bond = i->bond;
	} else if (i->bridge) {
		o.kind = "bridge";
		o.stp = i->bridge->stp && i->bridge->stp->has_enabled && i->bridge->stp->enabled;
	} else if (i->has_dummy && i->dummy) {
		o.kind = "dummy";
	} else if (i->wireguard) {
		o.kind = "wireguard";  /* its keys and peers: WireguardController */
	}
	if ((r = netspec_link_opts(ctx, layer, name, i->has_mtu ? i->mtu : 0, &o)) < 0)
		return r;
	if (i->bond && (r = members(ctx, layer, name, i->bond->interfaces, i->bond->n_interfaces, i->bond->deviceselectors,
				    i->bond->n_deviceselectors)) < 0)
		return r;
	if (i->bridge && (r = members(ctx, layer, name, i->bridge->interfaces, i->bridge->n_interfaces, NULL, 0)) < 0)
		return r;
	if ((r = addressing(ctx, layer, name, i->addresses, i->n_addresses, i->routes, i->n_routes, i->has_dhcp && i->dhcp,
			    i->dhcpoptions)) < 0)
		return r;
	for (size_t v = 0; v < i->n_vlans; v++) {
		const Basalt__Config__Vlan *vl = i->vlans[v];
		struct netspec_linkopts vo = { .kind = "vlan", .parent = name, .vlan_id = vl->has_vlanid ? vl->vlanid : 0 };

		snprintf(vname, sizeof(vname), "%s.%u", name, vo.vlan_id);
		if (strlen(vname) >= IFNAMSIZ) {
			gap(g, name, "vlans (the name <link>.<id> is longer than 15 characters)");
			continue;
		}
		if (vl->vip)
			gap(g, vname, "vip");
		if ((r = netspec_link_opts(ctx, layer, vname, vl->has_mtu ? vl->mtu : 0, &vo)) < 0 ||
		    (r = addressing(ctx, layer, vname, vl->addresses, vl->n_addresses, vl->routes, vl->n_routes,
				    vl->has_dhcp && vl->dhcp, vl->dhcpoptions)) < 0)
			return r;
	}
	return 0;
}

int netspec_network(struct rt_ctx *ctx, const char *layer, const Basalt__Config__Network *net, char *gaps,
		    size_t gapslen)
{
	struct gaps g = { "" };
	int r;

	if ((r = netspec_resolvers(ctx, layer, "resolvers", (const char *const *)net->nameservers, net->n_nameservers,
				   (const char *const *)net->searchdomains, net->n_searchdomains)) < 0)
		return r;
	for (size_t k = 0; k < net->n_interfaces; k++)
		if (!(net->interfaces[k]->has_ignore && net->interfaces[k]->ignore) &&
		    (r = interface(ctx, layer, net->interfaces[k], &g)) < 0)
			return r;
	snprintf(gaps, gapslen, "%s", g.text);
	return 0;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	const Basalt__Config__Config *cfg = res_spec(rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1"), RES(MACHINE_CONFIG));
	const Basalt__Config__Network *net = cfg && cfg->machine ? cfg->machine->network : NULL;
	const Basalt__Config__Time *time = cfg && cfg->machine ? cfg->machine->time : NULL;
	char gaps[512];
	int r;

	(void)arg;
	if (time && !(time->has_disabled && time->disabled) &&
	    (r = netspec_timeservers(ctx, "configuration", "timeservers", (const char *const *)time->servers,
				     time->n_servers)) < 0)
		return r;
	if (!net)
		return 0;
	if ((r = netspec_network(ctx, "configuration", net, gaps, sizeof(gaps))) < 0)
		return r;
	if (gaps[0])
		return rt_fail(ctx, "not applied by this release yet: %s (the rest of machine.network is)", gaps);
	return 0;
}

const struct ctrl_def ctrl_network_config = {
	.rt = { .name = "NetworkConfigController", .inputs = inputs, .ninputs = 2, .outputs = outputs,
		.noutputs = 6, .reconcile = reconcile },
};
