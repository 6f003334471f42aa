/* SPDX-License-Identifier: MIT */
/* The client config: contexts with endpoints, nodes and credentials; `osctl config`. */
#include <errno.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/atomicfile.h"
#include "lib/pbyaml.h"
#include "lib/pki.h"
#include "osctl/osctl.h"

#define CFG_MAX (1u << 20)

char **osc_strv(const char *const *v, size_t n)
{
	char **out = calloc(n + 1, sizeof(*out));

	for (size_t i = 0; out && i < n; i++)
		out[i] = strdup(v[i]);
	return out;
}

static Basalt__Osctl__ClientConfig *empty_cfg(void)
{
	Basalt__Osctl__ClientConfig *c = malloc(sizeof(*c));

	if (c) {
		basalt__osctl__client_config__init(c);
		c->context = strdup("");
	}
	return c;
}

int osc_cfg_load(struct osc *o, bool must_exist)
{
	char *text = NULL;
	size_t len = 0;
	struct diag d;
	struct fy_document *fyd;
	struct pbyaml_ctx pc = { .file = o->config_path };
	ProtobufCMessage *m = NULL;
	int r = read_file(o->config_path, CFG_MAX, &text, &len);

	if (o->cfg) {   /* read again: what it said before goes */
		protobuf_c_message_free_unpacked(&o->cfg->base, NULL);
		o->cfg = NULL;
	}
	if (r == -ENOENT && !must_exist) {
		o->cfg = empty_cfg();
		return o->cfg ? 0 : -1;
	}
	if (r < 0) {
		fprintf(stderr, "osctl: client config %s: %s%s\n", o->config_path, strerror(-r),
			r == -ENOENT ? " (create one with osctl gen config, or pass --osconfig)" : "");
		return -1;
	}
	diag_init(&d);
	pc.diag = &d;
	fyd = pbyaml_parse(o->config_path, text, len, &d);
	if (fyd)
		pbyaml_decode(&pc, fy_document_root(fyd), &basalt__osctl__client_config__descriptor, &m);
	if (!diag_ok(&d)) {
		char *s = diag_format(&d);

		fprintf(stderr, "osctl: client config is invalid:\n%s", s ? s : "");
		free(s);
		if (m)
			protobuf_c_message_free_unpacked(m, NULL);
		m = NULL;
	}
	if (fyd)
		fy_document_destroy(fyd);
	diag_fini(&d);
	free(text);
	if (!m)
		return -1;
	o->cfg = (Basalt__Osctl__ClientConfig *)m;
	/* A file with no context: key leaves protobuf-c's shared empty string there; the
	 * commands replace the current context with free(), so own it like the rest. */
	if (!o->cfg->context || o->cfg->context == protobuf_c_empty_string) {
		o->cfg->context = strdup("");
		if (!o->cfg->context) {
			protobuf_c_message_free_unpacked(m, NULL);
			o->cfg = NULL;
			return -1;
		}
	}
	o->cfg_loaded = true;
	return 0;
}

int osc_cfg_save(struct osc *o)
{
	char *text = pbyaml_emit(&o->cfg->base, false), err[256], dir[4096], *slash;

	if (!text) {
		fprintf(stderr, "osctl: out of memory\n");
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", o->config_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700);
	}
	if (atomic_write(o->config_path, text, strlen(text), 0600, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: write %s: %s\n", o->config_path, err);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

Basalt__Osctl__Context *osc_cfg_find(Basalt__Osctl__ClientConfig *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_contexts; i++)
		if (strcmp(cfg->contexts[i]->key, name) == 0)
			return cfg->contexts[i]->value;
	return NULL;
}

Basalt__Osctl__Context *osc_cfg_current(struct osc *o, const char **name)
{
	const char *n = o->context ? o->context : o->cfg->context;
	Basalt__Osctl__Context *c;

	if (!n || !*n) {
		fprintf(stderr, "osctl: no context in use in %s (osctl config context NAME)\n", o->config_path);
		return NULL;
	}
	c = osc_cfg_find(o->cfg, n);
	if (!c)
		fprintf(stderr, "osctl: no context %s in %s\n", n, o->config_path);
	if (name)
		*name = n;
	return c;
}

int osc_cfg_put(Basalt__Osctl__ClientConfig *cfg, const char *name, Basalt__Osctl__Context *ctx)
{
	Basalt__Osctl__ClientConfig__ContextsEntry *e, **v;

	for (size_t i = 0; i < cfg->n_contexts; i++) {
		if (strcmp(cfg->contexts[i]->key, name) == 0) {
			protobuf_c_message_free_unpacked(&cfg->contexts[i]->value->base, NULL);
			cfg->contexts[i]->value = ctx;
			return 0;
		}
	}
	v = realloc(cfg->contexts, (cfg->n_contexts + 1) * sizeof(*v));
	if (!v)
		return -1;
	cfg->contexts = v;   /* moved or not, the array in use */
	if (!(e = malloc(sizeof(*e))))
		return -1;
	basalt__osctl__client_config__contexts_entry__init(e);
	if (!(e->key = strdup(name))) {
		free(e);
		return -1;
	}
	e->value = ctx;
	cfg->contexts[cfg->n_contexts++] = e;
	return 0;
}

int osc_cfg_remove(Basalt__Osctl__ClientConfig *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_contexts; i++) {
		if (strcmp(cfg->contexts[i]->key, name) != 0)
			continue;
		protobuf_c_message_free_unpacked(&cfg->contexts[i]->base, NULL);
		memmove(&cfg->contexts[i], &cfg->contexts[i + 1], (cfg->n_contexts - i - 1) * sizeof(cfg->contexts[0]));
		cfg->n_contexts--;
		if (cfg->context && strcmp(cfg->context, name) == 0) {
			free(cfg->context);
			cfg->context = strdup("");  /* no other cluster's context made current by chance */
		}
		return 1;
	}
	return 0;
}

static void set_list(char ***v, size_t *n, char **argv, int argc)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = osc_strv((const char *const *)argv, (size_t)argc);
	*n = (size_t)argc;
}

static char *file_b64(const char *path)
{
	char *text = NULL, *b = NULL;
	size_t len;
	int r = read_file(path, 65536, &text, &len);

	if (r < 0) {
		fprintf(stderr, "osctl: %s: %s\n", path, strerror(-r));
		return NULL;
	}
	b = pki_b64_encode(text);
	pki_free_secret(text);
	return b;
}

static void info(struct osc *o)
{
	const char *name;
	Basalt__Osctl__Context *c = osc_cfg_current(o, &name);
	char *crt;

	if (!c)
		return;
	printf("Current context:     %s\n", name);
	printf("Nodes:               ");
	for (size_t i = 0; i < c->n_nodes; i++)
		printf("%s%s", i ? ", " : "", c->nodes[i]);
	printf("%s\nEndpoints:           ", c->n_nodes ? "" : "not defined");
	for (size_t i = 0; i < c->n_endpoints; i++)
		printf("%s%s", i ? ", " : "", c->endpoints[i]);
	printf("%s\n", c->n_endpoints ? "" : "not defined");
	crt = pki_b64_decode(c->crt);
	if (crt) {
		mbedtls_x509_crt x;

		mbedtls_x509_crt_init(&x);
		if (mbedtls_x509_crt_parse(&x, (const unsigned char *)crt, strlen(crt) + 1) == 0) {
			printf("Roles:               %s\n", pki_role_name(pki_cert_role(&x)));
			printf("Certificate expires: %04d-%02d-%02d %02d:%02d UTC\n", x.valid_to.year,
			       x.valid_to.mon, x.valid_to.day, x.valid_to.hour, x.valid_to.min);
		}
		mbedtls_x509_crt_free(&x);
		free(crt);
	}
}

static int merge(struct osc *o, const char *path)
{
	struct osc other = { .config_path = path };
	int added = 0;

	if (osc_cfg_load(&other, true) < 0)
		return -1;
	for (size_t i = 0; i < other.cfg->n_contexts; i++) {
		char name[256];
		Basalt__Osctl__ClientConfig__ContextsEntry *e = other.cfg->contexts[i];

		snprintf(name, sizeof(name), "%s", e->key);
		for (int k = 1; osc_cfg_find(o->cfg, name); k++)
			snprintf(name, sizeof(name), "%s-%d", e->key, k);
		if (osc_cfg_put(o->cfg, name, e->value) < 0)
			return -1;
		e->value = NULL;
		printf("added context %s\n", name);
		if (!*o->cfg->context) {
			free(o->cfg->context);
			o->cfg->context = strdup(name);
		}
		added++;
	}
	/* The values moved (NULL in other now); free what is left of it. */
	protobuf_c_message_free_unpacked(&other.cfg->base, NULL);
	return added;
}

int cmd_config(struct osc *o, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	Basalt__Osctl__Context *c;

	if (!*sub || strcmp(sub, "--help") == 0) {
		fprintf(stderr, "usage: osctl config context NAME | endpoint IP... | node IP... | contexts |\n"
				"       osctl config add NAME --ca FILE --crt FILE --key FILE | merge FILE | info\n");
		return *sub ? 0 : 2;
	}
	if (osc_cfg_load(o, strcmp(sub, "add") != 0 && strcmp(sub, "merge") != 0) < 0)
		return 1;
	if (strcmp(sub, "info") == 0) {
		info(o);
		return 0;
	}
	if (strcmp(sub, "contexts") == 0) {
		struct table t;

		table_init(&t, 4);
		table_add(&t, "CURRENT", "NAME", "ENDPOINTS", "NODES");
		for (size_t i = 0; i < o->cfg->n_contexts; i++) {
			Basalt__Osctl__Context *x = o->cfg->contexts[i]->value;

			table_add(&t, strcmp(o->cfg->contexts[i]->key, o->cfg->context) == 0 ? "*" : "",
				  o->cfg->contexts[i]->key, x->n_endpoints ? x->endpoints[0] : "",
				  x->n_nodes ? x->nodes[0] : "");
		}
		table_print(&t);
		table_fini(&t);
		return 0;
	}
	if (strcmp(sub, "context") == 0) {
		if (argc != 3) {
			fprintf(stderr, "usage: osctl config context NAME\n");
			return 2;
		}
		if (!osc_cfg_find(o->cfg, argv[2])) {
			fprintf(stderr, "osctl: no context %s in %s\n", argv[2], o->config_path);
			return 1;
		}
		free(o->cfg->context);
		o->cfg->context = strdup(argv[2]);
		return osc_cfg_save(o) < 0;
	}
	if (strcmp(sub, "endpoint") == 0 || strcmp(sub, "endpoints") == 0 || strcmp(sub, "node") == 0 ||
	    strcmp(sub, "nodes") == 0) {
		if (!(c = osc_cfg_current(o, NULL)))
			return 1;
		if (sub[0] == 'e')
			set_list(&c->endpoints, &c->n_endpoints, argv + 2, argc - 2);
		else
			set_list(&c->nodes, &c->n_nodes, argv + 2, argc - 2);
		return osc_cfg_save(o) < 0;
	}
	if (strcmp(sub, "add") == 0) {
		const char *ca = NULL, *crt = NULL, *key = NULL, *name = argc > 2 ? argv[2] : NULL;

		for (int i = 3; i + 1 < argc; i += 2) {
			if (strcmp(argv[i], "--ca") == 0)
				ca = argv[i + 1];
			else if (strcmp(argv[i], "--crt") == 0)
				crt = argv[i + 1];
			else if (strcmp(argv[i], "--key") == 0)
				key = argv[i + 1];
		}
		if (!name || !ca || !crt || !key) {
			fprintf(stderr, "usage: osctl config add NAME --ca FILE --crt FILE --key FILE\n");
			return 2;
		}
		c = malloc(sizeof(*c));
		basalt__osctl__context__init(c);
		c->ca = file_b64(ca);
		c->crt = file_b64(crt);
		c->key = file_b64(key);
		if (!c->ca || !c->crt || !c->key)
			return 1;
		if (osc_cfg_put(o->cfg, name, c) < 0)
			return 1;
		if (!*o->cfg->context) {
			free(o->cfg->context);
			o->cfg->context = strdup(name);
		}
		return osc_cfg_save(o) < 0;
	}
	if (strcmp(sub, "merge") == 0) {
		if (argc != 3) {
			fprintf(stderr, "usage: osctl config merge FILE\n");
			return 2;
		}
		return merge(o, argv[2]) < 0 || osc_cfg_save(o) < 0;
	}
	fprintf(stderr, "osctl: unknown config command %s\n", sub);
	return 2;
}
