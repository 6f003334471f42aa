/* SPDX-License-Identifier: MIT */
/* The loop plumbing of a per-link protocol client (see netclient.h). */
#include "machined/ctrl/netclient.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void on_report(void *arg)
{
	struct netclient *c = arg;

	rt_kick(c->ctrl);
}

int netclient_start(struct netclient *c, struct loop *loop, struct rt_ctrl *ctrl, const Basalt__Network__LinkStatus *l,
		    const char *link, int fd, loop_io_fn *on_read, loop_timer_fn *on_timer, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->ctrl = ctrl;
	c->shown = -1;
	loop_timer_init(&c->report, on_report, c);
	c->fd = fd;
	c->index = l->index;
	snprintf(c->link, sizeof(c->link), "%s", link);
	loop_timer_init(&c->timer, on_timer, arg);
	if (loop_watch_add(loop, fd, EPOLLIN, on_read, arg, &c->w) < 0) {
		int e = errno;

		close(fd);
		c->fd = -1;
		return -e;
	}
	return 0;
}

void netclient_arm(struct netclient *c, uint64_t next_ms)
{
	uint64_t now = mono_ms();

	loop_timer_cancel(c->loop, &c->timer);
	if (next_ms != UINT64_MAX)
		loop_timer_arm(c->loop, &c->timer, next_ms > now ? next_ms - now : 0);
}

void netclient_stop(struct netclient *c)
{
	if (!c->loop)
		return;
	loop_timer_cancel(c->loop, &c->timer);
	loop_timer_cancel(c->loop, &c->report);
	if (c->w)
		loop_watch_del(c->loop, c->w);
	if (c->fd >= 0)
		close(c->fd);
	c->w = NULL;
	c->fd = -1;
}

bool netclient_link_ready(const Basalt__Network__LinkStatus *l)
{
	return l->up && (strcmp(l->operationalstate, "up") == 0 || strcmp(l->operationalstate, "unknown") == 0);
}

void netclient_drop(struct netclient *c)
{
	c->dropped++;
	if (!loop_timer_armed(&c->report))
		loop_timer_arm(c->loop, &c->report, NETCLIENT_REPORT_MS);
}

void netclient_state(struct netclient *c, int state)
{
	if (state != c->shown)
		rt_kick(c->ctrl);
}

int netclient_status(struct rt_ctx *ctx, struct netclient *c, const char *op, int state, const char *state_name,
		     const char *address, const char *server, uint32_t lease_s)
{
	Basalt__Network__OperatorStatus *s = malloc(sizeof(*s));
	char id[64];

	if (!s)
		return -ENOMEM;
	basalt__network__operator_status__init(s);
	s->operator_ = strdup(op);
	s->linkname = strdup(c->link);
	s->state = strdup(state_name);
	s->address = strdup(address);
	s->server = strdup(server);
	s->leaseseconds = lease_s;
	s->dropped = c->dropped;
	c->shown = state;
	snprintf(id, sizeof(id), "%s/%s", op, c->link);
	return rt_apply(ctx, res_new(RES(OPERATOR_STATUS), id, &s->base));
}
