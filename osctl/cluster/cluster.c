/* SPDX-License-Identifier: MIT */
#include "osctl/cluster/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osctl/cluster/l2switch.h"
#include "osctl/osctl.h"

const struct cluster_provisioner *const cluster_provisioners[] = { NULL };
const size_t cluster_nprovisioners = 0;

static const struct cluster_provisioner *find(const char *name)
{
	for (size_t i = 0; i < cluster_nprovisioners; i++)
		if (strcmp(cluster_provisioners[i]->name, name) == 0)
			return cluster_provisioners[i];
	return NULL;
}

/*
 * osctl cluster switch --dir DIR --ports N: the cluster's network segment (l2switch.h),
 * in the foreground until SIGTERM; the QEMU provisioner runs it for a cluster, each node's
 * NIC on DIR/node-<i>.sock.
 */
static int cmd_switch(int argc, char **argv)
{
	const char *dir = osc_opt(argc, argv, "--dir", NULL), *ports = osc_opt(argc, argv, "--ports", NULL);
	char err[512], *end = NULL;
	long n = ports ? strtol(ports, &end, 10) : 0;

	if (!dir || !ports || *end || n < 1 || n > L2SW_PORTS) {
		fprintf(stderr, "usage: osctl cluster switch --dir DIR --ports N (1 to %d)\n", L2SW_PORTS);
		return 2;
	}
	if (l2sw_serve(dir, (size_t)n, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: cluster switch: %s\n", err);
		return 1;
	}
	return 0;
}

int cmd_cluster(struct osc *o, int argc, char **argv)
{
	static const char *const tv[] = { "--name", "--provisioner", "--controlplanes", "--workers", "--cidr", "--dir",
					  "--ports", NULL };
	const char *action = osc_positional(argc, argv, 0, tv), *n;
	struct cluster_req req = { .name = "basalt", .provisioner = "qemu", .controlplanes = 1, .workers = 1,
				   .cidr = "10.5.0.0/24" };
	const struct cluster_provisioner *p;

	(void)o;
	if (action && strcmp(action, "switch") == 0)
		return cmd_switch(argc, argv);
	if (!action || (strcmp(action, "create") != 0 && strcmp(action, "show") != 0 && strcmp(action, "destroy") != 0)) {
		fprintf(stderr, "usage: osctl cluster create|show|destroy [--name N] [--provisioner qemu|docker]\n"
				"       [--controlplanes N] [--workers M] [--cidr CIDR]\n"
				"       osctl cluster switch --dir DIR --ports N\n");
		return 2;
	}
	if ((n = osc_opt(argc, argv, "--name", NULL)))
		req.name = n;
	if ((n = osc_opt(argc, argv, "--provisioner", NULL)))
		req.provisioner = n;
	if ((n = osc_opt(argc, argv, "--controlplanes", NULL)))
		req.controlplanes = atoi(n);
	if ((n = osc_opt(argc, argv, "--workers", NULL)))
		req.workers = atoi(n);
	if ((n = osc_opt(argc, argv, "--cidr", NULL)))
		req.cidr = n;
	if (strcmp(req.provisioner, "qemu") != 0 && strcmp(req.provisioner, "docker") != 0) {
		fprintf(stderr, "osctl: cluster: --provisioner %s: expected qemu or docker\n", req.provisioner);
		return 2;
	}
	if (!(p = find(req.provisioner))) {
		fprintf(stderr, "osctl: cluster %s: the %s provisioner is not in this osctl yet (local clusters "
				"come in a later release); boot a node with `make run` meanwhile\n",
			action, req.provisioner);
		return 1;
	}
	if (strcmp(action, "create") == 0)
		return p->create(&req) != 0;
	if (strcmp(action, "show") == 0)
		return p->show(&req) != 0;
	return p->destroy(&req) != 0;
}
