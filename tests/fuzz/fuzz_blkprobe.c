/* SPDX-License-Identifier: MIT */
/* What a device's first bytes say it holds, and a sysfs uevent file's text. */
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
	if (blk_uevent_get((const char *)data, size, "PARTNAME", v, sizeof(v)) == 0 && strlen(v) >= sizeof(v))
		__builtin_trap();
	blk_uevent_get((const char *)data, size, "DEVTYPE", v, sizeof(v));
	return 0;
}
