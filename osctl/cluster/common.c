/* SPDX-License-Identifier: MIT */
/*
 * What every provisioner of osctl cluster does the same way: running tools, the cluster's
 * folder and its files, the nodes' names, addresses and configs, waiting until each node
 * runs, and the client config's context (cluster.h).
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
#include "osctl/osctl.h"

volatile int cluster_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	cluster_interrupted = 1;
}

void cluster_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };   /* no SA_RESTART: a wait returns */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void cluster_say(const char *fmt, ...)
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

/* argv[0] found: itself when it names a path, else the first executable of that name in
 * an absolute PATH entry (a relative one would depend on where osctl was started). */
static bool lookup(const char *name, char *path, size_t len)
{
	const char *p = getenv("PATH");

	if (strchr(name, '/'))
		return snprintf(path, len, "%s", name) < (int)len;
	for (const char *d = p ? p : "/usr/bin:/bin"; *d;) {
		size_t n = strcspn(d, ":");

		if (d[0] == '/' && (size_t)snprintf(path, len, "%.*s/%s", (int)n, d, name) < len && access(path, X_OK) == 0)
			return true;
		d += n + (d[n] == ':');
	}
	fprintf(stderr, "osctl: cluster: %s is not installed (not in PATH)\n", name);
	return false;
}

/* Starts argv with its output on fd and its errors on efd (-1: /dev/null) and waits for it. */
static int run_fd(char *const argv[], int fd, int efd)
{
	extern char **environ;
	char path[PATH_MAX], err[256], **args;
	size_t n = 0;
	pid_t pid;
	int st;

	if (!lookup(argv[0], path, sizeof(path)))
		return -1;
	while (argv[n])
		n++;
	if (!(args = calloc(n + 1, sizeof(*args))))
		return -1;
	memcpy(args, argv, n * sizeof(*args));
	args[0] = path;
	struct spawn_opts o = { .argv = args, .envp = environ, .stdin_fd = -1, .stdout_fd = fd, .stderr_fd = efd };
	if (spawn(&o, &pid, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: cluster: %s\n", err);
		free(args);
		return -1;
	}
	free(args);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int cluster_run(char *const argv[], const char *out)
{
	int fd = -1, r;

	if (out && strcmp(out, "-") == 0) {
		fflush(stderr);
		return run_fd(argv, 2, 2);
	}
	if (out && (fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "osctl: cluster: %s: %s\n", out, strerror(errno));
		return -1;
	}
	r = run_fd(argv, fd, fd);
	if (fd >= 0)
		close(fd);
	return r;
}

/* A temporary file, already unlinked; -1 said. */
static int temp_fd(void)
{
	char tmpl[] = "/tmp/osctl-cluster-XXXXXX";
	int fd = mkostemp(tmpl, O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "osctl: cluster: a temporary file: %s\n", strerror(errno));
	else
		unlink(tmpl);
	return fd;
}

/* What fd holds (from its start) into out, trailing blanks cut. */
static void slurp(int fd, char *out, size_t len)
{
	ssize_t n = pread(fd, out, len - 1, 0);

	out[n > 0 ? n : 0] = '\0';
	for (size_t l = strlen(out); l && (out[l - 1] == '\n' || out[l - 1] == ' '); l--)
		out[l - 1] = '\0';
}

int cluster_capture(char *const argv[], char *out, size_t len)
{
	int fd, efd, r;

	out[0] = '\0';
	if ((fd = temp_fd()) < 0)
		return -1;
	if ((efd = temp_fd()) < 0) {
		close(fd);
		return -1;
	}
	r = run_fd(argv, fd, efd);
	slurp(fd, out, len);
	/* A failure is told by what it said on its error output (else on its output). */
	if (r != 0) {
		char err[2048];

		slurp(efd, err, sizeof(err));
		if (err[0])
			snprintf(out, len, "%s", err);
	}
	close(fd);
	close(efd);
	return r;
}

unsigned cluster_free_port(void)
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

int cluster_cidr(const char *cidr, size_t n, uint32_t *base, unsigned *prefix)
{
	static const struct { uint32_t net; unsigned bits; const char *what; } unusable[] = {
		{ 0x00000000u, 8, "0.0.0.0/8, this network" },  { 0x7f000000u, 8, "127.0.0.0/8, loopback" },
		{ 0xa9fe0000u, 16, "169.254.0.0/16, link-local" }, { 0xe0000000u, 4, "224.0.0.0/4, multicast" },
		{ 0xf0000000u, 4, "240.0.0.0/4, reserved" },
	};
	char ip[32];
	const char *slash = strchr(cidr, '/');
	struct in_addr a;
	uint32_t mask;
	char *end;
	unsigned long p;

	if (!slash || (size_t)(slash - cidr) >= sizeof(ip)) {
		fprintf(stderr, "osctl: cluster: --cidr %s: not an IPv4 network (10.5.0.0/24)\n", cidr);
		return -1;
	}
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - cidr), cidr);
	p = strtoul(slash + 1, &end, 10);
	if (inet_pton(AF_INET, ip, &a) != 1 || !slash[1] || *end || p < 8 || p > 29) {
		fprintf(stderr, "osctl: cluster: --cidr %s: not an IPv4 network with a prefix of 8 to 29\n", cidr);
		return -1;
	}
	mask = ~0u << (32 - p);
	*base = ntohl(a.s_addr) & mask;
	*prefix = (unsigned)p;
	for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
		uint32_t m = ~0u << (32 - unusable[i].bits);

		if (((*base ^ unusable[i].net) & (m & mask)) == 0) {
			fprintf(stderr, "osctl: cluster: --cidr %s is within %s: choose a private network (10.5.0.0/24)\n",
				cidr, unusable[i].what);
			return -1;
		}
	}
	if ((1u << (32 - p)) < n + 3) {
		fprintf(stderr, "osctl: cluster: --cidr %s: room for %u nodes, not %zu\n", cidr, (1u << (32 - p)) - 3, n);
		return -1;
	}
	return 0;
}

bool cluster_dir(const struct cluster_req *req, char out[CLUSTER_DIR_MAX])
{
	if ((size_t)snprintf(out, CLUSTER_DIR_MAX, "%s/%s", req->state_root, req->name) >= 90) {
		/* QEMU's node-<i>.sock must fit a unix socket's 108 bytes */
		fprintf(stderr, "osctl: cluster: %s/%s: longer than 89 characters (the node sockets' paths are kept in "
				"it): choose a shorter --state\n", req->state_root, req->name);
		return false;
	}
	return true;
}

int cluster_self(char *out, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", out, len - 1);

	if (n < 0)
		return -1;
	out[n] = '\0';
	return 0;
}

void cluster_plan(const struct cluster_req *req, uint32_t base, struct cluster_node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct in_addr a = { .s_addr = htonl(base + 2 + (uint32_t)i) };

		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].controlplane = i < (size_t)req->controlplanes;
		if (nodes[i].controlplane)
			snprintf(nodes[i].name, sizeof(nodes[i].name), "%s-controlplane-%zu", req->name, i + 1);
		else
			snprintf(nodes[i].name, sizeof(nodes[i].name), "%s-worker-%zu", req->name,
				 i + 1 - (size_t)req->controlplanes);
		inet_ntop(AF_INET, &a, nodes[i].ip, sizeof(nodes[i].ip));
	}
}

int cluster_gen(const char *dir, const char *self, const struct cluster_req *req, const char *endpoint)
{
	char path[PATH_MAX], log[PATH_MAX];
	char *argv[] = { (char *)self, "gen", "config", (char *)req->name, (char *)endpoint, "-o", path, NULL };

	snprintf(path, sizeof(path), "%s/gen", dir);
	snprintf(log, sizeof(log), "%s/gen.log", dir);
	if (cluster_run(argv, log) != 0) {
		fprintf(stderr, "osctl: cluster create: gen config failed (see %s)\n", log);
		return -1;
	}
	return 0;
}

int cluster_node_config(const char *dir, const struct cluster_req *req, const struct cluster_node *nodes, size_t i,
			const char *patch)
{
	const struct cluster_node *n = &nodes[i];
	const struct osc_patches *user[] = { req->patch_all, n->controlplane ? req->patch_cp : req->patch_worker };
	char src[PATH_MAX], dst[PATH_MAX], err[256], *text = NULL, *out;
	char all[8192];
	struct osc_patches *ps = calloc(1, sizeof(*ps));
	size_t len = 0;
	int r;

	snprintf(src, sizeof(src), "%s/gen/%s.yaml", dir, n->controlplane ? "controlplane" : "worker");
	snprintf(dst, sizeof(dst), "%s/%s/config.yaml", dir, n->name);
	if (!ps || (r = read_file(src, 1 << 20, &text, &len)) < 0) {
		fprintf(stderr, "osctl: cluster: %s: %s\n", src, ps ? strerror(-r) : "out of memory");
		free(ps);
		return -1;
	}
	if (!n->controlplane) {
		/* A worker asks any control-plane node for its API certificate, in turn: one more
		 * top-level key of the provisioner's patch (so the user keeps all of theirs). */
		size_t off = (size_t)snprintf(all, sizeof(all), "%s%scluster:\n  controlPlane:\n    certificateSigners: [",
					      patch, *patch && patch[strlen(patch) - 1] != '\n' ? "\n" : "");

		for (size_t c = 0; c < (size_t)req->controlplanes && c < CLUSTER_NODES_MAX && off < sizeof(all); c++)
			off += (size_t)snprintf(all + off, sizeof(all) - off, "%s%s", c ? ", " : "", nodes[c].ip);
		if (off >= sizeof(all) - 3) {
			fprintf(stderr, "osctl: cluster create: %s's provisioner patch is too long\n", n->name);
			free(text);
			free(ps);
			return -1;
		}
		snprintf(all + off, sizeof(all) - off, "]\n");
		patch = all;
	}
	ps->p[ps->n++] = (struct mconfig_patch){ "the provisioner's patch", patch, strlen(patch) };
	for (size_t u = 0; u < 2; u++)
		for (size_t k = 0; user[u] && k < user[u]->n && ps->n < OSC_PATCHES_MAX; k++)
			ps->p[ps->n++] = user[u]->p[k];
	out = osc_prepare_config(src, text, len, ps);
	free(text);
	free(ps);   /* its texts are the caller's and ours */
	if (!out) {
		fprintf(stderr, "osctl: cluster create: %s's config (%s with the patches) is not valid\n", n->name, src);
		return -1;
	}
	r = atomic_write(dst, out, strlen(out), 0600, err, sizeof(err));
	free(out);
	if (r < 0)
		fprintf(stderr, "osctl: cluster: %s\n", err);
	return r;
}

int cluster_save_nodes(const char *dir, const struct cluster_node *nodes, size_t n)
{
	char path[PATH_MAX], err[256], buf[CLUSTER_NODES_MAX * 96];
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

size_t cluster_load_nodes(const char *dir, struct cluster_node *nodes)
{
	char path[PATH_MAX], role[16];
	size_t n = 0;
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/nodes.txt", dir);
	if (!(f = fopen(path, "re")))
		return 0;
	while (n < CLUSTER_NODES_MAX &&
	       fscanf(f, "%47s %15s %15s %u %d", nodes[n].name, role, nodes[n].ip, &nodes[n].port, &pid) == 5) {
		nodes[n].controlplane = strcmp(role, "controlplane") == 0;
		nodes[n].pid = pid;
		n++;
	}
	fclose(f);
	return n;
}

int cluster_save_provisioner(const char *dir, const char *name)
{
	char path[PATH_MAX], err[256], text[32];

	snprintf(path, sizeof(path), "%s/provisioner", dir);
	snprintf(text, sizeof(text), "%s\n", name);
	if (atomic_write(path, text, strlen(text), 0600, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: cluster: %s\n", err);
		return -1;
	}
	return 0;
}

void cluster_load_provisioner(const char *dir, char *out, size_t len)
{
	char path[PATH_MAX], *text = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/provisioner", dir);
	out[0] = '\0';
	if (read_file(path, 64, &text, &n) == 0)
		snprintf(out, len, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
}

/* The node's API answers over mutual TLS with the cluster's client config, and its
 * MachineStatus says it runs with every service it wants up. */
static bool answers(const char *dir, const struct cluster_node *n, const char *self)
{
	char osconfig[PATH_MAX], ep[32], out[PATH_MAX], *text = NULL;
	char *argv[] = { (char *)self, "--osconfig", osconfig, "-e", ep, "get", "machinestatus", "-o", "yaml", NULL };
	size_t len;
	bool up;

	snprintf(osconfig, sizeof(osconfig), "%s/gen/osconfig", dir);
	snprintf(ep, sizeof(ep), "127.0.0.1:%u", n->port);
	snprintf(out, sizeof(out), "%s/%s/status.yaml", dir, n->name);
	unlink(out);
	if (cluster_run(argv, out) != 0 || read_file(out, 1 << 16, &text, &len) < 0)
		return false;
	up = strstr(text, "stage: running") && strstr(text, "services: true");
	free(text);
	return up;
}

int cluster_wait(const char *dir, const struct cluster_req *req, const struct cluster_node *nodes, size_t n,
		 const char *self, bool (*gone)(void *arg, const struct cluster_node *node, bool timed_out), void *arg)
{
	time_t deadline = time(NULL) + req->wait_s;

	for (size_t i = 0; i < n; i++) {
		while (!answers(dir, &nodes[i], self)) {
			bool late = time(NULL) > deadline;

			if (cluster_interrupted) {
				fprintf(stderr, "osctl: cluster create: interrupted\n");
				return -1;
			}
			if (gone(arg, &nodes[i], late))
				return -1;
			if (late) {
				fprintf(stderr, "osctl: cluster create: %s: its API did not answer within %u s\n",
					nodes[i].name, req->wait_s);
				return -1;
			}
			sleep(2);
		}
		cluster_say("%s: running, its services up (API over mutual TLS at 127.0.0.1:%u)", nodes[i].name,
			    nodes[i].port);
	}
	return 0;
}

/* The cluster's context in the user's client config: every node as a target, reached
 * through the first control plane's API port (it forwards to the others). */
static int merge_context(struct osc *o, const char *dir, const char *name, const struct cluster_node *nodes, size_t n)
{
	char path[PATH_MAX], ep[32];
	struct osc gen = { 0 };
	Basalt__Osctl__Context *ctx;
	const char *list[CLUSTER_NODES_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/gen/osconfig", dir);
	gen.config_path = path;
	if (osc_cfg_load(&gen, true) < 0)
		return -1;
	if (!(ctx = osc_cfg_current(&gen, NULL))) {
		protobuf_c_message_free_unpacked(&gen.cfg->base, NULL);
		return -1;
	}
	snprintf(ep, sizeof(ep), "127.0.0.1:%u", nodes[0].port);
	for (size_t i = 0; i < ctx->n_endpoints; i++)
		free(ctx->endpoints[i]);
	free(ctx->endpoints);
	for (size_t i = 0; i < ctx->n_nodes; i++)
		free(ctx->nodes[i]);
	free(ctx->nodes);
	list[0] = ep;
	ctx->endpoints = osc_strv(list, 1);
	ctx->n_endpoints = ctx->endpoints ? 1 : 0;
	for (size_t i = 0; i < n; i++)
		list[i] = nodes[i].ip;
	ctx->nodes = osc_strv(list, n);
	ctx->n_nodes = ctx->nodes ? n : 0;
	r = -1;
	if (ctx->endpoints && ctx->nodes && osc_cfg_load(o, false) == 0 && osc_cfg_put(o->cfg, name, ctx) == 0) {
		/* Taken over by the user's config: out of gen's. */
		for (size_t i = 0; i < gen.cfg->n_contexts; i++)
			if (gen.cfg->contexts[i]->value == ctx)
				gen.cfg->contexts[i]->value = NULL;
		r = 0;
	}
	protobuf_c_message_free_unpacked(&gen.cfg->base, NULL);
	if (r == 0) {
		free(o->cfg->context);
		o->cfg->context = strdup(name);
		r = osc_cfg_save(o);
	}
	return r;
}

int cluster_finish(struct osc *o, const char *dir, const struct cluster_req *req, const struct cluster_node *nodes,
		   size_t n)
{
	struct table t;
	char port[24];

	if (merge_context(o, dir, req->name, nodes, n) < 0) {
		fprintf(stderr, "osctl: cluster create: the client config %s could not be written\n", o->config_path);
		return -1;
	}
	cluster_say("%s: context %s in %s (every node as a target, through %s's API)", req->name, req->name,
		    o->config_path, nodes[0].name);
	table_init(&t, 4);
	table_add(&t, "NODE", "ROLE", "ADDRESS", "API ENDPOINT");
	for (size_t i = 0; i < n; i++) {
		snprintf(port, sizeof(port), "127.0.0.1:%u", nodes[i].port);
		table_add(&t, nodes[i].name, nodes[i].controlplane ? "controlplane" : "worker", nodes[i].ip, port);
	}
	table_print(&t);
	table_fini(&t);
	return 0;
}

void cluster_forget(struct osc *o, const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct osc gen = { 0 };
	Basalt__Osctl__Context *mine, *theirs;

	snprintf(path, sizeof(path), "%s/gen/osconfig", dir);
	gen.config_path = path;
	if (access(path, R_OK) != 0 || osc_cfg_load(&gen, true) < 0)
		return;
	/* Only the context this cluster made: the same CA as the cluster's own client config. */
	if ((mine = osc_cfg_current(&gen, NULL)) && osc_cfg_load(o, false) == 0 && (theirs = osc_cfg_find(o->cfg, name)) &&
	    theirs->ca && mine->ca && strcmp(theirs->ca, mine->ca) == 0 && osc_cfg_remove(o->cfg, name) == 1)
		osc_cfg_save(o);
	protobuf_c_message_free_unpacked(&gen.cfg->base, NULL);
}

int cluster_rm_rf(const char *dir)
{
	char *argv[] = { "rm", "-rf", "--one-file-system", (char *)dir, NULL };

	return cluster_run(argv, NULL) == 0 ? 0 : -1;
}

int cluster_prepare(const struct cluster_req *req, unsigned min_mib, const char *min_why, char dir[CLUSTER_DIR_MAX])
{
	size_t n = (size_t)(req->controlplanes + req->workers);

	if (req->controlplanes < 1 || req->workers < 0 || n > CLUSTER_NODES_MAX) {
		fprintf(stderr, "osctl: cluster create: at least one control plane, at most %d nodes\n", CLUSTER_NODES_MAX);
		return 2;
	}
	if (req->memory_worker < min_mib || req->memory_cp < min_mib) {
		fprintf(stderr, "osctl: cluster create: --memory %u MiB is too little: %s\n",
			req->memory_cp < req->memory_worker ? req->memory_cp : req->memory_worker, min_why);
		return 2;
	}
	if (!cluster_dir(req, dir))
		return 2;
	if (access(dir, F_OK) == 0) {
		fprintf(stderr, "osctl: cluster create: a cluster named %s exists (%s): osctl cluster destroy --name %s, "
				"or another --name\n", req->name, dir, req->name);
		return 1;
	}
	return 0;
}

int cluster_begin(const struct cluster_req *req, const char *dir, const char *provisioner, uint32_t base,
		  struct cluster_node *nodes, char *self, size_t selflen)
{
	size_t n = (size_t)(req->controlplanes + req->workers);
	char endpoint[64];

	if (cluster_self(self, selflen) < 0 || mkdir_parents(req->state_root, 0700) < 0 || mkdir(dir, 0700) < 0) {
		fprintf(stderr, "osctl: cluster create: %s: %s\n", dir, strerror(errno));
		return -2;
	}
	cluster_catch_signals();
	cluster_plan(req, base, nodes, n);
	snprintf(endpoint, sizeof(endpoint), "https://%s:6443", nodes[0].ip);
	if (cluster_save_provisioner(dir, provisioner) < 0 || cluster_gen(dir, self, req, endpoint) < 0)
		return -1;
	cluster_say("%s: secrets and configs in %s/gen (control plane endpoint %s)", req->name, dir, endpoint);
	return 0;
}
