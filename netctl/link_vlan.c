/* SPDX-License-Identifier: MIT */
/* 802.1Q VLANs: an id on a parent link. */
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>

#include "netctl/link.h"
#include "netctl/nlreq.h"

static int fill(struct nlreq *q, const struct link_want *w, char *err, size_t errlen)
{
	struct rtattr *data;

	if (!w->parent || w->vlan_id < 1 || w->vlan_id > 4094) {
		snprintf(err, errlen, "vlan %s: %s", w->name, !w->parent ? "no parent link" : "the id is not 1-4094");
		return -EINVAL;
	}
	if (!(data = nlreq_nest(q, IFLA_INFO_DATA)) || nlreq_put_u16(q, IFLA_VLAN_ID, (uint16_t)w->vlan_id) < 0) {
		snprintf(err, errlen, "vlan %s: the request does not fit", w->name);
		return -EMSGSIZE;
	}
	nlreq_nest_end(q, data);
	return 0;  /* the parent (IFLA_LINK) is the link's own attribute: link_create puts it */
}

const struct link_ops link_vlan = { "vlan", fill };
