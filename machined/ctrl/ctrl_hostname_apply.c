/* SPDX-License-Identifier: MIT */
/*
 * HostnameApplyController: gives network/HostnameSpec's name to the kernel and reports the
 * name the kernel has as network/HostnameStatus (so a change made behind machined's back
 * shows).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "api/network.pb-c.h"
#include "machined/ctrl/controllers.h"

static const struct rt_input spec_in[] = { { RES(HOSTNAME_SPEC), RT_WEAK } };
static const struct rt_output status_out[] = { { RES(HOSTNAME_STATUS), RT_EXCLUSIVE } };

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

const struct ctrl_def ctrl_hostname_apply = {
	.rt = { .name = "HostnameApplyController", .inputs = spec_in, .ninputs = 1,
		.outputs = status_out, .noutputs = 1, .reconcile = apply_reconcile },
	.touches_machine = true,
};
