/* SPDX-License-Identifier: MIT */
#include "machined/platform/seed.h"

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

#define SEED_CONFIG_MAX (1u << 20)
#define SEED_LOOKS 10          /* for the volume once the platform is chosen: 10 times, 1 s apart */
#define SEED_LOOK_MS 1000

static bool find_seed(const struct seed_kind *k, const struct platform_env *env, char *dev, size_t len,
		      const char **fs)
{
	return env->machine && blk_find_labelled(env->sysfs, "/dev", k->label, NULL, false, dev, len, fs) == 0;
}

bool seed_detect(const struct seed_kind *k, const struct platform_env *env)
{
	char dev[128];
	const char *fs;

	return find_seed(k, env, dev, sizeof(dev), &fs);
}

/* A file of the mounted volume: 0 with its text, 1 when it is not there, -1 said. Opened
 * beneath the mount, never through a symlink, and only if it is a regular file (a FIFO or
 * a device on the volume never holds machined). */
static int seed_file(const struct seed_kind *k, const char *name, size_t max, char **text, size_t *len)
{
	int dir = open(k->mount, O_PATH | O_DIRECTORY | O_CLOEXEC), fd, r;
	struct stat st;

	if (dir < 0) {
		log_console("%s: %s: %s", k->name, k->mount, strerror(errno));
		return -1;
	}
	fd = fspath_open(dir, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW, 0);
	close(dir);
	if (fd == -ENOENT)
		return 1;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_console("%s: %s: %s", k->name, name, fd < 0 ? strerror(-fd) : "not a regular file: not read");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	r = read_fd(fd, max, text, len);
	close(fd);
	if (r == 0)
		return 0;
	log_console("%s: %s: %s", k->name, name, r == -EFBIG ? "too large" : strerror(-r));
	return -1;
}

/* Reads the volume dev: the config (unless user is NULL), the metadata, the network
 * (*netp, the caller frees it). 0 with the config, 1 when it holds none, -1 said. */
static int read_seed(const struct seed_kind *k, const char *dev, const char *fs, char **user, size_t *ulen,
		     struct platform_metadata *md, Basalt__Config__Network **netp)
{
	char *meta = NULL, *net = NULL, err[512], gaps[256];
	size_t mlen = 0, nlen = 0;
	int r;

	*netp = NULL;
	if ((mkdir("/run/basalt", 0755) < 0 && errno != EEXIST) || (mkdir(k->mount, 0700) < 0 && errno != EEXIST)) {
		log_console("%s: mkdir %s: %s", k->name, k->mount, strerror(errno));
		return -1;
	}
	if (mount(dev, k->mount, fs, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		log_console("%s: mount %s (%s) on %s: %s", k->name, dev, fs, k->mount, strerror(errno));
		return -1;
	}
	r = user ? seed_file(k, k->user, SEED_CONFIG_MAX, user, ulen) : 0;
	if (r == 1)
		log_console("%s: %s holds no %s (the machine config): maintenance mode", k->name, dev, k->user);
	if (seed_file(k, k->meta, CLOUDINIT_DOC_MAX, &meta, &mlen) == 0 &&
	    k->meta_parse(meta, mlen, md, err, sizeof(err)) < 0)
		log_console("%s: %s (its host name and instance id are not used)", k->name, err);
	if (seed_file(k, k->network, CLOUDINIT_DOC_MAX, &net, &nlen) == 0) {
		if (k->net_parse(net, nlen, netp, gaps, sizeof(gaps), err, sizeof(err)) < 0)
			log_console("%s: %s: %s (the network is configured without it)", k->name, dev, err);
		else if (user)
			log_console("%s: %s of %s: %zu link%s, the platform layer of the network%s%s%s", k->name,
				    k->network, dev, (*netp)->n_interfaces, (*netp)->n_interfaces == 1 ? "" : "s",
				    gaps[0] ? " (not applied by this release: " : "", gaps, gaps[0] ? ")" : "");
	}
	free(meta);
	free(net);
	if (umount(k->mount) < 0)
		log_warn("%s: unmount %s", k->name, k->mount);
	return r;
}

void seed_describe(const struct seed_kind *k, const struct platform_env *env, struct platform_metadata *md)
{
	char dev[128];
	const char *fs;
	Basalt__Config__Network *net = NULL;

	if (find_seed(k, env, dev, sizeof(dev), &fs))
		read_seed(k, dev, fs, NULL, NULL, md, &net);
	md->network = net;  /* freed by the caller once reported */
}

static void look(void *arg)
{
	struct platform_looker *n = arg;
	const struct seed_kind *k = n->data;
	const struct platform_env *env = &n->p->env;
	struct platform_metadata md = { 0 };
	char dev[128], why[768], *user = NULL;
	const char *fs = NULL;
	size_t ulen = 0;
	Basalt__Config__Network *net = NULL;
	int r;

	if (env->configured && env->configured(env->arg))
		return;
	if (!env->machine) {
		log_console("%s: in a container the block devices are the host's: no %s volume is looked for", k->name,
			    k->label);
		return;
	}
	if (!find_seed(k, env, dev, sizeof(dev), &fs)) {
		if (++n->looks < SEED_LOOKS) {
			loop_timer_arm(env->loop, &n->timer, SEED_LOOK_MS);
			return;
		}
		log_console("%s: no volume labelled %s: maintenance mode", k->name, k->label);
		return;
	}
	snprintf(md.platform, sizeof(md.platform), "%s", k->name);
	platform_dmi_uuid(env, md.instance_id, sizeof(md.instance_id));
	r = read_seed(k, dev, fs, &user, &ulen, &md, &net);
	if (r >= 0) {
		/* Without a config too: the network it describes makes the maintenance API reachable. */
		md.network = net;
		platform_metadata(n->p, &md);
	}
	if (r == 0) {
		if (env->on_config(env->arg, "platform", user, ulen, why, sizeof(why)) < 0) {
			platform_printable(why);
			log_console("%s: the %s of %s (%zu bytes) %s: maintenance mode", k->name, k->user, dev, ulen, why);
		} else {
			log_console("%s: machine config from the %s of %s (%s) applied (%zu bytes)", k->name, k->user, dev,
				    fs, ulen);
		}
	}
	free(user);
	if (net)
		protobuf_c_message_free_unpacked(&net->base, NULL);
}

int seed_start(const struct seed_kind *k, struct platform_ctx *p, char *err, size_t errlen)
{
	return platform_looker_start(p, look, k, err, errlen);
}
