/* SPDX-License-Identifier: MIT */
/* Bonds: mode, MII monitoring, delays, LACP rate, transmit hash, minimum links. */
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <string.h>

#include "netctl/link.h"
#include "netctl/nlreq.h"

static int find(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

int link_bond_mode(const char *name)
{
	static const char *const names[] = { "balance-rr", "active-backup", "balance-xor", "broadcast",
					      "802.3ad", "balance-tlb", "balance-alb" };

	return find(names, sizeof(names) / sizeof(names[0]), name);
}

int link_bond_xmit_hash(const char *name)
{
	static const char *const names[] = { "layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac" };

	return find(names, sizeof(names) / sizeof(names[0]), name);
}

int link_bond_lacp_rate(const char *name)
{
	static const char *const names[] = { "slow", "fast" };

	return find(names, sizeof(names) / sizeof(names[0]), name);
}

static int fill(struct nlreq *q, const struct link_want *w, char *err, size_t errlen)
{
	int mode = w->bond_mode[0] ? link_bond_mode(w->bond_mode) : -2;
	int hash = w->xmit_hash_policy[0] ? link_bond_xmit_hash(w->xmit_hash_policy) : -2;
	int lacp = w->lacp_rate[0] ? link_bond_lacp_rate(w->lacp_rate) : -2;
	struct rtattr *data;

	if (mode == -1 || hash == -1 || lacp == -1) {
		snprintf(err, errlen, "bond %s: %s \"%s\" is not one the kernel knows", w->name,
			 mode == -1 ? "mode" : hash == -1 ? "xmitHashPolicy" : "lacpRate",
			 mode == -1 ? w->bond_mode : hash == -1 ? w->xmit_hash_policy : w->lacp_rate);
		return -EINVAL;
	}
	if (!(data = nlreq_nest(q, IFLA_INFO_DATA)) || (mode >= 0 && nlreq_put_u8(q, IFLA_BOND_MODE, (uint8_t)mode) < 0) ||
	    (w->miimon && nlreq_put_u32(q, IFLA_BOND_MIIMON, w->miimon) < 0) ||
	    (w->updelay && nlreq_put_u32(q, IFLA_BOND_UPDELAY, w->updelay) < 0) ||
	    (w->downdelay && nlreq_put_u32(q, IFLA_BOND_DOWNDELAY, w->downdelay) < 0) ||
	    (w->min_links && nlreq_put_u32(q, IFLA_BOND_MIN_LINKS, w->min_links) < 0) ||
	    (hash >= 0 && nlreq_put_u8(q, IFLA_BOND_XMIT_HASH_POLICY, (uint8_t)hash) < 0) ||
	    (lacp >= 0 && nlreq_put_u8(q, IFLA_BOND_AD_LACP_RATE, (uint8_t)lacp) < 0)) {
		snprintf(err, errlen, "bond %s: the request does not fit", w->name);
		return -EMSGSIZE;
	}
	nlreq_nest_end(q, data);
	return 0;
}

const struct link_ops link_bond = { "bond", fill };
