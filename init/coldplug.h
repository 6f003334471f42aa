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
 * Reads the modalias of every device on every bus (<sysfs>/bus/<bus>/devices/<dev>, normally
 * under /sys) and loads each matching module; repeats while a pass loaded something, since
 * a new driver can reveal new devices (a bus behind a controller).
 */
int coldplug_run(struct kmod_db *db, const char *sysfs, struct coldplug_stats *st);

#endif
