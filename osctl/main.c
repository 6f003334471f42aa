/* SPDX-License-Identifier: MIT */
/*
 * osctl: the Basalt client. Global flags (anywhere on the line):
 *   --osconfig FILE   client config (default $OSCONFIG, else ~/.osctl/config)
 *   --context NAME    context to use instead of the config's
 *   -e, --endpoints IP[,IP]   where to connect
 *   -n, --nodes IP[,IP]       which nodes the request is for
 *   -i, --insecure            maintenance mode: TLS without a client certificate
 *   --cert-fingerprint SHA256 with --insecure: the node's certificate must be this one
 *   --skip-node-verification  apply-config --insecure without a pin (sends the config's
 *                             secrets to whatever answers)
 *   --tls-max 1.2|1.3         the highest TLS version offered (default 1.3)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "osctl/osctl.h"

/* Splits a comma-separated list into out; -1 (saying so) when it names more than max. */
static int split_list(const char *flag, char *s, const char **out, size_t max, size_t *n)
{
	char *save = NULL;

	*n = 0;
	for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n == max) {
			fprintf(stderr, "osctl: %s names more than %zu addresses\n", flag, max);
			return -1;
		}
		out[(*n)++] = t;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char path[4096];
	struct osc o = { 0 };
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	const struct osc_cmd *c;
	int n = 0, r;
	const char *cmd;

	log_init("osctl", 1);
	signal(SIGPIPE, SIG_IGN);
	if (!rest)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool val = i + 1 < argc;

		if (val && strcmp(a, "--osconfig") == 0) {
			o.config_path = argv[++i];
		} else if (strcmp(a, "--insecure") == 0 || strcmp(a, "-i") == 0) {
			o.insecure = true;
		} else if (val && strcmp(a, "--cert-fingerprint") == 0) {
			o.fingerprint = argv[++i];
		} else if (strcmp(a, "--skip-node-verification") == 0) {
			o.skip_verify = true;
		} else if (val && strcmp(a, "--tls-max") == 0) {
			a = argv[++i];
			if (strcmp(a, "1.2") != 0 && strcmp(a, "1.3") != 0) {
				fprintf(stderr, "osctl: --tls-max %s: want 1.2 or 1.3\n", a);
				free(rest);
				return 2;
			}
			o.tls12 = strcmp(a, "1.2") == 0;
		} else if (val && strcmp(a, "--context") == 0) {
			o.context = argv[++i];
		} else if (val && (strcmp(a, "-e") == 0 || strcmp(a, "--endpoints") == 0)) {
			if (split_list(a, argv[++i], o.endpoints, OSC_MAX_LIST, &o.nendpoints) < 0) {
				free(rest);
				return 2;
			}
		} else if (val && (strcmp(a, "-n") == 0 || strcmp(a, "--nodes") == 0)) {
			if (split_list(a, argv[++i], o.nodes, OSC_MAX_LIST, &o.nnodes) < 0) {
				free(rest);
				return 2;
			}
			o.nodes_set = true;
		} else {
			rest[n++] = argv[i];
		}
	}
	if (!o.config_path) {
		if (getenv("OSCONFIG") && *getenv("OSCONFIG")) {
			o.config_path = getenv("OSCONFIG");
		} else {
			snprintf(path, sizeof(path), "%s/.osctl/config", getenv("HOME") ? getenv("HOME") : ".");
			o.config_path = path;
		}
	}
	cmd = n ? rest[0] : NULL;
	if (o.fingerprint && !o.insecure) {
		fprintf(stderr, "osctl: --cert-fingerprint pins a node in maintenance mode and goes with --insecure; "
				"a configured node is verified against the context's CA\n");
		free(rest);
		return 2;
	}
	if (!cmd || strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		osc_usage(cmd ? stdout : stderr);
		free(rest);
		return cmd ? 0 : 2;
	}
	c = osc_cmd_find(cmd);
	if (c) {
		r = c->run(&o, n, rest);
	} else {
		fprintf(stderr, "osctl: unknown command %s\n", cmd);
		osc_usage(stderr);
		r = 2;
	}
	if (r == 0 && o.failures)
		r = 1;
	osc_close(&o);
	if (o.cfg)
		protobuf_c_message_free_unpacked(&o.cfg->base, NULL);
	free(rest);
	return r;
}
