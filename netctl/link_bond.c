/* SPDX-License-Identifier: MIT */
/* Bonds: mode, MII and ARP monitoring, delays, LACP rate and aggregator selection, transmit
 * hash, minimum links, the primary member, carrier use. */
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

static const char *const modes[] = { "balance-rr", "active-backup", "balance-xor", "broadcast",
				      "802.3ad", "balance-tlb", "balance-alb" };
static const char *const hashes[] = { "layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac" };
static const char *const rates[] = { "slow", "fast" };
static const char *const selects[] = { "stable", "bandwidth", "count" };

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? names[v] : "";
}

int link_bond_mode(const char *name)
{
	return find(modes, N(modes), name);
}

int link_bond_xmit_hash(const char *name)
{
	return find(hashes, N(hashes), name);
}

int link_bond_lacp_rate(const char *name)
{
	return find(rates, N(rates), name);
}

int link_bond_ad_select(const char *name)
{
	return find(selects, N(selects), name);
}

const char *link_bond_mode_name(int v)
{
	return name_of(modes, N(modes), v);
}

const char *link_bond_xmit_hash_name(int v)
{
	return name_of(hashes, N(hashes), v);
}

const char *link_bond_lacp_rate_name(int v)
{
	return name_of(rates, N(rates), v);
}

const char *link_bond_ad_select_name(int v)
{
	return name_of(selects, N(selects), v);
}

/* IFLA_BOND_ARP_IP_TARGET: a nest of addresses, each under its index. */
static int put_arp_targets(struct nlreq *q, const struct link_want *w)
{
	struct rtattr *t;

	if (!w->narp)
		return 0;
	if (!(t = nlreq_nest(q, IFLA_BOND_ARP_IP_TARGET)))
		return -1;
	for (unsigned i = 0; i < w->narp && i < 16; i++)
		if (nlreq_put(q, (unsigned short)i, w->arp[i], 4) < 0)
			return -1;
	nlreq_nest_end(q, t);
	return 0;
}

static int fill(struct nlreq *q, const struct link_want *w, char *err, size_t errlen)
{
	int mode = w->bond_mode[0] ? link_bond_mode(w->bond_mode) : -2;
	int hash = w->xmit_hash_policy[0] ? link_bond_xmit_hash(w->xmit_hash_policy) : -2;
	int lacp = w->lacp_rate[0] ? link_bond_lacp_rate(w->lacp_rate) : -2;
	int sel = w->ad_select[0] ? link_bond_ad_select(w->ad_select) : -2;
	struct rtattr *data;

	if (mode == -1 || hash == -1 || lacp == -1 || sel == -1) {
		snprintf(err, errlen, "bond %s: %s \"%s\" is not one the kernel knows", w->name,
			 mode == -1 ? "mode" : hash == -1 ? "xmitHashPolicy" : lacp == -1 ? "lacpRate" : "adSelect",
			 mode == -1 ? w->bond_mode : hash == -1 ? w->xmit_hash_policy : lacp == -1 ? w->lacp_rate
												: w->ad_select);
		return -EINVAL;
	}
	if (!(data = nlreq_nest(q, IFLA_INFO_DATA)) || (mode >= 0 && nlreq_put_u8(q, IFLA_BOND_MODE, (uint8_t)mode) < 0) ||
	    (w->miimon && nlreq_put_u32(q, IFLA_BOND_MIIMON, w->miimon) < 0) ||
	    (w->updelay && nlreq_put_u32(q, IFLA_BOND_UPDELAY, w->updelay) < 0) ||
	    (w->downdelay && nlreq_put_u32(q, IFLA_BOND_DOWNDELAY, w->downdelay) < 0) ||
	    (w->min_links && nlreq_put_u32(q, IFLA_BOND_MIN_LINKS, w->min_links) < 0) ||
	    (hash >= 0 && nlreq_put_u8(q, IFLA_BOND_XMIT_HASH_POLICY, (uint8_t)hash) < 0) ||
	    (lacp >= 0 && nlreq_put_u8(q, IFLA_BOND_AD_LACP_RATE, (uint8_t)lacp) < 0) ||
	    (sel >= 0 && nlreq_put_u8(q, IFLA_BOND_AD_SELECT, (uint8_t)sel) < 0) ||
	    (w->use_carrier && nlreq_put_u8(q, IFLA_BOND_USE_CARRIER, w->use_carrier == 2) < 0) ||
	    (w->arp_interval && nlreq_put_u32(q, IFLA_BOND_ARP_INTERVAL, w->arp_interval) < 0) ||
	    put_arp_targets(q, w) < 0 || (w->primary && nlreq_put_u32(q, IFLA_BOND_PRIMARY, w->primary) < 0)) {
		snprintf(err, errlen, "bond %s: the request does not fit", w->name);
		return -EMSGSIZE;
	}
	nlreq_nest_end(q, data);
	return 0;
}

const struct link_ops link_bond = { "bond", fill };
