/* SPDX-License-Identifier: MIT */
#include "init/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

static const char *const v1_hierarchies[] = { "pids", "memory", "cpu" };

static int mkdir_p1(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int add_base(struct cgroup_tree *t, const char *dir, const char *root)
{
	int n = snprintf(t->base[t->nbase], CGROUP_PATH_MAX, "%s/%s", dir, root);

	if (n < 0 || n >= CGROUP_PATH_MAX)
		return -ENAMETOOLONG;
	if (mkdir_p1(t->base[t->nbase]) < 0)
		return -errno;
	t->nbase++;
	return 0;
}

/* Lets the service cgroups below root use the usual controllers (v2 only). */
static void enable_controllers(const char *dir)
{
	static const char ctl[] = "+cpu +memory +pids +io";
	char path[CGROUP_PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* Controllers the kernel lacks make the whole write fail; then try one by one. */
	if (write(fd, ctl, sizeof(ctl) - 1) < 0) {
		char one[16];
		const char *p = ctl;

		while (*p) {
			size_t n = strcspn(p, " ");

			snprintf(one, sizeof(one), "%.*s", (int)n, p);
			(void)!write(fd, one, strlen(one));
			p += n;
			p += strspn(p, " ");
		}
	}
	close(fd);
}

int cgroup_tree_init(struct cgroup_tree *t, const char *mount, const char *root)
{
	struct statfs sfs;
	char dir[CGROUP_PATH_MAX];
	int err;

	memset(t, 0, sizeof(*t));
	if (statfs(mount, &sfs) < 0)
		return -errno;
	if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
		t->v2 = true;
		enable_controllers(mount);
		err = add_base(t, mount, root);
		if (err == 0)
			enable_controllers(t->base[0]);
		return err;
	}
	for (size_t i = 0; i < sizeof(v1_hierarchies) / sizeof(v1_hierarchies[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", mount, v1_hierarchies[i]);
		if (statfs(dir, &sfs) < 0 || sfs.f_type != CGROUP_SUPER_MAGIC)
			continue;
		err = add_base(t, dir, root);
		if (err < 0)
			return err;
	}
	return t->nbase > 0 ? 0 : -ENOENT;
}

static int svc_dir(const struct cgroup_tree *t, size_t i, const char *id, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", t->base[i], id);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

size_t cgroup_procs_paths(const struct cgroup_tree *t, const char *id,
			  char paths[CGROUP_MAX_HIER][CGROUP_PATH_MAX])
{
	size_t n = 0;

	for (size_t i = 0; i < t->nbase; i++) {
		int r = snprintf(paths[n], CGROUP_PATH_MAX, "%s/%s/cgroup.procs", t->base[i], id);

		if (r > 0 && r < CGROUP_PATH_MAX)
			n++;
	}
	return n;
}

int cgroup_create(const struct cgroup_tree *t, const char *id)
{
	char dir[CGROUP_PATH_MAX];

	for (size_t i = 0; i < t->nbase; i++) {
		int err = svc_dir(t, i, id, dir, sizeof(dir));

		if (err == 0)
			err = mkdir_p1(dir);
		if (err < 0)
			return err;
	}
	return 0;
}

int cgroup_signal(const struct cgroup_tree *t, const char *id, int sig)
{
	char path[CGROUP_PATH_MAX + 16];
	char line[32];
	FILE *f;
	int count = 0;

	if (t->nbase == 0)
		return 0;
	/* The first hierarchy holds every process of the service (pids on v1). */
	snprintf(path, sizeof(path), "%s/%s/cgroup.procs", t->base[0], id);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		long pid = strtol(line, NULL, 10);

		if (pid > 1 && kill((pid_t)pid, sig) == 0)
			count++;
	}
	fclose(f);
	return count;
}

int cgroup_remove(const struct cgroup_tree *t, const char *id)
{
	char dir[CGROUP_PATH_MAX];
	int err = 0;

	for (size_t i = 0; i < t->nbase; i++) {
		if (svc_dir(t, i, id, dir, sizeof(dir)) < 0)
			continue;
		if (rmdir(dir) < 0 && errno != ENOENT)
			err = -errno;
	}
	return err;
}

void cgroup_tree_remove(const struct cgroup_tree *t)
{
	for (size_t i = 0; i < t->nbase; i++)
		rmdir(t->base[i]);
}
