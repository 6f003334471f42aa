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
#include <dirent.h>
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

#define NODES_MAX CLUSTER_NODES_MAX
#define DIR_MAX CLUSTER_DIR_MAX

/* The cluster CIDR (cluster_cidr), apart from QEMU's user network (10.0.2.0/24, each
 * node's first NIC). 0, or -1 said. */
static int qemu_cidr(const char *cidr, size_t n, uint32_t *base, unsigned *prefix)
{
	uint32_t user = 0x0a000200u, mask;

	if (cluster_cidr(cidr, n, base, prefix) < 0)
		return -1;
	mask = ~0u << (32 - *prefix);
	if (((user ^ *base) & (mask & 0xffffff00u)) == 0) {
		fprintf(stderr, "osctl: cluster: --cidr %s overlaps 10.0.2.0/24, QEMU's user network on every node's "
				"first NIC: choose another (10.5.0.0/24)\n", cidr);
		return -1;
	}
	return 0;
}

/* The provisioner's part of a node's config: its host name, DHCP on its user-mode NIC
 * (QEMU's 10.0.2.15, where its API port is forwarded to) and its segment NIC (by the MAC
 * the provisioner gave it) at its address. */
static void node_patch(const struct cluster_node *n, unsigned i, unsigned prefix, char *out, size_t len)
{
	snprintf(out, len,
		 "machine:\n  network:\n    hostname: %.47s\n    interfaces:\n"
		 "      - deviceSelector:\n          hardwareAddr: \"52:54:00:12:34:56\"\n        dhcp: true\n"
		 "      - deviceSelector:\n          hardwareAddr: \"52:54:00:05:00:%02x\"\n        addresses: [%.15s/%u]\n",
		 n->name, i, n->ip, prefix);
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

/* Stops every QEMU of the cluster (each node folder's qemu.pid, whether or not nodes.txt
 * lists it yet) and its switch, and removes the folder. */
static int teardown(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) > 64)
			continue;
		snprintf(path, sizeof(path), "%s/%s/qemu.pid", dir, e->d_name);
		stop(pid_in(path), path);
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "%s/switch.pid", dir);
	stop(pid_in(path), dir);
	return cluster_rm_rf(dir);
}

static void console_tail(const char *dir, const struct cluster_node *n)
{
	char path[PATH_MAX];
	char *argv[] = { "tail", "-n", "15", path, NULL };

	snprintf(path, sizeof(path), "%s/%s/console.log", dir, n->name);
	fprintf(stderr, "osctl: cluster: the last lines of %s's console (%s):\n", n->name, path);
	cluster_run(argv, "-");
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
	if (atomic_write(pidpath, num, strlen(num), 0600, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: cluster: %s\n", err);
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return -1;
	}
	for (int i = 0; i < 50 && access(sock, F_OK) != 0; i++)
		usleep(100000);
	if (access(sock, F_OK) != 0) {
		fprintf(stderr, "osctl: cluster: the switch did not start (see %s)\n", log);
		return -1;
	}
	return 0;
}

static int start_node(const struct cluster_req *req, const char *dir, struct cluster_node *n, unsigned i)
{
	char disk[PATH_MAX], cfg[PATH_MAX], con[PATH_MAX], pidf[PATH_MAX], mem[16], cpus[16], user[160], seg[PATH_MAX * 2 + 96],
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
	/* One vCPU under TCG unless asked: more only cost time there, and QEMU's multi-threaded
	 * TCG has panicked a guest kernel here (a fault in sched_clock_tick) with two. */
	snprintf(cpus, sizeof(cpus), "%u", req->cpus ? req->cpus : strcmp(req->accel, "kvm") == 0 ? 2 : 1);
	snprintf(accel, sizeof(accel), "%s", req->accel);
	snprintf(drive, sizeof(drive), "file=%s,format=qcow2,if=virtio", disk);
	snprintf(seg, sizeof(seg), "dgram,id=seg0,local.type=unix,local.path=%s/node-%u.sock,remote.type=unix,"
		 "remote.path=%s/switch.sock", dir, i, dir);
	snprintf(segdev, sizeof(segdev), "virtio-net-pci,netdev=seg0,mac=52:54:00:05:00:%02x", i);
	snprintf(fw, sizeof(fw), "name=opt/org.basalt/config,file=%s", cfg);
	if (cluster_run(img, log) != 0) {
		fprintf(stderr, "osctl: cluster: %s: qemu-img could not make the disk overlay on %s (see %s)\n", n->name,
			req->image, log);
		return -1;
	}
	if (!(n->port = cluster_free_port())) {
		fprintf(stderr, "osctl: cluster: %s: no free port on 127.0.0.1\n", n->name);
		return -1;
	}
	snprintf(user, sizeof(user), "user,id=user0,restrict=on,hostfwd=tcp:127.0.0.1:%u-:50000", n->port);
	if (cluster_run(argv, log) != 0) {
		fprintf(stderr, "osctl: cluster: %s: QEMU did not start (see %s)\n", n->name, log);
		return -1;
	}
	n->pid = pid_in(pidf);
	return 0;
}

/* For cluster_wait: a node whose QEMU ended, or that is late, with its console's end. */
static bool qemu_gone(void *arg, const struct cluster_node *n, bool late)
{
	const char *dir = arg;
	char pidf[PATH_MAX];

	char con[PATH_MAX], tail[16384];
	bool panicked = false;
	ssize_t got;
	int fd;

	snprintf(pidf, sizeof(pidf), "%s/%s/qemu.pid", dir, n->name);
	snprintf(con, sizeof(con), "%s/%s/console.log", dir, n->name);
	/* A guest whose kernel panicked never answers: said now, not at the deadline. */
	if ((fd = open(con, O_RDONLY | O_CLOEXEC)) >= 0) {
		off_t end = lseek(fd, 0, SEEK_END);

		got = pread(fd, tail, sizeof(tail) - 1, end > (off_t)sizeof(tail) - 1 ? end - (off_t)sizeof(tail) + 1 : 0);
		close(fd);
		tail[got > 0 ? got : 0] = '\0';
		panicked = strstr(tail, "Kernel panic - not syncing") != NULL;
	}
	if (!late && !panicked && ours(n->pid, pidf))
		return false;
	if (panicked)
		fprintf(stderr, "osctl: cluster create: %s: its kernel panicked\n", n->name);
	else if (!late)
		fprintf(stderr, "osctl: cluster create: %s: QEMU ended\n", n->name);
	console_tail(dir, n);
	return !late || panicked;
}

static int qemu_create(struct osc *o, const struct cluster_req *given)
{
	char dir[DIR_MAX], path[PATH_MAX], self[PATH_MAX], patch[1024], why[160];
	struct cluster_node nodes[NODES_MAX] = { 0 };
	struct cluster_req picked = *given;
	const struct cluster_req *req = &picked;
	size_t n = (size_t)(given->controlplanes + given->workers);
	uint32_t base;
	unsigned prefix;
	int r;

	/* --accel auto (the default): KVM where it really runs a guest, else TCG, said either way. */
	if (strcmp(picked.accel, "auto") == 0) {
		bool kvm = cluster_kvm_works(why, sizeof(why));

		picked.accel = kvm ? "kvm" : "tcg";
		if (kvm)
			cluster_say("%s: KVM runs guests here: QEMU kvm", req->name);
		else
			cluster_say("%s: KVM cannot run a guest here (%s): QEMU tcg", req->name, why);
	}

	if ((r = cluster_prepare(req, 512, "a node needs at least 512 MiB (its system runs from memory until its disk "
				       "is mounted)", dir)) != 0)
		return r;
	if (qemu_cidr(req->cidr, n, &base, &prefix) < 0)
		return 2;
	if (access(req->image, R_OK) != 0) {
		fprintf(stderr, "osctl: cluster create: the disk image %s: %s (make disk builds it; --image FILE)\n",
			req->image, strerror(errno));
		return 1;
	}
	if ((r = cluster_begin(req, dir, "qemu", base, nodes, self, sizeof(self))) == -2)
		return 1;
	if (r < 0 || start_switch(dir, n, self) < 0)
		goto fail;
	cluster_say("%s: network segment %s: osctl cluster switch on %s/switch.sock", req->name, req->cidr, dir);
	for (size_t i = 0; i < n && !cluster_interrupted; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, nodes[i].name);
		node_patch(&nodes[i], (unsigned)i, prefix, patch, sizeof(patch));
		if (mkdir(path, 0700) < 0 || cluster_node_config(dir, req, nodes, i, patch) < 0 ||
		    start_node(req, dir, &nodes[i], (unsigned)i) < 0 || cluster_save_nodes(dir, nodes, i + 1) < 0)
			goto fail;
		cluster_say("%s: booting (%s, %s, API on 127.0.0.1:%u, QEMU %s)", nodes[i].name,
			    nodes[i].controlplane ? "control plane" : "worker", nodes[i].ip, nodes[i].port, req->accel);
	}
	if (cluster_interrupted || cluster_wait(dir, req, nodes, n, self, qemu_gone, dir) < 0 ||
	    cluster_finish(o, dir, req, nodes, n) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "osctl: cluster create: removing what was made of %s\n", req->name);
	teardown(dir);
	return 1;
}

static int qemu_show(struct osc *o, const struct cluster_req *req)
{
	char dir[DIR_MAX];
	struct cluster_node nodes[NODES_MAX];
	size_t n;
	struct table t;

	(void)o;
	if (!cluster_dir(req, dir))
		return 2;
	if (!(n = cluster_load_nodes(dir, nodes))) {
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
		return 1;
	}
	cluster_forget(o, dir, req->name);
	if (teardown(dir) < 0) {
		fprintf(stderr, "osctl: cluster destroy: %s could not be removed\n", dir);
		return 1;
	}
	cluster_say("%s: destroyed (its processes stopped, %s removed, its context gone)", req->name, dir);
	return 0;
}

const struct cluster_provisioner cluster_qemu = {
	.name = "qemu",
	.create = qemu_create,
	.show = qemu_show,
	.destroy = qemu_destroy,
};
