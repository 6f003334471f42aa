/* SPDX-License-Identifier: MIT */
/* machined's controllers besides the config: registration and the state they share. */
#ifndef BASALT_CONTROLLERS_H
#define BASALT_CONTROLLERS_H

#include <stdbool.h>

#include "machined/core/runtime.h"

/* MachineStatusController: runtime/MachineStatus/machine from config and service state. */
struct machine_status {
	struct rt_ctrl *ctrl;
	const char *ending;   /* NULL, "rebooting" or "shutting-down" */
};
int machine_status_register(struct machine_status *m, struct rt *rt, char *err, size_t errlen);
/* The machine is going down: the stage becomes rebooting (reboot) or shutting-down. */
void machine_status_ending(struct machine_status *m, bool reboot);

/* ServiceSpecController: runtime/ServiceSpec/<id>, what init should run. */
struct service_specs {
	struct rt_ctrl *ctrl;
	char **self_argv;               /* machined's own command line */
	const char *init_socket;
	const char *containerd;
	const char *containerd_config;
	const char *root;               /* where the image's files are ("" for /) */
};
int service_specs_register(struct service_specs *s, struct rt *rt, char *err, size_t errlen);

/* VersionController: runtime/Version/version. */
int version_register(struct rt *rt, char *err, size_t errlen);

/* HostnameConfigController: network/HostnameSpec/hostname from machine.network.hostname. */
int hostname_config_register(struct rt *rt, char *err, size_t errlen);
/* HostnameApplyController: sets the kernel's name; network/HostnameStatus/hostname. */
int hostname_apply_register(struct rt *rt, char *err, size_t errlen);

#endif
