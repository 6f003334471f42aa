/* SPDX-License-Identifier: MIT */
/* osctl's commands that talk to nodes, plus validate. */
#include <errno.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/machine.pb-c.h"
#include "lib/apidef.h"
#include "lib/atomicfile.h"
#include "lib/mconfig.h"
#include "lib/pbyaml.h"
#include "osctl/osctl.h"

#define MS "/basalt.machine.MachineService/"
#define RS "/basalt.resource.ResourceService/"
#define MAX_PATCHES 16

#ifndef BASALT_VERSION
#error "BASALT_VERSION is set by the build from the VERSION file"
#endif

/* --- small helpers --- */

static const char *opt(int argc, char **argv, const char *a, const char *b)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], a) == 0 || (b && strcmp(argv[i], b) == 0))
			return argv[i + 1];
	return NULL;
}

static bool flag(int argc, char **argv, const char *a, const char *b)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], a) == 0 || (b && strcmp(argv[i], b) == 0))
			return true;
	return false;
}

/* The i-th argument that is not an option (options listed in takes_value take one). */
static const char *positional(int argc, char **argv, int want, const char *const *takes_value)
{
	int k = 0;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			for (const char *const *t = takes_value; t && *t; t++)
				if (strcmp(argv[i], *t) == 0) {
					i++;
					break;
				}
			continue;
		}
		if (k++ == want)
			return argv[i];
	}
	return NULL;
}

static void *unpack(const ProtobufCMessageDescriptor *d, struct buf *b)
{
	void *m = protobuf_c_message_unpack(d, NULL, b->len, buf_head(b));

	if (!m)
		fprintf(stderr, "osctl: the reply is not a valid %s\n", d->name);
	return m;
}

static void print_indented(const char *text, const char *indent)
{
	const char *p = text;

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n)
			printf("%s%.*s\n", indent, (int)n, p);
		else
			printf("\n");
		p += n + (e ? 1 : 0);
	}
}

/* --- version --- */

int cmd_version(struct osc *o, int argc, char **argv)
{
	Basalt__Machine__VersionRequest req = BASALT__MACHINE__VERSION_REQUEST__INIT;
	Basalt__Machine__VersionResponse *resp;
	struct buf b;
	int r = 0;

	printf("Client:\n\tBasalt osctl %s\n", BASALT_VERSION);
	if (flag(argc, argv, "--client", NULL))
		return 0;
	buf_init(&b);
	if (osc_unary(o, MS "Version", &req.base, &b) < 0) {
		buf_fini(&b);
		return 1;
	}
	resp = unpack(&basalt__machine__version_response__descriptor, &b);
	buf_fini(&b);
	if (!resp)
		return 1;
	printf("Server:\n");
	for (size_t i = 0; i < resp->n_messages; i++) {
		Basalt__Machine__VersionInfo *v = resp->messages[i];

		if (osc_node_error(o, v->metadata)) {
			r = 1;
			continue;
		}
		printf("\tNODE:        %s\n\tTag:         %s\n\tName:        %s\n\tKernel:      %s\n"
		       "\tArch:        %s\n\tHostname:    %s\n%s",
		       osc_node_name(o, v->metadata), v->version, v->name, v->kernel, v->arch, v->hostname,
		       v->maintenance ? "\tMaintenance: yes (no machine config yet)\n" : "");
	}
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return r;
}

/* --- config patches and apply --- */

struct patches {
	struct mconfig_patch p[MAX_PATCHES];
	char *text[MAX_PATCHES];
	size_t n;
};

static void patches_fini(struct patches *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->text[i]);
}

/* --config-patch / --patch values: @FILE or the patch itself. */
static int patches_collect(int argc, char **argv, const char *name, const char *alt, struct patches *ps)
{
	for (int i = 1; i + 1 < argc; i++) {
		const char *v;
		size_t len;

		if (strcmp(argv[i], name) != 0 && !(alt && strcmp(argv[i], alt) == 0))
			continue;
		v = argv[++i];
		if (ps->n == MAX_PATCHES) {
			fprintf(stderr, "osctl: more than %d patches\n", MAX_PATCHES);
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

/* Loads text with patches, reporting problems; the config as it will be sent, or NULL. */
static char *prepare_config(const char *name, const char *text, size_t len, const struct patches *ps)
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

static int send_config(struct osc *o, const char *text, int mode, bool dry_run, uint64_t try_ms)
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
	buf_init(&b);
	if (osc_unary(o, MS "ApplyConfiguration", &req.base, &b) < 0) {
		buf_fini(&b);
		return 1;
	}
	resp = unpack(&basalt__machine__apply_configuration_response__descriptor, &b);
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

static int mode_opts(int argc, char **argv, int *mode, bool *dry_run, uint64_t *try_ms)
{
	const char *m = opt(argc, argv, "--mode", "-m");
	const char *t = opt(argc, argv, "--timeout", NULL);

	*mode = 0;
	*dry_run = flag(argc, argv, "--dry-run", NULL);
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
	const char *file = opt(argc, argv, "--file", "-f");
	struct patches ps = { 0 };
	char *text = NULL, *cfg = NULL;
	size_t len;
	int mode, r = 1;
	bool dry;
	uint64_t try_ms;

	if (!file) {
		fprintf(stderr, "usage: osctl apply-config -f FILE [--insecure [--cert-fingerprint SHA256]] "
				"[--mode auto|no-reboot|reboot|staged|try] [--timeout 60s] [--dry-run] "
				"[--config-patch @FILE|PATCH]...\n");
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
	if (patches_collect(argc, argv, "--config-patch", "-p", &ps) < 0)
		goto out;
	if ((r = read_file(file, 1 << 20, &text, &len)) < 0) {
		fprintf(stderr, "osctl: %s: %s\n", file, strerror(-r));
		r = 1;
		goto out;
	}
	r = 1;
	cfg = prepare_config(file, text, len, &ps);
	if (cfg)
		r = send_config(o, cfg, mode, dry, try_ms);
out:
	free(text);
	free(cfg);
	patches_fini(&ps);
	return r;
}

int cmd_validate(struct osc *o, int argc, char **argv)
{
	const char *file = opt(argc, argv, "--config", "-c");
	struct patches ps = { 0 };
	char *text = NULL, *cfg = NULL;
	size_t len;
	int r;

	(void)o;
	if (!file) {
		fprintf(stderr, "usage: osctl validate -c FILE [--config-patch @FILE|PATCH]...\n");
		return 2;
	}
	if (patches_collect(argc, argv, "--config-patch", "-p", &ps) < 0)
		return 1;
	if ((r = read_file(file, 1 << 20, &text, &len)) < 0) {
		fprintf(stderr, "osctl: %s: %s\n", file, strerror(-r));
		patches_fini(&ps);
		return 1;
	}
	cfg = prepare_config(file, text, len, &ps);
	if (cfg)
		printf("%s is valid\n", file);
	free(text);
	free(cfg);
	patches_fini(&ps);
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
	if (osc_unary(o, RS "Get", &req.base, &b) < 0) {
		buf_fini(&b);
		return NULL;
	}
	resp = unpack(&basalt__resource__get_response__descriptor, &b);
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
	struct patches ps;
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
	next = prepare_config("config in force", cur, strlen(cur), &j->ps);
	if (next)
		r = send_config(o, next, j->mode, j->dry, j->try_ms);
	free(cur);
	free(next);
	return r;
}

int cmd_patch(struct osc *o, int argc, char **argv)
{
	static const char *const tv[] = { "--patch", "-p", "--mode", "-m", "--timeout", NULL };
	const char *what = positional(argc, argv, 0, tv);
	struct patch_job j = { 0 };
	int r;

	if (!what || !api_restype_find(what) || strcmp(api_restype_find(what)->type, "MachineConfig") != 0) {
		fprintf(stderr, "usage: osctl patch machineconfig --patch @FILE|PATCH... [--mode MODE] [--dry-run]\n");
		return 2;
	}
	if (mode_opts(argc, argv, &j.mode, &j.dry, &j.try_ms) < 0 ||
	    patches_collect(argc, argv, "--patch", "-p", &j.ps) < 0)
		return 2;
	if (j.ps.n == 0) {
		fprintf(stderr, "osctl: patch: no --patch given\n");
		return 2;
	}
	r = per_node(o, patch_one, &j);
	patches_fini(&j.ps);
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
	next = prepare_config(path, edited, len, NULL);
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
	const char *what = positional(argc, argv, 0, tv);
	struct edit_job j;

	if (!what || !api_restype_find(what) || strcmp(api_restype_find(what)->type, "MachineConfig") != 0) {
		fprintf(stderr, "usage: osctl edit machineconfig [--mode MODE] [--dry-run]\n");
		return 2;
	}
	if (mode_opts(argc, argv, &j.mode, &j.dry, &j.try_ms) < 0)
		return 2;
	return per_node(o, edit_one, &j);
}

/* --- get --- */

enum outfmt { OUT_TABLE, OUT_YAML, OUT_JSON };

struct getctx {
	struct osc *o;
	enum outfmt fmt;
	struct table t;
	bool watch;
	int rc;
};

/* A node's spec_yaml as one line of JSON. The text comes from the network: it goes
 * through pbyaml_parse's guards (size, UTF-8, tabs, depth) like any config. */
static char *yaml_to_json(const char *yaml)
{
	struct diag d;
	struct fy_document *fyd;
	char *out;

	diag_init(&d);
	fyd = pbyaml_parse("spec", yaml, strlen(yaml), &d);
	diag_fini(&d);
	if (!fyd)
		return NULL;
	out = fy_emit_document_to_string(fyd, FYECF_MODE_JSON_ONELINE);
	fy_document_destroy(fyd);
	return out;
}

static const char *event_name(int t)
{
	switch (t) {
	case BASALT__RESOURCE__WATCH_EVENT__TYPE__CREATED:
		return "created";
	case BASALT__RESOURCE__WATCH_EVENT__TYPE__UPDATED:
		return "updated";
	case BASALT__RESOURCE__WATCH_EVENT__TYPE__DESTROYED:
		return "destroyed";
	default:
		return "bootstrapped";
	}
}

/* node: the event's node for a watch (its resource carries none), else NULL. */
static void show_resource(struct getctx *g, const Basalt__Resource__Resource *r, const char *event,
			  const char *node)
{
	if (!node)
		node = osc_node_name(g->o, r->metadata);
	const Basalt__Resource__Metadata *m = r->meta;
	char ver[24];

	if (osc_node_error(g->o, r->metadata)) {
		g->rc = 1;
		return;
	}
	if (!m)
		return;
	snprintf(ver, sizeof(ver), "%llu", (unsigned long long)m->version);
	if (g->fmt == OUT_TABLE) {
		if (g->watch) {
			printf("%-10s %-16s %-10s %-18s %-24s %s\n", event, node, m->namespace_, m->type, m->id, ver);
			fflush(stdout);
		} else {
			table_add(&g->t, node, m->namespace_, m->type, m->id, ver);
		}
	} else if (g->fmt == OUT_YAML) {
		char *md = pbyaml_emit(&m->base, false);

		printf("---\nnode: %s\n", node);
		if (event)
			printf("event: %s\n", event);
		printf("metadata:\n");
		print_indented(md ? md : "", "  ");
		printf("spec:\n");
		print_indented(r->spec_yaml, "  ");
		free(md);
		fflush(stdout);
	} else {
		char *mdj = pbyaml_emit(&m->base, true), *md = mdj ? yaml_to_json(mdj) : NULL;
		char *spec = yaml_to_json(r->spec_yaml);

		free(mdj);
		printf("{\"node\":\"%s\",%s%s%s\"metadata\":%s,\"spec\":%s}\n", node, event ? "\"event\":\"" : "",
		       event ? event : "", event ? "\"," : "", md ? md : "null", spec && *spec ? spec : "null");
		free(md);
		free(spec);
		fflush(stdout);
	}
}

static int on_list_msg(void *arg, const uint8_t *p, size_t len)
{
	struct getctx *g = arg;
	Basalt__Resource__Resource *r = (void *)protobuf_c_message_unpack(&basalt__resource__resource__descriptor, NULL, len, p);

	if (!r)
		return 1;
	show_resource(g, r, NULL, NULL);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return 0;
}

static int on_watch_msg(void *arg, const uint8_t *p, size_t len)
{
	struct getctx *g = arg;
	Basalt__Resource__WatchEvent *e = (void *)protobuf_c_message_unpack(&basalt__resource__watch_event__descriptor, NULL, len, p);

	if (!e)
		return 1;
	if (osc_node_error(g->o, e->metadata))
		g->rc = 1;
	else if (e->resource)
		show_resource(g, e->resource, event_name(e->type), osc_node_name(g->o, e->metadata));
	protobuf_c_message_free_unpacked(&e->base, NULL);
	return 0;
}

static int list_definitions(void)
{
	struct table t;

	table_init(&t, 4);
	table_add(&t, "NAMESPACE", "TYPE", "ALIASES", "NEEDS");
	for (size_t i = 0; i < api_nrestypes; i++) {
		const struct api_restype *r = &api_restypes[i];
		char al[128] = "";

		for (size_t j = 0; j < 4 && r->aliases[j]; j++) {
			size_t n = strlen(al);

			snprintf(al + n, sizeof(al) - n, "%s%s", j ? "," : "", r->aliases[j]);
		}
		table_add(&t, r->ns, r->type, al, r->sensitive ? "os:admin" : "os:reader");
	}
	table_print(&t);
	table_fini(&t);
	return 0;
}

int cmd_get(struct osc *o, int argc, char **argv)
{
	static const char *const tv[] = { "-o", "--output", "--namespace", "-l", "--selector", NULL };
	const char *type = positional(argc, argv, 0, tv), *id = positional(argc, argv, 1, tv);
	const char *out = opt(argc, argv, "-o", "--output"), *ns = opt(argc, argv, "--namespace", NULL);
	const char *sel = opt(argc, argv, "-l", "--selector");
	struct getctx g = { .o = o, .watch = flag(argc, argv, "-w", "--watch") };
	int r;

	if (!type) {
		fprintf(stderr, "usage: osctl get TYPE [ID] [-o table|yaml|json] [-w] [-l SELECTOR] "
				"[--namespace NS]\n  osctl get rd lists the types\n");
		return 2;
	}
	if (strcmp(type, "rd") == 0 || strcmp(type, "resourcedefinitions") == 0)
		return list_definitions();
	if (!out || strcmp(out, "table") == 0)
		g.fmt = OUT_TABLE;
	else if (strcmp(out, "yaml") == 0)
		g.fmt = OUT_YAML;
	else if (strcmp(out, "json") == 0)
		g.fmt = OUT_JSON;
	else {
		fprintf(stderr, "osctl: -o %s: expected table, yaml or json\n", out);
		return 2;
	}
	table_init(&g.t, 5);
	table_add(&g.t, "NODE", "NAMESPACE", "TYPE", "ID", "VERSION");
	if (g.watch) {
		Basalt__Resource__WatchRequest req = BASALT__RESOURCE__WATCH_REQUEST__INIT;

		req.namespace_ = (char *)(ns ? ns : "");
		req.type = (char *)type;
		req.id = (char *)(id ? id : "");
		req.label_selector = (char *)(sel ? sel : "");
		if (g.fmt == OUT_TABLE)
			printf("%-10s %-16s %-10s %-18s %-24s %s\n", "EVENT", "NODE", "NAMESPACE", "TYPE", "ID",
			       "VERSION");
		r = osc_stream(o, RS "Watch", &req.base, on_watch_msg, &g);
	} else if (id) {
		Basalt__Resource__GetRequest req = BASALT__RESOURCE__GET_REQUEST__INIT;
		Basalt__Resource__GetResponse *resp;
		struct buf b;

		req.namespace_ = (char *)(ns ? ns : "");
		req.type = (char *)type;
		req.id = (char *)id;
		buf_init(&b);
		r = osc_unary(o, RS "Get", &req.base, &b);
		resp = r == 0 ? unpack(&basalt__resource__get_response__descriptor, &b) : NULL;
		buf_fini(&b);
		if (r == 0 && !resp)
			r = -1;
		for (size_t i = 0; resp && i < resp->n_messages; i++)
			show_resource(&g, resp->messages[i], NULL, NULL);
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
	} else {
		Basalt__Resource__ListRequest req = BASALT__RESOURCE__LIST_REQUEST__INIT;

		req.namespace_ = (char *)(ns ? ns : "");
		req.type = (char *)type;
		req.label_selector = (char *)(sel ? sel : "");
		r = osc_stream(o, RS "List", &req.base, on_list_msg, &g);
	}
	if (g.fmt == OUT_TABLE && !g.watch && r == 0)
		table_print(&g.t);
	table_fini(&g.t);
	return r < 0 || g.rc;
}

/* --- services --- */

static int service_list(struct osc *o, const char *only)
{
	Basalt__Machine__ServiceListRequest req = BASALT__MACHINE__SERVICE_LIST_REQUEST__INIT;
	Basalt__Machine__ServiceListResponse *resp;
	struct table t;
	struct buf b;
	int r = 0, found = 0;

	buf_init(&b);
	if (osc_unary(o, MS "ServiceList", &req.base, &b) < 0) {
		buf_fini(&b);
		return 1;
	}
	resp = unpack(&basalt__machine__service_list_response__descriptor, &b);
	buf_fini(&b);
	if (!resp)
		return 1;
	table_init(&t, 7);
	table_add(&t, "NODE", "SERVICE", "STATE", "HEALTH", "PID", "RESTARTS", "MESSAGE");
	for (size_t i = 0; i < resp->n_messages; i++) {
		Basalt__Machine__ServiceList *l = resp->messages[i];

		if (osc_node_error(o, l->metadata)) {
			r = 1;
			continue;
		}
		for (size_t k = 0; k < l->n_services; k++) {
			Basalt__Machine__ServiceInfo *s = l->services[k];
			char pid[16], rs[16];

			if (only && strcmp(only, s->id) != 0)
				continue;
			found++;
			snprintf(pid, sizeof(pid), "%d", s->pid);
			snprintf(rs, sizeof(rs), "%u", s->restarts);
			table_add(&t, osc_node_name(o, l->metadata), s->id, s->state,
				  s->healthy ? "OK" : "?", s->pid ? pid : "-", rs, s->message);
		}
	}
	if (only && !found && !r) {
		fprintf(stderr, "osctl: no service %s\n", only);
		r = 1;
	} else {
		table_print(&t);
	}
	table_fini(&t);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return r;
}

int cmd_services(struct osc *o, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return service_list(o, NULL);
}

int cmd_service(struct osc *o, int argc, char **argv)
{
	Basalt__Machine__ServiceRequest req = BASALT__MACHINE__SERVICE_REQUEST__INIT;
	Basalt__Machine__ServiceActionResponse *resp;
	const char *id = positional(argc, argv, 0, NULL), *action = positional(argc, argv, 1, NULL);
	const char *method;
	struct buf b;
	int r = 0;

	if (!id) {
		fprintf(stderr, "usage: osctl service ID [start|stop|restart]\n");
		return 2;
	}
	if (!action || strcmp(action, "status") == 0)
		return service_list(o, id);
	if (strcmp(action, "start") == 0)
		method = MS "ServiceStart";
	else if (strcmp(action, "stop") == 0)
		method = MS "ServiceStop";
	else if (strcmp(action, "restart") == 0)
		method = MS "ServiceRestart";
	else {
		fprintf(stderr, "osctl: service %s: unknown action %s (start, stop, restart)\n", id, action);
		return 2;
	}
	req.id = (char *)id;
	buf_init(&b);
	if (osc_unary(o, method, &req.base, &b) < 0) {
		buf_fini(&b);
		return 1;
	}
	resp = unpack(&basalt__machine__service_action_response__descriptor, &b);
	buf_fini(&b);
	if (!resp)
		return 1;
	for (size_t i = 0; i < resp->n_messages; i++) {
		if (osc_node_error(o, resp->messages[i]->metadata)) {
			r = 1;
			continue;
		}
		printf("%s: %s: %s\n", osc_node_name(o, resp->messages[i]->metadata), id, resp->messages[i]->result);
	}
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return r;
}

/* --- logs, dmesg --- */

struct datactx {
	struct osc *o;
	int rc;
};

static int on_data(void *arg, const uint8_t *p, size_t len)
{
	struct datactx *d = arg;
	Basalt__Machine__Data *m = (void *)protobuf_c_message_unpack(&basalt__machine__data__descriptor, NULL, len, p);

	if (!m)
		return 1;
	if (osc_node_error(d->o, m->metadata))
		d->rc = 1;
	else if (m->bytes.len && fwrite(m->bytes.data, 1, m->bytes.len, stdout) != m->bytes.len)
		d->rc = 1;
	fflush(stdout);
	protobuf_c_message_free_unpacked(&m->base, NULL);
	return 0;
}

int cmd_logs(struct osc *o, int argc, char **argv)
{
	static const char *const tv[] = { "--tail", NULL };
	Basalt__Machine__LogsRequest req = BASALT__MACHINE__LOGS_REQUEST__INIT;
	const char *id = positional(argc, argv, 0, tv), *tail = opt(argc, argv, "--tail", NULL);
	struct datactx d = { .o = o };

	if (!id) {
		fprintf(stderr, "usage: osctl logs SERVICE [-f] [--tail N]\n");
		return 2;
	}
	req.id = (char *)id;
	req.follow = flag(argc, argv, "-f", "--follow");
	if (tail) {
		char *end;
		long n = strtol(tail, &end, 10);

		if (*end || n < 0 || n > 1000000) {
			fprintf(stderr, "osctl: --tail %s: expected a number of lines\n", tail);
			return 2;
		}
		req.tail_lines = n == 0 ? -1 : (int)n;
	}
	return osc_stream(o, MS "Logs", &req.base, on_data, &d) < 0 || d.rc;
}

int cmd_dmesg(struct osc *o, int argc, char **argv)
{
	Basalt__Machine__DmesgRequest req = BASALT__MACHINE__DMESG_REQUEST__INIT;
	struct datactx d = { .o = o };

	req.follow = flag(argc, argv, "-f", "--follow");
	req.tail = flag(argc, argv, "--tail", NULL);
	return osc_stream(o, MS "Dmesg", &req.base, on_data, &d) < 0 || d.rc;
}

/* --- reboot, shutdown --- */

/*
 * Prints "node: what" for each per-node message of a reply shaped like every unary reply
 * here ({repeated X messages = 1} with X.metadata = 1), or the node's error. 0, or 1 if a
 * node failed.
 */
static int report_nodes(struct osc *o, const ProtobufCMessage *resp, const char *what)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(resp->descriptor, 1);
	size_t n = *(const size_t *)((const char *)resp + f->quantifier_offset);
	ProtobufCMessage *const *v = *(ProtobufCMessage *const *const *)((const char *)resp + f->offset);
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		const ProtobufCFieldDescriptor *mf = protobuf_c_message_descriptor_get_field(v[i]->descriptor, 1);
		const Basalt__Resource__NodeMetadata *md =
			*(Basalt__Resource__NodeMetadata *const *)((const char *)v[i] + mf->offset);

		if (osc_node_error(o, md))
			r = 1;
		else
			printf("%s: %s\n", osc_node_name(o, md), what);
	}
	return r;
}

int cmd_power(struct osc *o, int argc, char **argv, bool reboot)
{
	Basalt__Machine__RebootRequest rq = BASALT__MACHINE__REBOOT_REQUEST__INIT;
	Basalt__Machine__ShutdownRequest sq = BASALT__MACHINE__SHUTDOWN_REQUEST__INIT;
	const ProtobufCMessageDescriptor *d = reboot ? &basalt__machine__reboot_response__descriptor
						     : &basalt__machine__shutdown_response__descriptor;
	ProtobufCMessage *resp = NULL;
	struct buf b;
	int r = 1;

	(void)argc;
	(void)argv;
	buf_init(&b);
	if (osc_unary(o, reboot ? MS "Reboot" : MS "Shutdown", reboot ? &rq.base : &sq.base, &b) == 0 &&
	    (resp = unpack(d, &b))) {
		r = report_nodes(o, resp, reboot ? "rebooting" : "shutting down");
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	buf_fini(&b);
	return r;
}
