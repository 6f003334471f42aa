/* SPDX-License-Identifier: MIT */
/*
 * machined's core reading apid's datagrams (machined/api/apiipc.c): each input is a sequence
 * of datagrams, each a 2-byte length then its bytes, fed to the core-side reassembly
 * until it refuses one.
 */
#include <stdint.h>
#include <string.h>

#include "machined/api/apiipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_rx rx;
	struct ipc_msg m;
	char why[160];

	ipc_rx_init(&rx, (size & 1) == 0);
	while (size >= 2) {
		size_t n = (size_t)data[0] << 8 | data[1];

		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		if (ipc_rx_feed(&rx, data, n, &m, why, sizeof(why)) < 0)
			break;
		data += n;
		size -= n;
	}
	ipc_rx_fini(&rx);
	return 0;
}
