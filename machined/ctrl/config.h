/* SPDX-License-Identifier: MIT */
/*
 * The machine config in force, and MachineConfigController, which publishes it as
 * config/MachineConfig/v1alpha1 and says where it came from in runtime/ConfigStatus/config.
 * A config is validated before anything else happens to it, persisted atomically, and only
 * then installed; an invalid one changes nothing.
 *
 * What is kept in the state directory (machined/ctrl/cfgstate.h):
 *   config.yaml, config.yaml.prev   the committed config and the last good one before it
 *   try.yaml                        a config on trial (--mode try) and its deadline: the
 *                                   committed config stays in config.yaml, so a restart or a
 *                                   boot after the deadline returns to it
 *   identity.yaml                   machine.ca of the last committed config: a node whose
 *                                   persisted configs are all unusable keeps serving mutual
 *                                   TLS with it, never unauthenticated maintenance mode
 */
#ifndef BASALT_CONFIG_H
#define BASALT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/loop.h"
#include "lib/mconfig.h"
#include "machined/core/runtime.h"
#include "machined/ctrl/ctrl.h"

struct config_holder {
	struct rt_ctrl *ctrl;
	struct loop *loop;               /* NULL: one-shot (install-config, render): no try */
	char *state_dir;                 /* where it is persisted; NULL: not persisted */
	Basalt__Config__Config *cfg;     /* NULL: none */
	char *text;                      /* cfg's text as applied */
	char state[16];                  /* loaded | absent | invalid */
	char source[16];                 /* state | apply | file | try | try-rollback | none */
	char message[1024];
	char sha256[65];
	/* machine.ca (base64 PEM) of the last committed config; NULL: none known */
	char *id_crt, *id_key;
	/* --mode try: the committed config a try returns to, and when */
	char *committed;
	uint64_t try_deadline_ms;        /* CLOCK_REALTIME */
	struct loop_timer try_timer;
};

/* The holder before its controller (ctrl_machine_config) is registered. */
int config_init(struct config_holder *h, struct loop *loop, const char *state_dir);
extern const struct ctrl_def ctrl_machine_config;
void config_fini(struct config_holder *h);
/*
 * Loads the persisted config (a copy that does not validate falls back to the other), the
 * identity, and resolves a try record (resumed before its deadline, rolled back after).
 * url is basalt.config from the kernel command line, or NULL; maintenance is
 * basalt.maintenance=1 (nothing persisted is used).
 */
void config_boot(struct config_holder *h, const char *url, bool maintenance);
/* Without a config in force and without a known identity: unauthenticated maintenance mode. */
bool config_maintenance(const struct config_holder *h);
/*
 * Validates text with patches; on success persists it (when a state directory is set) and
 * puts it in force. Returns 0, or -EINVAL with every problem in d, or -errno with err when
 * persisting failed (then nothing changed).
 */
int config_apply(struct config_holder *h, const char *source, const char *name, const char *text,
		 size_t len, const struct mconfig_patch *patches, size_t npatches, struct diag *d,
		 char *err, size_t errlen);
/*
 * Puts cfg (validated from text; taken over) in force as the committed config: persists
 * text first (when a state directory is set), then installs it; a try in progress is
 * confirmed by it. 0, or -errno with err (then nothing changed).
 */
int config_put(struct config_holder *h, const char *source, Basalt__Config__Config *cfg,
	       const char *text, size_t len, char *err, size_t errlen);
/*
 * Puts cfg (validated from text; taken over) in force on trial for timeout_ms: the committed
 * config stays persisted and returns at the deadline unless config_put confirms another.
 * A try over a try keeps returning to the config before the first. Needs a config in force.
 */
int config_try(struct config_holder *h, Basalt__Config__Config *cfg, const char *text, size_t len,
	       uint64_t timeout_ms, char *err, size_t errlen);

/*
 * Persists text (already validated) for the next boot without putting it in force
 * (staged). 0, -ENOTSUP when there is no state directory to keep it in, or -errno.
 */
int config_stage(struct config_holder *h, const char *text, size_t len, char *err, size_t errlen);
/*
 * Reset: removes every config and the node identity kept in the state directory (the
 * config in force stays in memory until the node goes down). 0, or -errno with err.
 */
int config_forget(struct config_holder *h, char *err, size_t errlen);
#endif
