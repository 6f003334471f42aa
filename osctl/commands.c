/* SPDX-License-Identifier: MIT */
/*
 * osctl's commands, declared once: the dispatch, the usage text and the shell completion
 * all come from this table (as wireguard-tools' wg.c declares its subcommands).
 */
#include <stdio.h>
#include <string.h>

#include "lib/apidef.h"
#include "lib/restypes.h"
#include "osctl/cluster/cluster.h"
#include "osctl/osctl.h"

static int cmd_reboot(struct osc *o, int argc, char **argv)
{
	return cmd_power(o, argc, argv, true);
}

static int cmd_shutdown(struct osc *o, int argc, char **argv)
{
	return cmd_power(o, argc, argv, false);
}

/* words: what may follow the command ("@types": the resource types and aliases). */
const struct osc_cmd osc_cmds[] = {
	{ "apply-config", "apply", cmd_apply,
	  "apply-config -f FILE [--insecure --cert-fingerprint SHA256] [--mode MODE]\n"
	  "               [--timeout 60s] [--confirm-on-reconnect] [--dry-run] [--config-patch @FILE|PATCH]", NULL },
	{ "get", NULL, cmd_get, "get TYPE [ID] [-o table|yaml|json] [-w] [-l SELECTOR]   (osctl get rd: the types)",
	  "@types rd" },
	{ "services", NULL, cmd_services, "services", NULL },
	{ "health", NULL, cmd_health, "health [--wait] [--wait-timeout S]   (API, stage, services and clock of every node)", NULL },
	{ "service", NULL, cmd_service, "service ID [start|stop|restart]", NULL },
	{ "logs", NULL, cmd_logs, "logs SERVICE [-f] [--tail N]", NULL },
	{ "dmesg", NULL, cmd_dmesg, "dmesg [-f] [--tail]", NULL },
	{ "read", "cat", cmd_read, "read PATH   (a file under /var, /proc or /sys)", NULL },
	{ "ls", "list", cmd_ls, "ls [PATH] [-l] [-r] [-d DEPTH] [-t f,d,l]   (under /var, /proc or /sys)", NULL },
	{ "version", NULL, cmd_version, "version [--client] [--insecure]", NULL },
	{ "reboot", NULL, cmd_reboot, "reboot", NULL },
	{ "shutdown", NULL, cmd_shutdown, "shutdown", NULL },
	{ "reset", NULL, cmd_reset, "reset [--graceful=false] [--reboot] [--wipe STATE,EPHEMERAL]", NULL },
	{ "patch", NULL, cmd_patch, "patch machineconfig --patch @FILE|PATCH [--mode MODE] [--dry-run]", "machineconfig" },
	{ "edit", NULL, cmd_edit, "edit machineconfig [--mode MODE] [--dry-run]", "machineconfig" },
	{ "validate", NULL, cmd_validate, "validate -c FILE [--config-patch @FILE|PATCH]", NULL },
	{ "gen", NULL, cmd_gen,
	  "gen config CLUSTER https://ENDPOINT:6443 [-o DIR] [--with-secrets FILE]\n"
	  "  gen ca --organization ORG | gen key --name NAME | gen crt --ca CA --key K --name N [--role R]",
	  "config ca key crt" },
	{ "config", NULL, cmd_config,
	  "config context NAME | contexts | endpoint IP... | node IP... | add NAME ... | merge FILE | info",
	  "context contexts endpoint node add merge info" },
	{ "cluster", NULL, cmd_cluster, "cluster create|show|destroy [--name N] [--provisioner qemu|docker] [--config-patch @FILE] | switch --dir DIR --ports N",
	  "create show destroy switch" },
	{ "pxe", NULL, cmd_pxe,
	  "pxe serve --interface IF [--assets DIR] [--configs DIR] [--port 8080] [--dhcp auto|full|proxy]", "serve" },
	{ "completion", NULL, cmd_completion, "completion bash|zsh", "bash zsh" },
};
const size_t osc_ncmds = sizeof(osc_cmds) / sizeof(osc_cmds[0]);

const struct osc_cmd *osc_cmd_find(const char *name)
{
	for (size_t i = 0; i < osc_ncmds; i++)
		if (strcmp(osc_cmds[i].name, name) == 0 || (osc_cmds[i].alias && strcmp(osc_cmds[i].alias, name) == 0))
			return &osc_cmds[i];
	return NULL;
}

void osc_usage(FILE *f)
{
	fprintf(f, "usage: osctl [--osconfig FILE] [--context NAME] [-e IP,...] [-n IP,...]\n"
		   "             [--insecure [--cert-fingerprint SHA256]] [--tls-max 1.2|1.3] COMMAND ...\n\n");
	for (size_t i = 0; i < osc_ncmds; i++)
		fprintf(f, "  %s\n", osc_cmds[i].usage);
}

/* The words that may follow cmd, "@types" expanded; "" for none. */
static void words_of(const struct osc_cmd *c, char *out, size_t len)
{
	const char *w = c->words ? c->words : "";
	size_t n = 0;

	out[0] = '\0';
	if (strncmp(w, "@types", 6) == 0) {
		for (size_t i = 0; i < RES_NTYPES && n < len; i++)
			n += (size_t)snprintf(out + n, len - n, "%s%s", n ? " " : "", res_types[i].aliases[0]);
		w += 6;
	}
	if (n < len)
		snprintf(out + n, len - n, "%s", n ? w : w + (*w == ' '));
}

int cmd_completion(struct osc *o, int argc, char **argv)
{
	const char *sh = argc > 1 ? argv[1] : "";
	char names[1024] = "", words[2048];
	size_t n = 0;
	bool bash = strcmp(sh, "bash") == 0;

	(void)o;
	for (size_t i = 0; i < osc_ncmds && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? " " : "", osc_cmds[i].name);
	if (!bash && strcmp(sh, "zsh") != 0) {
		fprintf(stderr, "usage: osctl completion bash|zsh\n");
		return 2;
	}
	if (bash)
		printf("# osctl bash completion: source <(osctl completion bash)\n"
		       "_osctl() {\n"
		       "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
		       "  if [ \"$COMP_CWORD\" -eq 1 ]; then COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return; fi\n"
		       "  case \"${COMP_WORDS[1]}\" in\n", names);
	else
		printf("#compdef osctl\n# osctl zsh completion: source <(osctl completion zsh)\n"
		       "_osctl() {\n"
		       "  if (( CURRENT == 2 )); then compadd -- %s; return; fi\n"
		       "  case $words[2] in\n", names);
	for (size_t i = 0; i < osc_ncmds; i++) {
		if (!osc_cmds[i].words)
			continue;
		words_of(&osc_cmds[i], words, sizeof(words));
		if (bash)
			printf("    %s) [ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")) ;;\n",
			       osc_cmds[i].name, words);
		else
			printf("    %s) (( CURRENT == 3 )) && compadd -- %s ;;\n", osc_cmds[i].name, words);
	}
	if (bash)
		printf("    apply-config|validate) case \"$prev\" in -f|--file|-c|--config) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
		       "      --mode|-m) COMPREPLY=($(compgen -W \"auto no-reboot reboot staged try\" -- \"$cur\")) ;; esac ;;\n"
		       "  esac\n"
		       "}\n"
		       "complete -F _osctl osctl\n");
	else
		printf("    *) _files ;;\n"
		       "  esac\n"
		       "}\n"
		       "compdef _osctl osctl\n");
	return 0;
}
