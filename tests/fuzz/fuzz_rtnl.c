/* SPDX-License-Identifier: MIT */
/*
 * One rtnetlink datagram as machined's link, address and route controllers read it
 * (netctl/rtnl.c): walked message by message, each RTM_NEWLINK, RTM_NEWADDR and
 * RTM_NEWROUTE parsed.
 * The input sits in a buffer of exactly its size, so a read past a message, an attribute
 * or the datagram is caught; every string that comes out must end inside its field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netctl/rtnl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int each(void *arg, const struct nlmsghdr *h)
{
	struct rtnl_link l;
	struct rtnl_addr a;
	struct rtnl_route r;
	char t[16];

	(void)arg;
	if (rtnl_parse_link(h, &l) == 0) {
		if (!memchr(l.name, '\0', sizeof(l.name)) || !memchr(l.kind, '\0', sizeof(l.kind)) ||
		    !memchr(l.hwaddr, '\0', sizeof(l.hwaddr)) || !memchr(l.parent, '\0', sizeof(l.parent)) ||
		    !memchr(l.permaddr, '\0', sizeof(l.permaddr)) ||
		    !memchr(l.bus, '\0', sizeof(l.bus)) || !l.name[0])
			abort();
		if (!rtnl_arphrd_name(l.type, t, sizeof(t)) || !rtnl_operstate_name(l.operstate))
			abort();
	}
	if (rtnl_parse_addr(h, &a) == 0 && (!memchr(a.ip, '\0', sizeof(a.ip)) || !a.ip[0] || !rtnl_scope_name(a.scope)))
		abort();
	if (rtnl_parse_route(h, &r) == 0 && (r.dst_len > (r.family == 2 ? 32u : 128u)))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* At least a header's worth, as recv leaves it in a larger buffer. */
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	rtnl_walk(buf, size, each, NULL);
	free(buf);
	return 0;
}
