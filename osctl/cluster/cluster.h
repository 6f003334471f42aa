/* SPDX-License-Identifier: MIT */
/*
 * osctl cluster: local clusters, one provisioner per file behind one ops table (qemu,
 * docker). The command parses the options once; a provisioner only starts, finds and
 * stops its nodes.
 */
#ifndef BASALT_OSCTL_CLUSTER_H
#define BASALT_OSCTL_CLUSTER_H

#include <stddef.h>

struct osc;

struct cluster_req {
	const char *name;          /* --name (default "basalt") */
	const char *provisioner;   /* --provisioner */
	int controlplanes, workers;
	const char *cidr;
};

struct cluster_provisioner {
	const char *name;
	int (*create)(const struct cluster_req *req);
	int (*show)(const struct cluster_req *req);
	int (*destroy)(const struct cluster_req *req);
};

/* The provisioners this osctl carries (none yet: they come with local clusters). */
extern const struct cluster_provisioner *const cluster_provisioners[];
extern const size_t cluster_nprovisioners;

int cmd_cluster(struct osc *o, int argc, char **argv);

#endif
