/* SPDX-License-Identifier: MIT */
/*
 * A seed volume: a small vfat or iso9660 filesystem with a known label that a cloud (or
 * whoever starts the VM) attaches beside the machine's disk, holding the machine config,
 * metadata and a network document. NoCloud's cidata and OpenStack's config-2 are both
 * read this way (mounted read-only, each file opened beneath the mount, never through a
 * symlink, only when regular); each names its files and their parsers in a seed_kind.
 */
#ifndef BASALT_PLATFORM_SEED_H
#define BASALT_PLATFORM_SEED_H

#include "machined/platform/platform.h"

struct seed_kind {
	const char *name;               /* the platform: "nocloud" */
	const char *label;              /* the volume's label, in any case: "cidata" */
	const char *mount;              /* where it is mounted while read, in /run/basalt: "/run/basalt/cidata" */
	const char *user;               /* the machine config's file on it: "user-data" */
	const char *meta;               /* the metadata's */
	const char *network;            /* the network document's */
	int (*meta_parse)(const char *text, size_t len, struct platform_metadata *md, char *err, size_t errlen);
	int (*net_parse)(const char *text, size_t len, Basalt__Config__Network **out, char *gaps, size_t gapslen,
			 char *err, size_t errlen);
};

/* A volume of this kind is on the machine (never looked for in a container). */
bool seed_detect(const struct seed_kind *k, const struct platform_env *env);
/* With a config in force: the volume's metadata and network, nothing else read. */
void seed_describe(const struct seed_kind *k, const struct platform_env *env, struct platform_metadata *md);
/* Looks for the volume (10 times, 1 s apart) and applies its config: as platform_ops.start. */
int seed_start(const struct seed_kind *k, struct platform_ctx *p, char *err, size_t errlen);

#endif
