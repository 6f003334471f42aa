/* SPDX-License-Identifier: MIT */
/*
 * NodeAddressController: network/NodeAddress current, default, routed and accumulative
 * (see api/network.proto) from network/AddressStatus and LinkStatus, and external from
 * what the platform says (runtime/PlatformMetadata): the one place that
 * decides which addresses are the node's own; the API certificate (and later the mesh)
 * read these instead of watching addresses themselves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "api/runtime.pb-c.h"
#include "machined/ctrl/controllers.h"

#define NODEADDR_MAX 64
#define IP_MAX 46

static const struct rt_input inputs[] = { { RES(ADDRESS_STATUS), RT_WEAK }, { RES(LINK_STATUS), RT_WEAK },
					  { RES(PLATFORM_METADATA), RT_WEAK } };
static const struct rt_output outputs[] = { { RES(NODE_ADDRESS), RT_EXCLUSIVE } };

struct addrs {
	struct node_addr {
		char ip[IP_MAX];
		bool routed;            /* (current only) not on a WireGuard link */
	} e[NODEADDR_MAX];
	size_t n;
};

/* Every address current has had since machined started. */
static struct addrs accumulated;

/* IPv4 before IPv6, then in text order: the same set always lists the same way. */
static int order(const void *a, const void *b)
{
	const char *x = ((const struct node_addr *)a)->ip, *y = ((const struct node_addr *)b)->ip;
	bool x6 = strchr(x, ':') != NULL, y6 = strchr(y, ':') != NULL;

	return x6 != y6 ? (x6 ? 1 : -1) : strcmp(x, y);
}

static bool has(const struct addrs *l, const char *ip)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].ip, ip) == 0)
			return true;
	return false;
}

struct pass {
	struct rt_ctx *ctx;
	struct addrs cur;
};

static int collect(void *arg, const struct res *r)
{
	struct pass *p = arg;
	const Basalt__Network__AddressStatus *a = res_spec(r, RES(ADDRESS_STATUS));
	const Basalt__Network__LinkStatus *l;
	const char *slash;
	size_t len;

	/* Global and site scope: not 127/8 or ::1 (host scope), not link-local; an address put
	 * on the loopback link on purpose (an anycast or service address) counts. */
	if (!a || (strcmp(a->scope, "global") != 0 && strcmp(a->scope, "site") != 0) || p->cur.n == NODEADDR_MAX)
		return 0;
	l = res_spec(rt_get(p->ctx, RES(LINK_STATUS), a->linkname), RES(LINK_STATUS));
	if (!(slash = strchr(a->address, '/')) || (len = (size_t)(slash - a->address)) >= IP_MAX)
		return 0;
	memcpy(p->cur.e[p->cur.n].ip, a->address, len);
	p->cur.e[p->cur.n].ip[len] = '\0';
	if (has(&p->cur, p->cur.e[p->cur.n].ip))
		return 0;
	p->cur.e[p->cur.n++].routed = !(l && strcmp(l->kind, "wireguard") == 0);
	return 0;
}

/* Writes NodeAddress/id with the addresses of l (only the routed ones with routed_only). */
static int put(struct rt_ctx *ctx, const char *id, const struct addrs *l, bool routed_only, size_t max)
{
	Basalt__Network__NodeAddress *na = malloc(sizeof(*na));

	if (!na)
		return -ENOMEM;
	basalt__network__node_address__init(na);
	na->addresses = calloc(l->n + 1, sizeof(char *));
	for (size_t i = 0; na->addresses && i < l->n && na->n_addresses < max; i++)
		if (!routed_only || l->e[i].routed)
			na->addresses[na->n_addresses++] = strdup(l->e[i].ip);
	return rt_apply(ctx, res_new(RES(NODE_ADDRESS), id, &na->base));
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct addrs *acc = arg;
	struct pass *p = calloc(1, sizeof(*p));
	const Basalt__Runtime__PlatformMetadata *pm;
	struct addrs ext = { .n = 0 };
	int r;

	if (!p)
		return -ENOMEM;
	p->ctx = ctx;
	rt_list(ctx, RES(ADDRESS_STATUS), collect, p);
	qsort(p->cur.e, p->cur.n, sizeof(p->cur.e[0]), order);
	for (size_t i = 0; i < p->cur.n && acc->n < NODEADDR_MAX; i++)
		if (!has(acc, p->cur.e[i].ip))
			acc->e[acc->n++] = p->cur.e[i];
	/* The platform's external addresses: the node is reached there too (the API
	 * certificate names them), though no link has them. */
	if ((pm = res_spec(rt_get(ctx, RES(PLATFORM_METADATA), "platform"), RES(PLATFORM_METADATA))))
		for (size_t i = 0; i < pm->n_externaladdresses && ext.n < NODEADDR_MAX; i++)
			if (strlen(pm->externaladdresses[i]) < IP_MAX && !has(&ext, pm->externaladdresses[i])) {
				snprintf(ext.e[ext.n].ip, IP_MAX, "%s", pm->externaladdresses[i]);
				ext.e[ext.n++].routed = true;
				if (!has(acc, pm->externaladdresses[i]) && acc->n < NODEADDR_MAX)
					acc->e[acc->n++] = ext.e[ext.n - 1];
			}
	qsort(ext.e, ext.n, sizeof(ext.e[0]), order);
	qsort(acc->e, acc->n, sizeof(acc->e[0]), order);
	if ((r = put(ctx, "current", &p->cur, false, NODEADDR_MAX)) < 0 ||
	    (r = put(ctx, "default", &p->cur, false, 1)) < 0 || (r = put(ctx, "routed", &p->cur, true, NODEADDR_MAX)) < 0 ||
	    (r = put(ctx, "accumulative", acc, false, NODEADDR_MAX)) < 0 ||
	    (ext.n && (r = put(ctx, "external", &ext, false, NODEADDR_MAX)) < 0)) {
		free(p);
		return r;
	}
	free(p);
	return 0;
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &accumulated;
}

const struct ctrl_def ctrl_node_address = {
	.rt = { .name = "NodeAddressController", .inputs = inputs, .ninputs = 3, .outputs = outputs, .noutputs = 1,
		.reconcile = reconcile },
	.shared = state,
};
