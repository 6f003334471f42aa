/* SPDX-License-Identifier: MIT */
/*
 * osctl's client config (osctl/clientcfg.c): the input is the file's text, written to a
 * temporary directory made once. It is loaded, its current context looked up, and the
 * config commands that only read or rewrite it run over it (their output thrown away).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "osctl/osctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char dir[] = "/tmp/basalt-fuzz-cfg.XXXXXX", path[64];

static void remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/config", dir);
	atexit(remove_dir);
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

static void run(const uint8_t *data, size_t size, int argc, char **argv)
{
	struct osc o = { .config_path = path };
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	fwrite(data, 1, size, f);
	fclose(f);
	if (argc == 0) {
		if (osc_cfg_load(&o, true) == 0)
			osc_cfg_current(&o, NULL);
	} else {
		cmd_config(&o, argc, argv);
	}
	if (o.cfg)
		protobuf_c_message_free_unpacked(&o.cfg->base, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *info[] = { "config", "info", NULL }, *contexts[] = { "config", "contexts", NULL },
	     *use[] = { "config", "context", "demo", NULL }, *ep[] = { "config", "endpoint", "10.0.0.9", NULL };

	run(data, size, 0, NULL);
	run(data, size, 2, info);
	run(data, size, 2, contexts);
	run(data, size, 3, use);
	run(data, size, 3, ep);
	return 0;
}
