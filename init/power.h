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

/* How many presses of the power key n bytes of input events hold (a partial event at the
 * end is ignored). */
size_t power_key_presses(const void *events, size_t n);

typedef void power_name_fn(void *arg, const char *name);
/* Calls fn for each file name in n bytes of inotify records; a record whose header, name
 * or terminating NUL does not fit in what is left ends the walk. Returns the names seen. */
size_t power_inotify_names(const void *records, size_t n, power_name_fn *fn, void *arg);

#endif
