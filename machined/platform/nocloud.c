/* SPDX-License-Identifier: MIT */
/*
 * nocloud: cloud-init's NoCloud seed, a vfat or iso9660 volume labelled cidata (any
 * case) with user-data (the machine config), meta-data (instance-id, local-hostname: the
 * host name goes to the platform layer of the network specs) and network-config, read
 * from it mounted read-only (machined/platform/seed.c). Detected by such a volume on a
 * machine (in a container the block devices are the host's: never looked at there). Its
 * network-config (versions 1 and 2) becomes the platform layer of the network specs; what
 * of it this release does not apply is said on the console.
 */
#include "machined/platform/cloudinit.h"
#include "machined/platform/seed.h"

static const struct seed_kind nocloud = {
	.name = "nocloud",
	.label = "cidata",
	.mount = "/run/basalt/cidata",
	.user = "user-data",
	.meta = "meta-data",
	.network = "network-config",
	.meta_parse = cloudinit_meta_parse,
	.net_parse = cloudinit_network_parse,
};

static bool nocloud_detect(const struct platform_env *env)
{
	return seed_detect(&nocloud, env);
}

static void nocloud_describe(const struct platform_env *env, struct platform_metadata *md)
{
	seed_describe(&nocloud, env, md);
}

static int nocloud_start(struct platform_ctx *p, char *err, size_t errlen)
{
	return seed_start(&nocloud, p, err, errlen);
}

const struct platform_ops platform_nocloud = {
	.name = "nocloud",
	.detect = nocloud_detect,
	.describe = nocloud_describe,
	.start = nocloud_start,
	.stop = platform_looker_stop,
};
