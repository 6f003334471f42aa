/* SPDX-License-Identifier: MIT */
#include "lib/h2conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/buf.h"

#define READ_CHUNK 16384

enum h2_state {
	H2_CONNECTING,   /* non-blocking connect in progress */
	H2_HANDSHAKE,    /* TLS handshake */
	H2_OPEN,         /* HTTP/2 frames flow */
	H2_CLOSED,       /* reported (or about to be) to the owner */
};

struct h2conn {
	struct loop *loop;
	int fd;
	struct loop_watch *w;
	struct tls_conn *tls;       /* NULL: plain */
	nghttp2_session *s;
	enum h2_state state;
	struct buf out;             /* serialised frames the socket has not taken yet */
	struct loop_timer setup;    /* connect + handshake deadline */
	struct loop_timer defer;    /* reports ready/closed from the loop */
	struct loop_timer soon;     /* flushes what this loop turn queued, once, after its events */
	uint64_t setup_ms;
	bool ready_pending;         /* plain connections report ready from the defer timer */
	bool closing;               /* h2conn_close was called: report closed soon */
	bool reported;              /* closed was called */
	bool in_recv;               /* inside nghttp2_session_mem_recv: on_io flushes after */
	uint64_t last_rx;
	char why[256];
	h2conn_ready_fn *ready;
	h2conn_closed_fn *closed;
	void *arg;
};

static void update_events(struct h2conn *c);

nghttp2_session *h2conn_session(struct h2conn *c)
{
	return c->s;
}

bool h2conn_established(const struct h2conn *c)
{
	return c->state == H2_OPEN;
}

bool h2conn_is_closed(const struct h2conn *c)
{
	return c->state == H2_CLOSED || c->closing;
}

const mbedtls_x509_crt *h2conn_peer_cert(const struct h2conn *c)
{
	return c->tls ? tls_peer_cert(c->tls) : NULL;
}

uint64_t h2conn_last_rx(const struct h2conn *c)
{
	return c->last_rx;
}

/* The end: stop watching and tell the owner once. Callers return right after. */
static void report_closed(struct h2conn *c, const char *why)
{
	if (c->reported)
		return;
	if (why && !c->why[0])
		snprintf(c->why, sizeof(c->why), "%s", why);
	c->state = H2_CLOSED;
	c->reported = true;
	loop_timer_cancel(c->loop, &c->setup);
	loop_timer_cancel(c->loop, &c->defer);
	loop_timer_cancel(c->loop, &c->soon);
	if (c->w) {
		loop_watch_del(c->loop, c->w);
		c->w = NULL;
	}
	if (c->closed)
		c->closed(c->arg, c, c->why[0] ? c->why : "closed");
}

void h2conn_close(struct h2conn *c, const char *why)
{
	if (c->closing || c->state == H2_CLOSED)
		return;
	c->closing = true;
	snprintf(c->why, sizeof(c->why), "%s", why);
	if (c->state == H2_OPEN)
		nghttp2_session_terminate_session(c->s, NGHTTP2_NO_ERROR);
	loop_timer_arm(c->loop, &c->defer, 0);
}

/* Moves bytes to the socket; -EAGAIN when it is full, another -errno when it failed. */
static int write_out(struct h2conn *c)
{
	while (c->out.len > 0) {
		ssize_t n;

		if (c->tls) {
			n = tls_write(c->tls, buf_head(&c->out), c->out.len);
		} else {
			n = send(c->fd, buf_head(&c->out), c->out.len, MSG_NOSIGNAL);
			if (n < 0)
				n = errno == EINTR || errno == EAGAIN ? -EAGAIN : -errno;
		}
		if (n < 0)
			return (int)n;
		buf_consume(&c->out, (size_t)n);
	}
	return 0;
}

/*
 * Pulls frames from the session while the socket takes them: frames are gathered into
 * one write of up to OUT_BATCH bytes (one TLS record for a small reply: headers, message
 * and trailers together).
 */
#define OUT_BATCH 65536
static int flush(struct h2conn *c)
{
	for (;;) {
		int r = write_out(c);

		if (r < 0)
			return r;
		while (c->out.len < OUT_BATCH) {
			const uint8_t *data;
			ssize_t n = nghttp2_session_mem_send(c->s, &data);

			if (n < 0)
				return -EPROTO;
			if (n == 0)
				break;
			if (buf_append(&c->out, data, (size_t)n) < 0)
				return -ENOMEM;
		}
		if (c->out.len == 0)
			return 0;
	}
}

static void set_failure(struct h2conn *c, const char *what, int r)
{
	if (c->why[0])
		return;
	/* A TLS 1.3 server judges the client's certificate after the client's handshake is
	 * done: a session it ends before its first byte is a handshake it refused. */
	if (c->tls && tls_verdict_pending(c->tls))
		snprintf(c->why, sizeof(c->why), "TLS handshake: the server ended the session after the "
			 "handshake, before its first byte (%s: %s)", what,
			 r == -EPIPE || r == -ECONNRESET ? strerror(-r) : tls_error(c->tls));
	else if (c->tls && r != -ENOMEM && r != -EPIPE && r != -ECONNRESET)
		snprintf(c->why, sizeof(c->why), "%s: %s", what, tls_error(c->tls));
	else
		snprintf(c->why, sizeof(c->why), "%s: %s", what, strerror(-r));
}

/*
 * New frames are queued: they leave when this loop turn's events are handled (the loop
 * fires a timer due now after them), so a reply's headers, message and trailers, and the
 * replies of every call that finished in the same turn, share one TLS record and one write.
 */
void h2conn_kick(struct h2conn *c)
{
	if (c->state != H2_OPEN || c->in_recv)
		return;
	if (!loop_timer_armed(&c->soon))
		loop_timer_arm(c->loop, &c->soon, 0);
}

static void on_io(void *arg, uint32_t events);

static void on_soon(void *arg)
{
	struct h2conn *c = arg;

	if (c->state == H2_OPEN)
		on_io(c, 0);
}

static void update_events(struct h2conn *c)
{
	uint32_t ev = 0;

	if (c->state == H2_CONNECTING) {
		ev = EPOLLOUT;
	} else if (c->state == H2_HANDSHAKE) {
		ev = EPOLLIN | (tls_wants_write(c->tls) ? EPOLLOUT : 0);
	} else if (c->state == H2_OPEN) {
		/* Stop reading while the peer is not reading what we owe it. */
		if (c->out.len == 0 && !c->closing)
			ev |= EPOLLIN;
		if (c->out.len > 0 || (c->tls && tls_wants_write(c->tls)))
			ev |= EPOLLOUT;
	}
	if (c->w)
		loop_watch_mod(c->loop, c->w, ev);
}

/* Reads and feeds the session until the socket is drained. 0, or -errno / -EPIPE at EOF. */
static int read_in(struct h2conn *c)
{
	uint8_t buf[READ_CHUNK];

	for (;;) {
		ssize_t n;

		if (c->tls) {
			n = tls_read(c->tls, buf, sizeof(buf));
		} else {
			n = recv(c->fd, buf, sizeof(buf), 0);
			if (n < 0)
				n = errno == EINTR || errno == EAGAIN ? -EAGAIN : -errno;
		}
		if (n == -EAGAIN)
			return 0;
		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return (int)n;
		c->last_rx = mono_ms();
		c->in_recv = true;
		n = nghttp2_session_mem_recv(c->s, buf, (size_t)n);
		c->in_recv = false;
		if (n < 0)
			return -EPROTO;
		if (c->closing)
			return 0;
	}
}

static void became_open(struct h2conn *c)
{
	c->state = H2_OPEN;
	loop_timer_cancel(c->loop, &c->setup);
	if (c->ready)
		c->ready(c->arg, c);
}

static bool step_connect(struct h2conn *c)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		snprintf(c->why, sizeof(c->why), "connect: %s", strerror(soerr));
		report_closed(c, NULL);
		return false;
	}
	c->state = c->tls ? H2_HANDSHAKE : H2_OPEN;
	if (!c->tls)
		became_open(c);
	return true;
}

/* 1: done; 0: waiting (events updated); -1: closed and reported, c may be gone. */
static int step_handshake(struct h2conn *c)
{
	int r = tls_handshake(c->tls);

	if (r == -EAGAIN) {
		update_events(c);
		return 0;
	}
	if (r < 0) {
		snprintf(c->why, sizeof(c->why), "TLS handshake: %s", tls_error(c->tls));
		report_closed(c, NULL);
		return -1;
	}
	became_open(c);
	return 1;
}

static void on_io(void *arg, uint32_t events)
{
	struct h2conn *c = arg;
	int r = 0;

	if (c->state == H2_CLOSED)
		return;
	if (c->tls && (events & EPOLLIN))
		tls_socket_readable(c->tls);
	if (c->state == H2_CONNECTING && !step_connect(c))
		return;
	if (c->state == H2_HANDSHAKE && !c->tls)
		return;  /* plain: ready is still to be reported */
	if (c->state == H2_HANDSHAKE && step_handshake(c) <= 0)
		return;
	if (c->state != H2_OPEN)
		return;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || (c->tls && tls_pending(c->tls)))
		if (c->out.len == 0 && !c->closing)
			r = read_in(c);
	if (r < 0) {
		set_failure(c, r == -EPROTO ? "HTTP/2" : r == -EPIPE ? "connection" : "read",
			    r == -EPIPE ? -ECONNRESET : r);
		if (r == -EPIPE && !(c->tls && tls_verdict_pending(c->tls)))
			snprintf(c->why, sizeof(c->why), "closed by the peer");
		flush(c);  /* a GOAWAY for a protocol error, if the socket takes it */
		report_closed(c, NULL);
		return;
	}
	r = flush(c);
	if (r < 0 && r != -EAGAIN) {
		set_failure(c, "write", r);
		report_closed(c, NULL);
		return;
	}
	if (!nghttp2_session_want_read(c->s) && !nghttp2_session_want_write(c->s) && c->out.len == 0) {
		report_closed(c, c->closing ? NULL : "finished");
		return;
	}
	/* Bytes the TLS layer holds wake no epoll: read them in a moment (once the write that
	 * held reading back is out). */
	if (c->tls && c->out.len == 0 && !c->closing && tls_pending(c->tls) && !loop_timer_armed(&c->soon))
		loop_timer_arm(c->loop, &c->soon, 0);
	update_events(c);
}

static void on_setup_timeout(void *arg)
{
	struct h2conn *c = arg;

	snprintf(c->why, sizeof(c->why), "%s timed out after %llu ms",
		 c->state == H2_CONNECTING ? "connect" : "TLS handshake", (unsigned long long)c->setup_ms);
	report_closed(c, NULL);
}

static void on_defer(void *arg)
{
	struct h2conn *c = arg;

	if (c->closing) {
		if (c->state == H2_OPEN)
			flush(c);  /* best effort: the GOAWAY */
		report_closed(c, NULL);
		return;
	}
	if (c->ready_pending) {
		c->ready_pending = false;
		became_open(c);
		if (c->state == H2_OPEN)
			on_io(c, EPOLLIN);
	}
}

static int make_session(struct h2conn *c, const struct h2conn_opts *o)
{
	nghttp2_option *opt = NULL;
	nghttp2_settings_entry iv[3];
	size_t niv = 0;
	int r;

	if (nghttp2_option_new(&opt) != 0)
		return -ENOMEM;
	nghttp2_option_set_no_auto_window_update(opt, o->manual_window);
	nghttp2_option_set_max_outbound_ack(opt, 1000);
	nghttp2_option_set_max_send_header_block_length(opt, 64 * 1024);
	if (o->server)
		r = nghttp2_session_server_new2(&c->s, o->cbs, o->session_data, opt);
	else
		r = nghttp2_session_client_new2(&c->s, o->cbs, o->session_data, opt);
	nghttp2_option_del(opt);
	if (r != 0)
		return -ENOMEM;
	iv[niv++] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
					      o->max_streams ? o->max_streams : 100 };
	if (o->window)
		iv[niv++] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, o->window };
	if (!o->server)
		iv[niv++] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 };
	else
		iv[niv++] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 16384 };
	return nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, iv, niv) == 0 ? 0 : -ENOMEM;
}

int h2conn_new(const struct h2conn_opts *o, struct h2conn **out, char *err, size_t errlen)
{
	struct h2conn *c = calloc(1, sizeof(*c));
	int r = -ENOMEM;

	if (!c)
		goto fail;
	c->loop = o->loop;
	c->fd = o->fd;
	c->ready = o->ready;
	c->closed = o->closed;
	c->arg = o->arg;
	c->setup_ms = o->setup_timeout_ms ? o->setup_timeout_ms : 10000;
	c->last_rx = mono_ms();
	buf_init(&c->out);
	loop_timer_init(&c->setup, on_setup_timeout, c);
	loop_timer_init(&c->defer, on_defer, c);
	loop_timer_init(&c->soon, on_soon, c);
	if (make_session(c, o) < 0)
		goto fail;
	if (o->tls && (r = tls_conn_new(o->tls, o->fd, o->peer_name, o->peer_port, &c->tls)) < 0)
		goto fail;
	c->state = o->connecting ? H2_CONNECTING : o->tls ? H2_HANDSHAKE : H2_OPEN;
	if ((r = loop_watch_add(o->loop, o->fd, c->state == H2_CONNECTING ? EPOLLOUT : EPOLLIN, on_io, c,
				&c->w)) < 0)
		goto fail;
	loop_timer_arm(o->loop, &c->setup, c->setup_ms);
	if (c->state == H2_OPEN) {
		/* Plain: nothing to wait for, but ready must come from the loop. */
		c->state = H2_HANDSHAKE;
		c->ready_pending = true;
		loop_timer_arm(o->loop, &c->defer, 0);
	}
	*out = c;
	return 0;
fail:
	snprintf(err, errlen, "set up connection: %s", strerror(-r));
	if (c) {
		c->fd = -1;  /* stays the caller's on failure */
		h2conn_free(c);
	}
	return r;
}

void h2conn_free(struct h2conn *c)
{
	if (!c)
		return;
	loop_timer_cancel(c->loop, &c->setup);
	loop_timer_cancel(c->loop, &c->defer);
	loop_timer_cancel(c->loop, &c->soon);
	if (c->w)
		loop_watch_del(c->loop, c->w);
	nghttp2_session_del(c->s);
	tls_conn_free(c->tls);
	if (c->fd >= 0)
		close(c->fd);
	buf_fini(&c->out);
	free(c);
}
