/* SPDX-License-Identifier: MIT */
/*
 * RouteStatusController: network/RouteStatus for each unicast route the kernel has outside
 * its local table, read over rtnetlink and kicked by the link controller's event socket
 * (so a route deleted by hand shows, and RouteSpecController puts its own back).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netstatus.h"

static const struct rt_output route_out[] = { { RES(ROUTE_STATUS), RT_EXCLUSIVE } };

static const char *addr_text(const struct rtnl_route *r, const unsigned char *a, bool has, char *buf, size_t len)
{
	buf[0] = '\0';
	if (has)
		inet_ntop(r->family, a, buf, (socklen_t)len);
	return buf;
}

static void dest_text(const struct rtnl_route *r, char *buf, size_t len)
{
	char ip[RTNL_IP_MAX];

	buf[0] = '\0';
	if (r->dst_len)
		snprintf(buf, len, "%s/%u", addr_text(r, r->dst, true, ip, sizeof(ip)), r->dst_len);
}

void netstatus_route_id(const struct rtnl_route *r, const char *link, char *buf, size_t len)
{
	char dst[RTNL_IP_MAX + 16], gw[RTNL_IP_MAX];

	dest_text(r, dst, sizeof(dst));
	snprintf(buf, len, "%s/%s/%s/%s/%u", r->family == AF_INET ? "inet4" : "inet6", dst[0] ? dst : "default",
		 addr_text(r, r->gw, r->has_gw, gw, sizeof(gw)), link, r->metric);
}

static const char *protocol_name(unsigned p, char *buf, size_t len)
{
	switch (p) {
	case RTPROT_KERNEL:
		return "kernel";
	case RTPROT_BOOT:
		return "boot";
	case RTPROT_STATIC:
		return "static";
	case RTPROT_DHCP:
		return "dhcp";
	case RTPROT_RA:
		return "ra";
	default:
		snprintf(buf, len, "%u", p);
		return buf;
	}
}

static int on_route(void *arg, const struct nlmsghdr *h)
{
	struct netstatus_run *lr = arg;
	struct rtnl_route r;
	char link[IFNAMSIZ], id[256], dst[RTNL_IP_MAX + 16], ip[RTNL_IP_MAX], proto[8];
	Basalt__Network__RouteStatus *rs;

	if (rtnl_parse_route(h, &r) < 0 || r.table == RT_TABLE_LOCAL || r.type != RTN_UNICAST)
		return 0;
	if (r.oif)
		netstatus_link_name(lr->ns, r.oif, link, sizeof(link));
	else
		link[0] = '\0';
	netstatus_route_id(&r, link, id, sizeof(id));
	if (!(rs = malloc(sizeof(*rs))))
		return -ENOMEM;
	basalt__network__route_status__init(rs);
	dest_text(&r, dst, sizeof(dst));
	rs->destination = strdup(dst);
	rs->gateway = strdup(addr_text(&r, r.gw, r.has_gw, ip, sizeof(ip)));
	rs->source = strdup(addr_text(&r, r.src, r.has_src, ip, sizeof(ip)));
	rs->linkname = strdup(link);
	rs->linkindex = r.oif;
	rs->metric = r.metric;
	rs->table = r.table;
	rs->family = strdup(r.family == AF_INET ? "inet4" : "inet6");
	rs->scope = strdup(rtnl_scope_name(r.scope));
	rs->protocol = strdup(protocol_name(r.protocol, proto, sizeof(proto)));
	rs->mtu = r.mtu;
	rs->onlink = r.onlink;
	if (rt_apply(lr->ctx, res_new(RES(ROUTE_STATUS), id, &rs->base)) < 0)
		lr->r = -EIO;
	return 0;
}

static int routes_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct netstatus *ns = arg;
	struct netstatus_run lr = { ctx, ns, 0 };
	int r = rtnl_dump(RTM_GETROUTE, on_route, &lr);

	if (r < 0)
		return r == -ENOMEM ? r : rt_fail(ctx, "rtnetlink route dump: %s", strerror(-r));
	return lr.r;
}

static int routes_start(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct netstatus *ns = state;

	(void)env;
	ns->routes = self;
	return 0;
}

const struct ctrl_def ctrl_route_status = {
	.rt = { .name = "RouteStatusController", .outputs = route_out, .noutputs = 1, .reconcile = routes_reconcile },
	.shared = netstatus_state,
	.init = routes_start,
	.touches_machine = true,
};
