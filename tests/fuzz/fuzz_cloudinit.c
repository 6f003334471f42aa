/* SPDX-License-Identifier: MIT */
/* NoCloud meta-data and network-config as a seed volume hands them over
 * (machined/platform/cloudinit.c): the first byte picks which. Meta-data taken is
 * NUL-terminated in its field and a host name taken is one; a network taken has only
 * addresses that parse and links named or selected. 'U': the container platform's
 * USERDATA in an environment block. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/parse.h"
#include "machined/platform/cloudinit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct platform_metadata md;
	char err[512], gaps[256];

	if (size && data[0] == 'U') {
		char *out = NULL;
		size_t len = 0;
		int r = container_userdata((const char *)data + 1, size - 1, &out, &len, err, sizeof(err));

		if ((r == 1) != (out != NULL) || (r == 1 && (len == 0 || out[len] != '\0')) || (r < 0 && !err[0]))
			abort();
		free(out);
		return 0;
	}
	if (size && data[0] == 'N') {
		Basalt__Config__Network *n = NULL;

		if (cloudinit_network_parse((const char *)data + 1, size - 1, &n, gaps, sizeof(gaps), err, sizeof(err)) == 0) {
			for (size_t i = 0; i < n->n_interfaces; i++) {
				const Basalt__Config__Interface *f = n->interfaces[i];
				struct ipaddr ip;
				unsigned p;

				if (!f->interface && !(f->deviceselector && f->deviceselector->hardwareaddr))
					abort();
				for (size_t a = 0; a < f->n_addresses; a++)
					if (!parse_cidr(f->addresses[a], &ip, &p))
						abort();
			}
			protobuf_c_message_free_unpacked(&n->base, NULL);
		} else if (!err[0]) {
			abort();
		}
		return 0;
	}
	memset(&md, 0, sizeof(md));
	if (cloudinit_meta_parse((const char *)data, size, &md, err, sizeof(err)) == 0) {
		if (!memchr(md.hostname, '\0', sizeof(md.hostname)) || !memchr(md.instance_id, '\0', sizeof(md.instance_id)))
			abort();
		for (const char *c = md.hostname; *c; c++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.", *c))
				abort();
	} else if (!memchr(err, '\0', sizeof(err)) || !err[0]) {
		abort();
	}
	return 0;
}
