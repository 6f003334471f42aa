/* SPDX-License-Identifier: MIT */
#include "machined/ctrl/initclient.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/frame.h"

#define INITCLIENT_READ 65536

void initclient_init(struct initclient *c, struct loop *loop, initclient_lost_fn *lost, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->fd = -1;
	c->next_id = 1;
	c->lost = lost;
	c->lost_arg = arg;
	buf_init(&c->in);
	buf_init(&c->out);
}

bool initclient_connected(const struct initclient *c)
{
	return c->fd >= 0;
}

void initclient_close(struct initclient *c)
{
	if (c->fd >= 0) {
		loop_watch_del(c->loop, c->watch);
		close(c->fd);
	}
	c->fd = -1;
	c->npending = 0;
	buf_fini(&c->in);
	buf_fini(&c->out);
}

static void lose(struct initclient *c, int reason)
{
	initclient_close(c);
	if (c->lost)
		c->lost(c->lost_arg, reason);
}

static void update_events(struct initclient *c)
{
	loop_watch_mod(c->loop, c->watch, EPOLLIN | (c->out.len ? EPOLLOUT : 0));
}

static struct initclient_pending *find_pending(struct initclient *c, uint64_t id)
{
	for (size_t i = 0; i < c->npending; i++)
		if (c->pending[i].id == id)
			return &c->pending[i];
	return NULL;
}

/* Returns false if the connection was lost. */
static bool deliver(struct initclient *c)
{
	while (c->fd >= 0) {
		Basalt__Init__Response *resp;
		struct initclient_pending *p;
		size_t blen;
		int r = frame_peek(buf_head(&c->in), c->in.len, INITCLIENT_MAX_RESPONSE, &blen);

		if (r == 0)
			return true;
		if (r < 0) {
			lose(c, -EMSGSIZE);
			return false;
		}
		resp = basalt__init__response__unpack(NULL, blen, buf_head(&c->in) + FRAME_HDR);
		buf_consume(&c->in, FRAME_HDR + blen);
		if (!resp) {
			lose(c, -EBADMSG);
			return false;
		}
		p = find_pending(c, resp->id);
		if (p) {
			struct initclient_pending cur = *p;

			bool again;

			/* The callback may send more requests (and move the array), so remove first;
			 * its slot stays reserved, so a stream that continues is never dropped. */
			*p = c->pending[--c->npending];
			c->reserved = 1;
			again = cur.fn(cur.arg, resp);
			c->reserved = 0;
			if (again && c->fd >= 0)
				c->pending[c->npending++] = cur;
		} else if (resp->id == 0 && resp->error) {
			/* init refused the connection (not root) or dropped us for a bad request. */
			snprintf(c->refusal, sizeof(c->refusal), "%s", resp->message);
			basalt__init__response__free_unpacked(resp, NULL);
			lose(c, -EACCES);
			return false;
		}
		basalt__init__response__free_unpacked(resp, NULL);
	}
	return false;
}

static void on_io(void *arg, uint32_t events)
{
	struct initclient *c = arg;

	if (events & EPOLLOUT) {
		ssize_t r = buf_write_fd(&c->out, c->fd);

		if (r < 0 && r != -EAGAIN) {
			/* init may have answered (a refusal) before closing: read that first. */
			while (buf_read_fd(&c->in, c->fd, INITCLIENT_READ) > 0)
				;
			if (deliver(c))
				lose(c, (int)r);
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t r = buf_read_fd(&c->in, c->fd, INITCLIENT_READ);

		if (r == 0 || (r < 0 && r != -EAGAIN)) {
			/* Deliver what arrived before the close (e.g. a refusal). */
			if (!deliver(c))
				return;
			lose(c, r == 0 ? -ECONNRESET : (int)r);
			return;
		}
		if (!deliver(c))
			return;
	}
	update_events(c);
}

int initclient_connect(struct initclient *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "init socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	c->refusal[0] = '\0';
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		snprintf(err, errlen, "connect to init at %s: %s", path, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return r;
	}
	r = loop_watch_add(c->loop, c->fd, EPOLLIN, on_io, c, &c->watch);
	if (r < 0) {
		snprintf(err, errlen, "watch init socket: %s", strerror(-r));
		close(c->fd);
		c->fd = -1;
		return r;
	}
	return 0;
}

int initclient_send(struct initclient *c, Basalt__Init__Request *req, initclient_response_fn *fn,
		    void *arg)
{
	int r;

	if (c->fd < 0)
		return -ENOTCONN;
	if (c->npending + c->reserved >= INITCLIENT_MAX_PENDING)
		return -EBUSY;
	req->id = c->next_id++;
	r = frame_append_msg(&c->out, &req->base, INITCLIENT_MAX_RESPONSE);
	if (r < 0)
		return r;
	c->pending[c->npending++] = (struct initclient_pending){ req->id, fn, arg };
	update_events(c);
	return 0;
}
