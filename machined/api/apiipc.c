/* SPDX-License-Identifier: MIT */
#include "machined/api/apiipc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Header: type (1), flags (1), zero (2), call (4), total length (4), aux (4); big-endian. */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct ipc {
	struct loop *loop;
	int fd;
	struct loop_watch *w;
	bool failed;
	struct ipc_rx rx;
	struct buf out;            /* datagrams: 4-byte length, then the datagram */
	ipc_msg_fn *on_msg;
	ipc_fail_fn *on_fail;
	void (*on_idle)(void *arg);
	void *arg;
	uint8_t *dgram;            /* receive buffer, IPC_HDR + IPC_CHUNK */
	struct loop_timer report;  /* tells the owner of a failure, from the loop */
	bool batch;                /* inside on_io: sends wait for the end of the batch */
	int err;
	char why[160];
};

void ipc_rx_init(struct ipc_rx *r, bool core)
{
	memset(r, 0, sizeof(*r));
	r->core = core;
	buf_init(&r->b);
}

void ipc_rx_fini(struct ipc_rx *r)
{
	buf_fini(&r->b);
}

/* Which types each side may receive. */
static bool accepted(bool core, uint8_t t)
{
	if (core)
		return t == IPC_REQUEST || t == IPC_CANCEL || t == IPC_ACK || t == IPC_READY;
	return t == IPC_SETUP || t == IPC_REPLY || t == IPC_FINISH || t == IPC_POLICY;
}

int ipc_rx_feed(struct ipc_rx *r, const uint8_t *d, size_t n, struct ipc_msg *m, char *why,
		size_t whylen)
{
	uint8_t type, flags;
	uint32_t call, total, aux;
	size_t payload;

	if (n < IPC_HDR) {
		snprintf(why, whylen, "a datagram of %zu bytes is shorter than the header", n);
		return -EPROTO;
	}
	type = d[0];
	flags = d[1];
	call = get32(d + 4);
	total = get32(d + 8);
	aux = get32(d + 12);
	payload = n - IPC_HDR;
	if (type == 0 || type >= IPC_TYPE_MAX || !accepted(r->core, type)) {
		snprintf(why, whylen, "message type %u is not one this side receives", type);
		return -EPROTO;
	}
	if ((flags & ~IPC_MORE) || d[2] || d[3]) {
		snprintf(why, whylen, "reserved header bits set");
		return -EPROTO;
	}
	if (total > IPC_MAX_MSG || payload > IPC_CHUNK) {
		snprintf(why, whylen, "message of %u bytes (chunk %zu) over the limit", total, payload);
		return -EPROTO;
	}
	if (r->partial && (type != r->type || call != r->call || total != r->total || aux != r->aux)) {
		snprintf(why, whylen, "a chunk does not continue the message before it");
		return -EPROTO;
	}
	if (!r->partial) {
		buf_clear(&r->b);
		r->type = type;
		r->call = call;
		r->total = total;
		r->aux = aux;
	}
	if (r->b.len + payload > total) {
		snprintf(why, whylen, "chunks carry more than the %u bytes announced", total);
		return -EPROTO;
	}
	if (payload && buf_append(&r->b, d + IPC_HDR, payload) < 0) {
		snprintf(why, whylen, "out of memory");
		return -EPROTO;
	}
	if (flags & IPC_MORE) {
		if (payload != IPC_CHUNK) {
			snprintf(why, whylen, "a chunk before the last is not full");
			return -EPROTO;
		}
		r->partial = true;
		return 0;
	}
	r->partial = false;
	if (r->b.len != total) {
		snprintf(why, whylen, "message ends at %zu of %u bytes", r->b.len, total);
		return -EPROTO;
	}
	m->type = type;
	m->call = call;
	m->aux = aux;
	m->data = buf_head(&r->b);
	m->len = r->b.len;
	return 1;
}

static void on_report(void *arg)
{
	struct ipc *x = arg;

	x->on_fail(x->arg, x->err, x->why);
}

/* Stops the link; the owner hears of it from the loop, never inside its own call. */
static void fail(struct ipc *x, int err, const char *why)
{
	if (x->failed)
		return;
	x->failed = true;
	x->err = err;
	snprintf(x->why, sizeof(x->why), "%s", why);
	if (x->w) {
		loop_watch_del(x->loop, x->w);
		x->w = NULL;
	}
	loop_timer_arm(x->loop, &x->report, 0);
}

static int flush(struct ipc *x)
{
	while (x->out.len >= 4) {
		uint8_t *p = buf_head(&x->out);
		uint32_t n = get32(p);
		ssize_t w = send(x->fd, p + 4, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		buf_consume(&x->out, 4 + n);
	}
	return 0;
}

static void update(struct ipc *x)
{
	if (x->w)
		loop_watch_mod(x->loop, x->w, EPOLLIN | (x->out.len ? EPOLLOUT : 0));
}

static void on_io(void *arg, uint32_t events)
{
	struct ipc *x = arg;
	char why[160];

	if (events & EPOLLOUT) {
		int r = flush(x);

		if (r < 0) {
			fail(x, -EPIPE, "peer gone");
			return;
		}
	}
	x->batch = true;
	for (int i = 0; i < 256 && !x->failed; i++) {
		ssize_t n = recv(x->fd, x->dgram, IPC_HDR + IPC_CHUNK + 1, MSG_DONTWAIT | MSG_TRUNC);
		struct ipc_msg m;
		int r;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			x->batch = false;
			fail(x, -EPIPE, n == 0 ? "peer closed the link" : strerror(errno));
			return;
		}
		if ((size_t)n > IPC_HDR + IPC_CHUNK) {
			x->batch = false;
			fail(x, -EPROTO, "a datagram over the chunk size");
			return;
		}
		r = ipc_rx_feed(&x->rx, x->dgram, (size_t)n, &m, why, sizeof(why));
		if (r < 0) {
			x->batch = false;
			fail(x, -EPROTO, why);
			return;
		}
		if (r == 1)
			x->on_msg(x->arg, &m);
	}
	if (x->on_idle && !x->failed)
		x->on_idle(x->arg);
	/* What the batch produced leaves together: the peer wakes once for it. */
	x->batch = false;
	if (x->failed)
		return;
	if (flush(x) < 0) {
		fail(x, -EPIPE, "peer gone");
		return;
	}
	update(x);
}

int ipc_new(const struct ipc_opts *o, struct ipc **out)
{
	struct ipc *x = calloc(1, sizeof(*x));
	int r;

	if (!x || !(x->dgram = malloc(IPC_HDR + IPC_CHUNK + 1))) {
		free(x);
		return -ENOMEM;
	}
	x->loop = o->loop;
	x->fd = o->fd;
	x->on_msg = o->on_msg;
	x->on_fail = o->on_fail;
	x->on_idle = o->on_idle;
	x->arg = o->arg;
	loop_timer_init(&x->report, on_report, x);
	ipc_rx_init(&x->rx, o->core);
	buf_init(&x->out);
	r = loop_watch_add(o->loop, o->fd, EPOLLIN, on_io, x, &x->w);
	if (r < 0) {
		ipc_rx_fini(&x->rx);
		free(x->dgram);
		free(x);
		return r;
	}
	*out = x;
	return 0;
}

void ipc_free(struct ipc *x)
{
	if (!x)
		return;
	loop_timer_cancel(x->loop, &x->report);
	if (x->w)
		loop_watch_del(x->loop, x->w);
	close(x->fd);
	ipc_rx_fini(&x->rx);
	buf_fini(&x->out);
	free(x->dgram);
	free(x);
}

int ipc_send(struct ipc *x, uint8_t type, uint32_t call, uint32_t aux, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t off = 0;

	if (x->failed)
		return -EPIPE;
	if (len > IPC_MAX_MSG)
		return -EMSGSIZE;
	do {
		size_t n = len - off > IPC_CHUNK ? IPC_CHUNK : len - off;
		bool more = off + n < len;
		uint8_t h[4 + IPC_HDR] = { 0 };

		put32(h, (uint32_t)(IPC_HDR + n));
		h[4] = type;
		h[5] = more ? IPC_MORE : 0;
		put32(h + 8, call);
		put32(h + 12, (uint32_t)len);
		put32(h + 16, aux);
		if (buf_append(&x->out, h, sizeof(h)) < 0 || (n && buf_append(&x->out, p + off, n) < 0))
			return -ENOMEM;
		off += n;
	} while (off < len);
	if (x->batch)
		return 0;
	if (flush(x) < 0) {
		fail(x, -EPIPE, "peer gone");
		return -EPIPE;
	}
	update(x);
	return 0;
}

size_t ipc_backlog(const struct ipc *x)
{
	return x->out.len;
}
