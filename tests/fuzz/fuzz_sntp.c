/* SPDX-License-Identifier: MIT */
/*
 * An NTP server's reply as the time client reads it (netctl/sntp.c): the first 8 bytes are
 * the transmit timestamp the client sent, the rest the datagram. A parse either fails with
 * a message or gives a reply that echoes that timestamp, whose offset and delay compute.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netctl/sntp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sntp_reply r;
	uint64_t xmit = 0;
	int64_t off, delay;
	char err[128];
	uint8_t *p;

	if (size < 8)
		return 0;
	for (int i = 0; i < 8; i++)
		xmit = xmit << 8 | data[i];
	if (!(p = malloc(size - 8 ? size - 8 : 1)))
		return 0;
	memcpy(p, data + 8, size - 8);
	err[0] = '\0';
	if (sntp_parse(p, size - 8, xmit, &r, err, sizeof(err)) == 0) {
		if (r.orig != xmit || r.stratum == 0 || r.stratum > 15 || r.leap == 3)
			abort();
		sntp_offset(&r, xmit + 1, &off, &delay);
	} else if (!err[0]) {
		abort();
	}
	free(p);
	return 0;
}
