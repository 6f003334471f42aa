/* SPDX-License-Identifier: MIT */
#include "init/coldplug.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/loop.h"

#define COLDPLUG_MAX_PASSES 6

struct walk {
	struct kmod_db *db;
	struct coldplug_stats *st;
	unsigned loaded_this_pass;
};

static int load_match(void *arg, const char *module)
{
	struct walk *w = arg;
	struct kmod_mod *m = kmod_find(w->db, module);
	char err[256];

	if (!m || m->state == KMOD_LOADED || m->state == KMOD_FAILED)
		return 0;
	uint64_t t = mono_ms();

	if (kmod_load(w->db, module, err, sizeof(err)) == 0) {
		if (m->preloaded)
			return 0;
		w->st->loaded++;
		w->loaded_this_pass++;
		log_debug("coldplug: loaded %s in %llu ms", module, (unsigned long long)(mono_ms() - t));
	} else {
		w->st->failed++;
		log_debug("coldplug: %s", err);
	}
	return 0;
}

static void visit_modalias(struct walk *w, int devdir)
{
	char alias[512];
	ssize_t n;
	int fd = openat(devdir, "modalias", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, alias, sizeof(alias) - 1);
	close(fd);
	if (n <= 0)
		return;
	alias[n] = '\0';
	alias[strcspn(alias, "\n")] = '\0';
	w->st->devices++;
	kmod_match_alias(w->db, alias, load_match, w);
}

/* Calls fn for each entry of the directory dirfd/name, opened as a directory. */
static void each_entry(int dirfd, const char *name, void (*fn)(struct walk *, int, const char *),
		       struct walk *w)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			fn(w, fd, de->d_name);
	closedir(d);
}

/* A bus's devices/ entries are symlinks to the device directories. */
static void visit_device(struct walk *w, int devicesfd, const char *name)
{
	int dev = openat(devicesfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dev < 0)
		return;
	visit_modalias(w, dev);
	close(dev);
}

static void visit_bus(struct walk *w, int busfd, const char *name)
{
	char sub[300];

	snprintf(sub, sizeof(sub), "%s/devices", name);
	each_entry(busfd, sub, visit_device, w);
}

int coldplug_run(struct kmod_db *db, const char *sysfs, struct coldplug_stats *st)
{
	struct walk w = { .db = db, .st = st };

	memset(st, 0, sizeof(*st));
	do {
		int root = open(sysfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (root < 0)
			return -errno;
		w.loaded_this_pass = 0;
		each_entry(root, "bus", visit_bus, &w);
		close(root);
		st->passes++;
	} while (w.loaded_this_pass > 0 && st->passes < COLDPLUG_MAX_PASSES);
	return 0;
}
