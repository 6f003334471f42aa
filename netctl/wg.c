// SPDX-License-Identifier: MIT
/* The WireGuard device model shared by both backends (see wg.h). */
#include "netctl/wg.h"

#include <stdlib.h>
#include <string.h>

void wg_device_init(struct wg_device *d, const char *name)
{
	memset(d, 0, sizeof(*d));
	if (name) {
		strncpy(d->name, name, sizeof(d->name) - 1);
	}
}

static void zero(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

void wg_device_fini(struct wg_device *d)
{
	for (size_t i = 0; i < d->npeers; i++)
		zero(d->peers[i].psk, WG_KEY_LEN);
	free(d->peers);
	zero(d->priv, WG_KEY_LEN);
	memset(d, 0, sizeof(*d));
}

struct wg_peer *wg_device_add_peer(struct wg_device *d, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer *p;

	if (d->npeers == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct wg_peer *np;

		if (d->npeers >= WG_PEERS_MAX)
			return NULL;
		np = malloc(cap * sizeof(*np)); /* not realloc: the old copy's keys are zeroed */
		if (!np)
			return NULL;
		if (d->npeers) {
			memcpy(np, d->peers, d->npeers * sizeof(*np));
			zero(d->peers, d->npeers * sizeof(*np));
		}
		free(d->peers);
		d->peers = np;
		d->cap = cap;
	}
	p = &d->peers[d->npeers++];
	memset(p, 0, sizeof(*p));
	memcpy(p->pub, pub, WG_KEY_LEN);
	return p;
}
