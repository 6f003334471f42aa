/* SPDX-License-Identifier: MIT */
/*
 * ServiceSpecController: the services machined wants init to run. machined and containerd
 * always; kubelet on every configured machine and etcd on control planes, once the image
 * carries them (until then the controller says which are missing).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/config.pb-c.h"
#include "api/runtime.pb-c.h"
#include "machined/ctrl/controllers.h"

#define KUBELET_BIN "/usr/bin/kubelet"
#define ETCD_BIN "/usr/bin/etcd"

static const struct rt_input inputs[] = { { RES(MACHINE_CONFIG), RT_WEAK } };
static const struct rt_output outputs[] = { { RES(SERVICE_SPEC), RT_EXCLUSIVE } };

static char **strv(char *const *src, size_t n)
{
	char **v = calloc(n + 1, sizeof(*v));

	for (size_t i = 0; v && i < n; i++)
		v[i] = strdup(src[i]);
	return v;
}

static int apply_spec(struct rt_ctx *ctx, const char *id, char *const *argv, size_t argc,
		      char *const *env, size_t nenv)
{
	Basalt__Runtime__ServiceSpec *s = malloc(sizeof(*s));

	if (!s)
		return -ENOMEM;
	basalt__runtime__service_spec__init(s);
	s->argv = strv(argv, argc);
	s->n_argv = argc;
	if (nenv) {
		s->env = strv(env, nenv);
		s->n_env = nenv;
	}
	s->restart = strdup("always");
	s->logringbytes = 256u << 10;
	return rt_apply(ctx, res_new(RES(SERVICE_SPEC), id, &s->base));
}

static bool in_image(const struct service_specs *s, const char *path)
{
	char full[512];

	snprintf(full, sizeof(full), "%s%s", s->root, path);
	return access(full, X_OK) == 0;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct service_specs *s = arg;
	const struct res *cr = rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1");
	const Basalt__Config__Config *cfg = res_spec(cr, RES(MACHINE_CONFIG));
	char *ctrd[] = { (char *)s->containerd, "--config", (char *)s->containerd_config };
	char env[160], console[160], missing[256] = "";
	char *envv[] = { env, console };
	const char *con = getenv("BASALT_CONSOLE");
	size_t argc = 0;
	int r;

	while (s->self_argv[argc])
		argc++;
	/* machined's own spec repeats what init started it with, so init sees no change. */
	snprintf(env, sizeof(env), "BASALT_INIT_SOCKET=%s", s->init_socket);
	snprintf(console, sizeof(console), "BASALT_CONSOLE=%s", con ? con : "");
	r = apply_spec(ctx, "machined", s->self_argv, argc, envv, con ? 2 : 1);
	if (r == 0)
		r = apply_spec(ctx, "containerd", ctrd, 3, NULL, 0);
	if (r < 0 || !cfg || !cfg->machine)
		return r;
	if (!in_image(s, KUBELET_BIN))
		snprintf(missing, sizeof(missing), "kubelet (%s)", KUBELET_BIN);
	if (cfg->machine->type && strcmp(cfg->machine->type, "controlplane") == 0 && !in_image(s, ETCD_BIN))
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%setcd (%s)",
			 missing[0] ? " and " : "", ETCD_BIN);
	if (missing[0])
		return rt_fail(ctx, "the machine config (a %s) needs %s, which this image does not carry yet",
			       cfg->machine->type, missing);
	return rt_fail(ctx, "kubelet and etcd are in the image, but running them is not implemented yet");
}

static void *specs_of(const struct ctrl_env *env)
{
	return env->specs;
}

static int specs_init(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	(void)env;
	((struct service_specs *)state)->ctrl = self;
	return 0;
}

const struct ctrl_def ctrl_service_specs = {
	.rt = { .name = "ServiceSpecController", .inputs = inputs, .ninputs = 1,
		.outputs = outputs, .noutputs = 1, .reconcile = reconcile },
	.shared = specs_of,
	.init = specs_init,
};
