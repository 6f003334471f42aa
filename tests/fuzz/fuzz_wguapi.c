/* SPDX-License-Identifier: MIT */
/*
 * A userspace WireGuard daemon's get reply, as the userspace backend reads it. Whatever
 * parses must format as a set, read back as a reply, and give the same device: the same
 * keys, port, fwmark and, peer by peer, key, preshared key, endpoint, keepalive and
 * allowed IPs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netctl/wg.h"

static void same_peer(const struct wg_peer *a, const struct wg_peer *b)
{
	const uint32_t cfg = WGP_PRESHARED_KEY | WGP_ENDPOINT | WGP_KEEPALIVE;

	if (memcmp(a->pub, b->pub, WG_KEY_LEN) || (a->flags & cfg) != (b->flags & cfg) ||
	    memcmp(a->psk, b->psk, WG_KEY_LEN) || a->keepalive != b->keepalive || a->nips != b->nips)
		abort();
	if (a->ep.family != b->ep.family || memcmp(a->ep.a, b->ep.a, 16) || a->ep.port != b->ep.port)
		abort();
	for (size_t i = 0; i < a->nips; i++)
		if (a->ips[i].family != b->ips[i].family || memcmp(a->ips[i].a, b->ips[i].a, 16) ||
		    a->ips[i].cidr != b->ips[i].cidr)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_device a, b;
	char err[256], *set = NULL;
	size_t cap, len = 0;

	wg_device_init(&a, "fz0");
	wg_device_init(&b, "fz0");
	if (wg_uapi_parse_get((const char *)data, size, &a, err, sizeof(err)) != 0)
		goto out;
	cap = 256 + a.npeers * (512 + WG_PEER_IPS_MAX * 64) + 16;
	set = malloc(cap);
	if (!set || wg_uapi_format_set(&a, set, cap, &len) != 0)
		abort(); /* a parsed device always formats within its bound */
	/* the set's lines after "set=1", then the daemon's trailer, read as a reply */
	if (len < 7 || memcmp(set, "set=1\n", 6) || set[len - 1] != '\n')
		abort();
	len--; /* the set's blank line */
	memcpy(set + len, "errno=0\n\n", 9);
	if (wg_uapi_parse_get(set + 6, len + 9 - 6, &b, err, sizeof(err)) != 0)
		abort();
	if ((a.flags & ~WGD_REPLACE_PEERS) != (b.flags & ~WGD_REPLACE_PEERS) || memcmp(a.priv, b.priv, WG_KEY_LEN) ||
	    a.port != b.port || a.fwmark != b.fwmark || a.npeers != b.npeers)
		abort();
	for (size_t i = 0; i < a.npeers; i++)
		same_peer(&a.peers[i], &b.peers[i]);
out:
	free(set);
	wg_device_fini(&a);
	wg_device_fini(&b);
	return 0;
}
