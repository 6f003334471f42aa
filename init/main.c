/* SPDX-License-Identifier: MIT */
/*
 * init: PID 1. Stage 1 when the kernel starts it from the initramfs, stage 2 (the
 * supervisor) after switch_root or in container mode, modprobe when invoked under that name.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init/kmod.h"
#include "init/modload.h"
#include "init/stage1.h"
#include "init/stage2.h"
#include "lib/cmdline.h"
#include "lib/log.h"

static char *default_core[] = { INIT_CORE_DEFAULT, NULL };

static void usage(FILE *f)
{
	fprintf(f, "usage: init [--container] [--debug] [--socket PATH] [--cgroup-root NAME]\n"
		   "            [--cgroup-mount DIR] [-- CORE-COMMAND...]\n"
		   "       modprobe [-q] [--] MODULE\n");
}

/*
 * The kernel's modprobe protocol: "modprobe -q -- <module or alias>". The kernel starts
 * its helper with no open descriptors; such a call is reported in the kernel log (what
 * it asked for and what came of it), so on-demand loads show on the console and in dmesg.
 */
static int modprobe_main(int argc, char **argv)
{
	struct kmod_db db;
	char dir[128], err[512];
	const char *name = NULL;
	bool quiet = false, from_kernel = fcntl(2, F_GETFD) < 0;
	int r, kmsg = -1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-q") == 0)
			quiet = true;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
	}
	if (!name) {
		fprintf(stderr, "modprobe: no module named\n");
		return 2;
	}
	kmod_db_init(&db);
	r = modload_dir(dir, sizeof(dir));
	if (r == 0)
		r = kmod_db_load(&db, dir, err, sizeof(err));
	if (r == 0)
		r = kmod_probe(&db, name, err, sizeof(err));
	if (from_kernel && (kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC)) >= 0) {
		log_init("modprobe", kmsg);
		if (r < 0)
			log_info("kernel request %s: %s", name, err);
		else
			log_info("kernel request %s: loaded", name);
		close(kmsg);
	} else if (r < 0 && !quiet) {
		fprintf(stderr, "modprobe: %s\n", err);
	}
	kmod_db_fini(&db);
	return r < 0 ? 1 : 0;
}

static bool in_container(void)
{
	return getenv("container") != NULL || access("/.dockerenv", F_OK) == 0;
}

int main(int argc, char **argv)
{
	struct init_opts o = {
		.socket = INIT_SOCKET_DEFAULT,
		.cgroup_mount = "/sys/fs/cgroup",
		.cgroup_root = "basalt",
		.core_argv = default_core,
	};
	const char *base = strrchr(argv[0], '/');
	bool stage2 = false, pid1 = getpid() == 1;

	base = base ? base + 1 : argv[0];
	if (strcmp(base, "modprobe") == 0)
		return modprobe_main(argc, argv);
	log_init("init", 2);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_val = i + 1 < argc;

		if (strcmp(a, "--stage2") == 0)
			stage2 = true;
		else if (strcmp(a, "--container") == 0)
			o.container = true;
		else if (strcmp(a, "--debug") == 0)
			o.debug = true;
		else if (strcmp(a, "--socket") == 0 && has_val)
			o.socket = argv[++i];
		else if (strcmp(a, "--cgroup-root") == 0 && has_val)
			o.cgroup_root = argv[++i];
		else if (strcmp(a, "--cgroup-mount") == 0 && has_val)
			o.cgroup_mount = argv[++i];
		else if (strcmp(a, "--") == 0 && has_val) {
			o.core_argv = &argv[i + 1];
			break;
		} else if (strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (!pid1) {
			/* As PID 1 the kernel hands us stray command-line words: ignore those. */
			usage(stderr);
			return 2;
		}
	}
	if (pid1 && !stage2 && !o.container && in_container())
		o.container = true;
	if (stage2 || o.container) {
		struct cmdline c;

		/* Stage 1 already reported malformed keys; here only basalt.debug matters. */
		if (stage2 && cmdline_read("/proc/cmdline", &c, NULL, NULL) == 0) {
			o.debug = o.debug || c.debug;
			cmdline_fini(&c);
		}
		stage2_main(&o);
	}
	if (pid1)
		stage1_main();
	fprintf(stderr, "init: not PID 1; use --container to supervise inside a PID namespace\n");
	usage(stderr);
	return 2;
}
