/* SPDX-License-Identifier: MIT */
/* Coldplug: load the drivers for devices the kernel found before any module was loaded. */
#ifndef BASALT_COLDPLUG_H
#define BASALT_COLDPLUG_H

#include "init/kmod.h"

struct coldplug_stats {
	unsigned devices;  /* modalias files read, over all passes */
	unsigned loaded;   /* modules loaded */
	unsigned failed;   /* modules whose load failed (normal for drivers that decline) */
	unsigned passes;
};

/*
 * Walks sysfs_devices (normally /sys/devices) for modalias files and loads every matching
 * module; repeats while a pass loaded something, since new buses reveal new devices.
 */
int coldplug_run(struct kmod_db *db, const char *sysfs_devices, struct coldplug_stats *st);

#endif
