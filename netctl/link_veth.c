/* SPDX-License-Identifier: MIT */
/* veth pairs: the peer's name. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <stdio.h>

#include "netctl/link.h"
#include "netctl/nlreq.h"

static int fill(struct nlreq *q, const struct link_want *w, char *err, size_t errlen)
{
	struct rtattr *data, *peer;
	struct ifinfomsg ifi = { 0 };

	if (!w->peer[0]) {
		snprintf(err, errlen, "veth %s: no peer name", w->name);
		return -EINVAL;
	}
	/* VETH_INFO_PEER holds the peer's own ifinfomsg, then its attributes. */
	if (!(data = nlreq_nest(q, IFLA_INFO_DATA)) || !(peer = nlreq_nest(q, VETH_INFO_PEER)) ||
	    nlreq_raw(q, &ifi, sizeof(ifi)) < 0 || nlreq_put_str(q, IFLA_IFNAME, w->peer) < 0) {
		snprintf(err, errlen, "veth %s: the request does not fit", w->name);
		return -EMSGSIZE;
	}
	nlreq_nest_end(q, peer);
	nlreq_nest_end(q, data);
	return 0;
}

const struct link_ops link_veth = { "veth", fill };
