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

#include "api/config.pb-c.h"
#include "lib/cmdline.h"
#include "lib/loop.h"

struct platform_ctx;

#define PLATFORM_EXTERNAL_MAX 4

/* 0 when the config was put in force; else -1 with why in err (it is fetched again). */
typedef int platform_config_fn(void *arg, const char *source, const char *text, size_t len, char *err,
			       size_t errlen);

/* What a platform says about the machine (runtime/PlatformMetadata); "" where unknown. */
struct platform_metadata {
	char platform[16];
	char hostname[64];
	char instance_id[128];
	char instance_type[64];
	char region[64];
	char zone[64];
	/* Addresses the machine is reached at that are on none of its links (EC2's public
	 * IPv4): network/NodeAddress/external. */
	char external[PLATFORM_EXTERNAL_MAX][46];
	unsigned n_external;
	/* The network the platform describes (NoCloud's network-config), borrowed for the
	 * call: the platform layer of the network specs. NULL: none. */
	const Basalt__Config__Network *network;
};

struct platform_env {
	struct loop *loop;
	const struct cmdline *cmdline;
	const char *sysfs;              /* "/sys", or a test's copy */
	platform_config_fn *on_config;
	bool (*configured)(void *arg);  /* a config is in force (applied meanwhile): stop fetching */
	/* What the platform learnt about the machine; called again when it learns more. */
	void (*on_metadata)(void *arg, const struct platform_metadata *md);
	void *arg;
	bool machine;                   /* a real machine: its block devices are its own */
};

struct platform_ops {
	const char *name;
	/* Whether the machine looks like this platform (DMI, volumes, fw_cfg); NULL: never guessed. */
	bool (*detect)(const struct platform_env *env);
	/* Starts getting the config: 1 when it is being fetched, 0 when the platform has none
	 * (maintenance mode), -1 with err when it cannot. */
	int (*start)(struct platform_ctx *p, char *err, size_t errlen);
	void (*stop)(struct platform_ctx *p);
	/* With a config in force: fills in what the platform says beyond the name and the DMI
	 * UUID (NULL: nothing more); a network it sets there is the caller's to free. */
	void (*describe)(const struct platform_env *env, struct platform_metadata *md);
	/* Instead of describe: what it says comes from a service, so with a config in force
	 * the platform is started all the same, with report_only set (it asks for no config). */
	bool report_by_start;
	/* Its metadata is always describe's (the DMI data is not the machine's own: a container's
	 * /sys is its host's). */
	bool own_identity;
};

struct platform_ctx {
	const struct platform_ops *ops;
	struct platform_env env;
	void *state;                    /* the platform's own */
	char error[768];                /* the last failure, for the console and the log */
	bool report_only;               /* a config is in force: only the metadata is wanted */
};

/*
 * Picks the platform (basalt.platform=; else metal when basalt.config= is given; else the
 * first detected; else metal) and starts it. Its metadata (at least its name and the DMI
 * UUID) is reported through on_metadata at once. 0 when the platform was not started (none
 * selected or it has no config), 1 when it fetches.
 */
int platform_start(struct platform_ctx *p, const struct platform_env *env);
/* With a config in force already: only which platform this is and what it says
 * (on_metadata), no config fetched; a report_by_start platform is started into p for it. */
void platform_report(struct platform_ctx *p, const struct platform_env *env);
/* A platform's metadata changed: on_metadata with md. */
void platform_metadata(struct platform_ctx *p, const struct platform_metadata *md);
/* A line of sysfs (path below the env's sysfs), trailing blanks cut; -1 when absent or empty. */
int platform_sysfs_line(const struct platform_env *env, const char *path, char *out, size_t len);
void platform_stop(struct platform_ctx *p);

/*
 * The URL with its variables filled in from the machine: ${mac} (the first physical
 * Ethernet link's address), ${uuid} and ${serial} (DMI), ${hostname}; each value
 * percent-encoded. -1 with err naming an unknown variable or one this machine lacks.
 */
int platform_expand_url(const struct platform_env *env, const char *url, char *out, size_t outlen, char *err,
			size_t errlen);

extern const struct platform_ops platform_metal;
extern const struct platform_ops platform_qemu;
extern const struct platform_ops platform_nocloud;
extern const struct platform_ops platform_openstack;
extern const struct platform_ops platform_aws;
extern const struct platform_ops platform_container;
/*
 * A platform that looks for its config on the machine (a device, a volume), again every
 * so often while it may still be appearing: the state of qemu and of the seed volumes.
 */
struct platform_looker {
	struct platform_ctx *p;
	struct loop_timer timer;     /* fires look(looker) */
	unsigned looks;              /* made so far */
	const void *data;            /* the platform's, for look */
};
/* p->state becomes a looker; look(looker) runs at once. 1, or -1 with err. */
int platform_looker_start(struct platform_ctx *p, loop_timer_fn *look, const void *data, char *err, size_t errlen);
void platform_looker_stop(struct platform_ctx *p);
/* What a platform's input says (a config's validation error quoting it) made fit for the
 * console: each control character becomes '?'. */
void platform_printable(char *s);
/* The DMI UUID in lower case ("" when the machine has none). */
void platform_dmi_uuid(const struct platform_env *env, char *out, size_t len);

#endif
