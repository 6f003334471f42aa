/* SPDX-License-Identifier: MIT */
#include "machined/platform/cloudinit.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "lib/diag.h"
#include "lib/parse.h"
#include "lib/pbyaml.h"

/* A document (YAML or JSON) named name, or NULL with what did not parse in err (one line). */
static struct fy_document *parse_doc(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
	struct fy_document *doc;
	struct diag d;
	char *msg;

	diag_init(&d);
	if ((doc = pbyaml_parse(name, text, len, &d))) {
		diag_fini(&d);
		return doc;
	}
	msg = diag_format(&d);
	snprintf(err, errlen, "%s", msg ? msg : "not YAML");
	for (char *p = err; (p = strchr(p, '\n'));)
		*p = p[1] ? ';' : '\0';
	free(msg);
	diag_fini(&d);
	return NULL;
}

/* The scalar value of key in mapping m, or NULL (absent, or not a scalar). */
static const char *scalar_of(struct fy_node *m, const char *key, size_t *len)
{
	struct fy_node_pair *pair;
	void *it = NULL;

	while ((pair = fy_node_mapping_iterate(m, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		size_t kl;
		const char *ks = k && fy_node_get_type(k) == FYNT_SCALAR ? fy_node_get_scalar(k, &kl) : NULL;

		if (ks && kl == strlen(key) && memcmp(ks, key, kl) == 0)
			return v && fy_node_get_type(v) == FYNT_SCALAR ? fy_node_get_scalar(v, len) : NULL;
	}
	return NULL;
}

/* Copies a scalar (len bytes, no NUL inside) into out; false when it does not fit or holds a control character. */
static bool take(const char *s, size_t len, char *out, size_t outlen)
{
	if (len >= outlen)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

/* A host name (possibly with its domain): letters, digits, '-' and '.', parts 1 to 63 long. */
static bool hostname_ok(const char *h)
{
	size_t part = 0;

	if (!*h || *h == '.' || *h == '-')
		return false;
	for (const char *c = h; *c; c++) {
		if (*c == '.') {
			if (part == 0)
				return false;
			part = 0;
			continue;
		}
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-') ||
		    ++part > 63)
			return false;
	}
	return part > 0;
}

struct meta_field {
	const char *key;
	size_t off, size;
	bool fallback;          /* taken only when an earlier key gave nothing */
};

#define META_FIELD(key, field, fallback) { key, offsetof(struct platform_metadata, field), \
					    sizeof(((struct platform_metadata *)0)->field), fallback }

/* The fields of a metadata document (YAML or JSON) called name into md. */
static int meta_parse(const char *name, const struct meta_field *fields, size_t nfields, const char *text,
		      size_t len, struct platform_metadata *md, char *err, size_t errlen)
{
	struct platform_metadata got = *md;  /* md changes only when all of it reads */
	struct fy_document *doc;
	struct fy_node *root;
	int r = 0;

	if (len > CLOUDINIT_DOC_MAX) {
		snprintf(err, errlen, "%s: %zu bytes, more than %u", name, len, CLOUDINIT_DOC_MAX);
		return -1;
	}
	{
		size_t i = 0;

		while (i < len && strchr(" \t\r\n", text[i]) && text[i])
			i++;
		if (i == len)
			return 0;  /* an empty document: nothing said */
	}
	if (!(doc = parse_doc(name, text, len, err, errlen)))
		return -1;
	root = fy_document_root(doc);
	if (root && fy_node_get_type(root) != FYNT_MAPPING) {
		snprintf(err, errlen, "%s: not a mapping of keys to values", name);
		r = -1;
	}
	for (size_t i = 0; r == 0 && root && i < nfields; i++) {
		char *out = (char *)&got + fields[i].off;
		size_t vl;
		const char *v = scalar_of(root, fields[i].key, &vl);

		if (!v || (out[0] && fields[i].fallback))
			continue;
		if (!take(v, vl, out, fields[i].size)) {
			snprintf(err, errlen, "%s: %s: longer than %zu characters or not text", name, fields[i].key,
				 fields[i].size - 1);
			r = -1;
		}
	}
	if (r == 0 && got.hostname[0] && !hostname_ok(got.hostname)) {
		snprintf(err, errlen, "%s: \"%.64s\" is not a host name (letters, digits, '-' and '.')", name,
			 got.hostname);
		r = -1;
	}
	if (r == 0)
		*md = got;
	fy_document_destroy(doc);
	return r;
}

int cloudinit_meta_parse(const char *text, size_t len, struct platform_metadata *md, char *err, size_t errlen)
{
	/* local-hostname wins over hostname: it comes first. */
	static const struct meta_field fields[] = {
		META_FIELD("instance-id", instance_id, false),
		META_FIELD("local-hostname", hostname, false),
		META_FIELD("hostname", hostname, true),
	};

	return meta_parse("meta-data", fields, sizeof(fields) / sizeof(fields[0]), text, len, md, err, errlen);
}

int cloudinit_openstack_meta_parse(const char *text, size_t len, struct platform_metadata *md, char *err,
				   size_t errlen)
{
	static const struct meta_field fields[] = {
		META_FIELD("uuid", instance_id, false),
		META_FIELD("hostname", hostname, false),
		META_FIELD("name", hostname, true),
		META_FIELD("availability_zone", zone, false),
	};

	return meta_parse("meta_data.json", fields, sizeof(fields) / sizeof(fields[0]), text, len, md, err, errlen);
}

/* --- network-config, versions 1 and 2 --- */

struct net_build {
	const char *name;               /* the document's, for errors: "network-config" */
	Basalt__Config__Network *net;
	char *gaps;
	size_t gapslen;
	char *err;
	size_t errlen;
	bool failed;
};

/* A scalar node's text, NUL-terminated in a fresh string (NULL when n is no scalar). */
static char *text_of(struct fy_node *n)
{
	size_t len;
	const char *s = n && fy_node_get_type(n) == FYNT_SCALAR ? fy_node_get_scalar(n, &len) : NULL;

	return s && !memchr(s, '\0', len) ? strndup(s, len) : NULL;
}

static struct fy_node *lookup(struct fy_node *m, const char *key)
{
	struct fy_node_pair *pair;
	void *it = NULL;

	if (!m || fy_node_get_type(m) != FYNT_MAPPING)
		return NULL;
	while ((pair = fy_node_mapping_iterate(m, &it))) {
		struct fy_node *k = fy_node_pair_key(pair);
		size_t kl;
		const char *ks = k && fy_node_get_type(k) == FYNT_SCALAR ? fy_node_get_scalar(k, &kl) : NULL;

		if (ks && kl == strlen(key) && memcmp(ks, key, kl) == 0)
			return fy_node_pair_value(pair);
	}
	return NULL;
}

static void gap(struct net_build *b, const char *what)
{
	size_t n = strlen(b->gaps);

	if (!strstr(b->gaps, what) && n + strlen(what) + 3 < b->gapslen) {
		snprintf(b->gaps + n, b->gapslen - n, "%s%s", n ? ", " : "", what);
		for (char *c = b->gaps + n; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
	}
}

__attribute__((format(printf, 2, 3))) static void bad(struct net_build *b, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (b->failed)
		return;
	n = (size_t)snprintf(b->err, b->errlen, "%s: ", b->name);
	va_start(ap, fmt);
	if (n < b->errlen)
		vsnprintf(b->err + n, b->errlen - n, fmt, ap);
	va_end(ap);
	b->failed = true;
	/* The values quoted come from the seed: no control character reaches the console. */
	for (char *c = b->err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

static bool truthy(struct fy_node *n)
{
	char *s = text_of(n);
	bool t = s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0);

	free(s);
	return t;
}

/* Appends s (taken) to a repeated string field. */
static bool push_str(char ***v, size_t *n, char *s)
{
	char **nv = s ? realloc(*v, (*n + 1) * sizeof(**v)) : NULL;

	if (!nv) {
		free(s);
		return false;
	}
	nv[(*n)++] = s;
	*v = nv;
	return true;
}

/* A scalar or a sequence of scalars: each IP address into v (checked). */
static void ips(struct net_build *b, struct fy_node *n, char ***v, size_t *nv, const char *where)
{
	struct fy_node *c;
	void *it = NULL;
	struct ipaddr ip;

	if (!n)
		return;
	if (fy_node_get_type(n) == FYNT_SCALAR) {
		char *s = text_of(n);
		bool seen = false;

		if (!s || !parse_ip(s, &ip)) {
			bad(b, "%s: \"%.64s\" is not an IP address", where, s ? s : "");
			free(s);
			return;
		}
		/* Named twice (a network's DNS services and the document's): kept once. */
		for (size_t k = 0; k < *nv && !seen; k++)
			seen = strcmp((*v)[k], s) == 0;
		if (seen)
			free(s);
		else
			push_str(v, nv, s);  /* (frees s when it cannot) */
		return;
	}
	while ((c = fy_node_sequence_iterate(n, &it)))
		ips(b, c, v, nv, where);
}

/* Search domains (a scalar or a sequence): each a domain name, at most 6 in all. */
static void domains(struct net_build *b, struct fy_node *n, char ***v, size_t *nv)
{
	struct fy_node *c;
	void *it = NULL;

	if (n && fy_node_get_type(n) == FYNT_SCALAR) {
		char *s = text_of(n);

		if (!s || !hostname_ok(s) || strlen(s) > 253)
			bad(b, "search domain \"%.64s\" is not a domain name", s ? s : "");
		else if (*nv >= 6)
			bad(b, "more than 6 search domains");
		else if (push_str(v, nv, s))
			return;
		else
			s = NULL;
		free(s);
		return;
	}
	while (n && (c = fy_node_sequence_iterate(n, &it)) && !b->failed)
		domains(b, c, v, nv);
}

static Basalt__Config__Interface *new_interface(struct net_build *b)
{
	Basalt__Config__Interface *i = malloc(sizeof(*i)), **nv;

	if (!i)
		return NULL;
	basalt__config__interface__init(i);
	if (!(nv = realloc(b->net->interfaces, (b->net->n_interfaces + 1) * sizeof(*nv)))) {
		free(i);
		return NULL;
	}
	b->net->interfaces = nv;
	nv[b->net->n_interfaces++] = i;
	return i;
}

/* The link by MAC (a device selector) or else by name. */
static void link_of(struct net_build *b, Basalt__Config__Interface *i, char *mac, char *name)
{
	if (mac) {
		if (!parse_mac(mac, false)) {
			bad(b, "\"%.64s\" is not a MAC address", mac);
			free(mac);
		} else if ((i->deviceselector = malloc(sizeof(*i->deviceselector)))) {
			basalt__config__device_selector__init(i->deviceselector);
			for (char *c = mac; *c; c++)
				*c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
			i->deviceselector->hardwareaddr = mac;
		} else {
			free(mac);
		}
		free(name);
		return;
	}
	if (!name) {
		bad(b, "a link with neither a name nor a MAC address");
		return;
	}
	if (!valid_ifname(name)) {
		bad(b, "\"%.64s\" is not a link name", name);
		free(name);
		return;
	}
	i->interface = name;
}

static void add_address(struct net_build *b, Basalt__Config__Interface *i, char *cidr)
{
	struct ipaddr ip;
	unsigned prefix;

	if (!cidr || !parse_cidr(cidr, &ip, &prefix)) {
		bad(b, "address \"%.64s\" is not an address with its prefix (10.0.0.2/24)", cidr ? cidr : "");
		free(cidr);
		return;
	}
	push_str(&i->addresses, &i->n_addresses, cidr);
}

/* A route: to (CIDR, or default/absent for the default route), via, metric. */
static void add_route(struct net_build *b, Basalt__Config__Interface *i, char *to, char *via, struct fy_node *metric)
{
	Basalt__Config__Route *r, **nv;
	struct ipaddr ip;
	unsigned prefix;
	char *m = text_of(metric), *end = NULL;
	unsigned long mv = m ? strtoul(m, &end, 10) : 0;

	if (to && (strcmp(to, "default") == 0 || strcmp(to, "0.0.0.0/0") == 0 || strcmp(to, "::/0") == 0)) {
		free(to);
		to = NULL;
	}
	if ((to && !parse_cidr(to, &ip, &prefix)) || !via || !parse_ip(via, &ip) || (m && (*end || mv > 0xffffffffu))) {
		bad(b, "a route (to %.64s via %.64s): not a destination, gateway and metric", to ? to : "default",
		    via ? via : "(none)");
		free(to), free(via), free(m);
		return;
	}
	if (!(r = malloc(sizeof(*r))) || !(nv = realloc(i->routes, (i->n_routes + 1) * sizeof(*nv)))) {
		free(r), free(to), free(via), free(m);
		return;
	}
	basalt__config__route__init(r);
	r->network = to;
	r->gateway = via;
	if (m) {
		r->has_metric = true;
		r->metric = (uint32_t)mv;
	}
	free(m);
	i->routes = nv;
	nv[i->n_routes++] = r;
}

static void set_mtu(struct net_build *b, Basalt__Config__Interface *i, struct fy_node *n)
{
	char *s = text_of(n), *end = NULL;
	unsigned long v = s ? strtoul(s, &end, 10) : 0;

	if (s && (*end || v < 68 || v > 65535))
		bad(b, "mtu %.16s is out of range (68 to 65535)", s);
	else if (s)
		i->has_mtu = true, i->mtu = (uint32_t)v;
	free(s);
}

static void set_dhcp(Basalt__Config__Interface *i, bool v4, bool v6)
{
	if (!v4 && !v6)
		return;
	i->has_dhcp = true;
	i->dhcp = true;
	if (v6 && (i->dhcpoptions = malloc(sizeof(*i->dhcpoptions)))) {
		basalt__config__dhcp_options__init(i->dhcpoptions);
		i->dhcpoptions->has_ipv4 = i->dhcpoptions->has_ipv6 = true;
		i->dhcpoptions->ipv4 = v4;
		i->dhcpoptions->ipv6 = true;
	}
}

static void nameservers(struct net_build *b, struct fy_node *addrs, struct fy_node *search, const char *where)
{
	ips(b, addrs, &b->net->nameservers, &b->net->n_nameservers, where);
	domains(b, search, &b->net->searchdomains, &b->net->n_searchdomains);
	if (b->net->n_nameservers > 8)
		bad(b, "more than 8 name servers");
}

static void v2_ethernet(struct net_build *b, struct fy_node *key, struct fy_node *e)
{
	Basalt__Config__Interface *i = new_interface(b);
	struct fy_node *match = lookup(e, "match"), *c, *ns = lookup(e, "nameservers"), *addrs = lookup(e, "addresses");
	char *name;
	void *it = NULL;

	if (!i)
		return;
	name = text_of(lookup(match, "name"));
	if (name && strpbrk(name, "*?[")) {
		gap(b, "match.name globs");
		free(name);
		name = NULL;
	}
	link_of(b, i, text_of(lookup(match, "macaddress")), name ? name : text_of(key));
	if (lookup(e, "set-name"))
		gap(b, "set-name");
	set_dhcp(i, truthy(lookup(e, "dhcp4")), truthy(lookup(e, "dhcp6")));
	set_mtu(b, i, lookup(e, "mtu"));
	while (addrs && (c = fy_node_sequence_iterate(addrs, &it)))
		add_address(b, i, text_of(c));
	if (lookup(e, "gateway4"))
		add_route(b, i, NULL, text_of(lookup(e, "gateway4")), NULL);
	if (lookup(e, "gateway6"))
		add_route(b, i, NULL, text_of(lookup(e, "gateway6")), NULL);
	it = NULL;
	while (lookup(e, "routes") && (c = fy_node_sequence_iterate(lookup(e, "routes"), &it)))
		add_route(b, i, text_of(lookup(c, "to")), text_of(lookup(c, "via")), lookup(c, "metric"));
	if (ns)
		nameservers(b, lookup(ns, "addresses"), lookup(ns, "search"), "nameservers.addresses");
}

static void v2(struct net_build *b, struct fy_node *root)
{
	static const char *const unsupported[] = { "bonds", "bridges", "vlans", "wifis", "tunnels", "vrfs", "modems" };
	struct fy_node *eth = lookup(root, "ethernets");
	struct fy_node_pair *pair;
	void *it = NULL;

	for (size_t k = 0; k < sizeof(unsupported) / sizeof(unsupported[0]); k++)
		if (lookup(root, unsupported[k]))
			gap(b, unsupported[k]);
	if (eth && fy_node_get_type(eth) != FYNT_MAPPING) {
		bad(b, "ethernets is not a mapping of links");
		return;
	}
	while (eth && (pair = fy_node_mapping_iterate(eth, &it)) && !b->failed)
		if (fy_node_get_type(fy_node_pair_value(pair)) == FYNT_MAPPING)
			v2_ethernet(b, fy_node_pair_key(pair), fy_node_pair_value(pair));
}

/* "10.0.0.2" with "255.255.255.0" as "10.0.0.2/24" (an IPv6 mask too, or a prefix length);
 * a CIDR stays as it is; a mask that is not one leaves "addr/mask", which fails later. */
static char *with_netmask(char *addr, char *mask)
{
	struct ipaddr m;
	unsigned bits = 0;
	char *out;
	int r;

	if (!addr || strchr(addr, '/') || !mask) {
		free(mask);
		return addr;
	}
	if (parse_ip(mask, &m)) {
		size_t n = m.family == AF_INET ? 4 : 16;
		bool contiguous = true;

		for (size_t i = 0; i < n; i++) {
			bits += (unsigned)__builtin_popcount(m.addr[i]);
			if (i && m.addr[i] && m.addr[i - 1] != 0xff)
				contiguous = false;
			if (m.addr[i] & (uint8_t)~(0xff << (8 - __builtin_popcount(m.addr[i]))))
				contiguous = false;
		}
		r = contiguous ? asprintf(&out, "%s/%u", addr, bits) : asprintf(&out, "%s/%s", addr, mask);
	} else {
		r = asprintf(&out, "%s/%s", addr, mask);
	}
	free(mask);
	free(addr);
	return r < 0 ? NULL : out;
}

static void v1_physical(struct net_build *b, struct fy_node *e)
{
	Basalt__Config__Interface *i = new_interface(b);
	struct fy_node *subnets = lookup(e, "subnets"), *s;
	bool v4 = false, v6 = false;
	void *it = NULL;

	if (!i)
		return;
	link_of(b, i, text_of(lookup(e, "mac_address")), text_of(lookup(e, "name")));
	set_mtu(b, i, lookup(e, "mtu"));
	while (subnets && (s = fy_node_sequence_iterate(subnets, &it))) {
		char *type = text_of(lookup(s, "type"));
		struct fy_node *rt, *routes = lookup(s, "routes");
		void *rit = NULL;

		if (type && (strcmp(type, "dhcp") == 0 || strcmp(type, "dhcp4") == 0)) {
			v4 = true;
		} else if (type && (strcmp(type, "dhcp6") == 0 || strcmp(type, "ipv6_dhcpv6-stateful") == 0)) {
			v6 = true;
		} else if (type && (strcmp(type, "static") == 0 || strcmp(type, "static6") == 0)) {
			add_address(b, i, with_netmask(text_of(lookup(s, "address")), text_of(lookup(s, "netmask"))));
			if (lookup(s, "gateway"))
				add_route(b, i, NULL, text_of(lookup(s, "gateway")), NULL);
		} else if (!type || strcmp(type, "manual") != 0) {
			gap(b, "subnet types other than static, static6, dhcp, dhcp4, dhcp6, manual");
		}
		while (routes && (rt = fy_node_sequence_iterate(routes, &rit)))
			add_route(b, i, with_netmask(text_of(lookup(rt, "network")), text_of(lookup(rt, "netmask"))),
				  text_of(lookup(rt, "gateway")), lookup(rt, "metric"));
		nameservers(b, lookup(s, "dns_nameservers"), lookup(s, "dns_search"), "dns_nameservers");
		free(type);
	}
	set_dhcp(i, v4, v6);
}

static void v1(struct net_build *b, struct fy_node *root)
{
	struct fy_node *config = lookup(root, "config"), *e;
	void *it = NULL;

	if (!config || fy_node_get_type(config) != FYNT_SEQUENCE) {
		bad(b, "version 1 needs config: a list of entries");
		return;
	}
	while ((e = fy_node_sequence_iterate(config, &it)) && !b->failed) {
		char *type = text_of(lookup(e, "type"));

		if (type && strcmp(type, "physical") == 0)
			v1_physical(b, e);
		else if (type && strcmp(type, "nameserver") == 0)
			nameservers(b, lookup(e, "address"), lookup(e, "search"), "nameserver.address");
		else
			gap(b, type && strlen(type) < 24 ? type : "entries of other types");
		free(type);
	}
}

/* cloud-init's network-config: version 1 or 2, at the top or under network:. */
static void network_config(struct net_build *b, struct fy_node *root)
{
	char *version;

	if (lookup(root, "network"))
		root = lookup(root, "network");
	version = text_of(lookup(root, "version"));
	if (version && strcmp(version, "2") == 0)
		v2(b, root);
	else if (version && strcmp(version, "1") == 0)
		v1(b, root);
	else
		bad(b, "version %.16s: only versions 1 and 2 are read", version ? version : "(none)");
	free(version);
}

/* --- OpenStack's network_data.json --- */

struct os_link {
	char *id;
	Basalt__Config__Interface *i;
	bool v4, v6;                    /* DHCP networks on it */
};

/* DNS services ({type: dns, address}): name servers. */
static void os_services(struct net_build *b, struct fy_node *services)
{
	struct fy_node *sv;
	void *it = NULL;

	while (services && (sv = fy_node_sequence_iterate(services, &it)) && !b->failed) {
		char *type = text_of(lookup(sv, "type"));

		if (type && strcmp(type, "dns") == 0)
			nameservers(b, lookup(sv, "address"), NULL, "services.address");
		free(type);
	}
}

static bool is_null(struct fy_node *n)
{
	char *s = text_of(n);
	bool null = !n || (s && strcmp(s, "null") == 0);

	free(s);
	return null;
}

/* links: each NIC by its MAC (bonds and VLANs said, not applied); into links[]. */
static size_t os_links(struct net_build *b, struct fy_node *seq, struct os_link *links, size_t max)
{
	struct fy_node *l;
	void *it = NULL;
	size_t n = 0;

	while (seq && (l = fy_node_sequence_iterate(seq, &it)) && !b->failed) {
		char *type = text_of(lookup(l, "type")), *mac = text_of(lookup(l, "ethernet_mac_address"));

		if (type && (strcmp(type, "bond") == 0 || strcmp(type, "vlan") == 0)) {
			gap(b, strcmp(type, "bond") == 0 ? "bond links" : "vlan links");
			free(mac);
		} else if (!mac) {
			gap(b, "links without ethernet_mac_address");
		} else if (n == max) {
			gap(b, "more than 16 links");
			free(mac);
		} else if ((links[n].i = new_interface(b))) {
			link_of(b, links[n].i, mac, NULL);
			if (!is_null(lookup(l, "mtu")))
				set_mtu(b, links[n].i, lookup(l, "mtu"));
			links[n++].id = text_of(lookup(l, "id"));
		} else {
			free(mac);
		}
		free(type);
	}
	return n;
}

/* networks: static IPv4 and IPv6 addresses with their routes and DNS, DHCP on a link. */
static void os_networks(struct net_build *b, struct fy_node *seq, struct os_link *links, size_t nlinks)
{
	struct fy_node *nw;
	void *it = NULL;

	while (seq && (nw = fy_node_sequence_iterate(seq, &it)) && !b->failed) {
		char *type = text_of(lookup(nw, "type")), *link = text_of(lookup(nw, "link"));
		struct os_link *l = NULL;
		struct fy_node *rt;
		void *rit = NULL;

		for (size_t k = 0; link && k < nlinks && !l; k++)
			if (links[k].id && strcmp(links[k].id, link) == 0)
				l = &links[k];
		if (!l) {
			gap(b, "networks on links not applied");
		} else if (type && (strcmp(type, "ipv4") == 0 || strcmp(type, "ipv6") == 0)) {
			add_address(b, l->i, with_netmask(text_of(lookup(nw, "ip_address")), text_of(lookup(nw, "netmask"))));
			while (lookup(nw, "routes") && (rt = fy_node_sequence_iterate(lookup(nw, "routes"), &rit)))
				add_route(b, l->i, with_netmask(text_of(lookup(rt, "network")), text_of(lookup(rt, "netmask"))),
					  text_of(lookup(rt, "gateway")), NULL);
			os_services(b, lookup(nw, "services"));
		} else if (type && strcmp(type, "ipv4_dhcp") == 0) {
			l->v4 = true;
		} else if (type && (strcmp(type, "ipv6_dhcp") == 0 || strcmp(type, "ipv6_dhcpv6-stateful") == 0)) {
			l->v6 = true;
		} else {
			gap(b, "network types other than ipv4, ipv6, ipv4_dhcp, ipv6_dhcp, ipv6_dhcpv6-stateful");
		}
		free(type);
		free(link);
	}
}

static void network_data(struct net_build *b, struct fy_node *root)
{
	struct os_link links[16] = { 0 };
	size_t n;

	if (!root || fy_node_get_type(root) != FYNT_MAPPING) {
		bad(b, "not a mapping with links, networks and services");
		return;
	}
	n = os_links(b, lookup(root, "links"), links, sizeof(links) / sizeof(links[0]));
	os_networks(b, lookup(root, "networks"), links, n);
	os_services(b, lookup(root, "services"));
	for (size_t k = 0; k < n; k++) {
		set_dhcp(links[k].i, links[k].v4, links[k].v6);
		free(links[k].id);
	}
}

/* A network document called name, read by fn into a machine.network. */
static int network_parse(const char *name, void (*fn)(struct net_build *, struct fy_node *), const char *text,
			 size_t len, Basalt__Config__Network **out, char *gaps, size_t gapslen, char *err, size_t errlen)
{
	struct net_build b = { .name = name, .gaps = gaps, .gapslen = gapslen, .err = err, .errlen = errlen };
	struct fy_document *doc;

	*out = NULL;
	gaps[0] = '\0';
	if (len > CLOUDINIT_DOC_MAX) {
		snprintf(err, errlen, "%s: %zu bytes, more than %u", name, len, CLOUDINIT_DOC_MAX);
		return -1;
	}
	if (!(doc = parse_doc(name, text, len, err, errlen)))
		return -1;
	if (!(b.net = malloc(sizeof(*b.net)))) {
		fy_document_destroy(doc);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	basalt__config__network__init(b.net);
	fn(&b, fy_document_root(doc));
	fy_document_destroy(doc);
	if (b.failed) {
		protobuf_c_message_free_unpacked(&b.net->base, NULL);
		return -1;
	}
	*out = b.net;
	return 0;
}

int cloudinit_network_parse(const char *text, size_t len, Basalt__Config__Network **out, char *gaps, size_t gapslen,
			    char *err, size_t errlen)
{
	return network_parse("network-config", network_config, text, len, out, gaps, gapslen, err, errlen);
}

int cloudinit_openstack_network_parse(const char *text, size_t len, Basalt__Config__Network **out, char *gaps,
				      size_t gapslen, char *err, size_t errlen)
{
	return network_parse("network_data.json", network_data, text, len, out, gaps, gapslen, err, errlen);
}

/* --- the EC2 instance metadata service --- */

const char *const imds_paths[IMDS_NFIELDS] = {
	[IMDS_INSTANCE_ID] = "/latest/meta-data/instance-id",
	[IMDS_INSTANCE_TYPE] = "/latest/meta-data/instance-type",
	[IMDS_HOSTNAME] = "/latest/meta-data/local-hostname",
	[IMDS_REGION] = "/latest/meta-data/placement/region",
	[IMDS_ZONE] = "/latest/meta-data/placement/availability-zone",
	[IMDS_PUBLIC_IPV4] = "/latest/meta-data/public-ipv4",
	[IMDS_IPV6] = "/latest/meta-data/ipv6",
};

/* The reply without its trailing blanks, as a string in out; false when it does not fit,
 * is empty, or holds anything but printable characters without blanks. */
static bool one_word(const char *body, size_t len, char *out, size_t outlen)
{
	while (len && strchr(" \t\r\n", body[len - 1]))
		len--;
	if (!len || len >= outlen)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)body[i] <= 0x20 || (unsigned char)body[i] >= 0x7f)
			return false;
	memcpy(out, body, len);
	out[len] = '\0';
	return true;
}

int imds_value(enum imds_field field, const char *body, size_t len, struct platform_metadata *md, char *err,
	       size_t errlen)
{
	char v[256];
	struct ipaddr ip;
	char *dst = NULL;
	size_t dstlen = 0;

	if ((unsigned)field >= IMDS_NFIELDS) {
		snprintf(err, errlen, "IMDS: no such field");
		return -1;
	}
	if (!one_word(body, len, v, sizeof(v))) {
		snprintf(err, errlen, "IMDS %s: not one word of printable text of at most %zu characters", imds_paths[field],
			 sizeof(v) - 1);
		return -1;
	}
	switch (field) {
	case IMDS_INSTANCE_ID: dst = md->instance_id, dstlen = sizeof(md->instance_id); break;
	case IMDS_INSTANCE_TYPE: dst = md->instance_type, dstlen = sizeof(md->instance_type); break;
	case IMDS_HOSTNAME: dst = md->hostname, dstlen = sizeof(md->hostname); break;
	case IMDS_REGION: dst = md->region, dstlen = sizeof(md->region); break;
	case IMDS_ZONE: dst = md->zone, dstlen = sizeof(md->zone); break;
	case IMDS_PUBLIC_IPV4:
	case IMDS_IPV6:
		if (!parse_ip(v, &ip) || ip.family != (field == IMDS_IPV6 ? AF_INET6 : AF_INET)) {
			snprintf(err, errlen, "IMDS %s: \"%.64s\" is not an %s address", imds_paths[field], v,
				 field == IMDS_IPV6 ? "IPv6" : "IPv4");
			return -1;
		}
		for (unsigned i = 0; i < md->n_external; i++)
			if (strcmp(md->external[i], v) == 0)
				return 0;
		if (md->n_external == PLATFORM_EXTERNAL_MAX || strlen(v) >= sizeof(md->external[0])) {
			snprintf(err, errlen, "IMDS %s: more than %d external addresses", imds_paths[field],
				 PLATFORM_EXTERNAL_MAX);
			return -1;
		}
		memcpy(md->external[md->n_external++], v, strlen(v) + 1);
		return 0;
	default: break;
	}
	if (strlen(v) >= dstlen) {
		snprintf(err, errlen, "IMDS %s: longer than %zu characters", imds_paths[field], dstlen - 1);
		return -1;
	}
	if (field == IMDS_HOSTNAME && (!hostname_ok(v) || strlen(v) > 253)) {
		snprintf(err, errlen, "IMDS %s: \"%.64s\" is not a host name", imds_paths[field], v);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

int imds_token(const char *body, size_t len, char out[IMDS_TOKEN_MAX + 1], char *err, size_t errlen)
{
	if (!one_word(body, len, out, IMDS_TOKEN_MAX + 1) ||
	    strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-.") != strlen(out)) {
		out[0] = '\0';
		snprintf(err, errlen, "IMDS token: not a token (base64 characters, at most %d)", IMDS_TOKEN_MAX);
		return -1;
	}
	return 0;
}

int container_userdata(const char *env, size_t len, char **out, size_t *outlen, char *err, size_t errlen)
{
	const char *v = NULL, *end = env + len;
	size_t vlen = 0, n = 0;
	unsigned char *buf;
	int r;

	*out = NULL;
	*outlen = 0;
	/* The first USERDATA= entry, as getenv finds it. */
	for (const char *e = env; e < end && !v;) {
		const char *nul = memchr(e, '\0', (size_t)(end - e));
		size_t elen = nul ? (size_t)(nul - e) : (size_t)(end - e);

		if (elen >= 9 && memcmp(e, "USERDATA=", 9) == 0) {
			v = e + 9;
			vlen = elen - 9;
		}
		if (!nul)
			break;
		e = nul + 1;
	}
	if (!v)
		return 0;
	while (vlen && (v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (!vlen) {
		snprintf(err, errlen, "USERDATA is empty (expected the machine config, base64)");
		return -1;
	}
	if (vlen > CONTAINER_USERDATA_MAX) {
		snprintf(err, errlen, "USERDATA is %zu bytes (at most %u)", vlen, CONTAINER_USERDATA_MAX);
		return -1;
	}
	if (!(buf = malloc(vlen / 4 * 3 + 4))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r = mbedtls_base64_decode(buf, vlen / 4 * 3 + 3, &n, (const unsigned char *)v, vlen);
	if (r != 0 || n == 0) {
		free(buf);
		snprintf(err, errlen, "USERDATA is not base64 (%zu characters; expected the machine config, base64)", vlen);
		return -1;
	}
	buf[n] = '\0';
	*out = (char *)buf;
	*outlen = n;
	return 1;
}
