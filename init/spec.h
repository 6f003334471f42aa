/* SPDX-License-Identifier: MIT */
/* A service's specification as init keeps it, and validation of a desired set. */
#ifndef BASALT_SPEC_H
#define BASALT_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/init.pb-c.h"

#define SPEC_ID_MAX 63
#define SPEC_MAX_SERVICES 64
#define SPEC_RING_MAX (4u << 20)

enum spec_restart {
	SPEC_RESTART_ALWAYS = 0,
	SPEC_RESTART_ON_FAILURE = 1,
	SPEC_RESTART_NEVER = 2,
};

struct spec {
	char *id;
	char **argv;       /* NULL-terminated */
	char **env;        /* NULL-terminated, PATH added when absent */
	char **depends;    /* NULL-terminated */
	size_t ndepends;
	enum spec_restart restart;
	uint32_t stop_timeout_ms;
	uint32_t backoff_base_ms;
	uint32_t backoff_max_ms;
	uint32_t log_ring_bytes;
	char *cwd;         /* never NULL after spec_from_pb */
};

#define SPEC_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Copies and defaults pb into s; err names the field at fault. Caller frees with spec_fini. */
int spec_from_pb(struct spec *s, const Basalt__Init__ServiceSpec *pb, char *err, size_t errlen);
void spec_fini(struct spec *s);
bool spec_equal(const struct spec *a, const struct spec *b);
bool spec_depends_on(const struct spec *s, const char *id);
bool spec_id_valid(const char *id);

/*
 * Checks a whole desired set: each spec valid, ids unique, dependencies known and acyclic,
 * and required_id (the core service) present. Returns 0 or -EINVAL with err set.
 */
int spec_validate_set(const struct spec *set, size_t n, const char *required_id, char *err,
		      size_t errlen);

#endif
