/* SPDX-License-Identifier: MIT */
/*
 * aws: EC2's instance metadata service (IMDS) at http://169.254.169.254, asked only when
 * basalt.platform=aws or the DMI data names EC2 (never probed elsewhere). IMDSv2: a token
 * first (PUT /latest/api/token), sent with every GET; a service that does not know the
 * PUT (404, 405) is asked without one (IMDSv1), one that refuses it (403: IMDS switched
 * off for the instance) is not asked at all. Then the meta-data (instance id and type,
 * host name, region and zone: PlatformMetadata and the platform layer's host name; the
 * public IPv4 and IPv6 address: NodeAddress external) and the user-data, the machine
 * config. Every failure (no route yet, refused, a timeout, a status the service should
 * not send, a config that does not validate) is said and retried with backoff, as the
 * network may still be coming up; a token that has run out (401) is asked for again.
 * Without user-data the machine waits in maintenance mode.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/backoff.h"
#include "lib/http.h"
#include "lib/log.h"
#include "machined/platform/cloudinit.h"
#include "machined/platform/platform.h"

#define IMDS_HOST "169.254.169.254"
#define IMDS_CONFIG_MAX (1u << 20)
#define IMDS_REPLY_MAX 4096
#define IMDS_TIMEOUT_MS 10000
#define IMDS_TOKEN_TTL "21600"

static const struct backoff retry_backoff = { 1000, 2000, 30000 };

enum { STEP_TOKEN = -1, STEP_USER = IMDS_NFIELDS };

struct aws {
	struct platform_ctx *p;
	struct loop_timer retry;
	struct http_get *get;
	int step;                       /* STEP_TOKEN, a meta-data field, STEP_USER */
	int resume;                     /* the step a new token is for */
	unsigned unauthorized;          /* 401s in a row */
	unsigned attempt;               /* of this step */
	unsigned requests;
	bool v1;                        /* no token: the service does not know the PUT */
	char token[IMDS_TOKEN_MAX + 1];
	struct platform_metadata md;
	char said[768];                 /* the failure last written to the console */
};

static void request(void *arg);

static const char *step_path(int step)
{
	return step == STEP_TOKEN ? "/latest/api/token" : step == STEP_USER ? "/latest/user-data" : imds_paths[step];
}

static void failed(struct aws *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failed(struct aws *a, const char *fmt, ...)
{
	uint64_t delay = backoff_delay_ms(&retry_backoff, a->attempt);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->p->error, sizeof(a->p->error), fmt, ap);
	va_end(ap);
	platform_printable(a->p->error);
	if (strcmp(a->said, a->p->error) != 0) {
		log_console("aws: http://" IMDS_HOST "%s: %s; trying again (every %u s at most)", step_path(a->step),
			    a->p->error, retry_backoff.max_ms / 1000);
		snprintf(a->said, sizeof(a->said), "%s", a->p->error);
	} else {
		log_info("aws: %s, attempt %u: %s; next in %llu ms", step_path(a->step), a->attempt, a->p->error,
			 (unsigned long long)delay);
	}
	loop_timer_arm(a->p->env.loop, &a->retry, delay);
}

static void next(struct aws *a, int step)
{
	a->step = step;
	a->attempt = 0;
	if (step == STEP_USER)
		platform_metadata(a->p, &a->md);  /* what is known by now, before the config */
	request(a);
}

static void user_data(struct aws *a, int status, const uint8_t *body, size_t len)
{
	const struct platform_env *env = &a->p->env;
	char why[768];

	if (env->configured && env->configured(env->arg)) {
		log_info("aws: a config was put in force meanwhile: the user-data is not applied");
		return;
	}
	if (status == 404) {
		log_console("aws: the instance has no user-data (the machine config): maintenance mode");
		return;
	}
	if (env->on_config(env->arg, "platform", (const char *)body, len, why, sizeof(why)) < 0) {
		failed(a, "%s", why);
		return;
	}
	log_console("aws: machine config from the user-data of %s applied (%zu bytes, %u requests to IMDS%s)",
		    a->md.instance_id[0] ? a->md.instance_id : "the instance", len, a->requests, a->v1 ? ", IMDSv1" : "");
	a->p->error[0] = '\0';
}

static void replied(void *arg, int status, const uint8_t *body, size_t len, const char *err)
{
	struct aws *a = arg;
	char why[512];

	a->get = NULL;
	if (err) {
		failed(a, "%s", err);
		return;
	}
	if (a->step == STEP_TOKEN) {
		if (status == 404 || status == 405) {
			log_console("aws: IMDS answers the token PUT with %d: asked without a token (IMDSv1)", status);
			a->v1 = true;
			next(a, a->resume);
		} else if (status == 403) {
			log_console("aws: IMDS refuses a token (403: the metadata service is off for this instance): "
				    "maintenance mode");
		} else if (status != 200) {
			failed(a, "HTTP status %d", status);
		} else if (imds_token((const char *)body, len, a->token, why, sizeof(why)) < 0) {
			failed(a, "%s", why);
		} else {
			next(a, a->resume);
		}
		return;
	}
	if (status == 401 && !a->v1) {
		/* The token ran out: a new one at once, for the same step; a 401 with a token
		 * just given is a failure, retried with backoff. */
		a->resume = a->step;
		a->step = STEP_TOKEN;
		if (a->unauthorized++ == 0) {
			log_info("aws: the IMDS token has run out (401): asking for a new one");
			a->attempt = 0;
			request(a);
		} else {
			a->attempt = a->unauthorized - 1;  /* the delay grows with each 401 in a row */
			failed(a, "%s answered 401 with a token just given", step_path(a->resume));
		}
		return;
	}
	a->unauthorized = 0;
	if (status != 200 && status != 404) {
		failed(a, "HTTP status %d", status);
		return;
	}
	if (a->step == STEP_USER) {
		user_data(a, status, body, len);
		return;
	}
	/* A field the instance has not (404: no public address) stays empty; one that does not
	 * read as what it is, is said and left out. */
	if (status == 200 && imds_value((enum imds_field)a->step, (const char *)body, len, &a->md, why, sizeof(why)) < 0)
		log_console("aws: %s (not used)", why);
	next(a, a->step + 1);
}

static void request(void *arg)
{
	struct aws *a = arg;
	const struct platform_env *env = &a->p->env;
	char url[HTTP_PATH_MAX], err[256], hdr[IMDS_TOKEN_MAX + 64];
	const char *put[] = { "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL, "Content-Length: 0" };
	const char *get[] = { hdr };
	struct http_url u;

	if (a->step == STEP_USER && (a->p->report_only || (env->configured && env->configured(env->arg)))) {
		log_info("aws: a config is in force: the user-data is not asked for");
		return;
	}
	a->attempt++;
	a->requests++;
	snprintf(url, sizeof(url), "http://" IMDS_HOST "%s", step_path(a->step));
	snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", a->token);
	if (http_url_parse(url, &u, err, sizeof(err)) < 0 ||
	    (a->step == STEP_TOKEN
		     ? http_fetch_start(env->loop, "PUT", &u, put, 2, IMDS_REPLY_MAX, IMDS_TIMEOUT_MS, replied, a, &a->get,
					err, sizeof(err))
		     : http_get_start(env->loop, &u, get, a->v1 ? 0 : 1, a->step == STEP_USER ? IMDS_CONFIG_MAX : IMDS_REPLY_MAX,
				      IMDS_TIMEOUT_MS, replied, a, &a->get, err, sizeof(err))) < 0) {
		failed(a, "%s", err);
		return;
	}
}

/* EC2's DMI: the system vendor (Nitro instances), or (Xen instances) a UUID that begins
 * with ec2 and is also the serial: a random UUID begins with ec2 once in 4096. */
static bool aws_detect(const struct platform_env *env)
{
	char v[128], serial[128];

	if (platform_sysfs_line(env, "class/dmi/id/sys_vendor", v, sizeof(v)) == 0 && strcmp(v, "Amazon EC2") == 0)
		return true;
	return platform_sysfs_line(env, "class/dmi/id/product_uuid", v, sizeof(v)) == 0 && strncasecmp(v, "ec2", 3) == 0 &&
	       platform_sysfs_line(env, "class/dmi/id/product_serial", serial, sizeof(serial)) == 0 &&
	       strcasecmp(v, serial) == 0;
}

static int aws_start(struct platform_ctx *p, char *err, size_t errlen)
{
	struct aws *a;

	if (!(a = calloc(1, sizeof(*a)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->p = p;
	p->state = a;
	snprintf(a->md.platform, sizeof(a->md.platform), "aws");
	loop_timer_init(&a->retry, request, a);
	next(a, STEP_TOKEN);
	return 1;
}

static void aws_stop(struct platform_ctx *p)
{
	struct aws *a = p->state;

	if (!a)
		return;
	http_get_cancel(a->get);
	loop_timer_cancel(p->env.loop, &a->retry);
	free(a);
	p->state = NULL;
}

const struct platform_ops platform_aws = {
	.name = "aws",
	.detect = aws_detect,
	.start = aws_start,
	.stop = aws_stop,
	.report_by_start = true,
};
