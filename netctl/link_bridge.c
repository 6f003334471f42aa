/* SPDX-License-Identifier: MIT */
/* Bridges: spanning tree on or off. */
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>

#include "netctl/link.h"
#include "netctl/nlreq.h"

static int fill(struct nlreq *q, const struct link_want *w, char *err, size_t errlen)
{
	struct rtattr *data;

	if (w->stp < 0)
		return 0;
	if (!(data = nlreq_nest(q, IFLA_INFO_DATA)) || nlreq_put_u32(q, IFLA_BR_STP_STATE, w->stp ? 1 : 0) < 0) {
		snprintf(err, errlen, "bridge %s: the request does not fit", w->name);
		return -EMSGSIZE;
	}
	nlreq_nest_end(q, data);
	return 0;
}

const struct link_ops link_bridge = { "bridge", fill };
