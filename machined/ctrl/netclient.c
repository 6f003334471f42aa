/* SPDX-License-Identifier: MIT */
/* The loop plumbing of a per-link protocol client (see netclient.h). */
#include "machined/ctrl/netclient.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

int netclient_start(struct netclient *c, struct loop *loop, const Basalt__Network__LinkStatus *l,
		    const char *link, int fd, loop_io_fn *on_read, loop_timer_fn *on_timer, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
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
