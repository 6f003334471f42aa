/* SPDX-License-Identifier: MIT */
/* Creating and deleting links, and their membership (see link.h). */
#include "netctl/link.h"

#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <string.h>

#include "netctl/nlreq.h"

static const struct link_ops *const kinds[] = { &link_bond, &link_bridge, &link_vlan, &link_dummy, &link_veth,
						&link_wireguard };

const struct link_ops *link_ops_find(const char *kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i]->kind, kind) == 0)
			return kinds[i];
	return NULL;
}

/* RTM_NEWLINK for w: flags NLM_F_CREATE | NLM_F_EXCL makes it, 0 changes the link of its name. */
static int newlink(const struct link_want *w, int flags, const char *verb, char *err, size_t errlen)
{
	const struct link_ops *ops = link_ops_find(w->kind);
	struct nlreq q;
	struct rtattr *info;
	char what[64];
	int r;

	snprintf(what, sizeof(what), "%s %s link %s", verb, w->kind, w->name);
	if (!ops) {
		snprintf(err, errlen, "%s: not a kind this release creates", what);
		return -EOPNOTSUPP;
	}
	nlreq_init(&q, RTM_NEWLINK, flags, sizeof(struct ifinfomsg));
	if (nlreq_put_str(&q, IFLA_IFNAME, w->name) < 0 || (w->mtu && nlreq_put_u32(&q, IFLA_MTU, w->mtu) < 0) ||
	    (w->parent && flags && nlreq_put_u32(&q, IFLA_LINK, w->parent) < 0) ||
	    !(info = nlreq_nest(&q, IFLA_LINKINFO)) || nlreq_put_str(&q, IFLA_INFO_KIND, w->kind) < 0)
		goto toobig;
	if ((r = ops->fill(&q, w, err, errlen)) < 0)
		return r;
	nlreq_nest_end(&q, info);
	return nlreq_transact(&q, what, err, errlen);
toobig:
	snprintf(err, errlen, "%s: the request does not fit", what);
	return -EMSGSIZE;
}

int link_create(const struct link_want *w, char *err, size_t errlen)
{
	return newlink(w, NLM_F_CREATE | NLM_F_EXCL, "create", err, errlen);
}

int link_change(const struct link_want *w, char *err, size_t errlen)
{
	return newlink(w, 0, "change", err, errlen);
}

int link_delete(unsigned index, char *err, size_t errlen)
{
	struct nlreq q;
	struct ifinfomsg *ifi = nlreq_init(&q, RTM_DELLINK, 0, sizeof(*ifi));
	char what[48];

	ifi->ifi_index = (int)index;
	snprintf(what, sizeof(what), "delete link %u", index);
	return nlreq_transact(&q, what, err, errlen);
}

int link_set_master(unsigned index, unsigned master, char *err, size_t errlen)
{
	struct nlreq q;
	struct ifinfomsg *ifi = nlreq_init(&q, RTM_NEWLINK, 0, sizeof(*ifi));
	char what[64];

	ifi->ifi_index = (int)index;
	nlreq_put_u32(&q, IFLA_MASTER, master);
	snprintf(what, sizeof(what), "set the master of link %u to %u", index, master);
	return nlreq_transact(&q, what, err, errlen);
}
