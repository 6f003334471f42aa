/* SPDX-License-Identifier: MIT */
/*
 * netctl wg: a WireGuard device through netctl's own backend, as wg(8) would show and set
 * it, for developers and the host tests. Keys in base64 as wg(8) prints them; each
 * command ends with the operations it cost ("operations: sets=1 gets=0").
 *   netctl wg show IFACE
 *   netctl wg set IFACE [private-key FILE] [listen-port N] [fwmark N]
 *       [peer KEY [remove] [update-only] [endpoint IP:PORT] [persistent-keepalive N]
 *        [allowed-ips CIDR[,CIDR...]] [replace-allowed-ips]]...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/parse.h"
#include "lib/wgkey.h"
#include "netctl/cli/cli.h"
#include "netctl/wg.h"

static void print_ops(const struct wg_counters *c)
{
	printf("operations: sets=%" PRIu64 " gets=%" PRIu64 " messages=%" PRIu64 "\n", c->sets, c->gets, c->messages);
}

static const char *addr(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	return inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len) ? buf : "?";
}

static int show(const char *ifname)
{
	struct wg_counters c = { 0 };
	struct wg_device d;
	char err[512], b64[WGKEY_B64_LEN + 1], a[INET6_ADDRSTRLEN];
	uint8_t pub[WGKEY_LEN];
	int rc;

	wg_device_init(&d, ifname);
	rc = wg_userspace.get(ifname, &d, &c, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "netctl: %s\n", err);
		goto out;
	}
	printf("interface: %s\n", d.name);
	if ((d.flags & WGD_PRIVATE_KEY) && wgkey_public(d.priv, pub) == 0) {
		wgkey_b64(pub, b64);
		printf("  public key: %s\n", b64);
	}
	printf("  listening port: %u\n", d.port);
	if (d.fwmark)
		printf("  fwmark: 0x%" PRIx32 "\n", d.fwmark);
	for (size_t i = 0; i < d.npeers; i++) {
		const struct wg_peer *p = &d.peers[i];

		wgkey_b64(p->pub, b64);
		printf("peer: %s\n", b64);
		if (p->ep.family)
			printf(p->ep.family == 4 ? "  endpoint: %s:%u\n" : "  endpoint: [%s]:%u\n",
			       addr(p->ep.family, p->ep.a, a, sizeof(a)), p->ep.port);
		printf("  allowed ips:");
		for (size_t j = 0; j < p->nips; j++)
			printf("%s %s/%u", j ? "," : "", addr(p->ips[j].family, p->ips[j].a, a, sizeof(a)), p->ips[j].cidr);
		printf("%s\n", p->nips ? "" : " (none)");
		if (p->handshake_sec)
			printf("  latest handshake: %" PRId64 " s ago\n", (int64_t)time(NULL) - p->handshake_sec);
		printf("  transfer: %" PRIu64 " B received, %" PRIu64 " B sent\n", p->rx, p->tx);
		if (p->keepalive)
			printf("  persistent keepalive: every %u s\n", p->keepalive);
	}
	print_ops(&c);
out:
	wg_device_fini(&d);
	return rc ? 1 : 0;
}

static int read_key_file(const char *path, uint8_t k[WGKEY_LEN])
{
	char buf[128] = "";
	FILE *f = fopen(path, "re");
	size_t n;
	int rc;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	rc = wgkey_from_b64(buf, k);
	memset(buf, 0, sizeof(buf));
	return rc;
}

static bool to_endpoint(const char *s, struct wg_endpoint *ep)
{
	struct ipaddr ip;
	char host[256];
	unsigned port;

	if (!parse_hostport(s, host, sizeof(host), &port) || port > 65535 || !parse_ip(host, &ip))
		return false;
	ep->family = ip.family == AF_INET ? 4 : 6;
	memcpy(ep->a, ip.addr, 16);
	ep->port = (uint16_t)port;
	return true;
}

static bool add_ips(struct wg_peer *p, char *list)
{
	for (char *save = NULL, *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		struct ipaddr ip;
		unsigned pfx;

		while (*s == ' ')
			s++;
		if (p->nips >= WG_PEER_IPS_MAX || !parse_cidr(s, &ip, &pfx))
			return false;
		p->ips[p->nips].family = ip.family == AF_INET ? 4 : 6;
		memcpy(p->ips[p->nips].a, ip.addr, 16);
		p->ips[p->nips++].cidr = (uint8_t)pfx;
	}
	return true;
}

/* The words of a set into d; 0, or 2 after saying which word is wrong. */
static int parse_set(int argc, char **argv, struct wg_device *d)
{
	struct wg_peer *p = NULL;
	uint8_t k[WGKEY_LEN];

	for (int i = 0; i < argc; i++) {
		const char *w = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool val = true;

		if (!strcmp(w, "remove") && p)
			p->flags |= WGP_REMOVE, val = false;
		else if (!strcmp(w, "update-only") && p)
			p->flags |= WGP_UPDATE_ONLY, val = false;
		else if (!strcmp(w, "replace-allowed-ips") && p)
			p->flags |= WGP_REPLACE_IPS, val = false;
		else if (!v)
			goto bad;
		else if (!strcmp(w, "peer")) {
			if (wgkey_from_b64(v, k) || !(p = wg_device_add_peer(d, k)))
				goto bad;
		} else if (!strcmp(w, "private-key") && !p) {
			if (read_key_file(v, d->priv))
				goto bad;
			d->flags |= WGD_PRIVATE_KEY;
		} else if (!strcmp(w, "listen-port") && !p) {
			d->port = (uint16_t)strtoul(v, NULL, 10);
			d->flags |= WGD_LISTEN_PORT;
		} else if (!strcmp(w, "fwmark") && !p) {
			d->fwmark = (uint32_t)strtoul(v, NULL, 0);
			d->flags |= WGD_FWMARK;
		} else if (!strcmp(w, "endpoint") && p) {
			if (!to_endpoint(v, &p->ep))
				goto bad;
			p->flags |= WGP_ENDPOINT;
		} else if (!strcmp(w, "persistent-keepalive") && p) {
			p->keepalive = (uint16_t)strtoul(v, NULL, 10);
			p->flags |= WGP_KEEPALIVE;
		} else if (!strcmp(w, "allowed-ips") && p) {
			char list[4096];

			snprintf(list, sizeof(list), "%s", v);
			if (!add_ips(p, list))
				goto bad;
		} else
			goto bad;
		if (val)
			i++;
		continue;
bad:
		fprintf(stderr, "netctl wg set: \"%s%s%s\" is not understood here\n", w, v ? " " : "", v ? v : "");
		return 2;
	}
	return 0;
}

static int set(const char *ifname, int argc, char **argv)
{
	struct wg_counters c = { 0 };
	struct wg_device d;
	char err[512];
	int rc;

	wg_device_init(&d, ifname);
	rc = parse_set(argc, argv, &d);
	if (rc)
		goto out;
	if (wg_userspace.set(&d, &c, err, sizeof(err))) {
		fprintf(stderr, "netctl: %s\n", err);
		rc = 1;
		goto out;
	}
	print_ops(&c);
out:
	wg_device_fini(&d);
	return rc;
}

int cli_wg(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[0], "show") && valid_ifname(argv[1]))
		return show(argv[1]);
	if (argc >= 2 && !strcmp(argv[0], "set") && valid_ifname(argv[1]))
		return set(argv[1], argc - 2, argv + 2);
	fprintf(stderr, "usage: netctl wg show IFACE | netctl wg set IFACE [private-key FILE] [listen-port N] [fwmark N]\n"
			"         [peer KEY [remove] [update-only] [endpoint IP:PORT] [persistent-keepalive N]\n"
			"          [allowed-ips CIDR,...] [replace-allowed-ips]]...\n");
	return 2;
}
