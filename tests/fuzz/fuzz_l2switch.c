/* SPDX-License-Identifier: MIT */
/* The cluster switch's core (osctl/cluster/l2switch.c) fed frames as a node's QEMU would
 * send them: the input is a port count, then records (a port byte, a 16-bit length, the
 * frame). A frame never goes back to its own port or to a port the switch has not, and
 * the table never holds more than it may. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osctl/cluster/l2switch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct l2sw sw;
	bool out[L2SW_PORTS];
	size_t off = 1;
	uint64_t now = 0;

	if (size < 1)
		return 0;
	l2sw_init(&sw, data[0] % (L2SW_PORTS + 1));
	while (off + 3 <= size) {
		size_t port = data[off] % (L2SW_PORTS + 2), len = (size_t)data[off + 1] << 8 | data[off + 2], n;

		off += 3;
		if (len > size - off)
			len = size - off;
		now += data[off - 3] * 1000u;
		n = l2sw_route(&sw, port, data + off, len, now, out);
		if (n && (port >= sw.nports || out[port]))
			abort();
		for (size_t p = sw.nports; p < L2SW_PORTS; p++)
			if (out[p])
				abort();
		if (sw.nmacs > L2SW_MACS)
			abort();
		off += len;
	}
	return 0;
}
