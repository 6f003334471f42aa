/* SPDX-License-Identifier: MIT */
#include "lib/mconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>

#include "lib/fspath.h"
#include "lib/jsonpatch.h"
#include "lib/parse.h"
#include "lib/pki.h"

/* --- the validation walk: a JSON pointer that follows the structs --- */

struct val {
	struct diag *d;
	const char *file;
	const struct srcmap *sm;
	struct jptr p;
	int errors;
};

static size_t vpush(struct val *v, const char *seg)
{
	return jptr_push(&v->p, seg);
}

static size_t vpushi(struct val *v, size_t i)
{
	return jptr_push_index(&v->p, i);
}

static void vpop(struct val *v, size_t old)
{
	jptr_pop(&v->p, old);
}

__attribute__((format(printf, 3, 4))) static void verr(struct val *v, const char *field,
						       const char *fmt, ...)
{
	const char *file = v->file;
	int line = 0, col = 0;
	size_t old = field ? vpush(v, field) : v->p.len;
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	srcmap_find(v->sm, v->p.buf, &file, &line, &col);
	diag_add(v->d, file, line, col, v->p.buf, "%s", msg);
	v->errors++;
	vpop(v, old);
}

/* Line where path's value starts, for "first defined at line N" hints. */
static int line_of(const struct val *v, const char *path)
{
	const char *file;
	int line = 0, col = 0;

	srcmap_find(v->sm, path, &file, &line, &col);
	return line;
}

/* --- single-value checks; each returns true when the value is acceptable --- */

static bool one_of(struct val *v, const char *field, const char *value, const char *const *allowed)
{
	char list[256] = "";

	if (!value)
		return true;
	for (size_t i = 0; allowed[i]; i++) {
		if (strcmp(value, allowed[i]) == 0)
			return true;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 allowed[i]);
	}
	verr(v, field, "\"%s\" is not one of %s", value, list);
	return false;
}

/* A value the decoder already rejected is absent now, but saying "required" would repeat it. */
static void need(struct val *v, const char *field, const void *present, const char *what)
{
	size_t old;

	if (present)
		return;
	old = vpush(v, field);
	if (!diag_covers(v->d, v->p.buf))
		verr(v, NULL, "required: %s", what);
	vpop(v, old);
}

static void check_range(struct val *v, const char *field, protobuf_c_boolean has, uint32_t value,
			uint32_t lo, uint32_t hi)
{
	if (has && (value < lo || value > hi))
		verr(v, field, "%u is out of range (%u to %u)", value, lo, hi);
}

static void check_ip(struct val *v, const char *field, const char *s)
{
	if (s && !parse_ip(s, NULL))
		verr(v, field, "\"%s\" is not an IP address", s);
}

static void check_cidr(struct val *v, const char *field, const char *s, bool negatable)
{
	if (s && !parse_cidr(s + (negatable && s[0] == '!'), NULL, NULL))
		verr(v, field, "\"%s\" is not a CIDR (address/prefix, like 10.0.0.0/24)", s);
}

static void check_duration(struct val *v, const char *field, const char *s)
{
	uint64_t ms;

	if (s && !parse_duration_ms(s, &ms))
		verr(v, field, "\"%s\" is not a duration (like 30s, 2m30s, 1h)", s);
}

static void check_url(struct val *v, const char *field, const char *s, const char *const *schemes)
{
	struct url u;
	char list[64] = "";
	size_t i;

	if (!s)
		return;
	for (i = 0; schemes[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s://", i ? " or " : "",
			 schemes[i]);
	if (!parse_url(s, &u)) {
		verr(v, field, "\"%s\" is not a URL (%s with a host)", s, list);
		return;
	}
	for (i = 0; schemes[i]; i++)
		if (strcmp(u.scheme, schemes[i]) == 0)
			return;
	verr(v, field, "\"%s\" is not a %s URL", s, list);
}

static void check_hostname(struct val *v, const char *field, const char *s)
{
	if (s && !valid_hostname(s))
		verr(v, field, "\"%s\" is not a valid host name", s);
}

/*
 * The node's own name: its first label becomes the kernel's host name and the rest its
 * domain name, each at most 64 bytes (sethostname/setdomainname refuse more, and a config
 * that passed here would then fail to apply on every retry).
 */
static void check_node_hostname(struct val *v, const char *field, const char *s)
{
	const char *dot = s ? strchr(s, '.') : NULL;

	if (s && !valid_hostname(s))
		verr(v, field, "\"%s\" is not a valid host name", s);
	else if (dot && strlen(dot + 1) > 64)
		verr(v, field, "\"%s\": the part after the first dot is %zu characters, and the kernel takes a "
		     "domain name of at most 64", s, strlen(dot + 1));
}

static void check_ifname(struct val *v, const char *field, const char *s)
{
	if (s && !valid_ifname(s))
		verr(v, field, "\"%s\" is not a valid link name (1 to 15 characters, no '/', ':' or spaces)", s);
}

static void check_path(struct val *v, const char *field, const char *s)
{
	if (s && s[0] != '/')
		verr(v, field, "\"%s\" is not an absolute path", s);
}

static void check_size(struct val *v, const char *field, const char *s, bool comparison)
{
	uint64_t b;
	const char *p = s;

	if (!s)
		return;
	if (comparison)
		while (*p == '<' || *p == '>' || *p == '=' || *p == ' ')
			p++;
	if (!parse_size(p, &b))
		verr(v, field, "\"%s\" is not a size (like 4GB, 100 GiB)", s);
}

/* Base64 of at least min bytes (exactly min when exact); pem requires PEM text inside. */
static void check_base64(struct val *v, const char *field, const char *s, size_t min, bool exact,
			 bool pem)
{
	unsigned char buf[8192];
	size_t n = 0;

	if (!s)
		return;
	if (mbedtls_base64_decode(buf, sizeof(buf), &n, (const unsigned char *)s, strlen(s)) != 0) {
		verr(v, field, "not valid base64");
		return;
	}
	if (exact && n != min)
		verr(v, field, "decodes to %zu bytes, want %zu", n, min);
	else if (n < min)
		verr(v, field, "decodes to %zu bytes, want at least %zu", n, min);
	else if (pem && (n < 11 || !memmem(buf, n, "-----BEGIN ", 11)))
		verr(v, field, "not a base64-encoded PEM block");
	/* It may have been a private key. */
	mbedtls_platform_zeroize(buf, n);
}

static void check_cert(struct val *v, const char *field, const Basalt__Config__CertAndKey *ck)
{
	size_t old;

	if (!ck)
		return;
	old = vpush(v, field);
	check_base64(v, "crt", ck->crt, 1, false, true);
	check_base64(v, "key", ck->key, 1, false, true);
	vpop(v, old);
}

/*
 * machine.ca: the CA this node's API trusts and issues its own certificate with. Without
 * a usable one the node could never leave maintenance mode, so a config without it is
 * refused here, before it is put in force.
 */
static void check_machine_ca(struct val *v, const Basalt__Config__CertAndKey *ck, const char *type)
{
	bool worker = type && strcmp(type, "worker") == 0;
	size_t old;
	int errors = v->errors;
	char *crt = NULL, *key = NULL, err[160];
	int r;

	need(v, "ca", ck, "the OS CA (crt and key, as osctl gen config writes them)");
	if (!ck)
		return;
	old = vpush(v, "ca");
	need(v, "crt", ck->crt, "the OS CA certificate, base64 PEM");
	/* A worker without the key gets its certificate from a control-plane node. */
	if (!worker)
		need(v, "key", ck->key, "the OS CA key, base64 PEM (a control-plane node signs with it; "
					"only a worker may do without)");
	check_base64(v, "crt", ck->crt, 1, false, true);
	check_base64(v, "key", ck->key, 1, false, true);
	if (v->errors == errors) {
		crt = pki_b64_decode(ck->crt);
		key = ck->key ? pki_b64_decode(ck->key) : NULL;
		if (!crt || (ck->key && !key))
			verr(v, NULL, "out of memory");
		else if ((r = pki_check_ca(crt, key, err, sizeof(err))) < 0)
			verr(v, r == PKI_BAD_KEY ? "key" : "crt", "%s", err);
	}
	free(crt);
	pki_free_secret(key);
	vpop(v, old);
}

/* A check of one string of a repeated field: field is its index, arg what the check needs. */
typedef void string_check(struct val *v, const char *field, const char *s, const void *arg);

/* Runs check(v, "<field>/<i>", item, arg) for each string of a repeated field. */
static void each_string(struct val *v, const char *field, size_t n, char *const *arr, string_check *check,
			const void *arg)
{
	size_t old = vpush(v, field);

	for (size_t i = 0; i < n; i++) {
		char idx[24];

		snprintf(idx, sizeof(idx), "%zu", i);
		check(v, idx, arr[i], arg);
	}
	vpop(v, old);
}

static const bool cidr_plain = false, cidr_negatable = true;  /* CIDRs; or "!CIDR" too */

static void string_cidr(struct val *v, const char *field, const char *s, const void *arg)
{
	check_cidr(v, field, s, *(const bool *)arg);
}

static void string_ip(struct val *v, const char *field, const char *s, const void *arg)
{
	(void)arg;
	check_ip(v, field, s);
}

static void string_ifname(struct val *v, const char *field, const char *s, const void *arg)
{
	(void)arg;
	check_ifname(v, field, s);
}

static void string_hostname(struct val *v, const char *field, const char *s, const void *arg)
{
	(void)arg;
	check_hostname(v, field, s);
}

static void string_url(struct val *v, const char *field, const char *s, const void *arg)
{
	check_url(v, field, s, arg);
}

/* A certificate's subject alternative name: an IP address or a DNS name. */
static void string_san(struct val *v, const char *field, const char *s, const void *arg)
{
	(void)arg;
	if (!parse_ip(s, NULL) && !valid_hostname(s))
		verr(v, field, "\"%s\" is neither an IP address nor a DNS name", s);
}

/* host or host:port: a control-plane node's signing port. */
static void string_host_opt_port(struct val *v, const char *field, const char *s, const void *arg)
{
	char host[256];
	unsigned port;

	(void)arg;
	if (!parse_host_opt_port(s, host, sizeof(host), &port))
		verr(v, field, "\"%s\" is not a host or host:port (an IPv6 address in brackets: [fd00::1]:50001)", s);
}

/* --- machine.network --- */

static const char *const bond_modes[] = { "balance-rr", "active-backup", "balance-xor", "broadcast",
					  "802.3ad", "balance-tlb", "balance-alb", NULL };

static void check_selector(struct val *v, const char *field, const Basalt__Config__DeviceSelector *s)
{
	size_t old;

	if (!s)
		return;
	old = vpush(v, field);
	if (!s->buspath && !s->hardwareaddr && !s->permanentaddr && !s->pciid && !s->driver &&
	    !s->has_physical && !s->name)
		verr(v, NULL, "a device selector needs at least one of busPath, hardwareAddr, "
			      "permanentAddr, pciID, driver, physical, name");
	if (s->name) {
		/* A link name with wildcards: what fits a name once * and ? stand for characters. */
		size_t n = strlen(s->name), fixed = 0;

		for (const char *p = s->name; *p; p++)
			fixed += *p != '*' && *p != '?';
		if (n == 0 || n > 64 || strpbrk(s->name, "/ \t\n:[]\\") || fixed > 15)
			verr(v, "name", "\"%s\" is not a link name pattern (up to 15 characters besides the wildcards * and ?; "
					"no /, :, spaces, brackets or backslashes)", s->name);
	}
	if (s->hardwareaddr && !parse_mac(s->hardwareaddr, true))
		verr(v, "hardwareAddr", "\"%s\" is not a MAC address (wildcards * and ? allowed)",
		     s->hardwareaddr);
	if (s->permanentaddr && !parse_mac(s->permanentaddr, true))
		verr(v, "permanentAddr", "\"%s\" is not a MAC address (wildcards * and ? allowed)",
		     s->permanentaddr);
	if (s->pciid) {
		unsigned a, b;
		char extra;

		bool wild = strpbrk(s->pciid, "*?") != NULL;
		const char *colon = strchr(s->pciid, ':');

		if (wild ? (strspn(s->pciid, "0123456789abcdefABCDEF:*?") != strlen(s->pciid) || !colon ||
			    strchr(colon + 1, ':'))
			 : (sscanf(s->pciid, "%4x:%4x%c", &a, &b, &extra) != 2 || strlen(s->pciid) != 9))
			verr(v, "pciID", "\"%s\" is not a PCI ID (vendor:device, like 8086:1572; wildcards * and ? allowed)",
			     s->pciid);
	}
	vpop(v, old);
}

static void check_routes(struct val *v, size_t n, Basalt__Config__Route **routes)
{
	size_t old = vpush(v, "routes");

	for (size_t i = 0; i < n; i++) {
		const Basalt__Config__Route *r = routes[i];
		struct ipaddr net = { 0 }, gw = { 0 };
		size_t o2 = vpushi(v, i);
		bool has_net = r->network && parse_cidr(r->network, &net, NULL);
		bool has_gw = r->gateway && parse_ip(r->gateway, &gw);

		check_cidr(v, "network", r->network, false);
		check_ip(v, "gateway", r->gateway);
		check_ip(v, "source", r->source);
		check_range(v, "mtu", r->has_mtu, r->mtu, 68, 65535);
		if (has_net && has_gw && net.family != gw.family)
			verr(v, "gateway", "gateway %s and network %s are of different address families",
			     r->gateway, r->network);
		if (!r->network && !r->gateway)
			verr(v, NULL, "a route needs a network, a gateway, or both");
		vpop(v, o2);
	}
	vpop(v, old);
}

static void check_addressing(struct val *v, size_t naddr, char **addrs, size_t nroutes,
			     Basalt__Config__Route **routes, protobuf_c_boolean has_mtu, uint32_t mtu,
			     const Basalt__Config__Vip *vip)
{
	each_string(v, "addresses", naddr, addrs, string_cidr, &cidr_plain);
	check_routes(v, nroutes, routes);
	check_range(v, "mtu", has_mtu, mtu, 68, 65535);
	if (vip) {
		size_t old = vpush(v, "vip");

		need(v, "ip", vip->ip, "the virtual IP address");
		check_ip(v, "ip", vip->ip);
		vpop(v, old);
	}
}

static void check_bond(struct val *v, const Basalt__Config__Bond *b)
{
	static const char *const hash[] = { "layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", NULL };
	static const char *const rates[] = { "slow", "fast", NULL };
	static const char *const select[] = { "stable", "bandwidth", "count", NULL };
	size_t old = vpush(v, "bond");

	if (b->n_interfaces == 0 && b->n_deviceselectors == 0)
		verr(v, NULL, "a bond needs member links: interfaces or deviceSelectors");
	if (b->n_interfaces && b->n_deviceselectors)
		verr(v, "deviceSelectors", "interfaces and deviceSelectors are mutually exclusive");
	each_string(v, "interfaces", b->n_interfaces, b->interfaces, string_ifname, NULL);
	for (size_t i = 0; i < b->n_deviceselectors; i++) {
		size_t o2 = vpush(v, "deviceSelectors");
		char idx[24];

		snprintf(idx, sizeof(idx), "%zu", i);
		check_selector(v, idx, b->deviceselectors[i]);
		vpop(v, o2);
	}
	if (one_of(v, "mode", b->mode, bond_modes) && b->lacprate && (!b->mode || strcmp(b->mode, "802.3ad") != 0))
		verr(v, "lacpRate", "lacpRate applies to mode 802.3ad only (mode is %s)",
		     b->mode ? b->mode : "unset");
	one_of(v, "xmitHashPolicy", b->xmithashpolicy, hash);
	one_of(v, "lacpRate", b->lacprate, rates);
	one_of(v, "adSelect", b->adselect, select);
	if (b->adselect && (!b->mode || strcmp(b->mode, "802.3ad") != 0))
		verr(v, "adSelect", "adSelect applies to mode 802.3ad only (mode is %s)", b->mode ? b->mode : "unset");
	/* The kernel turns MII monitoring off when ARP monitoring is set: one or the other. */
	if (b->has_arpinterval && b->arpinterval && b->has_miimon && b->miimon)
		verr(v, "arpInterval", "ARP monitoring (arpInterval) and MII monitoring (miimon) exclude each other");
	if (b->n_arpiptarget && !(b->has_arpinterval && b->arpinterval))
		verr(v, "arpIPTarget", "ARP targets need arpInterval (how often they are asked)");
	for (size_t i = 0; i < b->n_arpiptarget; i++) {
		struct ipaddr ip;

		if (parse_ip(b->arpiptarget[i], &ip) && ip.family != AF_INET)
			verr(v, "arpIPTarget", "%s: ARP monitoring asks IPv4 addresses only", b->arpiptarget[i]);
	}
	if (b->n_arpiptarget > 16)
		verr(v, "arpIPTarget", "%zu targets: the kernel takes at most 16", b->n_arpiptarget);
	each_string(v, "arpIPTarget", b->n_arpiptarget, b->arpiptarget, string_ip, NULL);
	if (b->primary) {
		bool member = false;

		for (size_t i = 0; i < b->n_interfaces; i++)
			member |= strcmp(b->interfaces[i], b->primary) == 0;
		if (!member)
			verr(v, "primary", "primary link %s is not a member of the bond", b->primary);
		if (!b->mode || (strcmp(b->mode, "active-backup") != 0 && strcmp(b->mode, "balance-tlb") != 0 &&
				 strcmp(b->mode, "balance-alb") != 0))
			verr(v, "primary", "a primary link applies to modes active-backup, balance-tlb and balance-alb "
					   "(mode is %s)", b->mode ? b->mode : "unset");
	}
	vpop(v, old);
}

static void check_wireguard(struct val *v, const Basalt__Config__Wireguard *w)
{
	size_t old = vpush(v, "wireguard");

	need(v, "privateKey", w->privatekey, "a base64 X25519 private key");
	check_base64(v, "privateKey", w->privatekey, 32, true, false);
	check_range(v, "listenPort", w->has_listenport, w->listenport, 1, 65535);
	for (size_t i = 0; i < w->n_peers; i++) {
		const Basalt__Config__WireguardPeer *p = w->peers[i];
		size_t o2 = vpush(v, "peers"), o3 = vpushi(v, i);
		char host[256];
		unsigned port;

		need(v, "publicKey", p->publickey, "the peer's base64 public key");
		check_base64(v, "publicKey", p->publickey, 32, true, false);
		if (p->endpoint && !parse_hostport(p->endpoint, host, sizeof(host), &port))
			verr(v, "endpoint", "\"%s\" is not host:port", p->endpoint);
		check_duration(v, "persistentKeepaliveInterval", p->persistentkeepaliveinterval);
		each_string(v, "allowedIPs", p->n_allowedips, p->allowedips, string_cidr, &cidr_plain);
		vpop(v, o3);
		vpop(v, o2);
	}
	vpop(v, old);
}

static void check_vlans(struct val *v, const Basalt__Config__Interface *itf)
{
	size_t old = vpush(v, "vlans");

	for (size_t i = 0; i < itf->n_vlans; i++) {
		const Basalt__Config__Vlan *vl = itf->vlans[i];
		size_t o2 = vpushi(v, i);

		need(v, "vlanId", vl->has_vlanid ? vl : NULL, "the VLAN ID (1 to 4094)");
		check_range(v, "vlanId", vl->has_vlanid, vl->vlanid, 1, 4094);
		for (size_t j = 0; j < i; j++)
			if (vl->has_vlanid && itf->vlans[j]->has_vlanid && itf->vlans[j]->vlanid == vl->vlanid)
				verr(v, "vlanId", "VLAN %u is already defined for this interface", vl->vlanid);
		check_addressing(v, vl->n_addresses, vl->addresses, vl->n_routes, vl->routes, vl->has_mtu,
				 vl->mtu, vl->vip);
		vpop(v, o2);
	}
	vpop(v, old);
}

static void check_interface(struct val *v, const Basalt__Config__Interface *itf)
{
	if (!itf->interface && !itf->deviceselector)
		verr(v, NULL, "one of interface or deviceSelector is required");
	if (itf->interface && itf->deviceselector)
		verr(v, "deviceSelector", "interface and deviceSelector are mutually exclusive");
	check_ifname(v, "interface", itf->interface);
	check_selector(v, "deviceSelector", itf->deviceselector);
	if (itf->bond && itf->bridge)
		verr(v, "bridge", "bond and bridge are mutually exclusive");
	if (itf->has_dummy && itf->dummy && (itf->bond || itf->bridge))
		verr(v, "dummy", "a dummy link is not a bond or bridge as well");
	if (itf->bond)
		check_bond(v, itf->bond);
	if (itf->bridge) {
		size_t old = vpush(v, "bridge");

		if (itf->bridge->n_interfaces == 0)
			verr(v, NULL, "a bridge needs member links in interfaces");
		each_string(v, "interfaces", itf->bridge->n_interfaces, itf->bridge->interfaces, string_ifname, NULL);
		vpop(v, old);
	}
	check_addressing(v, itf->n_addresses, itf->addresses, itf->n_routes, itf->routes, itf->has_mtu,
			 itf->mtu, itf->vip);
	check_vlans(v, itf);
	if (itf->wireguard)
		check_wireguard(v, itf->wireguard);
}

/* Links named more than once, and bond/bridge members that are claimed twice or configured. */
static void check_interface_set(struct val *v, size_t n, Basalt__Config__Interface **itfs)
{
	for (size_t i = 0; i < n; i++) {
		const Basalt__Config__Interface *a = itfs[i];

		for (size_t j = 0; a->interface && j < i; j++) {
			if (itfs[j]->interface && strcmp(itfs[j]->interface, a->interface) == 0) {
				size_t old = vpushi(v, j), o2 = vpush(v, "interface");
				int first = line_of(v, v->p.buf);

				vpop(v, o2);
				vpop(v, old);
				old = vpushi(v, i);
				verr(v, "interface", "duplicate interface %s (first configured at line %d)",
				     a->interface, first);
				vpop(v, old);
				break;
			}
		}
	}
	/* Members: each in one bond or bridge, and not configured on its own. */
	for (size_t i = 0; i < n; i++) {
		const Basalt__Config__Interface *a = itfs[i];
		size_t nm = a->bond ? a->bond->n_interfaces : a->bridge ? a->bridge->n_interfaces : 0;
		char **members = a->bond ? a->bond->interfaces : a->bridge ? a->bridge->interfaces : NULL;
		size_t old = vpushi(v, i), o2 = vpush(v, a->bond ? "bond" : "bridge");

		for (size_t m = 0; m < nm; m++) {
			size_t o3 = vpush(v, "interfaces"), o4 = vpushi(v, m);

			for (size_t k = 0; k < m; k++)
				if (strcmp(members[k], members[m]) == 0)
					verr(v, NULL, "%s is listed twice", members[m]);
			for (size_t j = 0; j < n; j++) {
				const Basalt__Config__Interface *b = itfs[j];
				size_t bn = b->bond ? b->bond->n_interfaces : b->bridge ? b->bridge->n_interfaces : 0;
				char **bm = b->bond ? b->bond->interfaces : b->bridge ? b->bridge->interfaces : NULL;

				if (j < i)
					for (size_t k = 0; k < bn; k++)
						if (strcmp(bm[k], members[m]) == 0)
							verr(v, NULL, "%s is already a member of %s", members[m],
							     b->interface ? b->interface : "another link");
				if (b->interface && strcmp(b->interface, members[m]) == 0 &&
				    (b->n_addresses || b->has_dhcp || b->bond || b->bridge || b->n_vlans))
					verr(v, NULL, "%s is a member of %s and cannot have its own addresses, "
						      "DHCP, VLANs, bond or bridge", members[m],
					     a->interface ? a->interface : "this link");
				if (a->interface && strcmp(a->interface, members[m]) == 0 && j == i)
					verr(v, NULL, "a link cannot be a member of itself");
			}
			vpop(v, o4);
			vpop(v, o3);
		}
		vpop(v, o2);
		vpop(v, old);
	}
}

static void check_network(struct val *v, const Basalt__Config__Network *net)
{
	size_t old = vpush(v, "network"), o2;

	check_node_hostname(v, "hostname", net->hostname);
	each_string(v, "nameservers", net->n_nameservers, net->nameservers, string_ip, NULL);
	each_string(v, "searchDomains", net->n_searchdomains, net->searchdomains, string_hostname, NULL);
	o2 = vpush(v, "extraHostEntries");
	for (size_t i = 0; i < net->n_extrahostentries; i++) {
		const Basalt__Config__ExtraHost *h = net->extrahostentries[i];
		size_t o3 = vpushi(v, i);

		need(v, "ip", h->ip, "the address the aliases resolve to");
		check_ip(v, "ip", h->ip);
		if (h->n_aliases == 0)
			verr(v, "aliases", "required: at least one host name");
		each_string(v, "aliases", h->n_aliases, h->aliases, string_hostname, NULL);
		vpop(v, o3);
	}
	vpop(v, o2);
	o2 = vpush(v, "interfaces");
	for (size_t i = 0; i < net->n_interfaces; i++) {
		size_t o3 = vpushi(v, i);

		check_interface(v, net->interfaces[i]);
		vpop(v, o3);
	}
	check_interface_set(v, net->n_interfaces, net->interfaces);
	vpop(v, o2);
	vpop(v, old);
}

/* --- the rest of machine --- */

static bool valid_key(const char *s, const char *extra)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return false;
	return true;
}

static void check_install(struct val *v, const Basalt__Config__Install *in)
{
	static const char *const types[] = { "ssd", "hdd", "nvme", "sd", NULL };
	size_t old = vpush(v, "install");

	if (in->disk && in->diskselector)
		verr(v, "diskSelector", "disk and diskSelector are mutually exclusive");
	check_path(v, "disk", in->disk);
	if (in->diskselector) {
		size_t o2 = vpush(v, "diskSelector");

		check_size(v, "size", in->diskselector->size, true);
		one_of(v, "type", in->diskselector->type, types);
		vpop(v, o2);
	}
	vpop(v, old);
}

static void check_files(struct val *v, size_t n, Basalt__Config__File **files)
{
	static const char *const ops[] = { "create", "append", "overwrite", NULL };
	size_t old = vpush(v, "files");

	for (size_t i = 0; i < n; i++) {
		const Basalt__Config__File *f = files[i];
		size_t o2 = vpushi(v, i);

		need(v, "path", f->path, "where to write the file");
		check_path(v, "path", f->path);
		if (f->path && f->path[0] == '/') {
			static const char *const var[] = { "var" };
			struct fspath p;
			char e[300];

			if (fspath_split(f->path, var, 1, &p, e, sizeof(e)) < 0 && strncmp(f->path, "/var/", 5) == 0)
				verr(v, "path", "%s", e);
			else if (fspath_split(f->path, var, 1, &p, e, sizeof(e)) < 0 || strcmp(p.rel, ".") == 0)
				verr(v, "path", "%s is not under /var/: the rest of the root filesystem is read-only", f->path);
		}
		if (f->has_permissions && f->permissions > 07777)
			verr(v, "permissions", "0o%o is not a file mode (0 to 0o7777)", f->permissions);
		one_of(v, "op", f->op, ops);
		vpop(v, o2);
	}
	vpop(v, old);
}

static void check_map_keys(struct val *v, const char *field, size_t n, void **entries,
			   const char *extra, const char *what)
{
	size_t old = vpush(v, field);

	for (size_t i = 0; i < n; i++) {
		const ProtobufCMessage *e = entries[i];
		const char *key = *(const char *const *)((const char *)e + e->descriptor->fields[0].offset);

		if (!valid_key(key, extra))
			verr(v, key, "\"%s\" is not %s", key, what);
	}
	vpop(v, old);
}

static void check_kubelet(struct val *v, const Basalt__Config__Kubelet *k)
{
	size_t old = vpush(v, "kubelet");

	each_string(v, "clusterDNS", k->n_clusterdns, k->clusterdns, string_ip, NULL);
	if (k->nodeip) {
		size_t o2 = vpush(v, "nodeIP");

		each_string(v, "validSubnets", k->nodeip->n_validsubnets, k->nodeip->validsubnets,
			    string_cidr, &cidr_negatable);
		vpop(v, o2);
	}
	for (size_t i = 0; i < k->n_extramounts; i++) {
		size_t o2 = vpush(v, "extraMounts"), o3 = vpushi(v, i);

		need(v, "destination", k->extramounts[i]->destination, "where to mount");
		check_path(v, "destination", k->extramounts[i]->destination);
		need(v, "source", k->extramounts[i]->source, "what to mount");
		vpop(v, o3);
		vpop(v, o2);
	}
	vpop(v, old);
}

static void check_machine(struct val *v, const Basalt__Config__Machine *m)
{
	static const char *const types[] = { "controlplane", "worker", NULL };
	static const char *const log_schemes[] = { "tcp", "udp", NULL };
	static const char *const log_formats[] = { "json_lines", NULL };
	size_t old = vpush(v, "machine");

	need(v, "type", m->type, "controlplane or worker");
	one_of(v, "type", m->type, types);
	check_machine_ca(v, m->ca, m->type);
	if (m->type && strcmp(m->type, "worker") == 0 && m->ca && !m->ca->key)
		need(v, "token", m->token, "the machine token: a worker without the CA key proves it to get "
					   "its certificate");
	each_string(v, "certSANs", m->n_certsans, m->certsans, string_san, NULL);
	if (m->install)
		check_install(v, m->install);
	if (m->network)
		check_network(v, m->network);
	for (size_t i = 0; i < m->n_disks; i++) {
		size_t o2 = vpush(v, "disks"), o3 = vpushi(v, i);

		need(v, "device", m->disks[i]->device, "the disk's device path");
		check_path(v, "device", m->disks[i]->device);
		for (size_t j = 0; j < m->disks[i]->n_partitions; j++) {
			size_t o4 = vpush(v, "partitions"), o5 = vpushi(v, j);

			check_path(v, "mountpoint", m->disks[i]->partitions[j]->mountpoint);
			check_size(v, "size", m->disks[i]->partitions[j]->size, false);
			vpop(v, o5);
			vpop(v, o4);
		}
		vpop(v, o3);
		vpop(v, o2);
	}
	if (m->time) {
		size_t o2 = vpush(v, "time");

		if (m->time->has_disabled && m->time->disabled && m->time->n_servers)
			verr(v, "servers", "servers and disabled: true are mutually exclusive");
		check_duration(v, "bootTimeout", m->time->boottimeout);
		vpop(v, o2);
	}
	check_map_keys(v, "sysctls", m->n_sysctls, (void **)m->sysctls, "._-/*",
		       "a sysctl name (like net.ipv4.ip_forward)");
	check_map_keys(v, "env", m->n_env, (void **)m->env, "_", "an environment variable name");
	check_files(v, m->n_files, m->files);
	if (m->kubelet)
		check_kubelet(v, m->kubelet);
	if (m->logging) {
		for (size_t i = 0; i < m->logging->n_destinations; i++) {
			size_t o2 = vpush(v, "logging"), o3 = vpush(v, "destinations"), o4 = vpushi(v, i);

			need(v, "endpoint", m->logging->destinations[i]->endpoint, "a tcp:// or udp:// URL");
			check_url(v, "endpoint", m->logging->destinations[i]->endpoint, log_schemes);
			one_of(v, "format", m->logging->destinations[i]->format, log_formats);
			vpop(v, o4);
			vpop(v, o3);
			vpop(v, o2);
		}
	}
	if (m->features && m->features->kubeprism) {
		size_t o2 = vpush(v, "features"), o3 = vpush(v, "kubePrism");

		check_range(v, "port", m->features->kubeprism->has_port, m->features->kubeprism->port, 1, 65535);
		vpop(v, o3);
		vpop(v, o2);
	}
	if (m->kernel) {
		for (size_t i = 0; i < m->kernel->n_modules; i++) {
			size_t o2 = vpush(v, "kernel"), o3 = vpush(v, "modules"), o4 = vpushi(v, i);

			need(v, "name", m->kernel->modules[i]->name, "the module name");
			if (m->kernel->modules[i]->name && !valid_key(m->kernel->modules[i]->name, "_-"))
				verr(v, "name", "\"%s\" is not a module name", m->kernel->modules[i]->name);
			vpop(v, o4);
			vpop(v, o3);
			vpop(v, o2);
		}
	}
	vpop(v, old);
}

/* --- cluster --- */

static void check_cluster(struct val *v, const Basalt__Config__Cluster *c)
{
	static const char *const https[] = { "https", NULL };
	static const char *const http_s[] = { "http", "https", NULL };
	static const char *const cnis[] = { "flannel", "custom", "none", NULL };
	static const char *const proxy_modes[] = { "iptables", "ipvs", "nftables", NULL };
	size_t old = vpush(v, "cluster");

	need(v, "name", c->name, "the cluster's name");
	if (c->name && !valid_hostname(c->name))
		verr(v, "name", "\"%s\" is not a valid cluster name (a DNS name)", c->name);
	need(v, "controlPlane", c->controlplane, "controlPlane.endpoint, the Kubernetes API URL");
	if (c->controlplane) {
		size_t o2 = vpush(v, "controlPlane");

		need(v, "endpoint", c->controlplane->endpoint, "the Kubernetes API URL (https://host:port)");
		check_url(v, "endpoint", c->controlplane->endpoint, https);
		check_range(v, "localAPIServerPort", c->controlplane->has_localapiserverport,
			    c->controlplane->localapiserverport, 1, 65535);
		each_string(v, "certificateSigners", c->controlplane->n_certificatesigners,
			    c->controlplane->certificatesigners, string_host_opt_port, NULL);
		if (c->controlplane->n_certificatesigners > 16)
			verr(v, "certificateSigners", "%zu entries: at most 16", c->controlplane->n_certificatesigners);
		vpop(v, o2);
	}
	check_base64(v, "id", c->id, 32, false, false);
	check_base64(v, "secret", c->secret, 32, true, false);
	if (c->network) {
		size_t o2 = vpush(v, "network");

		check_hostname(v, "dnsDomain", c->network->dnsdomain);
		each_string(v, "podSubnets", c->network->n_podsubnets, c->network->podsubnets, string_cidr, &cidr_plain);
		each_string(v, "serviceSubnets", c->network->n_servicesubnets, c->network->servicesubnets,
			    string_cidr, &cidr_plain);
		if (c->network->cni) {
			const Basalt__Config__Cni *cni = c->network->cni;
			size_t o3 = vpush(v, "cni");

			if (one_of(v, "name", cni->name, cnis) && cni->name) {
				if (strcmp(cni->name, "custom") == 0 && cni->n_urls == 0)
					verr(v, "urls", "required when name is custom: the manifests to apply");
				if (strcmp(cni->name, "custom") != 0 && cni->n_urls)
					verr(v, "urls", "urls apply to name custom only (name is %s)", cni->name);
			}
			each_string(v, "urls", cni->n_urls, cni->urls, string_url, http_s);
			vpop(v, o3);
		}
		vpop(v, o2);
	}
	if (c->discovery && c->discovery->registries && c->discovery->registries->service) {
		size_t o2 = vpush(v, "discovery"), o3 = vpush(v, "registries"), o4 = vpush(v, "service");

		check_url(v, "endpoint", c->discovery->registries->service->endpoint, https);
		vpop(v, o4);
		vpop(v, o3);
		vpop(v, o2);
	}
	if (c->kubespan) {
		size_t o2 = vpush(v, "kubespan");

		if (c->kubespan->enabled && !(c->discovery && c->discovery->enabled))
			verr(v, "enabled", "KubeSpan needs cluster.discovery.enabled: true to find its peers");
		check_range(v, "mtu", c->kubespan->has_mtu, c->kubespan->mtu, 1280, 65535);
		each_string(v, "bypassSubnets", c->kubespan->n_bypasssubnets, c->kubespan->bypasssubnets,
			    string_cidr, &cidr_plain);
		each_string(v, "endpointFilters", c->kubespan->n_endpointfilters, c->kubespan->endpointfilters,
			    string_cidr, &cidr_negatable);
		vpop(v, o2);
	}
	if (c->etcd) {
		size_t o2 = vpush(v, "etcd");

		each_string(v, "advertisedSubnets", c->etcd->n_advertisedsubnets, c->etcd->advertisedsubnets,
			    string_cidr, &cidr_negatable);
		each_string(v, "listenSubnets", c->etcd->n_listensubnets, c->etcd->listensubnets,
			    string_cidr, &cidr_negatable);
		vpop(v, o2);
	}
	if (c->secrets) {
		const Basalt__Config__Secrets *s = c->secrets;
		size_t o2 = vpush(v, "secrets");

		if (s->bootstraptoken) {
			const char *t = s->bootstraptoken;
			bool ok = strlen(t) == 23 && t[6] == '.';

			for (size_t i = 0; ok && i < 23; i++)
				ok = i == 6 || islower((unsigned char)t[i]) || isdigit((unsigned char)t[i]);
			if (!ok)
				verr(v, "bootstrapToken", "not a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})");
		}
		check_base64(v, "secretboxEncryptionSecret", s->secretboxencryptionsecret, 32, true, false);
		check_cert(v, "ca", s->ca);
		check_cert(v, "aggregatorCA", s->aggregatorca);
		check_cert(v, "etcdCA", s->etcdca);
		if (s->serviceaccount) {
			size_t o3 = vpush(v, "serviceAccount");

			check_base64(v, "key", s->serviceaccount->key, 1, false, true);
			vpop(v, o3);
		}
		vpop(v, o2);
	}
	if (c->proxy) {
		size_t o2 = vpush(v, "proxy");

		one_of(v, "mode", c->proxy->mode, proxy_modes);
		vpop(v, o2);
	}
	if (c->apiserver) {
		size_t o2 = vpush(v, "apiServer");

		each_string(v, "certSANs", c->apiserver->n_certsans, c->apiserver->certsans, string_san, NULL);
		vpop(v, o2);
	}
	vpop(v, old);
}

int mconfig_validate(const Basalt__Config__Config *cfg, const char *file,
		     const struct srcmap *sm, struct diag *d)
{
	struct val v = { .d = d, .file = file, .sm = sm };

	if (!cfg->version)
		verr(&v, "version", "required: %s", MCONFIG_VERSION);
	else if (strcmp(cfg->version, MCONFIG_VERSION) != 0)
		verr(&v, "version", "\"%s\" is not a supported version (%s)", cfg->version, MCONFIG_VERSION);
	need(&v, "machine", cfg->machine, "the machine section");
	need(&v, "cluster", cfg->cluster, "the cluster section");
	if (cfg->machine)
		check_machine(&v, cfg->machine);
	if (cfg->cluster)
		check_cluster(&v, cfg->cluster);
	return v.errors;
}

/* --- loading --- */

void mconfig_free(Basalt__Config__Config *cfg)
{
	if (cfg)
		protobuf_c_message_free_unpacked(&cfg->base, NULL);
}

char *mconfig_emit(const Basalt__Config__Config *cfg, bool json)
{
	return pbyaml_emit(&cfg->base, json);
}

int mconfig_load(const char *file, const char *text, size_t len,
		 const struct mconfig_patch *patches, size_t npatches, Basalt__Config__Config **out,
		 struct diag *d)
{
	struct fy_document *doc = pbyaml_parse(file, text, len, d);
	struct srcmap *sm = NULL;
	ProtobufCMessage *msg = NULL;
	int r = -EINVAL;

	*out = NULL;
	if (!doc)
		return -EINVAL;
	for (size_t i = 0; i < npatches; i++)
		if (jsonpatch_apply(doc, patches[i].name, patches[i].text, patches[i].len, d) < 0)
			goto out;
	sm = srcmap_new();
	if (!sm) {
		r = -ENOMEM;
		goto out;
	}
	{
		struct pbyaml_ctx c = { .file = file, .diag = d, .sm = sm };

		r = pbyaml_decode(&c, fy_document_root(doc), &basalt__config__config__descriptor, &msg);
	}
	if (r == -ENOMEM)
		goto out;
	/* Decoding errors do not stop validation: all problems are reported together. */
	if (mconfig_validate((Basalt__Config__Config *)msg, file, sm, d) > 0 || r < 0) {
		r = -EINVAL;
		goto out;
	}
	*out = (Basalt__Config__Config *)msg;
	msg = NULL;
	r = 0;
out:
	if (msg)
		protobuf_c_message_free_unpacked(msg, NULL);
	srcmap_free(sm);
	fy_document_destroy(doc);
	return r;
}
