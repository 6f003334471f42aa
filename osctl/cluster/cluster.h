/* SPDX-License-Identifier: MIT */
/*
 * osctl cluster: local clusters, one provisioner per file behind one ops table (qemu,
 * docker). The command parses the options once; a provisioner only starts, finds and
 * stops its nodes.
 */
#ifndef BASALT_OSCTL_CLUSTER_H
#define BASALT_OSCTL_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct osc;
struct osc_patches;

struct cluster_req {
	const char *name;          /* --name (default "basalt") */
	const char *provisioner;   /* --provisioner */
	int controlplanes, workers;
	const char *cidr;
	const char *state_root;    /* --state (default ~/.osctl/clusters): the cluster's folder is in it */
	const char *image;         /* --image: the release disk image (qcow2) the nodes' disks overlay */
	const char *disk_size;     /* --disk (default 6G) */
	unsigned memory_cp, memory_worker;  /* --memory MiB (--memory-controlplane, --memory-worker) */
	unsigned cpus;             /* --cpus (0: the provisioner's default) */
	const char *accel;         /* --accel tcg|kvm|auto (auto: kvm where cluster_kvm_works) */
	unsigned wait_s;           /* --wait-timeout seconds */
	/* --config-patch (every node), --config-patch-controlplane, --config-patch-worker */
	const struct osc_patches *patch_all, *patch_cp, *patch_worker;
};

struct cluster_provisioner {
	const char *name;
	int (*create)(struct osc *o, const struct cluster_req *req);
	int (*show)(struct osc *o, const struct cluster_req *req);
	int (*destroy)(struct osc *o, const struct cluster_req *req);
};

extern const struct cluster_provisioner cluster_qemu;
extern const struct cluster_provisioner cluster_docker;
/* The provisioners this osctl carries. */
extern const struct cluster_provisioner *const cluster_provisioners[];
extern const size_t cluster_nprovisioners;

int cmd_cluster(struct osc *o, int argc, char **argv);

/* --- what the provisioners share (osctl/cluster/common.c) --- */
#define CLUSTER_NODES_MAX 16
#define CLUSTER_DIR_MAX 1024   /* a cluster's folder: its paths fit in PATH_MAX */

struct cluster_node {
	char name[48];
	bool controlplane;
	char ip[16];             /* on the cluster's network */
	unsigned port;           /* the host loopback port its API is reached at */
	pid_t pid;               /* QEMU's; 0 for a container */
};

/* Whether KVM can really run a guest here (a test guest is run); else why not. */
bool cluster_kvm_works(char *why, size_t whylen);

/* Set once SIGINT, SIGTERM or SIGHUP arrived (after cluster_catch_signals): create stops
 * and removes what it made. */
extern volatile int cluster_interrupted;
void cluster_catch_signals(void);
/* A progress line, stamped with the time. */
void cluster_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs argv (argv[0] a path, or a name looked up in PATH), its output appended to out (a
 * file; NULL: discarded, "-": osctl's standard error); its exit status, or -1 said. */
int cluster_run(char *const argv[], const char *out);
/* Runs argv with its standard output into out (cut to len - 1 bytes and trailing blanks);
 * when it fails, out is what it said on its standard error instead (a warning there never
 * mixes with what is parsed). Its exit status, or -1 said. */
int cluster_capture(char *const argv[], char *out, size_t len);
/* A free TCP port on 127.0.0.1 (bound and released: QEMU or the engine binds it a moment
 * later); 0 when there is none. */
unsigned cluster_free_port(void);
/* The cluster CIDR: an IPv4 network of unicast addresses with room for n nodes from .2 on.
 * 0, or -1 said. */
int cluster_cidr(const char *cidr, size_t n, uint32_t *base, unsigned *prefix);
/* The cluster's folder (STATE/NAME); false, said, when its path is too long. */
bool cluster_dir(const struct cluster_req *req, char out[CLUSTER_DIR_MAX]);
/* This osctl's own path (its children run it). 0, or -1. */
int cluster_self(char *out, size_t len);
/* create's checks before anything is made: the number of nodes, at least min_mib of memory
 * each (min_why says why), the cluster's folder not there yet. 0, or the exit status (said). */
int cluster_prepare(const struct cluster_req *req, unsigned min_mib, const char *min_why, char dir[CLUSTER_DIR_MAX]);
/* create's first steps: the folder, signals caught, the nodes planned, the provisioner's
 * name and the secrets and configs written, said. 0; -1 (said) with the folder made, -2
 * (said) with nothing made. self gets this osctl's path. */
int cluster_begin(const struct cluster_req *req, const char *dir, const char *provisioner, uint32_t base,
		  struct cluster_node *nodes, char *self, size_t selflen);
/* The nodes' names (NAME-controlplane-<i>, NAME-worker-<i>), roles and addresses (.2 on). */
void cluster_plan(const struct cluster_req *req, uint32_t base, struct cluster_node *nodes, size_t n);
/* DIR/gen: the cluster's secrets, configs and client config (osctl gen config). 0, or -1 said. */
int cluster_gen(const char *dir, const char *self, const struct cluster_req *req, const char *endpoint);
/* DIR/<node>/config.yaml for nodes[i]: its role's config of DIR/gen, then the provisioner's
 * patch (its host name, its network), for a worker the control-plane nodes' addresses as
 * its certificate signers, then the user's patches; validated. 0, or -1 said. */
int cluster_node_config(const char *dir, const struct cluster_req *req, const struct cluster_node *nodes, size_t i,
			const char *patch);
/* DIR/nodes.txt: one line per node (name, role, address, API port, PID); what show and
 * destroy read. */
int cluster_save_nodes(const char *dir, const struct cluster_node *nodes, size_t n);
size_t cluster_load_nodes(const char *dir, struct cluster_node *nodes);
/* DIR/provisioner: which provisioner made the cluster in DIR ("" when none). */
int cluster_save_provisioner(const char *dir, const char *name);
void cluster_load_provisioner(const char *dir, char *out, size_t len);
/*
 * Waits until every node answers over mutual TLS with the cluster's client config and its
 * MachineStatus says it runs with its services up, saying each; gone(arg, node) says
 * (and shows why) when a node has ended. 0, or -1 said (a node ended, or the deadline).
 */
int cluster_wait(const char *dir, const struct cluster_req *req, const struct cluster_node *nodes, size_t n,
		 const char *self, bool (*gone)(void *arg, const struct cluster_node *node, bool timed_out), void *arg);
/* The cluster's context merged into the user's client config (every node a target, through
 * the first control plane's API), said, and the table of nodes printed. 0, or -1 said. */
int cluster_finish(struct osc *o, const char *dir, const struct cluster_req *req, const struct cluster_node *nodes,
		   size_t n);
/* The cluster's context removed from the user's client config: only when it is the one the
 * cluster in DIR made (its CA is the cluster's), never another of that name. */
void cluster_forget(struct osc *o, const char *dir, const char *name);
/* rm -rf DIR (one file system). 0, or -1. */
int cluster_rm_rf(const char *dir);

#endif
