/* SPDX-License-Identifier: MIT */
/* osctl's commands that send machine configs: apply-config, validate, patch, edit. */
#include <errno.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/machine.pb-c.h"
#include "lib/apidef.h"
#include "lib/loop.h"
#include "lib/restypes.h"
#include "lib/atomicfile.h"
#include "lib/mconfig.h"
#include "lib/pbyaml.h"
#include "osctl/osctl.h"

/* --- config patches and apply --- */

void osc_patches_fini(struct osc_patches *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->text[i]);
}

int osc_patches_collect(int argc, char **argv, const char *name, const char *alt, struct osc_patches *ps)
{
	for (int i = 1; i + 1 < argc; i++) {
		const char *v;
		size_t len;

		if (strcmp(argv[i], name) != 0 && !(alt && strcmp(argv[i], alt) == 0))
			continue;
		v = argv[++i];
		if (ps->n == OSC_PATCHES_MAX) {
			fprintf(stderr, "osctl: more than %d patches\n", OSC_PATCHES_MAX);
			return -1;
		}
		if (v[0] == '@') {
			int r = read_file(v + 1, 1 << 20, &ps->text[ps->n], &len);

			if (r < 0) {
				fprintf(stderr, "osctl: patch %s: %s\n", v + 1, strerror(-r));
				return -1;
			}
			ps->p[ps->n] = (struct mconfig_patch){ v + 1, ps->text[ps->n], len };
		} else {
			ps->text[ps->n] = strdup(v);
			ps->p[ps->n] = (struct mconfig_patch){ "patch", ps->text[ps->n], strlen(v) };
		}
		ps->n++;
	}
	return 0;
}

char *osc_prepare_config(const char *name, const char *text, size_t len, const struct osc_patches *ps)
{
	Basalt__Config__Config *cfg = NULL;
	struct diag d;
	char *out = NULL;

	diag_init(&d);
	if (mconfig_load(name, text, len, ps ? ps->p : NULL, ps ? ps->n : 0, &cfg, &d) < 0) {
		char *e = diag_format(&d);

		fprintf(stderr, "%s", e ? e : "invalid config\n");
		free(e);
	} else {
		out = ps && ps->n ? mconfig_emit(cfg, false) : strndup(text, len);
	}
	mconfig_free(cfg);
	diag_fini(&d);
	return out;
}

static int parse_mode(const char *m, int *mode)
{
	static const char *const names[] = { "auto", "no-reboot", "reboot", "staged", "try" };

	for (int i = 0; i < 5; i++)
		if (strcmp(m, names[i]) == 0) {
			*mode = i;
			return 0;
		}
	fprintf(stderr, "osctl: --mode %s: expected auto, no-reboot, reboot, staged or try\n", m);
	return -1;
}

static int send_config_as(struct osc *o, const char *text, int mode, bool dry_run, uint64_t try_ms, bool confirm)
{
	Basalt__Machine__ApplyConfigurationRequest req = BASALT__MACHINE__APPLY_CONFIGURATION_REQUEST__INIT;
	Basalt__Machine__ApplyConfigurationResponse *resp;
	struct buf b;
	int r = 0;

	req.data.data = (uint8_t *)text;
	req.data.len = strlen(text);
	req.mode = mode;
	req.dry_run = dry_run;
	req.try_timeout_ms = try_ms;
	req.confirm_try = confirm;
	buf_init(&b);
	if (osc_unary(o, API_APPLY_CONFIGURATION, &req.base, &b) < 0) {
		buf_fini(&b);
		return 1;
	}
	resp = osc_unpack(&basalt__machine__apply_configuration_response__descriptor, &b);
	buf_fini(&b);
	if (!resp)
		return 1;
	for (size_t i = 0; i < resp->n_messages; i++) {
		Basalt__Machine__ApplyConfiguration *m = resp->messages[i];

		if (osc_node_error(o, m->metadata)) {
			r = 1;
			continue;
		}
		printf("%s: %s\n", osc_node_name(o, m->metadata), m->mode_details);
		for (size_t w = 0; w < m->n_warnings; w++)
			printf("%s: warning: %s\n", osc_node_name(o, m->metadata), m->warnings[w]);
		if (dry_run)
			printf("%s", *m->diff ? m->diff : "no changes\n");
	}
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return r;
}

static int send_config(struct osc *o, const char *text, int mode, bool dry_run, uint64_t try_ms)
{
	return send_config_as(o, text, mode, dry_run, try_ms, false);
}

#define MODE_NO_REBOOT 1
#define MODE_TRY 4
#define CANDIDATES_MAX 32

/* The endpoint first, then each address the new config gives the node (same port). */
static size_t candidates(const char *endpoint, const char *text, char out[][80])
{
	Basalt__Config__Config *cfg = NULL;
	const Basalt__Config__Network *net;
	char host[64];
	uint16_t port = API_PORT;
	struct diag d;
	size_t n = 0;

	snprintf(out[n++], 80, "%s", endpoint);
	api_parse_hostport(endpoint, host, sizeof(host), &port, API_PORT);
	diag_init(&d);
	if (mconfig_load("config", text, strlen(text), NULL, 0, &cfg, &d) == 0 && cfg->machine &&
	    (net = cfg->machine->network))
		for (size_t i = 0; i < net->n_interfaces; i++)
			for (size_t a = 0; a < net->interfaces[i]->n_addresses && n < CANDIDATES_MAX; a++) {
				const char *cidr = net->interfaces[i]->addresses[a];
				size_t len = strcspn(cidr, "/");

				if (strchr(cidr, ':'))
					snprintf(out[n++], 80, "[%.*s]:%u", (int)len, cidr, port);
				else
					snprintf(out[n++], 80, "%.*s:%u", (int)len, cidr, port);
			}
	mconfig_free(cfg);
	diag_fini(&d);
	return n;
}

/*
 * --confirm-on-reconnect: after a try, a new connection (to the endpoint, else to an
 * address the new config gives the node) confirms it by applying it again in no-reboot
 * mode. When no address answers before the try's deadline, nothing is confirmed and the
 * node returns to its previous config by itself: a change that cuts the caller off
 * cannot strand the node.
 */
static int confirm_on_reconnect(struct osc *o, const char *text, uint64_t deadline)
{
	char cand[CANDIDATES_MAX][80], first[80];
	size_t n;
	Basalt__Machine__VersionRequest vreq = BASALT__MACHINE__VERSION_REQUEST__INIT;

	snprintf(first, sizeof(first), "%s", o->endpoint);
	n = candidates(first, text, cand);
	while (mono_ms() < deadline) {
		for (size_t i = 0; i < n && mono_ms() < deadline; i++) {
			struct buf b;
			int ok;

			osc_close(o);
			o->endpoints[0] = cand[i];
			o->nendpoints = 1;
			/* An attempt never outlasts the try: a confirm after the rollback would undo it. */
			o->deadline_ms = deadline;
			fprintf(stderr, "osctl: confirm-on-reconnect: trying %s\n", cand[i]);
			buf_init(&b);
			ok = osc_unary(o, API_VERSION, &vreq.base, &b) == 0;
			buf_fini(&b);
			if (ok && send_config_as(o, text, MODE_NO_REBOOT, false, 0, true) == 0) {
				o->deadline_ms = 0;
				printf("%s: confirmed over a new connection to %s\n", first, cand[i]);
				return 0;
			}
		}
		struct timespec pause = { 1, 0 };
		nanosleep(&pause, NULL);
	}
	o->deadline_ms = 0;
	fprintf(stderr, "osctl: confirm-on-reconnect: the node answered at none of %zu address%s before the "
			"try's deadline: it returns to its previous config by itself\n", n, n == 1 ? "" : "es");
	return 1;
}

static int mode_opts(int argc, char **argv, int *mode, bool *dry_run, uint64_t *try_ms)
{
	const char *m = osc_opt(argc, argv, "--mode", "-m");
	const char *t = osc_opt(argc, argv, "--timeout", NULL);

	*mode = 0;
	*dry_run = osc_flag(argc, argv, "--dry-run", NULL);
	*try_ms = 0;
	if (m && parse_mode(m, mode) < 0)
		return -1;
	if (t) {
		char *end;
		double v = strtod(t, &end);

		if (v <= 0 || (*end && strcmp(end, "s") != 0 && strcmp(end, "m") != 0)) {
			fprintf(stderr, "osctl: --timeout %s: expected seconds, like 90s or 2m\n", t);
			return -1;
		}
		*try_ms = (uint64_t)(v * (*end == 'm' ? 60000 : 1000));
	}
	return 0;
}

int cmd_apply(struct osc *o, int argc, char **argv)
{
	const char *file = osc_opt(argc, argv, "--file", "-f");
	struct osc_patches ps = { 0 };
	char *text = NULL, *cfg = NULL;
	size_t len;
	int mode, r = 1;
	bool dry, confirm = osc_flag(argc, argv, "--confirm-on-reconnect", NULL);
	uint64_t try_ms, deadline;

	if (!file) {
		fprintf(stderr, "usage: osctl apply-config -f FILE [--insecure [--cert-fingerprint SHA256]] "
				"[--mode auto|no-reboot|reboot|staged|try [--confirm-on-reconnect]] [--timeout 60s] "
				"[--dry-run] [--config-patch @FILE|PATCH]...\n");
		return 2;
	}
	if (mode_opts(argc, argv, &mode, &dry, &try_ms) < 0)
		return 2;
	if (o->insecure && !o->fingerprint && !o->skip_verify) {
		fprintf(stderr, "osctl: apply-config --insecure sends the machine config, with the cluster's CA key "
				"and secrets, to the node: pin its certificate with --cert-fingerprint SHA256 (the "
				"node prints it on its console), or send it to whatever answers with "
				"--skip-node-verification\n");
		return 2;
	}
	if (osc_patches_collect(argc, argv, "--config-patch", "-p", &ps) < 0)
		goto out;
	if ((r = read_file(file, 1 << 20, &text, &len)) < 0) {
		fprintf(stderr, "osctl: %s: %s\n", file, strerror(-r));
		r = 1;
		goto out;
	}
	if (confirm && (mode != MODE_TRY || dry)) {
		fprintf(stderr, "osctl: --confirm-on-reconnect confirms a --mode try (not a dry run)\n");
		r = 2;
		goto out;
	}
	r = 1;
	if (!(cfg = osc_prepare_config(file, text, len, &ps)))
		goto out;
	deadline = mono_ms() + (try_ms ? try_ms : 60000) - 1000;
	/* The answer may never come: the change can cut this very connection. */
	if (confirm)
		o->deadline_ms = deadline;
	r = send_config(o, cfg, mode, dry, try_ms);
	o->deadline_ms = 0;
	if (confirm && r != 0 && (o->last_code == GRPC_UNAVAILABLE || o->last_code == GRPC_DEADLINE_EXCEEDED)) {
		fprintf(stderr, "osctl: confirm-on-reconnect: no answer to the try (the change may have cut this "
				"connection): reconnecting\n");
		r = 0;
	}
	if (confirm && r == 0)
		r = confirm_on_reconnect(o, cfg, deadline);
out:
	free(text);
	free(cfg);
	osc_patches_fini(&ps);
	return r;
}

int cmd_validate(struct osc *o, int argc, char **argv)
{
	const char *file = osc_opt(argc, argv, "--config", "-c");
	struct osc_patches ps = { 0 };
	char *text = NULL, *cfg = NULL;
	size_t len;
	int r;

	(void)o;
	if (!file) {
		fprintf(stderr, "usage: osctl validate -c FILE [--config-patch @FILE|PATCH]...\n");
		return 2;
	}
	if (osc_patches_collect(argc, argv, "--config-patch", "-p", &ps) < 0)
		return 1;
	if ((r = read_file(file, 1 << 20, &text, &len)) < 0) {
		fprintf(stderr, "osctl: %s: %s\n", file, strerror(-r));
		osc_patches_fini(&ps);
		return 1;
	}
	cfg = osc_prepare_config(file, text, len, &ps);
	if (cfg)
		printf("%s is valid\n", file);
	free(text);
	free(cfg);
	osc_patches_fini(&ps);
	return cfg ? 0 : 1;
}

/* The machine config a node has in force, as YAML; NULL with the reason printed. */
static char *fetch_config(struct osc *o)
{
	Basalt__Resource__GetRequest req = BASALT__RESOURCE__GET_REQUEST__INIT;
	Basalt__Resource__GetResponse *resp;
	struct buf b;
	char *text = NULL;

	req.type = "MachineConfig";
	req.id = "v1alpha1";
	buf_init(&b);
	if (osc_unary(o, API_GET, &req.base, &b) < 0) {
		buf_fini(&b);
		return NULL;
	}
	resp = osc_unpack(&basalt__resource__get_response__descriptor, &b);
	buf_fini(&b);
	if (!resp)
		return NULL;
	if (resp->n_messages == 1 && !osc_node_error(o, resp->messages[0]->metadata))
		text = strdup(resp->messages[0]->spec_yaml);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return text;
}

/* Runs fn once per node (each config is the node's own), or once with none. */
static int per_node(struct osc *o, int (*fn)(struct osc *o, void *arg), void *arg)
{
	const char *all[OSC_MAX_LIST];
	size_t n;
	int r = 0;

	if (osc_connect(o) < 0)
		return 1;
	n = o->nnodes;
	memcpy(all, o->nodes, n * sizeof(all[0]));
	if (n <= 1)
		return fn(o, arg);
	for (size_t i = 0; i < n; i++) {
		o->nodes[0] = all[i];
		o->nnodes = 1;
		r |= fn(o, arg);
	}
	return r;
}

struct patch_job {
	struct osc_patches ps;
	int mode;
	bool dry;
	uint64_t try_ms;
};

static int patch_one(struct osc *o, void *arg)
{
	struct patch_job *j = arg;
	char *cur = fetch_config(o), *next;
	int r = 1;

	if (!cur)
		return 1;
	next = osc_prepare_config("config in force", cur, strlen(cur), &j->ps);
	if (next)
		r = send_config(o, next, j->mode, j->dry, j->try_ms);
	free(cur);
	free(next);
	return r;
}

int cmd_patch(struct osc *o, int argc, char **argv)
{
	static const char *const tv[] = { "--patch", "-p", "--mode", "-m", "--timeout", NULL };
	const char *what = osc_positional(argc, argv, 0, tv);
	struct patch_job j = { 0 };
	int r;

	if (!what || res_type_find(what) != RES(MACHINE_CONFIG)) {
		fprintf(stderr, "usage: osctl patch machineconfig --patch @FILE|PATCH... [--mode MODE] [--dry-run]\n");
		return 2;
	}
	if (mode_opts(argc, argv, &j.mode, &j.dry, &j.try_ms) < 0 ||
	    osc_patches_collect(argc, argv, "--patch", "-p", &j.ps) < 0)
		return 2;
	if (j.ps.n == 0) {
		fprintf(stderr, "osctl: patch: no --patch given\n");
		return 2;
	}
	r = per_node(o, patch_one, &j);
	osc_patches_fini(&j.ps);
	return r;
}

struct edit_job {
	int mode;
	bool dry;
	uint64_t try_ms;
};

static int run_editor(const char *path)
{
	const char *ed = getenv("EDITOR") && *getenv("EDITOR") ? getenv("EDITOR") : "vi";
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execlp("sh", "sh", "-c", "exec $0 \"$1\"", ed, path, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "osctl: editor %s failed\n", ed);
		return -1;
	}
	return 0;
}

static int edit_one(struct osc *o, void *arg)
{
	struct edit_job *j = arg;
	char *cur = fetch_config(o), *edited = NULL, *next = NULL, path[] = "/tmp/osctl-edit-XXXXXX.yaml";
	size_t len;
	int fd, r = 1;

	if (!cur)
		return 1;
	fd = mkstemps(path, 5);
	if (fd < 0 || write(fd, cur, strlen(cur)) != (ssize_t)strlen(cur)) {
		fprintf(stderr, "osctl: temporary file: %s\n", strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (run_editor(path) < 0 || read_file(path, 1 << 20, &edited, &len) < 0)
		goto out;
	if (strcmp(edited, cur) == 0) {
		printf("%s: no changes\n", o->nnodes ? o->nodes[0] : o->endpoint);
		r = 0;
		goto out;
	}
	next = osc_prepare_config(path, edited, len, NULL);
	if (!next) {
		fprintf(stderr, "osctl: the edited config is invalid and was not applied; it is kept in %s\n", path);
		free(cur);
		free(edited);
		return 1;
	}
	r = send_config(o, next, j->mode, j->dry, j->try_ms);
out:
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(cur);
	free(edited);
	free(next);
	return r;
}

int cmd_edit(struct osc *o, int argc, char **argv)
{
	static const char *const tv[] = { "--mode", "-m", "--timeout", NULL };
	const char *what = osc_positional(argc, argv, 0, tv);
	struct edit_job j;

	if (!what || res_type_find(what) != RES(MACHINE_CONFIG)) {
		fprintf(stderr, "usage: osctl edit machineconfig [--mode MODE] [--dry-run]\n");
		return 2;
	}
	if (mode_opts(argc, argv, &j.mode, &j.dry, &j.try_ms) < 0)
		return 2;
	return per_node(o, edit_one, &j);
}

