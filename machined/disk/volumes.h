/* SPDX-License-Identifier: MIT */
/*
 * The system disk's volumes at boot: on a node booted from its disk (basalt.boot=disk),
 * STATE (the config and the node identity) and EPHEMERAL (/var) are found by their GPT
 * names, formatted (xfs) when blank, EPHEMERAL grown first to the end of a disk that is
 * larger than the image was, and mounted. A volume that holds something else is never
 * formatted: it is named, with what it holds, and the node keeps that part in memory.
 */
#ifndef BASALT_DISK_VOLUMES_H
#define BASALT_DISK_VOLUMES_H

#include <stdbool.h>
#include <stddef.h>

struct volumes_env {
	const char *sysfs;    /* "/sys" */
	const char *devdir;   /* "/dev" */
	const char *mkfs_xfs; /* "/usr/sbin/mkfs.xfs" */
	const char *state_dir; /* where STATE is mounted */
	const char *var_dir;   /* where EPHEMERAL is mounted */
};

/* What became of one volume at boot (block/Volume shows it). */
struct volume_outcome {
	char phase[16];     /* ready (mounted) | refused (holds something else) | failed | missing */
	char message[300];  /* the console's line for it */
};

struct volumes_result {
	bool state, ephemeral; /* mounted */
	char disk[32];          /* the system disk, "" when none was found */
	struct volume_outcome state_v, ephemeral_v;
};

/* Mounts what it can; every step and failure goes to the log and the console. */
void volumes_boot(const struct volumes_env *e, struct volumes_result *res);

#endif
