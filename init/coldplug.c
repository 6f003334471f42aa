/* SPDX-License-Identifier: MIT */
#include "init/coldplug.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

#define COLDPLUG_MAX_PASSES 6
#define COLDPLUG_MAX_DEPTH 32

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
	if (kmod_load(w->db, module, err, sizeof(err)) == 0) {
		if (m->preloaded)
			return 0;
		w->st->loaded++;
		w->loaded_this_pass++;
		log_debug("coldplug: loaded %s", module);
	} else {
		w->st->failed++;
		log_debug("coldplug: %s", err);
	}
	return 0;
}

static void visit_modalias(struct walk *w, int dirfd)
{
	char alias[512];
	ssize_t n;
	int fd = openat(dirfd, "modalias", O_RDONLY | O_CLOEXEC);

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

/* Recurses through real directories only: sysfs symlinks would revisit devices forever. */
static void walk_dir(struct walk *w, int dirfd, unsigned depth)
{
	DIR *d;
	struct dirent *de;
	int fd;

	visit_modalias(w, dirfd);
	if (depth >= COLDPLUG_MAX_DEPTH)
		return;
	fd = dup(dirfd);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		walk_dir(w, sub, depth + 1);
		close(sub);
	}
	closedir(d);
}

int coldplug_run(struct kmod_db *db, const char *sysfs_devices, struct coldplug_stats *st)
{
	struct walk w = { .db = db, .st = st };

	memset(st, 0, sizeof(*st));
	do {
		int root = open(sysfs_devices, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (root < 0)
			return -errno;
		w.loaded_this_pass = 0;
		walk_dir(&w, root, 0);
		close(root);
		st->passes++;
	} while (w.loaded_this_pass > 0 && st->passes < COLDPLUG_MAX_PASSES);
	return 0;
}
