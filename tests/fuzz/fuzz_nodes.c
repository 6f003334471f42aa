/* SPDX-License-Identifier: MIT */
/*
 * The nodes header a client sends for forwarding (lib/apidef.c api_parse_nodes, and
 * api_parse_hostport under it): the input, up to its first NUL, is the header. Every node
 * accepted must parse again to an IP address with a port from 1 to 65535, fit its slot,
 * and be named once.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/apidef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[8][API_NODE_LEN];
	char *text = malloc(size + 1), err[256], host[API_NODE_LEN];
	size_t n = 0;
	uint16_t port;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	api_parse_hostport(text, host, sizeof(host), &port, 50000);
	if (api_parse_nodes(text, out, 8, &n, err, sizeof(err)) == 0) {
		if (n == 0 || n > 8)
			abort();
		for (size_t i = 0; i < n; i++) {
			unsigned char a[16];

			if (!memchr(out[i], '\0', API_NODE_LEN) ||
			    api_parse_hostport(out[i], host, sizeof(host), &port, 50000) < 0 || port == 0 ||
			    inet_pton(strchr(host, ':') ? AF_INET6 : AF_INET, host, a) != 1)
				abort();
			for (size_t j = 0; j < i; j++)
				if (strcmp(out[i], out[j]) == 0)
					abort();
		}
	} else if (!err[0]) {
		abort();  /* a refusal always says why */
	}
	free(text);
	return 0;
}
