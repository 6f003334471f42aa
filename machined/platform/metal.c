/* SPDX-License-Identifier: MIT */
/*
 * metal: bare machines, booted from an ISO or over PXE. The config comes from
 * basalt.config=<url> on the kernel command line (its variables filled in), fetched over
 * HTTP until one arrives whole and applies: every failure (no route yet, refused, a
 * timeout, a status other than 200, a body cut short, a config that does not validate)
 * is said and retried with backoff, as the network may still be coming up or the server
 * still being set up. Without basalt.config the machine waits in maintenance mode.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/backoff.h"
#include "lib/http.h"
#include "lib/log.h"
#include "machined/platform/platform.h"

#define METAL_CONFIG_MAX (1u << 20)
#define METAL_TIMEOUT_MS 60000

static const struct backoff retry_backoff = { 1000, 2000, 30000 };

struct metal {
	struct platform_ctx *p;
	struct loop_timer retry;
	struct http_get *get;
	unsigned attempt;
	char url[HTTP_HOST_MAX + HTTP_PATH_MAX + 16];
	char said[768];                 /* the failure last written to the console */
};

static void attempt(void *arg);

static void failed(struct metal *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failed(struct metal *m, const char *fmt, ...)
{
	uint64_t delay = backoff_delay_ms(&retry_backoff, m->attempt);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->p->error, sizeof(m->p->error), fmt, ap);
	va_end(ap);
	platform_printable(m->p->error);
	/* The console hears of each new kind of failure once; the log of every attempt. */
	if (strcmp(m->said, m->p->error) != 0) {
		log_console("metal: config from %s: %s; trying again (every %u s at most)", m->url, m->p->error,
			    retry_backoff.max_ms / 1000);
		snprintf(m->said, sizeof(m->said), "%s", m->p->error);
	} else {
		log_info("metal: config from %s, attempt %u: %s; next in %llu ms", m->url, m->attempt, m->p->error,
			 (unsigned long long)delay);
	}
	loop_timer_arm(m->p->env.loop, &m->retry, delay);
}

static void fetched(void *arg, int status, const uint8_t *body, size_t len, const char *err)
{
	struct metal *m = arg;
	char why[768];

	m->get = NULL;
	if (err) {
		failed(m, "%s", err);
		return;
	}
	if (status != 200) {
		failed(m, "HTTP status %d", status);
		return;
	}
	if (m->p->env.on_config(m->p->env.arg, "platform", (const char *)body, len, why, sizeof(why)) < 0) {
		failed(m, "%s", why);
		return;
	}
	log_console("metal: machine config from %s applied (%zu bytes, attempt %u)", m->url, len, m->attempt);
	m->p->error[0] = '\0';
}

static void attempt(void *arg)
{
	struct metal *m = arg;
	const struct platform_env *env = &m->p->env;
	struct http_url u;
	char err[256];

	if (env->configured && env->configured(env->arg)) {
		log_info("metal: a config is in force: not fetching %s any more", env->cmdline->config_url);
		return;
	}
	m->attempt++;
	if (platform_expand_url(env, env->cmdline->config_url, m->url, sizeof(m->url), err, sizeof(err)) < 0) {
		snprintf(m->url, sizeof(m->url), "%s", env->cmdline->config_url);
		failed(m, "%s", err);
		return;
	}
	if (http_url_parse(m->url, &u, err, sizeof(err)) < 0 ||
	    http_get_start(env->loop, &u, NULL, 0, METAL_CONFIG_MAX, METAL_TIMEOUT_MS, fetched, m, &m->get, err,
			   sizeof(err)) < 0) {
		failed(m, "%s", err);
		return;
	}
	log_info("metal: fetching the machine config from %s (attempt %u)", m->url, m->attempt);
}

static int metal_start(struct platform_ctx *p, char *err, size_t errlen)
{
	struct metal *m;

	if (!p->env.cmdline || !p->env.cmdline->config_url)
		return 0;
	if (!(m = calloc(1, sizeof(*m)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->p = p;
	p->state = m;
	loop_timer_init(&m->retry, attempt, m);
	attempt(m);
	return 1;
}

static void metal_stop(struct platform_ctx *p)
{
	struct metal *m = p->state;

	if (!m)
		return;
	http_get_cancel(m->get);
	loop_timer_cancel(p->env.loop, &m->retry);
	free(m);
	p->state = NULL;
}

const struct platform_ops platform_metal = {
	.name = "metal",
	.start = metal_start,
	.stop = metal_stop,
};
