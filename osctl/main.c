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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: osctl [--osconfig FILE] [--context NAME] [-e IP,...] [-n IP,...]\n"
		"             [--insecure [--cert-fingerprint SHA256]] [--tls-max 1.2|1.3] COMMAND ...\n"
		"\n"
		"  apply-config -f FILE [--insecure --cert-fingerprint SHA256] [--mode MODE]\n"
		"               [--timeout 60s] [--dry-run] [--config-patch @FILE|PATCH]\n"
		"  get TYPE [ID] [-o table|yaml|json] [-w] [-l SELECTOR]   (osctl get rd: the types)\n"
		"  services | service ID [start|stop|restart]\n"
		"  logs SERVICE [-f] [--tail N]      dmesg [-f] [--tail]\n"
		"  version [--client] [--insecure]   reboot   shutdown\n"
		"  patch machineconfig --patch @FILE|PATCH [--mode MODE] [--dry-run]\n"
		"  edit machineconfig [--mode MODE] [--dry-run]\n"
		"  validate -c FILE [--config-patch @FILE|PATCH]\n"
		"  gen config CLUSTER https://ENDPOINT:6443 [-o DIR] [--with-secrets FILE]\n"
		"  gen ca --organization ORG | gen key --name NAME | gen crt --ca CA --key K --name N [--role R]\n"
		"  config context NAME | contexts | endpoint IP... | node IP... | add NAME ... | merge FILE | info\n"
		"  completion bash|zsh\n");
}

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
		usage(cmd ? stdout : stderr);
		free(rest);
		return cmd ? 0 : 2;
	}
	if (strcmp(cmd, "version") == 0)
		r = cmd_version(&o, n, rest);
	else if (strcmp(cmd, "apply-config") == 0 || strcmp(cmd, "apply") == 0)
		r = cmd_apply(&o, n, rest);
	else if (strcmp(cmd, "get") == 0)
		r = cmd_get(&o, n, rest);
	else if (strcmp(cmd, "services") == 0)
		r = cmd_services(&o, n, rest);
	else if (strcmp(cmd, "service") == 0)
		r = cmd_service(&o, n, rest);
	else if (strcmp(cmd, "logs") == 0)
		r = cmd_logs(&o, n, rest);
	else if (strcmp(cmd, "dmesg") == 0)
		r = cmd_dmesg(&o, n, rest);
	else if (strcmp(cmd, "reboot") == 0)
		r = cmd_power(&o, n, rest, true);
	else if (strcmp(cmd, "shutdown") == 0)
		r = cmd_power(&o, n, rest, false);
	else if (strcmp(cmd, "validate") == 0)
		r = cmd_validate(&o, n, rest);
	else if (strcmp(cmd, "patch") == 0)
		r = cmd_patch(&o, n, rest);
	else if (strcmp(cmd, "edit") == 0)
		r = cmd_edit(&o, n, rest);
	else if (strcmp(cmd, "gen") == 0)
		r = cmd_gen(&o, n, rest);
	else if (strcmp(cmd, "config") == 0)
		r = cmd_config(&o, n, rest);
	else if (strcmp(cmd, "completion") == 0)
		r = cmd_completion(&o, n, rest);
	else {
		fprintf(stderr, "osctl: unknown command %s\n", cmd);
		usage(stderr);
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
