/* SPDX-License-Identifier: MIT */
#include "init/spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_ARGV_MAX 256
#define SPEC_STR_MAX 4096

bool spec_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > SPEC_ID_MAX)
		return false;
	if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* Copies n strings (plus room for extra more) into a NULL-terminated vector. */
static char **strv_dup(char *const *src, size_t n, size_t extra)
{
	char **v = calloc(n + extra + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(src[i]);
		if (!v[i]) {
			strv_free(v);
			return NULL;
		}
	}
	return v;
}

static bool strv_equal(char *const *a, char *const *b)
{
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b) != 0)
			return false;
	return *a == NULL && *b == NULL;
}

static bool has_path(char *const *env, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(env[i], "PATH=", 5) == 0)
			return true;
	return false;
}

static int check_strings(char *const *v, size_t n, const char *field, const char *id, char *err,
			 size_t errlen)
{
	if (n > SPEC_ARGV_MAX) {
		snprintf(err, errlen, "service %s: %s has %zu entries (at most %d)", id, field, n,
			 SPEC_ARGV_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (strlen(v[i]) > SPEC_STR_MAX) {
			snprintf(err, errlen, "service %s: %s[%zu] is longer than %d bytes", id,
				 field, i, SPEC_STR_MAX);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_pb(const Basalt__Init__ServiceSpec *pb, char *err, size_t errlen)
{
	const char *id = pb->id;

	if (!spec_id_valid(id)) {
		snprintf(err, errlen, "service id \"%.64s\": must match [a-z0-9][a-z0-9._-]* and be at most %d bytes",
			 id, SPEC_ID_MAX);
		return -EINVAL;
	}
	if (pb->n_argv == 0 || pb->argv[0][0] != '/') {
		snprintf(err, errlen, "service %s: argv[0] must be an absolute path", id);
		return -EINVAL;
	}
	if (check_strings(pb->argv, pb->n_argv, "argv", id, err, errlen) < 0 ||
	    check_strings(pb->env, pb->n_env, "env", id, err, errlen) < 0 ||
	    check_strings(pb->depends, pb->n_depends, "depends", id, err, errlen) < 0)
		return -EINVAL;
	for (size_t i = 0; i < pb->n_env; i++) {
		if (!strchr(pb->env[i], '=') || pb->env[i][0] == '=') {
			snprintf(err, errlen, "service %s: env[%zu] \"%.64s\" is not KEY=value", id, i,
				 pb->env[i]);
			return -EINVAL;
		}
	}
	if (pb->cwd[0] && pb->cwd[0] != '/') {
		snprintf(err, errlen, "service %s: cwd \"%.64s\" is not an absolute path", id, pb->cwd);
		return -EINVAL;
	}
	if ((unsigned)pb->restart > SPEC_RESTART_NEVER) {
		snprintf(err, errlen, "service %s: unknown restart policy %d", id, pb->restart);
		return -EINVAL;
	}
	if (pb->log_ring_bytes > SPEC_RING_MAX) {
		snprintf(err, errlen, "service %s: logRingBytes %u exceeds %u", id,
			 pb->log_ring_bytes, SPEC_RING_MAX);
		return -EINVAL;
	}
	return 0;
}

int spec_from_pb(struct spec *s, const Basalt__Init__ServiceSpec *pb, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (check_pb(pb, err, errlen) < 0)
		return -EINVAL;
	s->id = strdup(pb->id);
	s->argv = strv_dup(pb->argv, pb->n_argv, 0);
	s->env = strv_dup(pb->env, pb->n_env, 1);
	s->depends = strv_dup(pb->depends, pb->n_depends, 0);
	s->cwd = strdup(pb->cwd[0] ? pb->cwd : "/");
	if (!s->id || !s->argv || !s->env || !s->depends || !s->cwd)
		goto nomem;
	if (!has_path(pb->env, pb->n_env)) {
		s->env[pb->n_env] = strdup(SPEC_DEFAULT_PATH);
		if (!s->env[pb->n_env])
			goto nomem;
	}
	s->ndepends = pb->n_depends;
	s->restart = (enum spec_restart)pb->restart;
	s->stop_timeout_ms = pb->stop_timeout_ms ? pb->stop_timeout_ms : 10000;
	s->backoff_base_ms = pb->backoff_base_ms ? pb->backoff_base_ms : 100;
	s->backoff_max_ms = pb->backoff_max_ms ? pb->backoff_max_ms : 30000;
	s->log_ring_bytes = pb->log_ring_bytes ? pb->log_ring_bytes : 65536;
	return 0;
nomem:
	spec_fini(s);
	snprintf(err, errlen, "service %s: out of memory", pb->id);
	return -ENOMEM;
}

void spec_fini(struct spec *s)
{
	free(s->id);
	strv_free(s->argv);
	strv_free(s->env);
	strv_free(s->depends);
	free(s->cwd);
	memset(s, 0, sizeof(*s));
}

bool spec_equal(const struct spec *a, const struct spec *b)
{
	return strcmp(a->id, b->id) == 0 && strv_equal(a->argv, b->argv) &&
	       strv_equal(a->env, b->env) && strv_equal(a->depends, b->depends) &&
	       a->restart == b->restart && a->stop_timeout_ms == b->stop_timeout_ms &&
	       a->backoff_base_ms == b->backoff_base_ms && a->backoff_max_ms == b->backoff_max_ms &&
	       a->log_ring_bytes == b->log_ring_bytes && strcmp(a->cwd, b->cwd) == 0;
}

bool spec_depends_on(const struct spec *s, const char *id)
{
	for (size_t i = 0; i < s->ndepends; i++)
		if (strcmp(s->depends[i], id) == 0)
			return true;
	return false;
}

static long find_id(const struct spec *set, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(set[i].id, id) == 0)
			return (long)i;
	return -1;
}

/* Depth-first search for a cycle; color: 0 white, 1 on stack, 2 done. */
static long find_cycle(const struct spec *set, size_t n, size_t i, unsigned char *color)
{
	color[i] = 1;
	for (size_t d = 0; d < set[i].ndepends; d++) {
		long j = find_id(set, n, set[i].depends[d]);

		if (j < 0)
			continue;
		if (color[j] == 1)
			return j;
		if (color[j] == 0) {
			long c = find_cycle(set, n, (size_t)j, color);

			if (c >= 0)
				return c;
		}
	}
	color[i] = 2;
	return -1;
}

int spec_validate_set(const struct spec *set, size_t n, const char *required_id, char *err,
		      size_t errlen)
{
	unsigned char color[SPEC_MAX_SERVICES] = { 0 };

	if (n > SPEC_MAX_SERVICES) {
		snprintf(err, errlen, "%zu services requested (at most %d)", n, SPEC_MAX_SERVICES);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (find_id(set, i, set[i].id) >= 0) {
			snprintf(err, errlen, "service %s appears twice", set[i].id);
			return -EINVAL;
		}
		for (size_t d = 0; d < set[i].ndepends; d++) {
			if (find_id(set, n, set[i].depends[d]) < 0) {
				snprintf(err, errlen, "service %s depends on unknown service \"%.64s\"",
					 set[i].id, set[i].depends[d]);
				return -EINVAL;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		long c = color[i] == 0 ? find_cycle(set, n, i, color) : -1;

		if (c >= 0) {
			snprintf(err, errlen, "dependency cycle through service %s", set[c].id);
			return -EINVAL;
		}
	}
	if (required_id && find_id(set, n, required_id) < 0) {
		snprintf(err, errlen, "the set must include %s (init's core service)", required_id);
		return -EINVAL;
	}
	return 0;
}
