/* SPDX-License-Identifier: MIT */
/*
 * The Docker provisioner: each node a container of the Basalt root filesystem (imported
 * from the release's rootfs.sqsh with `docker import`, no registry), running `init
 * --container` (the container platform: its config in USERDATA, base64, given through an
 * env file so it never shows in a process list), on one Docker network per cluster with
 * the cluster CIDR, its API port published on a host loopback port the engine picks. The
 * containers get a listed set of capabilities, never --privileged (some hosts refuse it):
 * a read-only root, tmpfs for /run, /tmp and /system, anonymous volumes for /var and the
 * state. The engine is the docker client's (DOCKER_HOST or its default); everything is
 * labelled basalt.cluster=NAME, which show and destroy go by.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>

#include "lib/atomicfile.h"
#include "osctl/cluster/cluster.h"
#include "osctl/osctl.h"

/* What a node needs of the kernel in its container: its own mounts (containerd's
 * snapshots), network and time namespaces' settings, processes' identities, and ending
 * its PID namespace at shutdown. Not SYS_MODULE, SYS_TIME or SYS_RAWIO: the kernel and the
 * clock are the host's. */
static const char *const caps[] = { "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
				    "SETGID", "SETUID", "SETPCAP", "NET_BIND_SERVICE", "NET_RAW", "NET_ADMIN",
				    "SYS_CHROOT", "MKNOD", "AUDIT_WRITE", "SETFCAP", "SYS_ADMIN", "SYS_PTRACE",
				    "IPC_LOCK", "SYS_NICE", "SYS_BOOT" };

#define NCAPS (sizeof(caps) / sizeof(caps[0]))
#define CONTAINER_ENV_MAX 65000   /* an env file's USERDATA= line, within docker's 64 KiB */

/* The engine answers: its version into out; false with why said. */
static bool engine(char *out, size_t len)
{
	char *argv[] = { "docker", "version", "--format", "{{.Server.Version}}", NULL };
	const char *host = getenv("DOCKER_HOST");
	int r;

	if (host && *host && strncmp(host, "unix://", 7) != 0) {
		/* The nodes' API ports are published on the engine's loopback, which must be ours. */
		fprintf(stderr, "osctl: cluster: DOCKER_HOST=%s: only a local engine (unix://) can be used: the nodes' API "
				"ports are published on its host's loopback\n", host);
		return false;
	}
	r = cluster_capture(argv, out, len);

	if (r == 0 && out[0] && !strchr(out, '\n'))
		return true;
	if (r >= 0) {
		const char *last = strrchr(out, '\n');

		fprintf(stderr, "osctl: cluster: no Docker engine answers at %s: %s\n"
				"  (start one, or point DOCKER_HOST at it; --provisioner qemu needs none)\n",
			host && *host ? host : "the docker client's default (its context, else unix:///var/run/docker.sock)",
			last ? last + 1 : out[0] ? out : "docker version failed");
	}
	return false;
}

/* docker's own output, for an error: its last line. */
static const char *last_line(const char *out)
{
	const char *l = strrchr(out, '\n');

	return l ? l + 1 : out;
}

/* Runs a tool (docker, unsquashfs, tar); 0, or -1 with its last line said after what. */
static int tool(const char *what, char *const argv[], char *out, size_t len)
{
	char buf[2048];

	if (!out) {
		out = buf;
		len = sizeof(buf);
	}
	if (cluster_capture(argv, out, len) == 0)
		return 0;
	fprintf(stderr, "osctl: cluster: %s: %s\n", what, last_line(out));
	return -1;
}

/* basalt:<first 12 hex digits of the file's sha256>: the image of that root filesystem. */
static int image_tag(const char *file, char *tag, size_t len)
{
	unsigned char buf[65536], sum[32];
	mbedtls_sha256_context c;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	mbedtls_sha256_init(&c);
	mbedtls_sha256_starts(&c, 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			mbedtls_sha256_update(&c, buf, (size_t)n);
	mbedtls_sha256_finish(&c, sum);
	mbedtls_sha256_free(&c);
	close(fd);
	if (n < 0)
		return -EIO;
	snprintf(tag, len, "basalt:%02x%02x%02x%02x%02x%02x", sum[0], sum[1], sum[2], sum[3], sum[4], sum[5]);
	return 0;
}

/* The image the nodes run: req->image imported (a rootfs.sqsh), or named (an image the
 * engine has). Its name into tag; an imported one is written to DIR/image, for destroy. */
static int node_image(const struct cluster_req *req, const char *dir, char *tag, size_t len)
{
	char root[PATH_MAX], tar[PATH_MAX], out[2048], err[256], line[512];
	char *inspect[] = { "docker", "image", "inspect", "--format", "{{.Id}}", tag, NULL };
	char *unsq[] = { "unsquashfs", "-q", "-no-xattrs", "-d", root, (char *)req->image, NULL };
	char *mktar[] = { "tar", "--numeric-owner", "--owner=0", "--group=0", "-C", root, "-cf", tar, ".", NULL };
	char *import[] = { "docker", "import", "--change", "ENTRYPOINT [\"/sbin/init\", \"--container\"]", "--change",
			   "LABEL basalt.image=rootfs", tar, tag, NULL };
	struct stat st;
	int r;

	if (stat(req->image, &st) != 0 || !S_ISREG(st.st_mode)) {
		/* A path (absolute, or a file name osctl made absolute) that is no file: said. */
		if (req->image[0] == '/' || strstr(req->image, ".sqsh")) {
			fprintf(stderr, "osctl: cluster create: the root filesystem %s: %s (make image builds it; --image "
					"FILE, or the name of an image the engine has)\n",
				req->image, strerror(errno ? errno : EINVAL));
			return -1;
		}
		snprintf(tag, len, "%s", req->image);
		if (cluster_capture(inspect, out, sizeof(out)) != 0) {
			fprintf(stderr, "osctl: cluster create: the engine has no image %s: %s\n", tag, last_line(out));
			return -1;
		}
		return 0;
	}
	if ((r = image_tag(req->image, tag, len)) < 0) {
		fprintf(stderr, "osctl: cluster create: %s: %s\n", req->image, strerror(-r));
		return -1;
	}
	/* DIR/image: the image destroy removes (when no other container uses it). */
	snprintf(line, sizeof(line), "%s\n", tag);
	snprintf(root, sizeof(root), "%s/image", dir);
	if (atomic_write(root, line, strlen(line), 0600, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: cluster: %s\n", err);
		return -1;
	}
	if (cluster_capture(inspect, out, sizeof(out)) == 0) {
		cluster_say("%s: image %s (of %s) is in the engine already", req->name, tag, req->image);
		return 0;
	}
	snprintf(root, sizeof(root), "%s/rootfs", dir);
	snprintf(tar, sizeof(tar), "%s/rootfs.tar", dir);
	r = tool("unsquashfs of the root filesystem", unsq, NULL, 0) < 0 || tool("tar of the root filesystem", mktar, NULL, 0) < 0 ||
	    tool("docker import", import, out, sizeof(out)) < 0 ? -1 : 0;
	cluster_rm_rf(root);
	unlink(tar);
	if (r == 0)
		cluster_say("%s: image %s imported from %s", req->name, tag, req->image);
	return r;
}

static void network_name(const struct cluster_req *req, char *out, size_t len)
{
	snprintf(out, len, "basalt-%s", req->name);
}

/* The node's USERDATA env file (0600): its config, base64. */
static int env_file(const char *dir, const struct cluster_node *n, char *path, size_t len)
{
	char cfg[PATH_MAX], err[256], *text = NULL;
	unsigned char *b64;
	size_t tlen = 0, olen = 0, cap;
	int r;

	snprintf(cfg, sizeof(cfg), "%s/%s/config.yaml", dir, n->name);
	snprintf(path, len, "%s/%s/env", dir, n->name);
	if ((r = read_file(cfg, 1 << 20, &text, &tlen)) < 0) {
		fprintf(stderr, "osctl: cluster: %s: %s\n", cfg, strerror(-r));
		return -1;
	}
	cap = 9 + (tlen + 2) / 3 * 4 + 2;
	if (cap > CONTAINER_ENV_MAX) {
		/* docker reads an env file's lines with a 64 KiB buffer */
		fprintf(stderr, "osctl: cluster create: %s's config is %zu bytes: the Docker provisioner hands a node at most "
				"%u (USERDATA in an env file, whose lines docker reads up to 64 KiB)\n",
			n->name, tlen, (CONTAINER_ENV_MAX - 12) / 4 * 3);
		free(text);
		return -1;
	}
	if (!(b64 = malloc(cap))) {
		free(text);
		return -1;
	}
	memcpy(b64, "USERDATA=", 9);
	r = mbedtls_base64_encode(b64 + 9, cap - 10, &olen, (const unsigned char *)text, tlen);
	free(text);
	if (r != 0) {
		free(b64);
		return -1;
	}
	b64[9 + olen] = '\n';
	r = atomic_write(path, (const char *)b64, 10 + olen, 0600, err, sizeof(err));
	free(b64);
	if (r < 0)
		fprintf(stderr, "osctl: cluster: %s\n", err);
	return r;
}

static int start_node(const struct cluster_req *req, const char *dir, const char *image, struct cluster_node *n)
{
	char net[64], label[96], role[64], mem[24], cpus[16], env[PATH_MAX], out[2048], publish[48];
	char *argv[48 + 2 * NCAPS];
	size_t a = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	network_name(req, net, sizeof(net));
	snprintf(label, sizeof(label), "basalt.cluster=%s", req->name);
	snprintf(role, sizeof(role), "basalt.role=%s", n->controlplane ? "controlplane" : "worker");
	snprintf(mem, sizeof(mem), "%um", n->controlplane ? req->memory_cp : req->memory_worker);
	snprintf(cpus, sizeof(cpus), "%u", req->cpus ? req->cpus : ncpu == 1 ? 1 : 2);
	/* A port of ours, so the node keeps it when the container or the engine restarts. */
	if (!(n->port = cluster_free_port())) {
		fprintf(stderr, "osctl: cluster: %s: no free port on 127.0.0.1\n", n->name);
		return -1;
	}
	snprintf(publish, sizeof(publish), "127.0.0.1:%u:50000", n->port);
	if (env_file(dir, n, env, sizeof(env)) < 0)
		return -1;
	const char *head[] = { "docker", "run", "--detach", "--name", n->name, "--hostname", n->name, "--label", label,
			       "--label", role, "--network", net, "--ip", n->ip, "--publish", publish,
			       "--env-file", env, "--memory", mem, "--cpus", cpus, "--read-only", "--tmpfs", "/run",
			       "--tmpfs", "/tmp", "--tmpfs", "/system", "--cap-drop", "ALL" };
	_Static_assert(sizeof(head) / sizeof(head[0]) + 2 * NCAPS + 6 <= sizeof(argv) / sizeof(argv[0]), "argv");
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		argv[a++] = (char *)head[i];
	for (size_t i = 0; i < NCAPS; i++) {
		argv[a++] = "--cap-add";
		argv[a++] = (char *)caps[i];
	}
	argv[a++] = "--mount";
	argv[a++] = "type=volume,dst=/var";
	argv[a++] = "--mount";
	argv[a++] = "type=volume,dst=/system/state";
	argv[a++] = (char *)image;
	argv[a] = NULL;
	if (tool(n->name, argv, out, sizeof(out)) < 0)
		return -1;
	return 0;
}

/* The containers labelled as the cluster's: their IDs, one per line, into out. */
static int cluster_containers(const char *name, char *out, size_t len)
{
	char label[96];
	char *argv[] = { "docker", "ps", "--all", "--quiet", "--filter", label, NULL };

	snprintf(label, sizeof(label), "label=basalt.cluster=%s", name);
	return tool("docker ps", argv, out, len);
}

static void logs_tail(const struct cluster_node *n)
{
	char *argv[] = { "docker", "logs", "--tail", "15", (char *)n->name, NULL };

	fprintf(stderr, "osctl: cluster: the last lines of %s's log (docker logs %s):\n", n->name, n->name);
	cluster_run(argv, "-");
}

/* For cluster_wait: a node whose container is no longer running, or that is late. */
static bool docker_gone(void *arg, const struct cluster_node *n, bool late)
{
	char out[256];
	char *argv[] = { "docker", "inspect", "--format", "{{.State.Status}}", (char *)n->name, NULL };

	(void)arg;
	if (!late && cluster_capture(argv, out, sizeof(out)) == 0 && strcmp(out, "running") == 0)
		return false;
	if (!late)
		fprintf(stderr, "osctl: cluster create: %s: its container is %s\n", n->name, out[0] ? out : "gone");
	logs_tail(n);
	return !late;
}

/* Removes every container (with its volumes) and the network of the cluster, its image
 * when no other container uses it, and (with_dir) its folder. */
static int teardown(const struct cluster_req *req, const char *dir, bool with_dir)
{
	char ids[8192], net[64], path[PATH_MAX], out[2048], *text = NULL, *argv[CLUSTER_NODES_MAX * 4 + 8];
	char *inspect[] = { "docker", "network", "inspect", "--format", "{{index .Labels \"basalt.cluster\"}}", net, NULL };
	char *netrm[] = { "docker", "network", "rm", net, NULL };
	size_t a = 0, len;
	int r = 0;

	if (cluster_containers(req->name, ids, sizeof(ids)) == 0 && ids[0]) {
		argv[a++] = "docker";
		argv[a++] = "rm";
		argv[a++] = "--force";
		argv[a++] = "--volumes";
		for (char *id = strtok(ids, "\n"); id && a < sizeof(argv) / sizeof(argv[0]) - 1; id = strtok(NULL, "\n"))
			argv[a++] = id;
		argv[a] = NULL;
		r |= tool("docker rm", argv, out, sizeof(out));
	}
	/* The network only when it is this cluster's (its label), never one of that name made by another. */
	network_name(req, net, sizeof(net));
	if (cluster_capture(inspect, out, sizeof(out)) == 0 && strcmp(out, req->name) == 0)
		r |= tool("docker network rm", netrm, out, sizeof(out));
	snprintf(path, sizeof(path), "%s/image", dir);
	if (with_dir && read_file(path, 256, &text, &len) == 0) {
		char *label[] = { "docker", "image", "inspect", "--format", "{{index .Config.Labels \"basalt.image\"}}", text,
				  NULL };
		char *rmi[] = { "docker", "image", "rm", text, NULL };

		text[strcspn(text, "\n")] = '\0';
		/* Only an image osctl imported (its label); one in use by other containers stays. */
		if (cluster_capture(label, out, sizeof(out)) == 0 && strcmp(out, "rootfs") == 0 &&
		    cluster_capture(rmi, out, sizeof(out)) != 0)
			cluster_say("%s: image %s kept (%s)", req->name, text, last_line(out));
		free(text);
	}
	if (r) {
		/* The folder says what is the cluster's: kept while anything of it may be left. */
		fprintf(stderr, "osctl: cluster: not everything of %s was removed; %s is kept: osctl cluster destroy --name %s "
				"--provisioner docker\n", req->name, dir, req->name);
		return -1;
	}
	return with_dir && cluster_rm_rf(dir) < 0 ? -1 : 0;
}

static int docker_create(struct osc *o, const struct cluster_req *req)
{
	char dir[CLUSTER_DIR_MAX], path[PATH_MAX], self[PATH_MAX], patch[256], version[256], image[256], net[64],
		subnet[32], gateway[16], ids[256];
	struct cluster_node nodes[CLUSTER_NODES_MAX];
	size_t n = (size_t)(req->controlplanes + req->workers);
	struct in_addr gw;
	uint32_t base;
	unsigned prefix;
	int r;

	if ((r = cluster_prepare(req, 256, "a node's container needs at least 256 MiB (containerd and machined)", dir)) != 0)
		return r;
	if (cluster_cidr(req->cidr, n, &base, &prefix) < 0)
		return 2;
	if (!engine(version, sizeof(version)))
		return 1;
	if (cluster_containers(req->name, ids, sizeof(ids)) < 0)
		return 1;
	if (ids[0]) {
		fprintf(stderr, "osctl: cluster create: the engine has containers of a cluster named %s already (label "
				"basalt.cluster=%s): osctl cluster destroy --name %s --provisioner docker\n",
			req->name, req->name, req->name);
		return 1;
	}
	network_name(req, net, sizeof(net));
	{
		char *inspect[] = { "docker", "network", "inspect", "--format", "{{.Name}}", net, NULL };

		if (cluster_capture(inspect, ids, sizeof(ids)) == 0) {
			fprintf(stderr, "osctl: cluster create: the engine has a network named %s already: another --name, or "
					"remove that network\n", net);
			return 1;
		}
	}
	if ((r = cluster_begin(req, dir, "docker", base, nodes, self, sizeof(self))) == -2)
		return 1;
	if (r < 0)
		goto fail;
	cluster_say("%s: Docker engine %s", req->name, version);
	if (node_image(req, dir, image, sizeof(image)) < 0 || cluster_interrupted)
		goto fail;
	network_name(req, net, sizeof(net));
	gw.s_addr = htonl(base + 1);
	inet_ntop(AF_INET, &gw, gateway, sizeof(gateway));
	{
		struct in_addr b = { .s_addr = htonl(base) };
		char label[96], ip[16];
		char *argv[] = { "docker", "network", "create", "--driver", "bridge", "--subnet", subnet, "--gateway",
				 gateway, "--label", label, net, NULL };

		inet_ntop(AF_INET, &b, ip, sizeof(ip));
		snprintf(subnet, sizeof(subnet), "%s/%u", ip, prefix);
		snprintf(label, sizeof(label), "basalt.cluster=%s", req->name);
		if (tool("docker network create", argv, NULL, 0) < 0)
			goto fail;
	}
	cluster_say("%s: network %s (%s, gateway %s)", req->name, net, req->cidr, gateway);
	for (size_t i = 0; i < n && !cluster_interrupted; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, nodes[i].name);
		snprintf(patch, sizeof(patch), "machine:\n  network:\n    hostname: %.47s\n", nodes[i].name);
		if (mkdir(path, 0700) < 0 || cluster_node_config(dir, req, nodes, i, patch) < 0 ||
		    start_node(req, dir, image, &nodes[i]) < 0 || cluster_save_nodes(dir, nodes, i + 1) < 0)
			goto fail;
		cluster_say("%s: started (%s, %s, API on 127.0.0.1:%u, container %s)", nodes[i].name,
			    nodes[i].controlplane ? "control plane" : "worker", nodes[i].ip, nodes[i].port, nodes[i].name);
	}
	if (cluster_interrupted || cluster_wait(dir, req, nodes, n, self, docker_gone, NULL) < 0 ||
	    cluster_finish(o, dir, req, nodes, n) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "osctl: cluster create: removing what was made of %s\n", req->name);
	teardown(req, dir, true);
	return 1;
}

static int docker_show(struct osc *o, const struct cluster_req *req)
{
	char dir[CLUSTER_DIR_MAX], version[256];
	struct cluster_node nodes[CLUSTER_NODES_MAX];
	struct table t;
	size_t n;

	(void)o;
	if (!cluster_dir(req, dir))
		return 2;
	if (!(n = cluster_load_nodes(dir, nodes))) {
		fprintf(stderr, "osctl: cluster show: no cluster named %s (%s)\n", req->name, dir);
		return 1;
	}
	if (!engine(version, sizeof(version)))
		return 1;
	table_init(&t, 5);
	table_add(&t, "NODE", "ROLE", "ADDRESS", "API ENDPOINT", "STATE");
	for (size_t i = 0; i < n; i++) {
		char port[24], state[256];
		char *argv[] = { "docker", "inspect", "--format", "{{.State.Status}}", nodes[i].name, NULL };

		snprintf(port, sizeof(port), "127.0.0.1:%u", nodes[i].port);
		if (cluster_capture(argv, state, sizeof(state)) != 0)
			snprintf(state, sizeof(state), "gone");
		table_add(&t, nodes[i].name, nodes[i].controlplane ? "controlplane" : "worker", nodes[i].ip, port, state);
	}
	table_print(&t);
	table_fini(&t);
	return 0;
}

static int docker_destroy(struct osc *o, const struct cluster_req *req)
{
	char dir[CLUSTER_DIR_MAX], marker[PATH_MAX], version[256], ids[256];

	if (!cluster_dir(req, dir))
		return 2;
	if (!engine(version, sizeof(version)))
		return 1;
	snprintf(marker, sizeof(marker), "%s/nodes.txt", dir);
	if (access(marker, F_OK) != 0 && (cluster_containers(req->name, ids, sizeof(ids)) < 0 || !ids[0])) {
		fprintf(stderr, "osctl: cluster destroy: no cluster named %s (%s holds no nodes.txt and no container is "
				"labelled basalt.cluster=%s)\n", req->name, dir, req->name);
		return 1;
	}
	/* Only a folder this provisioner made is removed: never whatever else is there. */
	if (access(marker, F_OK) != 0 && access(dir, F_OK) == 0)
		fprintf(stderr, "osctl: cluster destroy: %s holds no nodes.txt: it is left, the containers removed\n", dir);
	if (access(marker, F_OK) == 0)
		cluster_forget(o, dir, req->name);
	if (teardown(req, dir, access(marker, F_OK) == 0) < 0) {
		fprintf(stderr, "osctl: cluster destroy: %s: not everything could be removed\n", req->name);
		return 1;
	}
	cluster_say("%s: destroyed (its containers, volumes, network and image removed, %s removed, its context gone)",
		    req->name, dir);
	return 0;
}

const struct cluster_provisioner cluster_docker = {
	.name = "docker",
	.create = docker_create,
	.show = docker_show,
	.destroy = docker_destroy,
};
