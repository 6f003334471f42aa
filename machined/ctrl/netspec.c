/* SPDX-License-Identifier: MIT */
#include "machined/ctrl/netspec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/network.pb-c.h"

int netspec_rank(const char *layer)
{
	static const char *const order[] = { "default", "cmdline", "platform", "dhcp4", "dhcp6", "configuration" };
	static const int rank[] = { 0, 1, 2, 3, 3, 4 };

	for (size_t i = 0; layer && i < sizeof(order) / sizeof(order[0]); i++)
		if (strcmp(layer, order[i]) == 0)
			return rank[i];
	return -1;
}

static int count(void *arg, const struct res *r)
{
	(void)r;
	++*(size_t *)arg;
	return 0;
}

int netspec_refuse(struct rt_ctx *ctx, const char *refused, const struct res_type *t)
{
	size_t n = 0;

	if (!refused)
		return 0;
	rt_list(ctx, t, count, &n);
	return n ? rt_fail(ctx, "%s", refused) : 0;
}

int netspec_link(struct rt_ctx *ctx, const char *layer, const char *name, unsigned mtu)
{
	Basalt__Network__LinkSpec *s = malloc(sizeof(*s));
	char id[96];

	if (!s)
		return -ENOMEM;
	basalt__network__link_spec__init(s);
	s->name = strdup(name);
	s->up = true;
	s->mtu = mtu;
	s->layer = strdup(layer);
	snprintf(id, sizeof(id), "%s/%s", layer, name);
	return rt_apply(ctx, res_new(RES(LINK_SPEC), id, &s->base));
}

int netspec_address(struct rt_ctx *ctx, const char *layer, const char *link, const char *cidr)
{
	Basalt__Network__AddressSpec *a = malloc(sizeof(*a));
	char id[192];

	if (!a)
		return -ENOMEM;
	basalt__network__address_spec__init(a);
	a->address = strdup(cidr);
	a->linkname = strdup(link);
	a->layer = strdup(layer);
	snprintf(id, sizeof(id), "%s/%s/%s", layer, link, cidr);
	return rt_apply(ctx, res_new(RES(ADDRESS_SPEC), id, &a->base));
}

int netspec_route(struct rt_ctx *ctx, const char *layer, const char *link, const char *destination,
		  const char *gateway, unsigned metric)
{
	Basalt__Network__RouteSpec *s = malloc(sizeof(*s));
	bool v6 = strchr(destination, ':') || strchr(gateway, ':');
	char id[192];

	if (!s)
		return -ENOMEM;
	basalt__network__route_spec__init(s);
	s->destination = strdup(destination);
	s->gateway = strdup(gateway);
	s->linkname = strdup(link);
	s->metric = metric;
	s->family = strdup(v6 ? "inet6" : "inet4");
	s->layer = strdup(layer);
	snprintf(id, sizeof(id), "%s/%s/%s", layer, destination[0] ? destination : v6 ? "default-inet6" : "default-inet4",
		 link);
	return rt_apply(ctx, res_new(RES(ROUTE_SPEC), id, &s->base));
}
