/* SPDX-License-Identifier: MIT */
/*
 * osctl gen: a cluster's secrets and machine configs, and PKI helpers.
 *   osctl gen config CLUSTER ENDPOINT [-o DIR] [--with-secrets FILE] [--force]
 *   osctl gen ca --organization ORG [--hours H]          -> ORG.crt ORG.key
 *   osctl gen key --name NAME                            -> NAME.key
 *   osctl gen crt --ca CA --key NAME.key --name NAME [--role ROLE] [--hours H]
 *                 [--backdate HOURS] [--server --san NAME...]  -> NAME.crt
 */
#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/config.pb-c.h"
#include "lib/atomicfile.h"
#include "lib/mconfig.h"
#include "lib/pki.h"
#include "lib/rng.h"
#include "osctl/osctl.h"

#define CA_DAYS (10 * 365)
#define ADMIN_DAYS 365

static bool has(int argc, char **argv, const char *name);

static const char *flag(int argc, char **argv, const char *name)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static bool has(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

/* Writes a new file; refuses to overwrite unless force. */
static int put(const char *dir, const char *name, const char *text, mode_t mode, bool force)
{
	char path[4096], err[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!force && access(path, F_OK) == 0) {
		fprintf(stderr, "osctl: %s exists (pass --force to overwrite)\n", path);
		return -1;
	}
	if (atomic_write(path, text, strlen(text), mode, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: write %s: %s\n", path, err);
		return -1;
	}
	printf("created %s\n", path);
	return 0;
}

static int token(char out[24])
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t b[22];

	if (rng_random(rng_ctx(), b, sizeof(b)) != 0)
		return -1;
	/* Talos's shape: 6 characters, a dot, 16 characters. */
	for (int i = 0; i < 23; i++)
		out[i] = i == 6 ? '.' : abc[b[i < 6 ? i : i - 1] % 36];
	out[23] = '\0';
	return 0;
}

struct secrets {
	char *ca_crt, *ca_key;   /* PEM */
	char tok[64];
};

static void secrets_fini(struct secrets *s)
{
	free(s->ca_crt);
	pki_free_secret(s->ca_key);
}

static int secrets_new(struct secrets *s, const char *cluster)
{
	struct pki_subject sub = { .cn = cluster, .days = CA_DAYS, .ca = true };
	char err[256];

	sub.org[sub.norg++] = cluster;
	if (pki_gen_key(&s->ca_key, err, sizeof(err)) < 0 ||
	    pki_issue(&sub, s->ca_key, NULL, NULL, &s->ca_crt, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: CA: %s\n", err);
		return -1;
	}
	return token(s->tok);
}

/* secrets.yaml: { os: { crt, key }, token } with base64 PEM, as configs carry them. */
static char *secrets_text(const struct secrets *s)
{
	char *crt = pki_b64_encode(s->ca_crt), *key = pki_b64_encode(s->ca_key), *out = NULL;
	size_t n;

	if (crt && key) {
		n = strlen(crt) + strlen(key) + strlen(s->tok) + 128;
		out = malloc(n);
		if (out)
			snprintf(out, n, "# Basalt cluster secrets: keep this file private.\n"
				 "token: %s\nos:\n  crt: %s\n  key: %s\n", s->tok, crt, key);
	}
	free(crt);
	pki_free_secret(key);
	return out;
}

static int secrets_load(struct secrets *s, const char *path)
{
	char *text = NULL;
	size_t len;
	struct fy_document *fyd;
	int r = read_file(path, 1 << 20, &text, &len);
	char crt[8192] = "", key[8192] = "";

	if (r < 0) {
		fprintf(stderr, "osctl: %s: %s\n", path, strerror(-r));
		return -1;
	}
	fyd = fy_document_build_from_string(NULL, text, len);
	if (!fyd || fy_document_scanf(fyd, "/token %63s /os/crt %8191s /os/key %8191s", s->tok, crt, key) != 3) {
		fprintf(stderr, "osctl: %s: expected token, os.crt and os.key\n", path);
		if (fyd)
			fy_document_destroy(fyd);
		pki_free_secret(text);
		return -1;
	}
	fy_document_destroy(fyd);
	pki_free_secret(text);
	s->ca_crt = pki_b64_decode(crt);
	s->ca_key = pki_b64_decode(key);
	memset(key, 0, sizeof(key));
	if (!s->ca_crt || !s->ca_key) {
		fprintf(stderr, "osctl: %s: os.crt or os.key is not base64\n", path);
		return -1;
	}
	return 0;
}

/* A machine config of the given type, validated as machined will. */
static char *machine_config(const struct secrets *s, const char *type, const char *cluster,
			    const char *endpoint)
{
	char *crt = pki_b64_encode(s->ca_crt), *key = pki_b64_encode(s->ca_key), *out = NULL;
	Basalt__Config__Config *cfg = NULL;
	struct diag d;
	size_t n;

	if (!crt || !key)
		goto out;
	n = strlen(crt) + strlen(key) + strlen(cluster) + strlen(endpoint) + 512;
	out = malloc(n);
	if (!out)
		goto out;
	/* A worker gets the CA certificate only: its API certificate comes from a control-plane node. */
	snprintf(out, n,
		 "version: v1alpha1\n"
		 "machine:\n"
		 "  type: %s\n"
		 "  token: %s\n"
		 "  ca:\n"
		 "    crt: %s\n"
		 "%s%s%s"
		 "  certSANs: []\n"
		 "cluster:\n"
		 "  name: %s\n"
		 "  controlPlane:\n"
		 "    endpoint: %s\n",
		 type, s->tok, crt, strcmp(type, "worker") == 0 ? "" : "    key: ",
		 strcmp(type, "worker") == 0 ? "" : key, strcmp(type, "worker") == 0 ? "" : "\n", cluster, endpoint);
	diag_init(&d);
	if (mconfig_load(type, out, strlen(out), NULL, 0, &cfg, &d) < 0) {
		char *e = diag_format(&d);

		fprintf(stderr, "osctl: the generated %s config is invalid:\n%s", type, e ? e : "");
		free(e);
		pki_free_secret(out);
		out = NULL;
	}
	mconfig_free(cfg);
	diag_fini(&d);
out:
	free(crt);
	pki_free_secret(key);
	return out;
}

/* The host of an https://host:port URL (or the argument itself). */
static void endpoint_host(const char *url, char *host, size_t len)
{
	const char *p = strstr(url, "://");
	const char *end;

	p = p ? p + 3 : url;
	if (*p == '[') {
		end = strchr(p, ']');
		p++;
	} else {
		end = strpbrk(p, ":/");
	}
	if (!end)
		end = p + strlen(p);
	snprintf(host, len, "%.*s", (int)(end - p), p);
}

static char *client_config(const struct secrets *s, const char *cluster, const char *endpoint)
{
	struct pki_subject sub = { .cn = "admin", .days = ADMIN_DAYS };
	Basalt__Osctl__ClientConfig cfg = BASALT__OSCTL__CLIENT_CONFIG__INIT;
	Basalt__Osctl__Context ctx = BASALT__OSCTL__CONTEXT__INIT;
	Basalt__Osctl__ClientConfig__ContextsEntry e = BASALT__OSCTL__CLIENT_CONFIG__CONTEXTS_ENTRY__INIT;
	Basalt__Osctl__ClientConfig__ContextsEntry *ep = &e;
	char *key = NULL, *crt = NULL, err[256], host[256], *eps[1] = { host }, *out = NULL;

	sub.org[sub.norg++] = PKI_ROLE_ADMIN;
	if (pki_gen_key(&key, err, sizeof(err)) < 0 ||
	    pki_issue(&sub, key, s->ca_crt, s->ca_key, &crt, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: admin certificate: %s\n", err);
		goto out;
	}
	endpoint_host(endpoint, host, sizeof(host));
	ctx.endpoints = eps;
	ctx.n_endpoints = 1;
	ctx.ca = pki_b64_encode(s->ca_crt);
	ctx.crt = pki_b64_encode(crt);
	ctx.key = pki_b64_encode(key);
	e.key = (char *)cluster;
	e.value = &ctx;
	cfg.context = (char *)cluster;
	cfg.contexts = &ep;
	cfg.n_contexts = 1;
	if (ctx.ca && ctx.crt && ctx.key)
		out = pbyaml_emit(&cfg.base, false);
	free(ctx.ca);
	free(ctx.crt);
	pki_free_secret(ctx.key);
out:
	free(crt);
	pki_free_secret(key);
	return out;
}

static int gen_config(int argc, char **argv)
{
	const char *dir = flag(argc, argv, "-o") ? flag(argc, argv, "-o") : ".";
	const char *with = flag(argc, argv, "--with-secrets");
	bool force = has(argc, argv, "--force");
	const char *pos[2];
	int npos = 0;
	struct secrets s = { 0 };
	char *sec = NULL, *cp = NULL, *wk = NULL, *cc = NULL;
	int r = 1;

	for (int i = 2; i < argc; i++) {
		if (argv[i][0] == '-') {
			i += strcmp(argv[i], "--force") != 0;
			continue;
		}
		if (npos < 2)
			pos[npos] = argv[i];
		npos++;
	}
	if (npos != 2) {
		fprintf(stderr, "usage: osctl gen config CLUSTER ENDPOINT [-o DIR] [--with-secrets FILE] "
				"[--force]\n  ENDPOINT is the cluster's https://ADDRESS:6443\n");
		return 2;
	}
	if (strncmp(pos[1], "https://", 8) != 0) {
		fprintf(stderr, "osctl: endpoint %s: expected https://ADDRESS:PORT\n", pos[1]);
		return 2;
	}
	mkdir(dir, 0755);
	if (with ? secrets_load(&s, with) < 0 : secrets_new(&s, pos[0]) < 0)
		goto out;
	sec = secrets_text(&s);
	cp = machine_config(&s, "controlplane", pos[0], pos[1]);
	wk = machine_config(&s, "worker", pos[0], pos[1]);
	cc = client_config(&s, pos[0], pos[1]);
	if (!sec || !cp || !wk || !cc)
		goto out;
	if ((!with && put(dir, "secrets.yaml", sec, 0600, force) < 0) ||
	    put(dir, "controlplane.yaml", cp, 0600, force) < 0 || put(dir, "worker.yaml", wk, 0600, force) < 0 ||
	    put(dir, "osconfig", cc, 0600, force) < 0)
		goto out;
	r = 0;
out:
	pki_free_secret(sec);
	pki_free_secret(cp);
	pki_free_secret(wk);
	pki_free_secret(cc);
	secrets_fini(&s);
	return r;
}

static unsigned days_of(int argc, char **argv, unsigned def)
{
	const char *h = flag(argc, argv, "--hours");

	return h ? (unsigned)((strtoul(h, NULL, 10) + 23) / 24) : def;
}

static int gen_ca(int argc, char **argv)
{
	const char *org = flag(argc, argv, "--organization");
	struct pki_subject sub = { .days = days_of(argc, argv, CA_DAYS), .ca = true };
	char *key = NULL, *crt = NULL, err[256], name[300];
	int r = 1;

	if (!org) {
		fprintf(stderr, "usage: osctl gen ca --organization ORG [--hours H]\n");
		return 2;
	}
	sub.cn = org;
	sub.org[sub.norg++] = org;
	if (pki_gen_key(&key, err, sizeof(err)) < 0 || pki_issue(&sub, key, NULL, NULL, &crt, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: %s\n", err);
		goto out;
	}
	snprintf(name, sizeof(name), "%s.crt", org);
	if (put(".", name, crt, 0644, has(argc, argv, "--force")) < 0)
		goto out;
	snprintf(name, sizeof(name), "%s.key", org);
	r = put(".", name, key, 0600, has(argc, argv, "--force")) < 0;
out:
	free(crt);
	pki_free_secret(key);
	return r;
}

static int gen_key(int argc, char **argv)
{
	const char *n = flag(argc, argv, "--name");
	char *key = NULL, err[256], name[300];
	int r;

	if (!n) {
		fprintf(stderr, "usage: osctl gen key --name NAME\n");
		return 2;
	}
	if (pki_gen_key(&key, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: %s\n", err);
		return 1;
	}
	snprintf(name, sizeof(name), "%s.key", n);
	r = put(".", name, key, 0600, has(argc, argv, "--force")) < 0;
	pki_free_secret(key);
	return r;
}

static char *read_pem(const char *path)
{
	char *t = NULL;
	size_t len;
	int r = read_file(path, 65536, &t, &len);

	if (r < 0)
		fprintf(stderr, "osctl: %s: %s\n", path, strerror(-r));
	return r < 0 ? NULL : t;
}

static int gen_crt(int argc, char **argv)
{
	const char *ca = flag(argc, argv, "--ca"), *keyf = flag(argc, argv, "--key");
	const char *n = flag(argc, argv, "--name"), *role = flag(argc, argv, "--role");
	struct pki_subject sub = { .days = days_of(argc, argv, ADMIN_DAYS) };
	char path[4096], *ca_crt = NULL, *ca_key = NULL, *key = NULL, *crt = NULL, err[256], name[300];
	int r = 1;

	if (!ca || !keyf || !n) {
		fprintf(stderr, "usage: osctl gen crt --ca CA --key NAME.key --name NAME [--role ROLE] [--hours H] [--backdate H]\n"
				"                     [--server --san NAME_OR_IP...]\n"
				"  CA names CA.crt and CA.key; ROLE is os:admin, os:operator or os:reader\n");
		return 2;
	}
	if (role && pki_role_parse(role) == ROLE_NONE && strcmp(role, PKI_ROLE_IMPERSONATOR) != 0) {
		fprintf(stderr, "osctl: --role %s: expected os:admin, os:operator or os:reader\n", role);
		return 2;
	}
	sub.cn = n;
	if (role)
		sub.org[sub.norg++] = role;
	/* A server certificate (for a test or reference server): --server with --san NAME... */
	sub.server = has(argc, argv, "--server");
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--san") == 0 && sub.nsans < PKI_MAX_SANS)
			sub.sans[sub.nsans++] = argv[i + 1];
	/* Starts the validity in the past: with --hours, a certificate that has expired. */
	if (flag(argc, argv, "--backdate"))
		sub.not_before_offset_s = -3600 * strtol(flag(argc, argv, "--backdate"), NULL, 10);
	snprintf(path, sizeof(path), "%s.crt", ca);
	ca_crt = read_pem(path);
	snprintf(path, sizeof(path), "%s.key", ca);
	ca_key = ca_crt ? read_pem(path) : NULL;
	key = ca_key ? read_pem(keyf) : NULL;
	if (!key)
		goto out;
	if (pki_issue(&sub, key, ca_crt, ca_key, &crt, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: %s\n", err);
		goto out;
	}
	snprintf(name, sizeof(name), "%s.crt", n);
	r = put(".", name, crt, 0644, has(argc, argv, "--force")) < 0;
out:
	free(ca_crt);
	free(crt);
	pki_free_secret(ca_key);
	pki_free_secret(key);
	return r;
}

int cmd_gen(struct osc *o, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	(void)o;
	if (strcmp(sub, "config") == 0)
		return gen_config(argc, argv);
	if (strcmp(sub, "ca") == 0)
		return gen_ca(argc - 1, argv + 1);
	if (strcmp(sub, "key") == 0)
		return gen_key(argc - 1, argv + 1);
	if (strcmp(sub, "crt") == 0)
		return gen_crt(argc - 1, argv + 1);
	fprintf(stderr, "usage: osctl gen config|ca|key|crt ...\n");
	return 2;
}
