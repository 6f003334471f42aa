/* SPDX-License-Identifier: MIT */
/*
 * A DNS server's answer as the stub reads it (netctl/dns.c): the first two bytes are the
 * query's id, the third picks A (even) or AAAA (odd), the rest the datagram, answering a
 * query for ntp.lab.test. A parse either fails with a message or gives at most
 * DNS_ADDRS_MAX addresses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netctl/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_answer a;
	char err[128];
	uint16_t id;
	uint8_t *p;

	if (size < 3)
		return 0;
	id = (uint16_t)(data[0] << 8 | data[1]);
	if (!(p = malloc(size - 3 ? size - 3 : 1)))
		return 0;
	memcpy(p, data + 3, size - 3);
	err[0] = '\0';
	if (dns_parse(p, size - 3, id, "ntp.lab.test", data[2] & 1 ? DNS_TYPE_AAAA : DNS_TYPE_A, &a, err, sizeof(err)) == 0) {
		if (a.naddr > DNS_ADDRS_MAX)
			abort();
	} else if (!err[0]) {
		abort();
	}
	free(p);
	return 0;
}
