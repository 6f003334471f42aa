/* SPDX-License-Identifier: MIT */
/*
 * How a controller is declared: each controller file exports one const struct ctrl_def,
 * and machined/main.c lists them in one table (it may name the API's certificate
 * controller, which ctrl/ may not). ctrl_start registers them from it; the pure ones
 * (touches_machine false) are what `machined render` runs.
 */
#ifndef BASALT_CTRL_H
#define BASALT_CTRL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/loop.h"
#include "machined/core/runtime.h"

struct api;
struct config_holder;
struct initctrl;
struct machine_status;
struct service_specs;
struct volumes_result;
struct platform_status;

/*
 * What machined hands its controllers: the runtime, and the state it shares with them
 * (opaque here: each controller file knows its own).
 */
struct ctrl_env {
	struct rt *rt;
	struct loop *loop;
	struct config_holder *config;
	struct machine_status *status;
	struct service_specs *specs;
	struct initctrl *init;
	const char *init_socket;
	struct api *api;
	/* machined runs a real machine (init's BASALT_MACHINE): it may change the network. In
	 * a container, or run by hand, it leaves every link, address and route as they are. */
	bool machine;
	const char *cmdline_ip;      /* the kernel's ip=, or NULL */
	const char *install_source;  /* the kernel's basalt.install.source=, or NULL */
	/* NULL, or why the network namespace here is not machined's to change (netguard.h):
	 * the controllers that change links, addresses and routes fail with it instead. */
	const char *net_refused;
	/* Where machined writes the files it generates (resolv.conf, hosts): /system on a
	 * machine (a tmpfs; /etc/resolv.conf links there), <state-dir>/system elsewhere. */
	const char *system_dir;
	/* Booted from the system disk (basalt.boot=disk): its volumes are mounted. */
	bool from_disk;
	const struct volumes_result *volumes;  /* what became of STATE and EPHEMERAL at boot */
	struct platform_status *platform;      /* what the platform reported (main.c fills it) */
	const char *sysfs;           /* "/sys", or a test's copy */
	const char *var_dir;         /* "/var", or a test's directory (machine.files) */
};

struct ctrl_def {
	struct rt_controller rt;                        /* name, inputs, outputs, reconcile (arg: set here) */
	size_t state_size;                              /* zeroed state it owns; 0: none */
	void *(*shared)(const struct ctrl_env *env);    /* or state machined owns (NULL: none) */
	int (*init)(void *state, const struct ctrl_env *env, struct rt_ctrl *self);  /* may be NULL */
	void (*fini)(void *state);                      /* may be NULL; runs for shared state too */
	bool touches_machine;                           /* false: computes only (render runs it) */
};

#define CTRL_MAX 64
/*
 * Registers every controller of table[0..n-1] (only the pure ones with pure_only), each
 * with its state. 0, or -errno with err naming the controller.
 */
int ctrl_start(const struct ctrl_env *env, const struct ctrl_def *const *table, size_t n, bool pure_only,
	       char *err, size_t errlen);
/* Ends the controllers' states (fini) and frees those ctrl_start allocated (after rt_stop,
 * before rt_free). */
void ctrl_stop(void);

#endif
