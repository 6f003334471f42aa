/* SPDX-License-Identifier: MIT */
/* An OpenStack config drive's meta_data.json and network_data.json
 * (machined/platform/cloudinit.c): the first byte picks which. Metadata taken is
 * NUL-terminated in its field and a host name taken is one; a network taken has only
 * links selected by a MAC, addresses that parse and routes with a gateway that parses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/parse.h"
#include "machined/platform/cloudinit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_network(const Basalt__Config__Network *n)
{
	struct ipaddr ip;
	unsigned p;

	for (size_t i = 0; i < n->n_interfaces; i++) {
		const Basalt__Config__Interface *f = n->interfaces[i];

		if (!f->deviceselector || !f->deviceselector->hardwareaddr || !parse_mac(f->deviceselector->hardwareaddr, false))
			abort();
		for (size_t a = 0; a < f->n_addresses; a++)
			if (!parse_cidr(f->addresses[a], &ip, &p))
				abort();
		for (size_t r = 0; r < f->n_routes; r++)
			if (!f->routes[r]->gateway || !parse_ip(f->routes[r]->gateway, &ip) ||
			    (f->routes[r]->network && !parse_cidr(f->routes[r]->network, &ip, &p)))
				abort();
	}
	if (n->n_nameservers > 8)
		abort();
	for (size_t s = 0; s < n->n_nameservers; s++)
		if (!parse_ip(n->nameservers[s], &ip))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct platform_metadata md;
	char err[512], gaps[256];

	if (size && data[0] == 'N') {
		Basalt__Config__Network *n = NULL;

		if (cloudinit_openstack_network_parse((const char *)data + 1, size - 1, &n, gaps, sizeof(gaps), err,
						      sizeof(err)) == 0) {
			check_network(n);
			protobuf_c_message_free_unpacked(&n->base, NULL);
		} else if (!err[0]) {
			abort();
		}
		return 0;
	}
	memset(&md, 0, sizeof(md));
	if (cloudinit_openstack_meta_parse((const char *)data, size, &md, err, sizeof(err)) == 0) {
		if (!memchr(md.hostname, '\0', sizeof(md.hostname)) || !memchr(md.zone, '\0', sizeof(md.zone)) ||
		    !memchr(md.instance_id, '\0', sizeof(md.instance_id)))
			abort();
		for (const char *c = md.hostname; *c; c++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.", *c))
				abort();
	} else if (!memchr(err, '\0', sizeof(err)) || !err[0]) {
		abort();
	}
	return 0;
}
