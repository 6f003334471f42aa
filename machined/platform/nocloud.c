/* SPDX-License-Identifier: MIT */
/*
 * nocloud: cloud-init's NoCloud seed, a vfat or iso9660 volume labelled cidata (any
 * case) with user-data (the machine config), meta-data (instance-id, local-hostname: the
 * host name goes to the platform layer of the network specs) and network-config, read
 * from it mounted read-only. Detected by such a volume on a machine (in a container the
 * block devices are the host's: never looked at there). Its network-config (versions 1
 * and 2) becomes the platform layer of the network specs; what of it this release does not
 * apply is said on the console.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/atomicfile.h"
#include "lib/fspath.h"
#include "lib/log.h"
#include "machined/disk/blockdev.h"
#include "machined/platform/cloudinit.h"
#include "machined/platform/platform.h"

#define NOCLOUD_CONFIG_MAX (1u << 20)
#define NOCLOUD_MOUNT "/run/basalt/cidata"
#define NOCLOUD_LOOKS 10       /* for the volume, when basalt.platform=nocloud: 10 times, 1 s apart */
#define NOCLOUD_LOOK_MS 1000


static bool find_seed(const struct platform_env *env, char *dev, size_t len, const char **fs)
{
	return env->machine && blk_find_labelled(env->sysfs, "/dev", "cidata", NULL, false, dev, len, fs) == 0;
}

static bool nocloud_detect(const struct platform_env *env)
{
	char dev[128];
	const char *fs;

	return find_seed(env, dev, sizeof(dev), &fs);
}

/* A file of the mounted seed: 0 with its text, 1 when it is not there, -1 said. Opened
 * beneath the mount, never through a symlink, and only if it is a regular file (a FIFO or
 * a device on the seed never holds machined). */
static int seed_file(const char *name, size_t max, char **text, size_t *len)
{
	int dir = open(NOCLOUD_MOUNT, O_PATH | O_DIRECTORY | O_CLOEXEC), fd, r;
	struct stat st;

	if (dir < 0) {
		log_console("nocloud: %s: %s", NOCLOUD_MOUNT, strerror(errno));
		return -1;
	}
	fd = fspath_open(dir, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW, 0);
	close(dir);
	if (fd == -ENOENT)
		return 1;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_console("nocloud: %s: %s", name, fd < 0 ? strerror(-fd) : "not a regular file: not read");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	r = read_fd(fd, max, text, len);
	close(fd);
	if (r == 0)
		return 0;
	log_console("nocloud: %s: %s", name, r == -EFBIG ? "too large" : strerror(-r));
	return -1;
}

/* Reads the seed on dev: the config (unless user is NULL), the metadata, the network
 * (*net, the caller frees it). */
static int read_seed(const char *dev, const char *fs, char **user, size_t *ulen, struct platform_metadata *md,
		     Basalt__Config__Network **netp)
{
	char *meta = NULL, *net = NULL, err[512], gaps[256];
	size_t mlen = 0, nlen = 0;
	int r;

	if ((mkdir("/run/basalt", 0755) < 0 && errno != EEXIST) || (mkdir(NOCLOUD_MOUNT, 0700) < 0 && errno != EEXIST)) {
		log_console("nocloud: mkdir %s: %s", NOCLOUD_MOUNT, strerror(errno));
		return -1;
	}
	if (mount(dev, NOCLOUD_MOUNT, fs, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		log_console("nocloud: mount %s (%s) on %s: %s", dev, fs, NOCLOUD_MOUNT, strerror(errno));
		return -1;
	}
	r = user ? seed_file("user-data", NOCLOUD_CONFIG_MAX, user, ulen) : 0;
	if (r == 1)
		log_console("nocloud: %s holds no user-data (the machine config): maintenance mode", dev);
	if (seed_file("meta-data", CLOUDINIT_DOC_MAX, &meta, &mlen) == 0 &&
	    cloudinit_meta_parse(meta, mlen, md, err, sizeof(err)) < 0)
		log_console("nocloud: %s (its host name and instance id are not used)", err);
	*netp = NULL;
	if (seed_file("network-config", CLOUDINIT_DOC_MAX, &net, &nlen) == 0) {
		if (cloudinit_network_parse(net, nlen, netp, gaps, sizeof(gaps), err, sizeof(err)) < 0)
			log_console("nocloud: %s: %s (the network is configured without it)", dev, err);
		else if (user)
			log_console("nocloud: network-config of %s: %zu link%s, the platform layer of the network%s%s%s", dev,
				    (*netp)->n_interfaces, (*netp)->n_interfaces == 1 ? "" : "s", gaps[0] ? " (not applied by "
				    "this release: " : "", gaps, gaps[0] ? ")" : "");
	}
	free(meta);
	free(net);
	if (umount(NOCLOUD_MOUNT) < 0)
		log_warn("nocloud: unmount %s", NOCLOUD_MOUNT);
	return r;
}

/* The seed's metadata, with a config in force already (nothing else is read). */
static void nocloud_describe(const struct platform_env *env, struct platform_metadata *md)
{
	char dev[128];
	const char *fs;
	Basalt__Config__Network *net = NULL;

	if (find_seed(env, dev, sizeof(dev), &fs))
		read_seed(dev, fs, NULL, NULL, md, &net);
	md->network = net;  /* freed by the caller once reported */
}

static void look(void *arg)
{
	struct platform_looker *n = arg;
	const struct platform_env *env = &n->p->env;
	struct platform_metadata md = { .platform = "nocloud" };
	char dev[128], why[768], *user = NULL;
	const char *fs = NULL;
	size_t ulen = 0;
	Basalt__Config__Network *net = NULL;

	if (env->configured && env->configured(env->arg))
		return;
	if (!env->machine) {
		log_console("nocloud: in a container the block devices are the host's: no seed is looked for");
		return;
	}
	if (!find_seed(env, dev, sizeof(dev), &fs)) {
		if (++n->looks < NOCLOUD_LOOKS) {
			loop_timer_arm(env->loop, &n->timer, NOCLOUD_LOOK_MS);
			return;
		}
		log_console("nocloud: no volume labelled cidata: maintenance mode");
		return;
	}
	platform_dmi_uuid(env, md.instance_id, sizeof(md.instance_id));
	if (read_seed(dev, fs, &user, &ulen, &md, &net) == 0) {
		md.network = net;
		platform_metadata(n->p, &md);
		if (env->on_config(env->arg, "platform", user, ulen, why, sizeof(why)) < 0)
			log_console("nocloud: the user-data of %s (%zu bytes) %s: maintenance mode", dev, ulen, why);
		else
			log_console("nocloud: machine config from the user-data of %s (%s) applied (%zu bytes)", dev, fs,
				    ulen);
	}
	free(user);
	if (net)
		protobuf_c_message_free_unpacked(&net->base, NULL);
}

static int nocloud_start(struct platform_ctx *p, char *err, size_t errlen)
{
	return platform_looker_start(p, look, err, errlen);
}

const struct platform_ops platform_nocloud = {
	.name = "nocloud",
	.detect = nocloud_detect,
	.describe = nocloud_describe,
	.start = nocloud_start,
	.stop = platform_looker_stop,
};
