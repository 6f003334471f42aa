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
	const char *state_root;    /* --state (default ~/.osctl/clusters): the cluster's folder is in it */
	const char *image;         /* --image: the release disk image (qcow2) the nodes' disks overlay */
	const char *disk_size;     /* --disk (default 6G) */
	unsigned memory_cp, memory_worker;  /* --memory MiB (--memory-controlplane, --memory-worker) */
	unsigned cpus;             /* --cpus */
	const char *accel;         /* --accel tcg|kvm */
	unsigned wait_s;           /* --wait-timeout seconds */
};

struct cluster_provisioner {
	const char *name;
	int (*create)(struct osc *o, const struct cluster_req *req);
	int (*show)(struct osc *o, const struct cluster_req *req);
	int (*destroy)(struct osc *o, const struct cluster_req *req);
};

extern const struct cluster_provisioner cluster_qemu;
/* The provisioners this osctl carries. */
extern const struct cluster_provisioner *const cluster_provisioners[];
extern const size_t cluster_nprovisioners;

int cmd_cluster(struct osc *o, int argc, char **argv);

#endif
