/* SPDX-License-Identifier: MIT */
/*
 * AddressSpecController: puts the addresses of network/AddressSpec on their links when
 * network/AddressStatus lacks them (one deleted by hand is back on the next event), and
 * takes off the addresses it put there once no spec wants them. Addresses it did not add
 * (a CNI's, a person's) are never touched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/network.pb-c.h"
#include "machined/ctrl/controllers.h"
#include "netctl/rtnl.h"

#define ADDED_MAX 256

static const struct rt_input inputs[] = {
	{ RES(ADDRESS_SPEC), RT_WEAK }, { RES(LINK_STATUS), RT_WEAK }, { RES(ADDRESS_STATUS), RT_WEAK },
};

/* What this controller added: "<link>/<cidr>", the AddressStatus id it has. */
struct added {
	char ids[ADDED_MAX][80];
	bool wanted[ADDED_MAX];
	size_t n;
};

static struct added added;

struct pass {
	struct rt_ctx *ctx;
	struct added *a;
	int r;
};

/* "10.0.0.2/24" into family, bytes and prefix; -1 if it is not a CIDR. */
static int parse_cidr(const char *cidr, int *family, unsigned char addr[16], unsigned *prefix)
{
	char ip[64];
	const char *slash = strchr(cidr, '/');
	char *end;
	unsigned long p;

	if (!slash || (size_t)(slash - cidr) >= sizeof(ip))
		return -1;
	memcpy(ip, cidr, (size_t)(slash - cidr));
	ip[slash - cidr] = '\0';
	p = strtoul(slash + 1, &end, 10);
	if (*end || end == slash + 1)
		return -1;
	*family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(*family, ip, addr) != 1 || p > (*family == AF_INET ? 32u : 128u))
		return -1;
	*prefix = (unsigned)p;
	return 0;
}

static size_t find_added(const struct added *a, const char *id)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->ids[i], id) == 0)
			return i;
	return a->n;
}

static int apply_one(void *arg, const struct res *r)
{
	struct pass *p = arg;
	const Basalt__Network__AddressSpec *s = res_spec(r, RES(ADDRESS_SPEC));
	const Basalt__Network__LinkStatus *l;
	unsigned char addr[16];
	unsigned prefix;
	char id[80], err[256];
	int family;
	size_t i;

	if (!s || !(l = res_spec(rt_get(p->ctx, RES(LINK_STATUS), s->linkname), RES(LINK_STATUS))))
		return 0;
	if (parse_cidr(s->address, &family, addr, &prefix) < 0) {
		p->r = rt_fail(p->ctx, "%s: %s is not an address/prefix", r->id, s->address);
		return 0;
	}
	snprintf(id, sizeof(id), "%s/%s", s->linkname, s->address);
	i = find_added(p->a, id);
	if (i == p->a->n && p->a->n < ADDED_MAX)
		snprintf(p->a->ids[p->a->n++], sizeof(p->a->ids[0]), "%s", id);
	if (i < ADDED_MAX)
		p->a->wanted[i] = true;
	if (rt_get(p->ctx, RES(ADDRESS_STATUS), id))
		return 0;  /* the kernel has it */
	if (rtnl_addr_change(true, family, l->index, addr, prefix, err, sizeof(err)) < 0)
		p->r = rt_fail(p->ctx, "%s", err);
	return 0;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct added *a = arg;
	struct pass p = { ctx, a, 0 };
	char err[256];

	memset(a->wanted, 0, sizeof(a->wanted));
	rt_list(ctx, RES(ADDRESS_SPEC), apply_one, &p);
	/* Ours and no longer wanted: off the link, if it is still there. */
	for (size_t i = 0; i < a->n;) {
		const struct res *st = rt_get(ctx, RES(ADDRESS_STATUS), a->ids[i]);
		const Basalt__Network__AddressStatus *as = res_spec(st, RES(ADDRESS_STATUS));
		unsigned char addr[16];
		unsigned prefix;
		int family;

		if (a->wanted[i]) {
			i++;
			continue;
		}
		if (as && parse_cidr(as->address, &family, addr, &prefix) == 0 &&
		    rtnl_addr_change(false, family, as->linkindex, addr, prefix, err, sizeof(err)) < 0) {
			p.r = rt_fail(ctx, "%s", err);
			i++;
			continue;
		}
		memmove(a->ids[i], a->ids[i + 1], (a->n - i - 1) * sizeof(a->ids[0]));
		memmove(&a->wanted[i], &a->wanted[i + 1], (a->n - i - 1) * sizeof(a->wanted[0]));
		a->n--;
	}
	return p.r;
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &added;
}

const struct ctrl_def ctrl_address_spec = {
	.rt = { .name = "AddressSpecController", .inputs = inputs, .ninputs = 3, .reconcile = reconcile },
	.shared = state,
	.touches_machine = true,
};
