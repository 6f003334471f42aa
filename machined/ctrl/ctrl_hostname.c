/* SPDX-License-Identifier: MIT */
/*
 * HostnameConfigController turns machine.network.hostname into network/HostnameSpec;
 * HostnameApplyController gives that name to the kernel and reports the name the kernel
 * has as network/HostnameStatus (so a change made behind machined's back shows).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "api/config.pb-c.h"
#include "api/network.pb-c.h"
#include "machined/ctrl/controllers.h"

static const struct rt_input config_in[] = { { RES(MACHINE_CONFIG), RT_WEAK } };
static const struct rt_output spec_out[] = { { RES(HOSTNAME_SPEC), RT_EXCLUSIVE } };
static const struct rt_input spec_in[] = { { RES(HOSTNAME_SPEC), RT_WEAK } };
static const struct rt_output status_out[] = { { RES(HOSTNAME_STATUS), RT_EXCLUSIVE } };

static int config_reconcile(struct rt_ctx *ctx, void *arg)
{
	const struct res *cr = rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1");
	const Basalt__Config__Config *cfg = res_spec(cr, RES(MACHINE_CONFIG));
	const char *name = cfg && cfg->machine && cfg->machine->network ? cfg->machine->network->hostname : NULL;
	Basalt__Network__HostnameSpec *s;
	const char *dot;

	(void)arg;
	if (!name)
		return 0;  /* nothing written: a spec from an earlier config is cleaned up */
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	basalt__network__hostname_spec__init(s);
	/* "node1.example.com": the name is the first label, the rest the domain. */
	dot = strchr(name, '.');
	s->hostname = dot ? strndup(name, (size_t)(dot - name)) : strdup(name);
	s->domainname = strdup(dot ? dot + 1 : "");
	s->layer = strdup("configuration");
	return rt_apply(ctx, res_new(RES(HOSTNAME_SPEC), "hostname", &s->base));
}

static int apply_reconcile(struct rt_ctx *ctx, void *arg)
{
	const struct res *sr = rt_get(ctx, RES(HOSTNAME_SPEC), "hostname");
	const Basalt__Network__HostnameSpec *spec = res_spec(sr, RES(HOSTNAME_SPEC));
	Basalt__Network__HostnameStatus *st;
	struct utsname u;

	(void)arg;
	if (uname(&u) < 0)
		return rt_fail(ctx, "uname: %s", strerror(errno));
	if (spec && strcmp(u.nodename, spec->hostname) != 0 &&
	    sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		return rt_fail(ctx, "set hostname %s: %s", spec->hostname, strerror(errno));
	if (spec && strcmp(u.domainname, spec->domainname) != 0 &&
	    setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
		return rt_fail(ctx, "set domain name %s: %s", spec->domainname, strerror(errno));
	if (uname(&u) < 0)
		return rt_fail(ctx, "uname: %s", strerror(errno));
	st = malloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	basalt__network__hostname_status__init(st);
	st->hostname = strdup(u.nodename);
	st->domainname = strdup(strcmp(u.domainname, "(none)") == 0 ? "" : u.domainname);
	return rt_apply(ctx, res_new(RES(HOSTNAME_STATUS), "hostname", &st->base));
}

const struct ctrl_def ctrl_hostname_config = {
	.rt = { .name = "HostnameConfigController", .inputs = config_in, .ninputs = 1,
		.outputs = spec_out, .noutputs = 1, .reconcile = config_reconcile },
};

const struct ctrl_def ctrl_hostname_apply = {
	.rt = { .name = "HostnameApplyController", .inputs = spec_in, .ninputs = 1,
		.outputs = status_out, .noutputs = 1, .reconcile = apply_reconcile },
	.touches_machine = true,
};
