/* SPDX-License-Identifier: MIT */
/*
 * openstack: an OpenStack config drive, a vfat or iso9660 volume labelled config-2 (any
 * case) that Nova attaches with --config-drive, read mounted read-only
 * (machined/platform/seed.c): openstack/latest/user_data is the machine config,
 * meta_data.json gives the instance's UUID, host name and availability zone, and
 * network_data.json (links by MAC, static IPv4 and IPv6 networks with their routes, DHCP
 * networks, DNS services) becomes the platform layer of the network specs. Detected by
 * such a volume on a machine. The metadata service (http://169.254.169.254/openstack) is
 * not read: a cloud without config drives gives its config through the API.
 */
#include "machined/platform/cloudinit.h"
#include "machined/platform/seed.h"

static const struct seed_kind openstack = {
	.name = "openstack",
	.label = "config-2",
	.mount = "/run/basalt/config-2",
	.user = "openstack/latest/user_data",
	.meta = "openstack/latest/meta_data.json",
	.network = "openstack/latest/network_data.json",
	.meta_parse = cloudinit_openstack_meta_parse,
	.net_parse = cloudinit_openstack_network_parse,
};

static bool openstack_detect(const struct platform_env *env)
{
	return seed_detect(&openstack, env);
}

static void openstack_describe(const struct platform_env *env, struct platform_metadata *md)
{
	seed_describe(&openstack, env, md);
}

static int openstack_start(struct platform_ctx *p, char *err, size_t errlen)
{
	return seed_start(&openstack, p, err, errlen);
}

const struct platform_ops platform_openstack = {
	.name = "openstack",
	.detect = openstack_detect,
	.describe = openstack_describe,
	.start = openstack_start,
	.stop = platform_looker_stop,
};
