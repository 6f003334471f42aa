/* SPDX-License-Identifier: MIT */
#include "lib/svcstate.h"

#include "api/init.pb-c.h"

#define S(x) BASALT__INIT__SERVICE_STATE__STATE_##x

static const char *const names[] = {
	[S(DOWN)] = "down",         [S(WAITING)] = "waiting", [S(RUNNING)] = "running",
	[S(STOPPING)] = "stopping", [S(BACKOFF)] = "backoff", [S(FINISHED)] = "finished",
};

const char *svc_state_name(unsigned state)
{
	return state < sizeof(names) / sizeof(names[0]) && names[state] ? names[state] : "unknown";
}
