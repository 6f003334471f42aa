/* SPDX-License-Identifier: MIT */
/*
 * HostnameApplyController: gives the kernel the name of the strongest layer's
 * network/HostnameSpec (configuration/hostname over dhcp4/<link> over cmdline/hostname)
 * and reports the name the kernel has as network/HostnameStatus (so a change made behind
 * machined's back shows).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "api/network.pb-c.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netspec.h"

static const struct rt_input spec_in[] = { { RES(HOSTNAME_SPEC), RT_WEAK } };
static const struct rt_output status_out[] = { { RES(HOSTNAME_STATUS), RT_EXCLUSIVE } };

struct pick {
	const Basalt__Network__HostnameSpec *spec;
	int rank;
};

static int strongest(void *arg, const struct res *r)
{
	struct pick *p = arg;
	const Basalt__Network__HostnameSpec *s = res_spec(r, RES(HOSTNAME_SPEC));

	if (s && s->hostname[0] && netspec_rank(s->layer) > p->rank) {
		p->spec = s;
		p->rank = netspec_rank(s->layer);
	}
	return 0;
}

static int apply_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct pick p = { NULL, -2 };
	const Basalt__Network__HostnameSpec *spec;
	Basalt__Network__HostnameStatus *st;
	struct utsname u;

	(void)arg;
	rt_list(ctx, RES(HOSTNAME_SPEC), strongest, &p);
	spec = p.spec;
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
