/* SPDX-License-Identifier: MIT */
/* What a device's first bytes say it holds (and its label), and a sysfs uevent file's text. */
#include <stdint.h>
#include <string.h>

#include "machined/disk/blockdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char v[40];
	const char *what = blk_fs_probe(data, size);

	if (what && !*what)
		__builtin_trap();
	{
		char l[12];

		blk_fs_label(data, size, what, l, sizeof(l));
		if (strlen(l) >= sizeof(l))
			__builtin_trap();
		for (const char *c = l; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				__builtin_trap();
	}
	if (blk_uevent_get((const char *)data, size, "PARTNAME", v, sizeof(v)) == 0 && strlen(v) >= sizeof(v))
		__builtin_trap();
	blk_uevent_get((const char *)data, size, "DEVTYPE", v, sizeof(v));
	return 0;
}
