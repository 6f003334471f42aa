/* SPDX-License-Identifier: MIT */
/*
 * machine.install.diskSelector: which of the machine's disks an install goes to. Every
 * field given must match: size ("4GB" within 1%, or compared: ">= 1TB", "<= 2TB", "< x",
 * "> x"), name ("vda" or "/dev/vda"), model and serial (globs), type (ssd, hdd, nvme, sd),
 * busPath (a glob over the path under /sys/devices), modalias and wwid (globs). The first
 * matching disk by name is chosen; read-only disks never are.
 */
#ifndef BASALT_DISK_SELECT_H
#define BASALT_DISK_SELECT_H

#include <stddef.h>

#include "machined/disk/blockdev.h"

struct disk_selector {
	const char *size, *name, *model, *serial, *type, *bus_path, *modalias, *wwid;
};

/* disk_match: whether d matches s; when not, why names the first field that does not. */
int disk_match(const struct blk_disk *d, const struct disk_selector *s, char *why, size_t whylen);

/* disk_select: the index of the first disk that matches, or -1 with err saying why none
 * did (each disk and the field it failed on). */
int disk_select(const struct blk_disk *disks, size_t n, const struct disk_selector *s, char *err, size_t errlen);

#endif
