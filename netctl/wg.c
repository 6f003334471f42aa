// SPDX-License-Identifier: MIT
/* The WireGuard device model shared by both backends (see wg.h). */
#include "netctl/wg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void wg_device_init(struct wg_device *d, const char *name)
{
	memset(d, 0, sizeof(*d));
	if (name) {
		strncpy(d->name, name, sizeof(d->name) - 1);
	}
}

void wg_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

int wg_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int wg_check_name(const char *name, char *err, size_t errlen)
{
	size_t n = strnlen(name, WG_IFNAME_MAX);

	if (n == 0 || n >= WG_IFNAME_MAX || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return wg_fail(err, errlen, -EINVAL, "\"%.32s\" is not an interface name", name);
	return 0;
}

bool wg_uapi_serves(const char *name)
{
	char path[sizeof(WG_UAPI_DIR) + WG_IFNAME_MAX + 8];
	struct stat sb;

	if (wg_check_name(name, NULL, 0) < 0)
		return false;
	snprintf(path, sizeof(path), "%s/%s.sock", WG_UAPI_DIR, name);
	return stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

void wg_device_fini(struct wg_device *d)
{
	for (size_t i = 0; i < d->npeers; i++)
		wg_wipe(d->peers[i].psk, WG_KEY_LEN);
	free(d->peers);
	wg_wipe(d->priv, WG_KEY_LEN);
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
			wg_wipe(d->peers, d->npeers * sizeof(*np));
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
