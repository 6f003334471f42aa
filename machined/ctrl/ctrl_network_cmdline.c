/* SPDX-License-Identifier: MIT */
/*
 * NetworkCmdlineController: the default and kernel-command-line layers of the network
 * specs. On a real machine (never in a container, where the host or the engine owns the
 * network): the loopback up (layer default), and the kernel's ip= as a link up, its
 * address and a default route through its gateway (layer cmdline), so a node booted with
 * a static address is reachable in maintenance mode, with no DHCP server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "lib/log.h"
#include "machined/ctrl/controllers.h"
#include "netctl/ipcfg.h"

static const struct rt_input inputs[] = { { RES(LINK_STATUS), RT_WEAK } };
static const struct rt_output outputs[] = {
	{ RES(LINK_SPEC), RT_SHARED },
	{ RES(ADDRESS_SPEC), RT_SHARED },
	{ RES(ROUTE_SPEC), RT_SHARED },
};

struct netcmd {
	bool machine;
	bool have, bad;
	struct ipcfg ip;
	char err[256];
};

static struct netcmd netcmd;

static int link_spec(struct rt_ctx *ctx, const char *layer, const char *name)
{
	Basalt__Network__LinkSpec *s = malloc(sizeof(*s));
	char id[96];

	if (!s)
		return -ENOMEM;
	basalt__network__link_spec__init(s);
	s->name = strdup(name);
	s->up = true;
	s->layer = strdup(layer);
	snprintf(id, sizeof(id), "%s/%s", layer, name);
	return rt_apply(ctx, res_new(RES(LINK_SPEC), id, &s->base));
}

/* The first Ethernet link, for an ip= that names no device. */
static int first_ether(void *arg, const struct res *r)
{
	const Basalt__Network__LinkStatus *l = res_spec(r, RES(LINK_STATUS));
	char *name = arg;

	if (!name[0] && l && strcmp(l->type, "ether") == 0)
		snprintf(name, IFNAMSIZ, "%s", r->id);
	return 0;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct netcmd *n = arg;
	char link[IFNAMSIZ] = "", ip[64], gw[64], id[192];
	int fam, r;

	if (!n->machine)
		return 0;  /* a container: nothing of ours, so nothing to undo either */
	if ((r = link_spec(ctx, "default", "lo")) < 0)
		return r;
	if (n->bad)
		return rt_fail(ctx, "%s", n->err);
	if (!n->have || !n->ip.family)
		return 0;
	fam = n->ip.family;
	if (n->ip.device[0])
		snprintf(link, sizeof(link), "%s", n->ip.device);
	else
		rt_list(ctx, RES(LINK_STATUS), first_ether, link);
	if (!link[0])
		return rt_fail(ctx, "ip=: no Ethernet link yet to put the address on");
	if ((r = link_spec(ctx, "cmdline", link)) < 0)
		return r;
	inet_ntop(fam, n->ip.client, ip, sizeof(ip));
	{
		Basalt__Network__AddressSpec *a = malloc(sizeof(*a));

		if (!a)
			return -ENOMEM;
		basalt__network__address_spec__init(a);
		if (asprintf(&a->address, "%s/%u", ip, n->ip.prefixlen) < 0)
			a->address = NULL;
		a->linkname = strdup(link);
		a->layer = strdup("cmdline");
		snprintf(id, sizeof(id), "cmdline/%s/%s/%u", link, ip, n->ip.prefixlen);
		if ((r = rt_apply(ctx, res_new(RES(ADDRESS_SPEC), id, &a->base))) < 0)
			return r;
	}
	if (n->ip.has_gateway) {
		Basalt__Network__RouteSpec *rs = malloc(sizeof(*rs));

		if (!rs)
			return -ENOMEM;
		inet_ntop(fam, n->ip.gateway, gw, sizeof(gw));
		basalt__network__route_spec__init(rs);
		rs->destination = strdup("");
		rs->gateway = strdup(gw);
		rs->linkname = strdup(link);
		rs->metric = 1024;
		rs->family = strdup(fam == AF_INET ? "inet4" : "inet6");
		rs->layer = strdup("cmdline");
		snprintf(id, sizeof(id), "cmdline/default-%s/%s", fam == AF_INET ? "inet4" : "inet6", link);
		if ((r = rt_apply(ctx, res_new(RES(ROUTE_SPEC), id, &rs->base))) < 0)
			return r;
	}
	return 0;
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &netcmd;
}

static int start(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct netcmd *n = st;

	(void)self;
	memset(n, 0, sizeof(*n));
	n->machine = env->machine;
	if (env->cmdline_ip && env->cmdline_ip[0]) {
		n->have = true;
		n->bad = ipcfg_parse(env->cmdline_ip, &n->ip, n->err, sizeof(n->err)) < 0;
		if (n->bad)
			log_warnx("kernel command line: %s (ignored)", n->err);
	}
	return 0;
}

const struct ctrl_def ctrl_network_cmdline = {
	.rt = { .name = "NetworkCmdlineController", .inputs = inputs, .ninputs = 1, .outputs = outputs,
		.noutputs = 3, .reconcile = reconcile },
	.shared = state,
	.init = start,
};
