/* SPDX-License-Identifier: MIT */
/*
 * container: a node that runs as a container (init --container under Docker, as `osctl
 * cluster create --provisioner docker` starts it). Its machine config is the engine's
 * environment variable USERDATA (base64), which the engine gives the container's first
 * process, init: read from machined's own environment when it has one, else from init's
 * (/proc/1/environ, readable by root only). Detected by that variable in a container (not
 * a real machine); its metadata is the container's host name. A config that does not apply
 * is said, and the node waits in maintenance mode.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/atomicfile.h"
#include "lib/log.h"
#include "machined/platform/cloudinit.h"
#include "machined/platform/platform.h"

/* The environment block that may hold USERDATA: machined's own when it has the variable,
 * else PID 1's. 0 with *out (free it), or -errno. */
static int environ_block(char **out, size_t *len)
{
	const char *own = getenv("USERDATA");

	if (own) {
		size_t n = strlen(own);

		if (!(*out = malloc(n + 10)))
			return -ENOMEM;
		memcpy(*out, "USERDATA=", 9);
		memcpy(*out + 9, own, n + 1);
		*len = n + 9;
		return 0;
	}
	return read_file("/proc/1/environ", CONTAINER_USERDATA_MAX + (64u << 10), out, len);
}

static bool container_detect(const struct platform_env *env)
{
	char *block = NULL, *text = NULL, err[160];
	size_t len = 0, tlen = 0;
	int r;

	if (env->machine || environ_block(&block, &len) < 0)
		return false;
	/* A USERDATA that does not decode is still this platform's: start says why. */
	r = container_userdata(block, len, &text, &tlen, err, sizeof(err));
	free(block);
	free(text);
	return r != 0;
}

static int container_start(struct platform_ctx *p, char *err, size_t errlen)
{
	const struct platform_env *env = &p->env;
	char *block = NULL, *text = NULL, why[768];
	size_t len = 0, tlen = 0;
	int r;

	if ((r = environ_block(&block, &len)) < 0) {
		snprintf(err, errlen, "the container's environment (/proc/1/environ): %s", strerror(-r));
		return -1;
	}
	r = container_userdata(block, len, &text, &tlen, why, sizeof(why));
	free(block);
	if (r < 0) {
		snprintf(err, errlen, "%s: maintenance mode", why);
		return -1;
	}
	if (r == 0) {
		log_console("container: no USERDATA in the container's environment (docker run -e USERDATA=<the "
			    "machine config, base64>): maintenance mode");
		return 0;
	}
	r = env->on_config(env->arg, "platform", text, tlen, why, sizeof(why));
	if (r < 0)
		log_console("container: the machine config in USERDATA (%zu bytes) %s: maintenance mode", tlen, why);
	else
		log_console("container: machine config from USERDATA applied (%zu bytes)", tlen);
	free(text);
	return r < 0 ? 0 : 1;
}

static void container_describe(const struct platform_env *env, struct platform_metadata *md)
{
	(void)env;
	/* The container's name (the engine gives it as the host name): /sys is the host's, so
	 * its DMI UUID is no id of this node. */
	if (gethostname(md->hostname, sizeof(md->hostname) - 1) < 0)
		md->hostname[0] = '\0';
	snprintf(md->instance_id, sizeof(md->instance_id), "%s", md->hostname);
}

const struct platform_ops platform_container = {
	.name = "container",
	.own_identity = true,
	.detect = container_detect,
	.start = container_start,
	.describe = container_describe,
};
