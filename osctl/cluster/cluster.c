/* SPDX-License-Identifier: MIT */
#include "osctl/cluster/cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osctl/cluster/l2switch.h"
#include "osctl/osctl.h"

const struct cluster_provisioner *const cluster_provisioners[] = { &cluster_qemu, &cluster_docker };
const size_t cluster_nprovisioners = sizeof(cluster_provisioners) / sizeof(cluster_provisioners[0]);

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

/* A whole number option in [min, max]; false with the error said. */
static bool number(int argc, char **argv, const char *opt, unsigned min, unsigned max, unsigned *out)
{
	const char *v = osc_opt(argc, argv, opt, NULL);
	char *end = NULL;
	unsigned long n;

	if (!v)
		return true;
	n = strtoul(v, &end, 10);
	if (!*v || *end || n < min || n > max) {
		fprintf(stderr, "osctl: cluster: %s %s: a number from %u to %u\n", opt, v, min, max);
		return false;
	}
	*out = (unsigned)n;
	return true;
}

/* What a provisioner boots, beside this osctl (_out/bin/osctl): the release disk image
 * (_out/basalt-amd64.qcow2) for QEMU, the root filesystem (_out/image/rootfs.sqsh) for
 * Docker. */
static void default_image(const char *provisioner, char *out, size_t len)
{
	const char *file = strcmp(provisioner, "docker") == 0 ? "image/rootfs.sqsh" : "basalt-amd64.qcow2";
	char self[2048];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	snprintf(out, len, "%s", file);
	if (n <= 0)
		return;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')))
		*slash = '\0';
	if ((slash = strrchr(self, '/')))
		*slash = '\0';
	snprintf(out, len, "%s/%s", self, file);
}

/* path made absolute (the children run from "/"); false, said, when it cannot be. */
static bool absolute(char *path, size_t len, const char *what)
{
	char cwd[2048], rel[2000];

	if (path[0] == '/')
		return true;
	snprintf(rel, sizeof(rel), "%.1999s", path);
	if (!getcwd(cwd, sizeof(cwd)) || (size_t)snprintf(path, len, "%s/%s", cwd, rel) >= len) {
		fprintf(stderr, "osctl: cluster: %s %s: the working directory: %s\n", what, rel, strerror(errno));
		return false;
	}
	return true;
}

int cmd_cluster(struct osc *o, int argc, char **argv)
{
	static const char *const tv[] = { "--name", "--provisioner", "--controlplanes", "--workers", "--cidr",
					  "--state", "--image", "--disk", "--memory", "--memory-controlplane",
					  "--memory-worker", "--cpus", "--accel", "--wait-timeout", "--config-patch",
					  "--config-patch-controlplane", "--config-patch-control-plane",
					  "--config-patch-worker", NULL };
	const char *action = osc_positional(argc, argv, 0, tv), *n;
	char state[4096], image[4096], dir[CLUSTER_DIR_MAX], made_by[32];
	struct cluster_req req = { .name = "basalt", .provisioner = "qemu", .controlplanes = 1, .workers = 1,
				   .cidr = "10.5.0.0/24", .disk_size = "6G", .memory_cp = 2048, .memory_worker = 1024,
				   .cpus = 0, .accel = "auto", .wait_s = 600 };
	struct osc_patches all = { 0 }, cp = { 0 }, worker = { 0 };
	const struct cluster_provisioner *p;
	unsigned cps = 1, workers = 1, mem = 0;
	int r = 2;

	if (action && strcmp(action, "switch") == 0)
		return cmd_switch(argc, argv);
	if (!action || (strcmp(action, "create") != 0 && strcmp(action, "show") != 0 && strcmp(action, "destroy") != 0)) {
		fprintf(stderr, "usage: osctl cluster create|show|destroy [--name N] [--provisioner qemu|docker]\n"
				"       [--controlplanes N] [--workers M] [--cidr CIDR] [--cpus N (QEMU: 1 under tcg, 2 under kvm; Docker: 2)] [--memory MiB]\n"
				"       [--memory-controlplane MiB] [--memory-worker MiB] [--disk SIZE] [--image FILE]\n"
				"       [--config-patch @FILE] [--config-patch-controlplane @FILE] [--config-patch-worker @FILE]\n"
				"       [--state DIR] [--accel auto|tcg|kvm (auto: kvm if it runs a guest here)] [--wait-timeout S]\n"
				"       osctl cluster switch --dir DIR --ports N\n");
		return 2;
	}
	static const char *const tv_found[] = { "--name", "--provisioner", "--state", NULL };

	/* show and destroy take only what finds the cluster */
	if (osc_check_args(argc, argv, strcmp(action, "create") == 0 ? tv : tv_found, NULL, 1) < 0)
		return 2;
	if ((n = osc_opt(argc, argv, "--name", NULL)))
		req.name = n;
	if (!*req.name || strlen(req.name) > 16 || strspn(req.name, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(req.name) ||
	    req.name[0] == '-') {
		fprintf(stderr, "osctl: cluster: --name %s: 1 to 16 lower-case letters, digits and '-'\n", req.name);
		return 2;
	}
	if (!number(argc, argv, "--controlplanes", 1, 8, &cps) || !number(argc, argv, "--workers", 0, 15, &workers) ||
	    !number(argc, argv, "--cpus", 1, 64, &req.cpus) || !number(argc, argv, "--memory", 1, 1u << 20, &mem) ||
	    !number(argc, argv, "--memory-controlplane", 1, 1u << 20, &req.memory_cp) ||
	    !number(argc, argv, "--memory-worker", 1, 1u << 20, &req.memory_worker) ||
	    !number(argc, argv, "--wait-timeout", 1, 86400, &req.wait_s))
		return 2;
	if (mem)
		req.memory_cp = req.memory_worker = mem;
	req.controlplanes = (int)cps;
	req.workers = (int)workers;
	if ((n = osc_opt(argc, argv, "--cidr", NULL)))
		req.cidr = n;
	if ((n = osc_opt(argc, argv, "--disk", NULL)))
		req.disk_size = n;
	if ((n = osc_opt(argc, argv, "--accel", NULL)))
		req.accel = n;
	if (strcmp(req.accel, "tcg") != 0 && strcmp(req.accel, "kvm") != 0 && strcmp(req.accel, "auto") != 0) {
		fprintf(stderr, "osctl: cluster: --accel %s: tcg, kvm or auto\n", req.accel);
		return 2;
	}
	if ((n = osc_opt(argc, argv, "--state", NULL))) {
		snprintf(state, sizeof(state), "%s", n);
	} else {
		const char *home = getenv("HOME");

		snprintf(state, sizeof(state), "%s/.osctl/clusters", home && *home ? home : ".");
	}
	if (!absolute(state, sizeof(state), "--state"))
		return 1;
	req.state_root = state;
	if (!cluster_dir(&req, dir))
		return 2;
	/* show and destroy: the provisioner that made the cluster, unless one is named */
	cluster_load_provisioner(dir, made_by, sizeof(made_by));
	if ((n = osc_opt(argc, argv, "--provisioner", NULL)))
		req.provisioner = n;
	else if (strcmp(action, "create") != 0 && made_by[0])
		req.provisioner = made_by;
	if (!(p = find(req.provisioner))) {
		fprintf(stderr, "osctl: cluster: --provisioner %s: expected qemu or docker\n", req.provisioner);
		return 2;
	}
	if ((n = osc_opt(argc, argv, "--image", NULL)))
		snprintf(image, sizeof(image), "%s", n);
	else
		default_image(req.provisioner, image, sizeof(image));
	/* Docker takes an image name as well as a file: a file (or, for QEMU, anything) made absolute. */
	{
		struct stat st;

		if ((strcmp(req.provisioner, "qemu") == 0 || (stat(image, &st) == 0 && S_ISREG(st.st_mode))) &&
		    !absolute(image, sizeof(image), "--image"))
			return 1;
	}
	if (strcmp(req.provisioner, "docker") == 0 && (osc_opt(argc, argv, "--disk", NULL) || osc_opt(argc, argv, "--accel", NULL))) {
		fprintf(stderr, "osctl: cluster: --disk and --accel are the QEMU provisioner's (a container has neither)\n");
		return 2;
	}
	req.image = image;
	if (strcmp(action, "create") != 0)
		return strcmp(action, "show") == 0 ? p->show(o, &req) != 0 : p->destroy(o, &req) != 0;
	if (osc_patches_collect(argc, argv, "--config-patch", NULL, &all) < 0 ||
	    osc_patches_collect(argc, argv, "--config-patch-controlplane", "--config-patch-control-plane", &cp) < 0 ||
	    osc_patches_collect(argc, argv, "--config-patch-worker", NULL, &worker) < 0)
		goto out;
	if (all.n + (cp.n > worker.n ? cp.n : worker.n) >= OSC_PATCHES_MAX) {
		fprintf(stderr, "osctl: cluster create: at most %d config patches for a node\n", OSC_PATCHES_MAX - 1);
		goto out;
	}
	req.patch_all = &all;
	req.patch_cp = &cp;
	req.patch_worker = &worker;
	/* The cluster's context is named after it: never one the user has already. */
	if (osc_cfg_load(o, false) < 0) {
		fprintf(stderr, "osctl: cluster create: the client config %s cannot take the cluster's context\n",
			o->config_path);
		r = 1;
		goto out;
	}
	if (osc_cfg_find(o->cfg, req.name) && access(dir, F_OK) != 0) {
		fprintf(stderr, "osctl: cluster create: %s already has a context named %s: choose another --name, or "
				"remove that context first\n", o->config_path, req.name);
		r = 1;
		goto out;
	}
	r = p->create(o, &req);
out:
	osc_patches_fini(&all);
	osc_patches_fini(&cp);
	osc_patches_fini(&worker);
	return r;
}
