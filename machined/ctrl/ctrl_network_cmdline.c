/* SPDX-License-Identifier: MIT */
/*
 * NetworkCmdlineController: the default and kernel-command-line layers of the network
 * specs. On a real machine (never in a container, where the host or the engine owns the
 * network): the loopback up and a host name made from the first Ethernet link's hardware
 * address, "basalt-" and its last three bytes (layer default), and the kernel's ip= as a link up, its
 * address, a default route through its gateway and its DNS and NTP servers (layer
 * cmdline), so a node booted with
 * a static address is reachable in maintenance mode, with no DHCP server. Booted from an
 * ISO or over PXE with neither, a node asks DHCP: the default layer runs DHCPv4 on every
 * physical Ethernet link that neither ip= nor machine.network names (as Talos does), and
 * ip=dhcp (or ip=::::::dhcp on a named link) runs it at the cmdline layer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"
#include "netctl/ipcfg.h"

static const struct rt_input inputs[] = { { RES(LINK_STATUS), RT_WEAK }, { RES(MACHINE_CONFIG), RT_WEAK } };
static const struct rt_output outputs[] = {
	{ RES(LINK_SPEC), RT_SHARED },      { RES(ADDRESS_SPEC), RT_SHARED },    { RES(ROUTE_SPEC), RT_SHARED },
	{ RES(RESOLVER_SPEC), RT_SHARED },  { RES(TIMESERVER_SPEC), RT_SHARED }, { RES(HOSTNAME_SPEC), RT_SHARED },
	{ RES(OPERATOR_SPEC), RT_SHARED },
};

struct netcmd {
	struct platform_status *platform;  /* the links its network names are its */
	bool machine;
	bool have, bad;
	struct ipcfg ip;
	char err[256];
};

static struct netcmd netcmd;

/* The first Ethernet link, for an ip= that names no device. */
static int first_ether(void *arg, const struct res *r)
{
	const Basalt__Network__LinkStatus *l = res_spec(r, RES(LINK_STATUS));
	char *name = arg;

	if (!name[0] && l && strcmp(l->type, "ether") == 0)
		snprintf(name, IFNAMSIZ, "%s", r->id);
	return 0;
}

/* The first physical Ethernet link (a device behind it: bonds and bridges come and go). */
static int first_nic(void *arg, const struct res *r)
{
	const Basalt__Network__LinkStatus *l = res_spec(r, RES(LINK_STATUS));
	const Basalt__Network__LinkStatus **out = arg;

	if (!*out && l && strcmp(l->type, "ether") == 0 && l->bus[0])
		*out = l;
	return 0;
}

/* The default layer's host name: stable for the machine (its first NIC's own address), never "(none)". */
static int default_hostname(struct rt_ctx *ctx)
{
	const Basalt__Network__LinkStatus *l = NULL;
	uint8_t mac[6];
	char name[32];

	rt_list(ctx, RES(LINK_STATUS), first_nic, &l);
	if (!l || (!parse_hwaddr(l->permanentaddr, mac) && !parse_hwaddr(l->hardwareaddr, mac)))
		return 0;  /* no NIC yet: its LinkStatus appearing runs this again */
	snprintf(name, sizeof(name), "basalt-%02x%02x%02x", mac[3], mac[4], mac[5]);
	return netspec_hostname(ctx, "default", "hostname", name, NULL);
}

/* ip='s DNS and NTP servers, and its host name. */
static int servers(struct rt_ctx *ctx, const struct ipcfg *c)
{
	char dns[2][64], ntp[64];
	const char *v[2];
	size_t n = 0;
	int r;

	for (int i = 0; i < 2; i++)
		if (c->has_dns[i])
			v[n++] = inet_ntop(c->family, c->dns[i], dns[i], sizeof(dns[i]));
	if ((r = netspec_resolvers(ctx, "cmdline", "resolvers", v, n, NULL, 0)) < 0 ||
	    (c->hostname[0] && (r = netspec_hostname(ctx, "cmdline", "hostname", c->hostname, NULL)) < 0))
		return r;
	v[0] = c->has_ntp ? inet_ntop(c->family, c->ntp, ntp, sizeof(ntp)) : NULL;
	return netspec_timeservers(ctx, "cmdline", "timeservers", v, c->has_ntp ? 1 : 0);
}

struct dhcp_default {
	struct rt_ctx *ctx;
	const Basalt__Config__Network *net, *pnet;
	const char *cmdline_link;
	int r;
};

/* DHCPv4 on a physical Ethernet link nothing else configures. */
static int default_dhcp(void *arg, const struct res *res)
{
	const Basalt__Network__LinkStatus *l = res_spec(res, RES(LINK_STATUS));
	struct dhcp_default *d = arg;

	if (d->r < 0 || !l || strcmp(l->type, "ether") != 0 || !l->bus[0] ||
	    strcmp(res->id, d->cmdline_link) == 0 || netspec_config_names(d->ctx, d->net, res->id) ||
	    netspec_config_names(d->ctx, d->pnet, res->id))
		return 0;
	if ((d->r = netspec_link(d->ctx, "default", res->id, 0)) == 0)
		d->r = netspec_operator(d->ctx, "default", "dhcp4", res->id, 0);
	return 0;
}

/* ip= asks for DHCP (its autoconf field) rather than giving an address. */
static bool wants_dhcp(const struct ipcfg *c)
{
	static const char *const dhcp[] = { "dhcp", "on", "any", "both", "" };

	for (size_t i = 0; i < sizeof(dhcp) / sizeof(dhcp[0]); i++)
		if (strcmp(c->autoconf, dhcp[i]) == 0)
			return !c->family;
	return false;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct netcmd *n = arg;
	const Basalt__Config__Config *cfg = res_spec(rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1"), RES(MACHINE_CONFIG));
	Basalt__Config__Network *pnet = platform_status_network(n->platform);
	struct dhcp_default d = { ctx, cfg && cfg->machine ? cfg->machine->network : NULL, pnet, "", 0 };
	char link[IFNAMSIZ] = "", ip[64], gw[64], cidr[72];
	int fam, r;

	if (!n->machine)
		return 0;  /* a container: nothing of ours, so nothing to undo either */
	if ((r = netspec_link(ctx, "default", "lo", 0)) < 0 || (r = default_hostname(ctx)) < 0)
		return r;
	if (n->have && !n->bad) {
		if (n->ip.device[0])
			snprintf(link, sizeof(link), "%s", n->ip.device);
		else
			rt_list(ctx, RES(LINK_STATUS), first_ether, link);
	}
	d.cmdline_link = link;
	rt_list(ctx, RES(LINK_STATUS), default_dhcp, &d);
	if (pnet)
		protobuf_c_message_free_unpacked(&pnet->base, NULL);
	if (d.r < 0)
		return d.r;
	if (n->bad)
		return rt_fail(ctx, "%s", n->err);
	if (!n->have)
		return 0;
	if (!link[0])
		return rt_fail(ctx, "ip=: no Ethernet link yet to configure");
	if ((r = netspec_link(ctx, "cmdline", link, 0)) < 0)
		return r;
	if (wants_dhcp(&n->ip))
		return netspec_operator(ctx, "cmdline", "dhcp4", link, 0);
	if (!n->ip.family)
		return 0;
	fam = n->ip.family;
	inet_ntop(fam, n->ip.client, ip, sizeof(ip));
	snprintf(cidr, sizeof(cidr), "%s/%u", ip, n->ip.prefixlen);
	if ((r = netspec_address(ctx, "cmdline", link, cidr)) < 0)
		return r;
	if (n->ip.has_gateway) {
		inet_ntop(fam, n->ip.gateway, gw, sizeof(gw));
		if ((r = netspec_route(ctx, "cmdline", link, "", gw, 1024)) < 0)
			return r;
	}
	return servers(ctx, &n->ip);
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &netcmd;
}

static int start(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct netcmd *n = st;

	memset(n, 0, sizeof(*n));
	n->machine = env->machine;
	n->platform = env->platform;
	if (env->platform)
		env->platform->cmdline_ctrl = self;
	if (env->cmdline_ip && env->cmdline_ip[0]) {
		n->have = true;
		n->bad = ipcfg_parse(env->cmdline_ip, &n->ip, n->err, sizeof(n->err)) < 0;
		if (n->bad)
			log_warnx("kernel command line: %s (ignored)", n->err);
	}
	return 0;
}

const struct ctrl_def ctrl_network_cmdline = {
	.rt = { .name = "NetworkCmdlineController", .inputs = inputs, .ninputs = 2, .outputs = outputs,
		.noutputs = 7, .reconcile = reconcile },
	.shared = state,
	.init = start,
};
