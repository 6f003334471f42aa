/* SPDX-License-Identifier: MIT */
/* Watches /dev/input/event* devices that have KEY_POWER (the ACPI power button). */
#ifndef BASALT_POWER_H
#define BASALT_POWER_H

#include "lib/loop.h"

#define POWER_MAX_DEVICES 16

typedef void power_button_fn(void *arg);

struct power_dev {
	int fd;          /* -1 for a free slot */
	char name[32];   /* entry name in the directory */
	struct loop_watch *watch;
	struct power_watch *pw;
};

struct power_watch {
	struct loop *loop;
	power_button_fn *fn;
	void *arg;
	char dir[64];
	int inotify_fd;
	struct loop_watch *inotify_watch;
	struct power_dev devs[POWER_MAX_DEVICES];
	size_t ndevs;
};

/* Starts watching dir (normally /dev/input); returns the number of power buttons found. */
int power_watch_start(struct power_watch *pw, struct loop *loop, const char *dir,
		      power_button_fn *fn, void *arg);
void power_watch_stop(struct power_watch *pw);

#endif
