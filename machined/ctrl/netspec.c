/* SPDX-License-Identifier: MIT */
#include "machined/ctrl/netspec.h"

#include <errno.h>
#include <fnmatch.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.pb-c.h"
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

int netspec_hostname(struct rt_ctx *ctx, const char *layer, const char *source, const char *name,
		     const char *domain)
{
	Basalt__Network__HostnameSpec *s = malloc(sizeof(*s));
	const char *dot = strchr(name, '.');
	char id[96];

	if (!s)
		return -ENOMEM;
	basalt__network__hostname_spec__init(s);
	s->hostname = dot ? strndup(name, (size_t)(dot - name)) : strdup(name);
	s->domainname = strdup(dot ? dot + 1 : domain ? domain : "");
	s->layer = strdup(layer);
	snprintf(id, sizeof(id), "%s/%s", layer, source);
	return rt_apply(ctx, res_new(RES(HOSTNAME_SPEC), id, &s->base));
}

void netspec_list_init(struct netspec_list *l)
{
	memset(l, 0, sizeof(*l));
	l->rank = -2;
}

void netspec_list_add(struct netspec_list *l, const char *layer, char *const *values, size_t n)
{
	int rank = netspec_rank(layer);

	if (!n || rank < l->rank)
		return;
	if (rank > l->rank) {
		l->n = 0;
		l->rank = rank;
		l->layer = layer;
	}
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < l->n && strcmp(l->v[k], values[i]) != 0; k++)
			;
		if (k == l->n && l->n < NETSPEC_LIST_MAX)
			l->v[l->n++] = values[i];
	}
}

static char **strv_dup(const char *const *v, size_t n)
{
	char **out = calloc(n ? n : 1, sizeof(*out));

	for (size_t i = 0; out && i < n; i++)
		out[i] = strdup(v[i]);
	return out;
}

int netspec_resolvers(struct rt_ctx *ctx, const char *layer, const char *source, const char *const *servers,
		      size_t n, const char *const *search, size_t nsearch)
{
	Basalt__Network__ResolverSpec *s;
	char id[96];

	if (!n && !nsearch)
		return 0;
	if (!(s = malloc(sizeof(*s))))
		return -ENOMEM;
	basalt__network__resolver_spec__init(s);
	s->dnsservers = strv_dup(servers, n);
	s->n_dnsservers = n;
	s->searchdomains = strv_dup(search, nsearch);
	s->n_searchdomains = nsearch;
	s->layer = strdup(layer);
	snprintf(id, sizeof(id), "%s/%s", layer, source);
	return rt_apply(ctx, res_new(RES(RESOLVER_SPEC), id, &s->base));
}

int netspec_timeservers(struct rt_ctx *ctx, const char *layer, const char *source, const char *const *servers,
			size_t n)
{
	Basalt__Network__TimeServerSpec *s;
	char id[96];

	if (!n)
		return 0;
	if (!(s = malloc(sizeof(*s))))
		return -ENOMEM;
	basalt__network__time_server_spec__init(s);
	s->servers = strv_dup(servers, n);
	s->n_servers = n;
	s->layer = strdup(layer);
	snprintf(id, sizeof(id), "%s/%s", layer, source);
	return rt_apply(ctx, res_new(RES(TIMESERVER_SPEC), id, &s->base));
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
	return netspec_link_opts(ctx, layer, name, mtu, NULL);
}

static Basalt__Network__BondOptions *bond_options(const Basalt__Config__Bond *b)
{
	Basalt__Network__BondOptions *o = malloc(sizeof(*o));

	if (!o)
		return NULL;
	basalt__network__bond_options__init(o);
	o->mode = strdup(b->mode ? b->mode : "");
	o->xmithashpolicy = strdup(b->xmithashpolicy ? b->xmithashpolicy : "");
	o->lacprate = strdup(b->lacprate ? b->lacprate : "");
	o->miimon = b->has_miimon ? b->miimon : 0;
	o->updelay = b->has_updelay ? b->updelay : 0;
	o->downdelay = b->has_downdelay ? b->downdelay : 0;
	o->minlinks = b->has_minlinks ? b->minlinks : 0;
	o->primary = strdup(b->primary ? b->primary : "");
	o->arpinterval = b->has_arpinterval ? b->arpinterval : 0;
	o->adselect = strdup(b->adselect ? b->adselect : "");
	o->usecarrier = b->has_usecarrier ? (b->usecarrier ? 2 : 1) : 0;
	if (b->n_arpiptarget && (o->arpiptarget = calloc(b->n_arpiptarget, sizeof(char *))))
		for (size_t i = 0; i < b->n_arpiptarget; i++)
			if ((o->arpiptarget[o->n_arpiptarget] = strdup(b->arpiptarget[i])))
				o->n_arpiptarget++;
	return o;
}

int netspec_link_opts(struct rt_ctx *ctx, const char *layer, const char *name, unsigned mtu,
		      const struct netspec_linkopts *o)
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
	s->kind = strdup(o && o->kind ? o->kind : "");
	s->master = strdup(o && o->master ? o->master : "");
	s->parent = strdup(o && o->parent ? o->parent : "");
	s->vlanid = o ? o->vlan_id : 0;
	s->stp = o && o->stp;
	if (o && o->bond)
		s->bond = bond_options(o->bond);
	snprintf(id, sizeof(id), "%s/%s", layer, name);
	return rt_apply(ctx, res_new(RES(LINK_SPEC), id, &s->base));
}

int netspec_operator(struct rt_ctx *ctx, const char *layer, const char *op, const char *link, unsigned metric)
{
	Basalt__Network__OperatorSpec *s = malloc(sizeof(*s));
	char id[96];

	if (!s)
		return -ENOMEM;
	basalt__network__operator_spec__init(s);
	s->operator_ = strdup(op);
	s->linkname = strdup(link);
	s->routemetric = metric;
	s->layer = strdup(layer);
	snprintf(id, sizeof(id), "%s/%s/%s", layer, op, link);
	return rt_apply(ctx, res_new(RES(OPERATOR_SPEC), id, &s->base));
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
	return netspec_route_opts(ctx, layer, link, destination, gateway, metric, NULL);
}

int netspec_route_opts(struct rt_ctx *ctx, const char *layer, const char *link, const char *destination,
		       const char *gateway, unsigned metric, const struct netspec_routeopts *o)
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
	s->source = strdup(o && o->source ? o->source : "");
	s->mtu = o ? o->mtu : 0;
	s->onlink = o && o->onlink;
	snprintf(id, sizeof(id), "%s/%s/%s", layer, destination[0] ? destination : v6 ? "default-inet6" : "default-inet4",
		 link);
	return rt_apply(ctx, res_new(RES(ROUTE_SPEC), id, &s->base));
}

/* --- which links machine.network names --- */

struct select {
	const Basalt__Config__DeviceSelector *sel;
	char *found;
};

static bool glob(const char *pattern, const char *s)
{
	return !pattern || fnmatch(pattern, s ? s : "", FNM_CASEFOLD) == 0;
}

static int match_link(void *arg, const struct res *r)
{
	struct select *s = arg;
	const Basalt__Network__LinkStatus *l = res_spec(r, RES(LINK_STATUS));
	const Basalt__Config__DeviceSelector *d = s->sel;

	if (!l || s->found[0] || strcmp(l->type, "ether") != 0)
		return 0;
	if (glob(d->name, r->id) && glob(d->hardwareaddr, l->hardwareaddr) && glob(d->permanentaddr, l->permanentaddr) &&
	    glob(d->buspath, l->buspath) && glob(d->driver, l->driver) && glob(d->pciid, l->pciid) &&
	    (!d->has_physical || d->physical == (l->bus[0] != '\0')))
		snprintf(s->found, IFNAMSIZ, "%s", r->id);
	return 0;
}

const char *netspec_select_link(struct rt_ctx *ctx, const Basalt__Config__DeviceSelector *sel, char out[IFNAMSIZ])
{
	struct select s = { sel, out };

	out[0] = '\0';
	rt_list(ctx, RES(LINK_STATUS), match_link, &s);
	return out[0] ? out : NULL;
}

static bool names_in(struct rt_ctx *ctx, char **names, size_t n, Basalt__Config__DeviceSelector **sels,
		     size_t nsels, const char *link)
{
	char found[IFNAMSIZ];

	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], link) == 0)
			return true;
	for (size_t i = 0; i < nsels; i++)
		if (netspec_select_link(ctx, sels[i], found) && strcmp(found, link) == 0)
			return true;
	return false;
}

bool netspec_config_names(struct rt_ctx *ctx, const Basalt__Config__Network *net, const char *link)
{
	for (size_t k = 0; net && k < net->n_interfaces; k++) {
		const Basalt__Config__Interface *i = net->interfaces[k];
		char found[IFNAMSIZ];

		if ((i->interface && strcmp(i->interface, link) == 0) ||
		    (!i->interface && i->deviceselector && netspec_select_link(ctx, i->deviceselector, found) &&
		     strcmp(found, link) == 0) ||
		    (i->bond && names_in(ctx, i->bond->interfaces, i->bond->n_interfaces, i->bond->deviceselectors,
					 i->bond->n_deviceselectors, link)) ||
		    (i->bridge && names_in(ctx, i->bridge->interfaces, i->bridge->n_interfaces, NULL, 0, link)))
			return true;
	}
	return false;
}
