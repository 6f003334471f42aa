/* SPDX-License-Identifier: MIT */
/* A partition table read from a disk: the first bytes of the disk, its size in the first
 * eight bytes of the input. What decodes is encoded again and must decode to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpt g, again;
	char err[160];
	uint64_t sectors = 0;

	if (size < 8)
		return 0;
	memcpy(&sectors, data, 8);
	sectors %= 1ull << 40;
	if (gpt_decode(data + 8, size - 8, sectors, &g, err, sizeof(err)) != 0)
		return 0;
	static uint8_t head[GPT_HEAD_SECTORS * GPT_SECTOR], tail[GPT_TAIL_SECTORS * GPT_SECTOR];
	if (gpt_encode(&g, NULL, head, tail, err, sizeof(err)) != 0)
		return 0;
	if (gpt_decode(head, sizeof(head), sectors, &again, err, sizeof(err)) != 0)
		abort();
	if (again.n != g.n)
		abort();
	for (unsigned i = 0; i < g.n; i++)
		if (again.part[i].first != g.part[i].first || again.part[i].last != g.part[i].last)
			abort();
	gpt_grow_last(&g, sectors + 4096);
	return 0;
}
