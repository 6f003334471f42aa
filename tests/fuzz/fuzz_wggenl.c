/* SPDX-License-Identifier: MIT */
/*
 * A generic netlink message from the kernel's WireGuard family, as the kernel backend reads
 * a dump's. Whatever parses must format as sets (split between peers as needed), read back,
 * and give the same device: keys, port, fwmark and, peer by peer, key, preshared key,
 * endpoint, keepalive and allowed IPs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>

#include "netctl/wg.h"

static void same_peer(const struct wg_peer *a, const struct wg_peer *b)
{
	const uint32_t cfg = WGP_PRESHARED_KEY | WGP_ENDPOINT | WGP_KEEPALIVE;

	if (memcmp(a->pub, b->pub, WG_KEY_LEN) || (a->flags & cfg) != (b->flags & cfg) ||
	    ((a->flags & WGP_PRESHARED_KEY) && memcmp(a->psk, b->psk, WG_KEY_LEN)) ||
	    ((a->flags & WGP_KEEPALIVE) && a->keepalive != b->keepalive) || a->nips != b->nips)
		abort();
	if ((a->flags & WGP_ENDPOINT) &&
	    (a->ep.family != b->ep.family || memcmp(a->ep.a, b->ep.a, 16) || a->ep.port != b->ep.port))
		abort();
	for (size_t i = 0; i < a->nips; i++)
		if (a->ips[i].family != b->ips[i].family || memcmp(a->ips[i].a, b->ips[i].a, 16) ||
		    a->ips[i].cidr != b->ips[i].cidr)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum { CAP = 32 << 10 };
	struct wg_device a, b;
	char err[256];
	uint8_t *buf = NULL;
	size_t next = 0, len;

	wg_device_init(&a, "fz0");
	wg_device_init(&b, NULL);
	if (wg_genl_parse(data, size, &a, err, sizeof(err)) != 0)
		goto out;
	a.flags &= ~(uint32_t)WGD_PUBLIC_KEY;
	if (!(buf = malloc(CAP)))
		abort();
	do {
		if (wg_genl_format_set(&a, 0x1d, &next, buf, CAP, &len) != 0)
			abort(); /* every peer the model holds fits one message */
		if (wg_genl_parse(buf + NLMSG_HDRLEN, len - NLMSG_HDRLEN, &b, err, sizeof(err)) != 0)
			abort();
	} while (next < a.npeers);
	if ((a.flags & ~WGD_REPLACE_PEERS) != (b.flags & ~WGD_REPLACE_PEERS) || strcmp(a.name, b.name) ||
	    ((a.flags & WGD_PRIVATE_KEY) && memcmp(a.priv, b.priv, WG_KEY_LEN)) || a.port != b.port ||
	    a.fwmark != b.fwmark || a.npeers != b.npeers)
		abort();
	for (size_t i = 0; i < a.npeers; i++)
		same_peer(&a.peers[i], &b.peers[i]);
out:
	free(buf);
	wg_device_fini(&a);
	wg_device_fini(&b);
	return 0;
}
