/* SPDX-License-Identifier: MIT */
/*
 * The machine config in force, and MachineConfigController, which publishes it as
 * config/MachineConfig/v1alpha1 and says where it came from in runtime/ConfigStatus/config.
 * A config is validated before anything else happens to it, persisted atomically, and only
 * then installed; an invalid one changes nothing.
 */
#ifndef BASALT_CONFIG_H
#define BASALT_CONFIG_H

#include <stddef.h>

#include "lib/mconfig.h"
#include "machined/runtime.h"

struct config_holder {
	struct rt_ctrl *ctrl;
	char *state_dir;                 /* where it is persisted; NULL: not persisted */
	Basalt__Config__Config *cfg;     /* NULL: none (maintenance mode) */
	char state[16];                  /* loaded | absent | invalid */
	char source[16];                 /* state | apply | file | none */
	char message[1024];
	char sha256[65];
};

int config_register(struct config_holder *h, struct rt *rt, const char *state_dir, char *err,
		    size_t errlen);
void config_fini(struct config_holder *h);
/* Loads the persisted config. url is basalt.config from the kernel command line, or NULL. */
void config_boot(struct config_holder *h, const char *url);
/*
 * Validates text with patches; on success persists it (when a state directory is set) and
 * puts it in force. Returns 0, or -EINVAL with every problem in d, or -errno with err when
 * persisting failed (then nothing changed).
 */
int config_apply(struct config_holder *h, const char *source, const char *name, const char *text,
		 size_t len, const struct mconfig_patch *patches, size_t npatches, struct diag *d,
		 char *err, size_t errlen);

/*
 * Puts cfg (validated from text; taken over) in force: persists text first (when a state
 * directory is set), then installs it. 0, or -errno with err (then nothing changed).
 */
int config_put(struct config_holder *h, const char *source, Basalt__Config__Config *cfg,
	       const char *text, size_t len, char *err, size_t errlen);

/*
 * Persists text (already validated) for the next boot without putting it in force
 * (staged). 0, -ENOTSUP when there is no state directory to keep it in, or -errno.
 */
int config_stage(struct config_holder *h, const char *text, size_t len, char *err, size_t errlen);
#endif
