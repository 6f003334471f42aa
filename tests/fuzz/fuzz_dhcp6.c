/* SPDX-License-Identifier: MIT */
/*
 * A DHCPv6 server's message (netctl/dhcp6.c), as the client's socket hands it over. What
 * parses must hold NUL-terminated names, counts and times that make sense, and is fed to
 * a client in the states that wait for a server, whose next step must not lie behind it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netctl/dhcp6.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
	struct dhcp6_reply *r = malloc(sizeof(*r));
	uint8_t *p = malloc(size ? size : 1);
	struct dhcp6_client c;
	struct dhcp6_action a;
	char err[128];
	uint64_t t = 5;

	if (!r || !p)
		goto out;
	memcpy(p, data, size);
	err[0] = '\0';
	if (dhcp6_parse(p, size, r, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();
		goto out;
	}
	if (r->lease.ndns > DHCP6_DNS_MAX || r->lease.nsearch > DHCP6_SEARCH_MAX || !r->lease.server_id_len ||
	    r->lease.server_id_len > DHCP6_DUID_MAX || r->client_id_len > DHCP6_DUID_MAX ||
	    !memchr(r->message, 0, sizeof(r->message)))
		abort();
	for (unsigned i = 0; i < r->lease.nsearch; i++)
		if (!memchr(r->lease.search[i], 0, sizeof(r->lease.search[i])) || !r->lease.search[i][0])
			abort();
	if (r->has_addr && (r->lease.valid_s == 0 || r->lease.preferred_s > r->lease.valid_s ||
			    r->lease.t1_s > r->lease.t2_s))
		abort();
	dhcp6_init(&c, mac, 1, 3, t);
	for (int step = 0; step < 8; step++) {
		r->xid = c.xid;
		r->client_id_len = c.duid_len;
		memcpy(r->client_id, c.duid, c.duid_len);
		dhcp6_input(&c, r, t, &a);
		if (c.next_ms < t)
			abort();
		t = c.next_ms == UINT64_MAX ? t + 1 : c.next_ms;
		dhcp6_tick(&c, t, &a);
	}
out:
	free(r);
	free(p);
	return 0;
}
