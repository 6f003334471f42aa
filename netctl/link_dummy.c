/* SPDX-License-Identifier: MIT */
/* Dummy links and WireGuard links (its keys and peers go over generic netlink): nothing beyond the kind. */
#include "netctl/link.h"

static int fill(struct nlreq *q, const struct link_want *w, char *err, size_t errlen)
{
	(void)q;
	(void)w;
	(void)err;
	(void)errlen;
	return 0;
}

const struct link_ops link_dummy = { "dummy", fill };
const struct link_ops link_wireguard = { "wireguard", fill };
