/* SPDX-License-Identifier: MIT */
/*
 * Where a machine without a persisted config gets one: the platform it runs on, chosen by
 * basalt.platform= or detected, each behind one ops table (machined/platform/<name>.c).
 * A platform's config is fetched on the event loop, retried with backoff while the
 * network comes up, and handed to machined whole (never half-read) through on_config,
 * which validates and applies it. What a selected platform cannot do yet is said at run
 * time, naming it.
 */
#ifndef BASALT_PLATFORM_H
#define BASALT_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/cmdline.h"
#include "lib/loop.h"

struct platform_ctx;

/* 0 when the config was put in force; else -1 with why in err (it is fetched again). */
typedef int platform_config_fn(void *arg, const char *source, const char *text, size_t len, char *err,
			       size_t errlen);

struct platform_env {
	struct loop *loop;
	const struct cmdline *cmdline;
	const char *sysfs;              /* "/sys", or a test's copy */
	platform_config_fn *on_config;
	bool (*configured)(void *arg);  /* a config is in force (applied meanwhile): stop fetching */
	void *arg;
};

struct platform_ops {
	const char *name;
	/* Whether the machine looks like this platform (DMI, volumes, fw_cfg); NULL: never guessed. */
	bool (*detect)(const struct platform_env *env);
	/* Starts getting the config: 1 when it is being fetched, 0 when the platform has none
	 * (maintenance mode), -1 with err when it cannot. */
	int (*start)(struct platform_ctx *p, char *err, size_t errlen);
	void (*stop)(struct platform_ctx *p);
};

struct platform_ctx {
	const struct platform_ops *ops;
	struct platform_env env;
	void *state;                    /* the platform's own */
	char error[768];                /* the last failure, for the console and the log */
};

/* Picks the platform (basalt.platform=, else the first detected, else metal) and starts it. */
int platform_start(struct platform_ctx *p, const struct platform_env *env);
void platform_stop(struct platform_ctx *p);

/*
 * The URL with its variables filled in from the machine: ${mac} (the first physical
 * Ethernet link's address), ${uuid} and ${serial} (DMI), ${hostname}; each value
 * percent-encoded. -1 with err naming an unknown variable or one this machine lacks.
 */
int platform_expand_url(const struct platform_env *env, const char *url, char *out, size_t outlen, char *err,
			size_t errlen);

extern const struct platform_ops platform_metal;

#endif
