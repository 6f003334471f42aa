/* SPDX-License-Identifier: MIT */
/*
 * AddressStatusController: network/AddressStatus for each address the kernel has, read
 * over rtnetlink and kicked by the link controller's event socket. The one source of the
 * kernel's addresses for every other controller (the API certificate names them).
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netstatus.h"
#include "netctl/rtnl.h"

static const struct rt_output addr_out[] = { { RES(ADDRESS_STATUS), RT_EXCLUSIVE } };

static int on_addr(void *arg, const struct nlmsghdr *h)
{
	struct netstatus_run *lr = arg;
	struct rtnl_addr a;
	char cidr[RTNL_IP_MAX + 8], id[IFNAMSIZ + sizeof(cidr) + 2], link[IFNAMSIZ];
	Basalt__Network__AddressStatus *as;

	if (rtnl_parse_addr(h, &a) < 0)
		return 0;
	snprintf(cidr, sizeof(cidr), "%s/%u", a.ip, a.prefixlen);
	netstatus_link_name(lr->ns, a.index, link, sizeof(link));
	snprintf(id, sizeof(id), "%s/%s", link, cidr);
	if (!(as = malloc(sizeof(*as))))
		return -ENOMEM;
	basalt__network__address_status__init(as);
	as->address = strdup(cidr);
	as->linkname = strdup(link);
	as->linkindex = a.index;
	as->family = strdup(a.family == AF_INET ? "inet4" : "inet6");
	as->scope = strdup(rtnl_scope_name(a.scope));
	if (rt_apply(lr->ctx, res_new(RES(ADDRESS_STATUS), id, &as->base)) < 0)
		lr->r = -EIO;
	return 0;
}

static int addrs_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct netstatus *ns = arg;
	struct netstatus_run lr = { ctx, ns, 0 };
	int r = rtnl_dump(RTM_GETADDR, on_addr, &lr);

	if (r < 0)
		return r == -ENOMEM ? r : rt_fail(ctx, "rtnetlink address dump: %s", strerror(-r));
	return lr.r;
}

static int addrs_start(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct netstatus *ns = state;

	(void)env;
	ns->addrs = self;
	return 0;
}

const struct ctrl_def ctrl_address_status = {
	.rt = { .name = "AddressStatusController", .outputs = addr_out, .noutputs = 1, .reconcile = addrs_reconcile },
	.shared = netstatus_state,
	.init = addrs_start,
	.touches_machine = true,
};
