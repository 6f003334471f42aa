/* SPDX-License-Identifier: MIT */
/*
 * A DHCP reply as osctl pxe serve reads it when it asks whether another DHCP server is on
 * the link (osctl/pxe.c): the first four bytes are the transaction id it sent, the rest
 * the datagram. Every option length is checked; the answer is yes or no.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osctl/osctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t xid;
	uint8_t *p;

	if (size < 4)
		return 0;
	memcpy(&xid, data, 4);
	if (!(p = malloc(size - 4 ? size - 4 : 1)))
		return 0;
	memcpy(p, data + 4, size - 4);
	(void)pxe_is_offer(p, size - 4, xid);
	free(p);
	return 0;
}
