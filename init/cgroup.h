/* SPDX-License-Identifier: MIT */
/*
 * One cgroup per service under <mount>/<root>/<service>: the unified hierarchy when
 * cgroup2 is mounted (the image), else the pids, memory and cpu v1 hierarchies (hosts).
 */
#ifndef BASALT_CGROUP_H
#define BASALT_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

#define CGROUP_MAX_HIER 3
#define CGROUP_PATH_MAX 256

struct cgroup_tree {
	bool v2;
	size_t nbase;
	char base[CGROUP_MAX_HIER][CGROUP_PATH_MAX];  /* <mount>[/<hierarchy>]/<root> */
};

/* Creates the root directories; nbase == 0 afterwards means cgroups are unavailable. */
int cgroup_tree_init(struct cgroup_tree *t, const char *mount, const char *root);
/* Fills paths[i] with each hierarchy's cgroup.procs for id; returns the count. */
size_t cgroup_procs_paths(const struct cgroup_tree *t, const char *id,
			  char paths[CGROUP_MAX_HIER][CGROUP_PATH_MAX]);
int cgroup_create(const struct cgroup_tree *t, const char *id);
/* Sends sig to every process in id's cgroup; returns how many it signalled. */
int cgroup_signal(const struct cgroup_tree *t, const char *id, int sig);
/* Removes id's cgroup directories; fails with -EBUSY while processes remain. */
int cgroup_remove(const struct cgroup_tree *t, const char *id);
/* Removes the (empty) root directories. */
void cgroup_tree_remove(const struct cgroup_tree *t);

#endif
