/* SPDX-License-Identifier: MIT */
/* Stage 2: the supervisor. Runs from the real root (or in container mode) and never exits. */
#ifndef BASALT_STAGE2_H
#define BASALT_STAGE2_H

#include <stdbool.h>

#define INIT_SOCKET_DEFAULT "/run/basalt/init.sock"
#define INIT_CORE_DEFAULT "/sbin/machined"
#define INIT_CORE_ID "machined"

struct init_opts {
	bool container;           /* PID 1 of a PID namespace: no mounts, modules or reboot prep */
	bool debug;               /* copy service output to the console */
	const char *socket;       /* control socket path */
	const char *cgroup_mount; /* normally /sys/fs/cgroup */
	const char *cgroup_root;  /* directory under it for our services */
	char **core_argv;         /* the core service (machined) command line */
};

_Noreturn void stage2_main(const struct init_opts *o);

#endif
