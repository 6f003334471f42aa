/* SPDX-License-Identifier: MIT */
/*
 * The QEMU provisioner, rootless: no root, no tap, no bridge, no DHCP server on the host.
 * Each node boots a qcow2 overlay of the release disk image (the installed system's
 * path: GRUB, slot A, STATE and EPHEMERAL made on the first boot) and gets its config
 * through QEMU's firmware config device (the qemu platform). It has two NICs: a user-mode
 * one (isolated: restrict=on) whose API port is forwarded to a host loopback port, so the
 * host reaches every node without privileges, and one on the cluster's segment (QEMU's
 * -netdev dgram on a unix socket, joined by `osctl cluster switch`), with its static
 * address from the cluster CIDR in its config. State under the cluster's folder: the
 * secrets and configs of `osctl gen config`, each node's config, disk, console and PID,
 * the switch's PID, and nodes.txt, which show and destroy read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/atomicfile.h"
#include "lib/spawn.h"
#include "osctl/cluster/cluster.h"
#include "osctl/cluster/l2switch.h"
#include "osctl/osctl.h"

#define NODES_MAX 16
#define DIR_MAX 1024          /* a cluster's folder: its paths fit in PATH_MAX */

struct node {
	char name[32];
	bool controlplane;
	char ip[16];
	unsigned port;           /* the host loopback port its API is forwarded to */
	pid_t pid;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char ts[16];
	time_t now = time(NULL);
	va_list ap;

	strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
	printf("%s ", ts);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Runs argv (argv[0] a path, or a name looked up in PATH), its output into out (a file,
 * or NULL: /dev/null); its exit status, or -1 said. */
static int run(char *const argv[], const char *out)
{
	char path[PATH_MAX], err[256];
	const char *p = getenv("PATH");
	char *argv0 = argv[0];
	int fd = -1, st;
	pid_t pid;

	if (!strchr(argv[0], '/')) {
		path[0] = '\0';
		for (const char *d = p ? p : "/usr/bin:/bin"; *d;) {
			size_t n = strcspn(d, ":");

			snprintf(path, sizeof(path), "%.*s/%s", (int)n, d, argv[0]);
			if (access(path, X_OK) == 0)
				break;
			path[0] = '\0';
			d += n + (d[n] == ':');
		}
		if (!path[0]) {
			fprintf(stderr, "osctl: cluster: %s is not installed (not in PATH)\n", argv[0]);
			return -1;
		}
		((char **)argv)[0] = path;
	}
	if (out && (fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "osctl: cluster: %s: %s\n", out, strerror(errno));
		((char **)argv)[0] = argv0;
		return -1;
	}
	{
		extern char **environ;
		struct spawn_opts o = { .argv = argv, .envp = environ, .stdin_fd = -1, .stdout_fd = fd, .stderr_fd = fd };

		if (spawn(&o, &pid, err, sizeof(err)) < 0) {
			fprintf(stderr, "osctl: cluster: %s\n", err);
			((char **)argv)[0] = argv0;
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	((char **)argv)[0] = argv0;
	if (fd >= 0)
		close(fd);
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A free TCP port on 127.0.0.1 (bound and released: QEMU binds it a moment later). */
static unsigned free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned port = 0;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* The cluster CIDR: an IPv4 network with room for n nodes from .2 on, apart from QEMU's
 * user network (10.0.2.0/24, each node's first NIC). 0, or -1 said. */
static int cidr_hosts(const char *cidr, size_t n, uint32_t *base, unsigned *prefix)
{
	char ip[32];
	const char *slash = strchr(cidr, '/');
	struct in_addr a;
	uint32_t mask, user = 0x0a000200u;  /* 10.0.2.0/24 */
	char *end;
	unsigned long p;

	if (!slash || (size_t)(slash - cidr) >= sizeof(ip)) {
		fprintf(stderr, "osctl: cluster: --cidr %s: not an IPv4 network (10.5.0.0/24)\n", cidr);
		return -1;
	}
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - cidr), cidr);
	p = strtoul(slash + 1, &end, 10);
	if (inet_pton(AF_INET, ip, &a) != 1 || *end || p < 8 || p > 29) {
		fprintf(stderr, "osctl: cluster: --cidr %s: not an IPv4 network with a prefix of 8 to 29\n", cidr);
		return -1;
	}
	mask = p ? ~0u << (32 - p) : 0;
	*base = ntohl(a.s_addr) & mask;
	*prefix = (unsigned)p;
	if ((1u << (32 - p)) < n + 3) {
		fprintf(stderr, "osctl: cluster: --cidr %s: room for %u nodes, not %zu\n", cidr, (1u << (32 - p)) - 3, n);
		return -1;
	}
	if (((user ^ *base) & (mask & 0xffffff00u)) == 0) {
		fprintf(stderr, "osctl: cluster: --cidr %s overlaps 10.0.2.0/24, QEMU's user network on every node's "
				"first NIC: choose another (10.5.0.0/24)\n", cidr);
		return -1;
	}
	return 0;
}

/* The cluster's folder; false (said) when its path is too long for what goes in it. */
static bool cluster_dir(const struct cluster_req *req, char out[DIR_MAX])
{
	if ((size_t)snprintf(out, DIR_MAX, "%s/%s", req->state_root, req->name) >= 90) {
		/* node-<i>.sock must fit a unix socket's 108 bytes */
		fprintf(stderr, "osctl: cluster: %s/%s: longer than 89 characters (the node sockets' paths are kept in "
				"it): choose a shorter --state\n", req->state_root, req->name);
		return false;
	}
	return true;
}

/* The node's config: the role's config of gen/ with its host name, DHCP on its user-mode
 * NIC (QEMU's 10.0.2.15, where its API port is forwarded to) and its segment NIC (by the
 * MAC the provisioner gave it) at its address. */
static int node_config(const char *dir, const struct node *n, unsigned i, unsigned prefix)
{
	char src[PATH_MAX], dst[PATH_MAX], err[256], *text = NULL, *out = NULL;
	size_t len = 0;
	const char *at;
	int r;

	snprintf(src, sizeof(src), "%s/gen/%s.yaml", dir, n->controlplane ? "controlplane" : "worker");
	snprintf(dst, sizeof(dst), "%s/%s/config.yaml", dir, n->name);
	if ((r = read_file(src, 1 << 20, &text, &len)) < 0 || !(at = strstr(text, "\nmachine:\n"))) {
		fprintf(stderr, "osctl: cluster: %s: %s\n", src, r < 0 ? strerror(-r) : "no machine: section");
		free(text);
		return -1;
	}
	at += strlen("\nmachine:\n");
	r = asprintf(&out,
		     "%.*s  network:\n    hostname: %s\n    interfaces:\n"
		     "      - deviceSelector:\n          hardwareAddr: \"52:54:00:12:34:56\"\n        dhcp: true\n"
		     "      - deviceSelector:\n          hardwareAddr: \"52:54:00:05:00:%02x\"\n        addresses: [%s/%u]\n%s",
		     (int)(at - text), text, n->name, i, n->ip, prefix, at);
	free(text);
	if (r < 0)
		return -1;
	r = atomic_write(dst, out, strlen(out), 0600, err, sizeof(err));
	free(out);
	if (r < 0)
		fprintf(stderr, "osctl: cluster: %s\n", err);
	return r;
}

/* nodes.txt: one line per node: name, role, segment address, API port, QEMU's PID. */
static int save_nodes(const char *dir, const struct node *nodes, size_t n)
{
	char path[PATH_MAX], err[256], buf[NODES_MAX * 96];
	size_t off = 0;

	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s %s %s %u %d\n", nodes[i].name,
					nodes[i].controlplane ? "controlplane" : "worker", nodes[i].ip, nodes[i].port,
					(int)nodes[i].pid);
	snprintf(path, sizeof(path), "%s/nodes.txt", dir);
	if (atomic_write(path, buf, off, 0600, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: cluster: %s\n", err);
		return -1;
	}
	return 0;
}

static size_t load_nodes(const char *dir, struct node *nodes)
{
	char path[PATH_MAX], role[16];
	size_t n = 0;
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/nodes.txt", dir);
	if (!(f = fopen(path, "re")))
		return 0;
	while (n < NODES_MAX && fscanf(f, "%31s %15s %15s %u %d", nodes[n].name, role, nodes[n].ip, &nodes[n].port, &pid) == 5) {
		nodes[n].controlplane = strcmp(role, "controlplane") == 0;
		nodes[n].pid = pid;
		n++;
	}
	fclose(f);
	return n;
}

/* Whether pid is still a process of this cluster: one of its arguments is exactly token
 * (a node's QEMU: its -pidfile; the switch: its --dir), so a PID reused by anything else,
 * another cluster's folder included, is never signalled. */
static bool ours(pid_t pid, const char *token)
{
	char path[64], buf[8192];
	ssize_t n;
	int fd;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if (strcmp(buf + i, token) == 0)
			return true;
	return false;
}

static pid_t pid_in(const char *path)
{
	char *text = NULL;
	size_t len;
	pid_t pid = 0;

	if (read_file(path, 64, &text, &len) == 0)
		pid = (pid_t)atoi(text);
	free(text);
	return pid;
}

/* Ends a process of the cluster (token as for ours): SIGTERM, then SIGKILL after 10 s. */
static void stop(pid_t pid, const char *token)
{
	if (!ours(pid, token))
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100 && ours(pid, token); i++)
		usleep(100000);
	if (ours(pid, token))
		kill(pid, SIGKILL);
	waitpid(pid, NULL, WNOHANG);
}

static int rm_rf(const char *dir)
{
	char *argv[] = { "rm", "-rf", "--one-file-system", (char *)dir, NULL };

	return run(argv, NULL) == 0 ? 0 : -1;
}

static int teardown(const char *dir)
{
	struct node nodes[NODES_MAX];
	size_t n = load_nodes(dir, nodes);
	char path[PATH_MAX];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s/qemu.pid", dir, nodes[i].name);
		stop(pid_in(path), path);
	}
	snprintf(path, sizeof(path), "%s/switch.pid", dir);
	stop(pid_in(path), dir);
	return rm_rf(dir);
}

static void console_tail(const char *dir, const struct node *n)
{
	char path[PATH_MAX];
	char *argv[] = { "tail", "-n", "15", path, NULL };

	snprintf(path, sizeof(path), "%s/%s/console.log", dir, n->name);
	fprintf(stderr, "osctl: cluster: the last lines of %s's console (%s):\n", n->name, path);
	fflush(stderr);
	run(argv, "/dev/stderr");
}

static int start_switch(const char *dir, size_t n, const char *self)
{
	char ports[8], log[PATH_MAX], pidpath[PATH_MAX], sock[PATH_MAX], num[16], err[256];
	char *argv[] = { (char *)self, "cluster", "switch", "--dir", (char *)dir, "--ports", ports, NULL };
	extern char **environ;
	int fd;
	pid_t pid;

	snprintf(ports, sizeof(ports), "%zu", n);
	snprintf(log, sizeof(log), "%s/switch.log", dir);
	snprintf(pidpath, sizeof(pidpath), "%s/switch.pid", dir);
	snprintf(sock, sizeof(sock), "%s/switch.sock", dir);
	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		return -1;
	struct spawn_opts o = { .argv = argv, .envp = environ, .stdin_fd = -1, .stdout_fd = fd, .stderr_fd = fd };
	if (spawn(&o, &pid, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: cluster: the switch: %s\n", err);
		close(fd);
		return -1;
	}
	close(fd);
	snprintf(num, sizeof(num), "%d\n", (int)pid);
	atomic_write(pidpath, num, strlen(num), 0600, err, sizeof(err));
	for (int i = 0; i < 50 && access(sock, F_OK) != 0; i++)
		usleep(100000);
	if (access(sock, F_OK) != 0) {
		fprintf(stderr, "osctl: cluster: the switch did not start (see %s)\n", log);
		return -1;
	}
	return 0;
}

static int start_node(const struct cluster_req *req, const char *dir, struct node *n, unsigned i)
{
	char disk[PATH_MAX], cfg[PATH_MAX], con[PATH_MAX], pidf[PATH_MAX], mem[16], cpus[8], user[160], seg[PATH_MAX * 2 + 96],
		segdev[96], fw[PATH_MAX + 48], drive[PATH_MAX + 64], serial[PATH_MAX + 8], accel[8];
	char *argv[] = { "qemu-system-x86_64", "-machine", "q35", "-accel", accel, "-m", mem, "-smp", cpus,
			 "-display", "none", "-monitor", "none", "-serial", serial, "-no-reboot", "-daemonize",
			 "-pidfile", pidf, "-drive", drive, "-netdev", user, "-device",
			 "virtio-net-pci,netdev=user0,mac=52:54:00:12:34:56", "-netdev", seg, "-device", segdev,
			 "-fw_cfg", fw, NULL };
	char *img[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", (char *)req->image, disk,
			(char *)req->disk_size, NULL };
	char log[PATH_MAX];

	snprintf(disk, sizeof(disk), "%s/%s/disk.qcow2", dir, n->name);
	snprintf(cfg, sizeof(cfg), "%s/%s/config.yaml", dir, n->name);
	snprintf(con, sizeof(con), "%s/%s/console.log", dir, n->name);
	snprintf(pidf, sizeof(pidf), "%s/%s/qemu.pid", dir, n->name);
	snprintf(log, sizeof(log), "%s/%s/qemu.log", dir, n->name);
	snprintf(serial, sizeof(serial), "file:%s", con);
	snprintf(mem, sizeof(mem), "%u", n->controlplane ? req->memory_cp : req->memory_worker);
	snprintf(cpus, sizeof(cpus), "%u", req->cpus);
	snprintf(accel, sizeof(accel), "%s", req->accel);
	snprintf(drive, sizeof(drive), "file=%s,format=qcow2,if=virtio", disk);
	snprintf(user, sizeof(user), "user,id=user0,restrict=on,hostfwd=tcp:127.0.0.1:%u-:50000", n->port);
	snprintf(seg, sizeof(seg), "dgram,id=seg0,local.type=unix,local.path=%s/node-%u.sock,remote.type=unix,"
		 "remote.path=%s/switch.sock", dir, i, dir);
	snprintf(segdev, sizeof(segdev), "virtio-net-pci,netdev=seg0,mac=52:54:00:05:00:%02x", i);
	snprintf(fw, sizeof(fw), "name=opt/org.basalt/config,file=%s", cfg);
	if (run(img, log) != 0) {
		fprintf(stderr, "osctl: cluster: %s: qemu-img could not make the disk overlay on %s (see %s)\n", n->name,
			req->image, log);
		return -1;
	}
	if (run(argv, log) != 0) {
		fprintf(stderr, "osctl: cluster: %s: QEMU did not start (see %s)\n", n->name, log);
		return -1;
	}
	n->pid = pid_in(pidf);
	return 0;
}

/* The node's API answers over mutual TLS with the cluster's client config, and its
 * MachineStatus says it runs with every service it wants up. */
static bool answers(const char *dir, const struct node *n, const char *self)
{
	char osconfig[PATH_MAX], ep[32], out[PATH_MAX], *text = NULL;
	char *argv[] = { (char *)self, "--osconfig", osconfig, "-e", ep, "get", "machinestatus", "-o", "yaml", NULL };
	size_t len;
	bool up;

	snprintf(osconfig, sizeof(osconfig), "%s/gen/osconfig", dir);
	snprintf(ep, sizeof(ep), "127.0.0.1:%u", n->port);
	snprintf(out, sizeof(out), "%s/%s/status.yaml", dir, n->name);
	unlink(out);
	if (run(argv, out) != 0 || read_file(out, 1 << 16, &text, &len) < 0)
		return false;
	up = strstr(text, "stage: running") && strstr(text, "services: true");
	free(text);
	return up;
}

/* The cluster's context in the user's client config: every node as a target, reached
 * through the first control plane's forwarded port (it forwards over the segment). */
static int merge_context(struct osc *o, const char *dir, const char *name, const struct node *nodes, size_t n)
{
	char path[PATH_MAX], ep[32];
	struct osc gen = { 0 };
	Basalt__Osctl__Context *ctx;
	const char *list[NODES_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/gen/osconfig", dir);
	gen.config_path = path;
	if (osc_cfg_load(&gen, true) < 0 || !(ctx = osc_cfg_current(&gen, NULL)))
		return -1;
	snprintf(ep, sizeof(ep), "127.0.0.1:%u", nodes[0].port);
	for (size_t i = 0; i < ctx->n_endpoints; i++)
		free(ctx->endpoints[i]);
	free(ctx->endpoints);
	for (size_t i = 0; i < ctx->n_nodes; i++)
		free(ctx->nodes[i]);
	free(ctx->nodes);
	list[0] = ep;
	ctx->endpoints = osc_strv(list, 1);
	ctx->n_endpoints = 1;
	for (size_t i = 0; i < n; i++)
		list[i] = nodes[i].ip;
	ctx->nodes = osc_strv(list, n);
	ctx->n_nodes = n;
	/* Taken over by the user's config: out of gen's. */
	for (size_t i = 0; i < gen.cfg->n_contexts; i++)
		if (gen.cfg->contexts[i]->value == ctx)
			gen.cfg->contexts[i]->value = NULL;
	r = osc_cfg_load(o, false) < 0 || osc_cfg_put(o->cfg, name, ctx) < 0 ? -1 : 0;
	protobuf_c_message_free_unpacked(&gen.cfg->base, NULL);
	if (r == 0) {
		free(o->cfg->context);
		o->cfg->context = strdup(name);
		r = osc_cfg_save(o);
	}
	return r;
}

static int self_path(char *out, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", out, len - 1);

	if (n < 0)
		return -1;
	out[n] = '\0';
	return 0;
}

static int qemu_create(struct osc *o, const struct cluster_req *req)
{
	char dir[DIR_MAX], path[PATH_MAX], self[PATH_MAX], endpoint[64];
	struct node nodes[NODES_MAX] = { 0 };
	size_t n = (size_t)(req->controlplanes + req->workers);
	uint32_t base;
	unsigned prefix;
	time_t deadline;

	if (req->controlplanes < 1 || req->workers < 0 || n > NODES_MAX) {
		fprintf(stderr, "osctl: cluster create: at least one control plane, at most %d nodes\n", NODES_MAX);
		return 2;
	}
	if (req->memory_worker < 512 || req->memory_cp < 512) {
		fprintf(stderr, "osctl: cluster create: --memory %u MiB is too little: a node needs at least 512 MiB "
				"(its system runs from memory until its disk is mounted)\n",
			req->memory_cp < req->memory_worker ? req->memory_cp : req->memory_worker);
		return 2;
	}
	if (cidr_hosts(req->cidr, n, &base, &prefix) < 0)
		return 2;
	if (access(req->image, R_OK) != 0) {
		fprintf(stderr, "osctl: cluster create: the disk image %s: %s (make disk builds it; --image FILE)\n",
			req->image, strerror(errno));
		return 1;
	}
	if (!cluster_dir(req, dir))
		return 2;
	if (access(dir, F_OK) == 0) {
		fprintf(stderr, "osctl: cluster create: a cluster named %s exists (%s): osctl cluster destroy --name %s, "
				"or another --name\n", req->name, dir, req->name);
		return 1;
	}
	if (self_path(self, sizeof(self)) < 0 || mkdir_parents(req->state_root, 0700) < 0 || mkdir(dir, 0700) < 0) {
		fprintf(stderr, "osctl: cluster create: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct in_addr a = { .s_addr = htonl(base + 2 + (uint32_t)i) };

		nodes[i].controlplane = i < (size_t)req->controlplanes;
		if (nodes[i].controlplane)
			snprintf(nodes[i].name, sizeof(nodes[i].name), "%s-controlplane-%zu", req->name, i + 1);
		else
			snprintf(nodes[i].name, sizeof(nodes[i].name), "%s-worker-%zu", req->name,
				 i + 1 - (size_t)req->controlplanes);
		inet_ntop(AF_INET, &a, nodes[i].ip, sizeof(nodes[i].ip));
		if (!(nodes[i].port = free_port()))
			goto fail;
	}
	snprintf(endpoint, sizeof(endpoint), "https://%s:6443", nodes[0].ip);
	snprintf(path, sizeof(path), "%s/gen", dir);
	{
		char *argv[] = { self, "gen", "config", (char *)req->name, endpoint, "-o", path, NULL };
		char log[PATH_MAX];

		snprintf(log, sizeof(log), "%s/gen.log", dir);
		if (run(argv, log) != 0) {
			fprintf(stderr, "osctl: cluster create: gen config failed (see %s)\n", log);
			goto fail;
		}
	}
	say("%s: secrets and configs in %s (control plane endpoint %s)", req->name, path, endpoint);
	if (start_switch(dir, n, self) < 0)
		goto fail;
	say("%s: network segment %s: osctl cluster switch on %s/switch.sock", req->name, req->cidr, dir);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, nodes[i].name);
		if (mkdir(path, 0700) < 0 || node_config(dir, &nodes[i], (unsigned)i, prefix) < 0 ||
		    start_node(req, dir, &nodes[i], (unsigned)i) < 0 || save_nodes(dir, nodes, i + 1) < 0)
			goto fail;
		say("%s: booting (%s, %s, API on 127.0.0.1:%u, QEMU %s)", nodes[i].name,
		    nodes[i].controlplane ? "control plane" : "worker", nodes[i].ip, nodes[i].port, req->accel);
	}
	deadline = time(NULL) + req->wait_s;
	for (size_t i = 0; i < n; i++) {
		while (!answers(dir, &nodes[i], self)) {
			snprintf(path, sizeof(path), "%s/%s/qemu.pid", dir, nodes[i].name);
			if (!ours(nodes[i].pid, path)) {
				fprintf(stderr, "osctl: cluster create: %s: QEMU ended\n", nodes[i].name);
				console_tail(dir, &nodes[i]);
				goto fail;
			}
			if (time(NULL) > deadline) {
				fprintf(stderr, "osctl: cluster create: %s: its API did not answer within %u s\n", nodes[i].name,
					req->wait_s);
				console_tail(dir, &nodes[i]);
				goto fail;
			}
			sleep(2);
		}
		say("%s: running, its services up (API over mutual TLS at 127.0.0.1:%u)", nodes[i].name, nodes[i].port);
	}
	if (merge_context(o, dir, req->name, nodes, n) < 0) {
		fprintf(stderr, "osctl: cluster create: the client config %s could not be written\n", o->config_path);
		goto fail;
	}
	say("%s: context %s in %s (every node as a target, through %s's API)", req->name, req->name, o->config_path,
	    nodes[0].name);
	{
		struct table t;
		char port[24];

		table_init(&t, 4);
		table_add(&t, "NODE", "ROLE", "ADDRESS", "API ENDPOINT");
		for (size_t i = 0; i < n; i++) {
			snprintf(port, sizeof(port), "127.0.0.1:%u", nodes[i].port);
			table_add(&t, nodes[i].name, nodes[i].controlplane ? "controlplane" : "worker", nodes[i].ip, port);
		}
		table_print(&t);
		table_fini(&t);
	}
	return 0;
fail:
	fprintf(stderr, "osctl: cluster create: removing what was made of %s\n", req->name);
	teardown(dir);
	return 1;
}

static int qemu_show(struct osc *o, const struct cluster_req *req)
{
	char dir[DIR_MAX];
	struct node nodes[NODES_MAX];
	size_t n;
	struct table t;

	(void)o;
	if (!cluster_dir(req, dir))
		return 2;
	if (!(n = load_nodes(dir, nodes))) {
		fprintf(stderr, "osctl: cluster show: no cluster named %s (%s)\n", req->name, dir);
		return 1;
	}
	table_init(&t, 5);
	table_add(&t, "NODE", "ROLE", "ADDRESS", "API ENDPOINT", "STATE");
	for (size_t i = 0; i < n; i++) {
		char port[24], pidf[PATH_MAX];

		snprintf(port, sizeof(port), "127.0.0.1:%u", nodes[i].port);
		snprintf(pidf, sizeof(pidf), "%s/%s/qemu.pid", dir, nodes[i].name);
		table_add(&t, nodes[i].name, nodes[i].controlplane ? "controlplane" : "worker", nodes[i].ip, port,
			  ours(nodes[i].pid, pidf) ? "running" : "stopped");
	}
	table_print(&t);
	table_fini(&t);
	return 0;
}

static int qemu_destroy(struct osc *o, const struct cluster_req *req)
{
	char dir[DIR_MAX], marker[PATH_MAX];

	if (!cluster_dir(req, dir))
		return 2;
	snprintf(marker, sizeof(marker), "%s/nodes.txt", dir);
	if (access(marker, F_OK) != 0) {
		/* Only a folder this provisioner made is removed: never whatever else is there. */
		fprintf(stderr, "osctl: cluster destroy: no cluster named %s (%s holds no nodes.txt)\n", req->name, dir);
		if (osc_cfg_load(o, false) == 0 && osc_cfg_remove(o->cfg, req->name) == 1)
			osc_cfg_save(o);
		return 1;
	}
	if (teardown(dir) < 0) {
		fprintf(stderr, "osctl: cluster destroy: %s could not be removed\n", dir);
		return 1;
	}
	if (osc_cfg_load(o, false) == 0 && osc_cfg_remove(o->cfg, req->name) == 1)
		osc_cfg_save(o);
	say("%s: destroyed (its processes stopped, %s removed, its context gone)", req->name, dir);
	return 0;
}

const struct cluster_provisioner cluster_qemu = {
	.name = "qemu",
	.create = qemu_create,
	.show = qemu_show,
	.destroy = qemu_destroy,
};
