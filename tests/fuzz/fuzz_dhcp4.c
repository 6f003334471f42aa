/* SPDX-License-Identifier: MIT */
/*
 * A DHCPv4 server's packet (netctl/dhcp4.c), as the client's packet socket hands it over:
 * the first byte picks an IPv4 packet (unframed, then parsed) or a bare BOOTP message. What
 * parses must hold NUL-terminated names and counts, prefixes and times that make sense, and
 * is fed to a client in every state, whose next step must still lie ahead of it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netctl/dhcp4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct dhcp4_lease *l)
{
	if (l->nroutes > DHCP4_ROUTES_MAX || l->ndns > DHCP4_DNS_MAX || l->nntp > DHCP4_NTP_MAX ||
	    l->nsearch > DHCP4_SEARCH_MAX || l->prefix > 32)
		abort();
	for (unsigned i = 0; i < l->nroutes; i++)
		if (l->routes[i].prefix > 32)
			abort();
	if (!memchr(l->hostname, 0, sizeof(l->hostname)) || !memchr(l->domain, 0, sizeof(l->domain)))
		abort();
	for (unsigned i = 0; i < l->nsearch; i++)
		if (!memchr(l->search[i], 0, sizeof(l->search[i])) || !l->search[i][0])
			abort();
	if (l->lease_s && (l->t1_s > l->t2_s || l->t2_s > l->lease_s))
		abort();
}

/* The reply, to a client in each state it can wait in (its xid and MAC made to match). */
static void feed(struct dhcp4_reply *r)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct dhcp4_client c;
	struct dhcp4_action a;
	uint64_t t = 1000;

	memcpy(r->chaddr, mac, 6);
	dhcp4_init(&c, mac, "n", 1, t);
	for (int step = 0; step < 8; step++) {
		r->xid = c.xid;
		dhcp4_input(&c, r, t, &a);
		if (a.send && a.req.type != DHCP4_DISCOVER && a.req.type != DHCP4_REQUEST)
			abort();
		if (c.next_ms < t)
			abort();
		t = c.next_ms == UINT64_MAX ? t + 1 : c.next_ms;
		dhcp4_tick(&c, t, &a);
		if (c.next_ms < t)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp4_reply *r = malloc(sizeof(*r));
	const uint8_t *msg = data + 1;
	size_t n = size ? size - 1 : 0;
	char err[128];

	if (!r || !size)
		goto out;
	if (!(data[0] & 1) && dhcp4_unframe(data + 1, size - 1, data[0] & 2, &msg, &n, err, sizeof(err)) < 0)
		goto out;
	if (dhcp4_parse(msg, n, r, err, sizeof(err)) == 0) {
		check(&r->lease);
		if (!memchr(r->message, 0, sizeof(r->message)))
			abort();
		feed(r);
	}
out:
	free(r);
	return 0;
}
