/* SPDX-License-Identifier: MIT */
#include "lib/grpc_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "lib/h2conn.h"

#define CONN_WINDOW (16u << 20)   /* connection-level receive window we grant */
#define STREAM_WINDOW (1u << 20)  /* per-call window announced in SETTINGS */

struct grpc_ccall {
	struct grpc_client *cl;
	struct grpc_ccall *prev, *next;
	int32_t stream_id;            /* 0 until submitted */
	bool done;                    /* done callback ran (or is being run) */
	bool paused;
	bool cancel_requested;
	uint64_t unconsumed;          /* bytes received while paused, to credit on resume */
	char *method;
	struct grpc_md *md;           /* copies */
	size_t nmd;
	uint8_t *req;                 /* prefix + request */
	size_t reqlen, reqoff;
	uint64_t deadline;            /* monotonic ms, 0: none */
	struct loop_timer timer;      /* deadline, or a deferred done */
	int http_status;
	int status;                   /* grpc-status from the trailers, -1: none seen */
	char *status_msg;
	struct grpc_deframer in;
	int fail_code;                /* our own verdict (deadline, oversize) or -1 */
	char fail_msg[256];
	grpc_msg_fn *on_msg;
	grpc_done_fn *on_done;
	void *arg;
};

struct grpc_client {
	struct loop *loop;
	struct h2conn *h2;
	struct tls_config *tls;
	bool open;
	bool closing;
	size_t max_msg;
	char authority[80];
	char error[400];
	struct grpc_ccall *calls;
	struct loop_timer reap;       /* frees the client after close, from the loop */
	struct loop_timer failed;     /* reports a connect that failed at once */
};

static void call_unlink(struct grpc_ccall *k)
{
	struct grpc_client *c = k->cl;

	if (k->prev)
		k->prev->next = k->next;
	else if (c->calls == k)
		c->calls = k->next;
	if (k->next)
		k->next->prev = k->prev;
	k->prev = k->next = NULL;
}

static void call_free(struct grpc_ccall *k)
{
	loop_timer_cancel(k->cl->loop, &k->timer);
	for (size_t i = 0; i < k->nmd; i++) {
		free((char *)k->md[i].name);
		free((char *)k->md[i].value);
	}
	free(k->md);
	free(k->method);
	free(k->req);
	free(k->status_msg);
	grpc_deframer_fini(&k->in);
	free(k);
}

/* Runs the done callback once, then frees the call. */
static void call_end(struct grpc_ccall *k, int code, const char *msg)
{
	struct grpc_client *c = k->cl;

	if (k->done)
		return;
	k->done = true;
	call_unlink(k);
	if (k->stream_id > 0 && c->h2 && !h2conn_is_closed(c->h2))
		nghttp2_session_set_stream_user_data(h2conn_session(c->h2), k->stream_id, NULL);
	k->on_done(k->arg, code, msg ? msg : "");
	call_free(k);
}

/* The verdict for a stream that closed: trailers first, then HTTP, then how it ended. */
static void call_conclude(struct grpc_ccall *k, uint32_t error_code)
{
	char msg[320];

	if (k->fail_code >= 0) {
		call_end(k, k->fail_code, k->fail_msg);
		return;
	}
	if (k->status >= 0) {
		if (k->status == GRPC_OK && grpc_deframer_partial(&k->in)) {
			call_end(k, GRPC_INTERNAL, "reply stream ended inside a message");
			return;
		}
		call_end(k, k->status, k->status_msg);
		return;
	}
	if (k->http_status && k->http_status != 200) {
		snprintf(msg, sizeof(msg), "server answered HTTP %d", k->http_status);
		call_end(k, grpc_code_from_http(k->http_status), msg);
		return;
	}
	if (error_code == NGHTTP2_REFUSED_STREAM) {
		call_end(k, GRPC_UNAVAILABLE, "server refused the stream");
		return;
	}
	if (error_code != NGHTTP2_NO_ERROR) {
		snprintf(msg, sizeof(msg), "stream reset by the server (%s)",
			 nghttp2_http2_strerror(error_code));
		call_end(k, error_code == NGHTTP2_CANCEL ? GRPC_CANCELLED : GRPC_INTERNAL, msg);
		return;
	}
	call_end(k, GRPC_INTERNAL, "server ended the call without a grpc-status");
}

/* Fails the call with our own verdict, resetting its stream if it has one. */
static void call_fail(struct grpc_ccall *k, int code, const char *msg)
{
	struct grpc_client *c = k->cl;
	bool kick = false;

	if (k->stream_id > 0 && c->h2 && !h2conn_is_closed(c->h2)) {
		/* Detached first: the reset's stream-close callback must not find the call. */
		nghttp2_session_set_stream_user_data(h2conn_session(c->h2), k->stream_id, NULL);
		nghttp2_submit_rst_stream(h2conn_session(c->h2), NGHTTP2_FLAG_NONE, k->stream_id,
					  NGHTTP2_CANCEL);
		k->stream_id = -1;
		kick = true;
	}
	call_end(k, code, msg);
	if (kick && c->h2)
		h2conn_kick(c->h2);
}

static void on_call_timer(void *arg)
{
	struct grpc_ccall *k = arg;

	if (k->cancel_requested) {
		call_fail(k, GRPC_CANCELLED, "cancelled by the client");
		return;
	}
	call_fail(k, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
}

/* --- sending --- */

static ssize_t req_read(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len,
			uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct grpc_ccall *k = src->ptr;
	size_t n = k->reqlen - k->reqoff;

	(void)s;
	(void)sid;
	(void)user;
	if (n > len)
		n = len;
	memcpy(buf, k->req + k->reqoff, n);
	k->reqoff += n;
	if (k->reqoff == k->reqlen)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE }

static int call_submit(struct grpc_ccall *k)
{
	struct grpc_client *c = k->cl;
	nghttp2_session *s = h2conn_session(c->h2);
	nghttp2_nv nv[8 + 32];
	size_t n = 0;
	char tmo[16];
	nghttp2_data_provider dp = { .source.ptr = k, .read_callback = req_read };
	int32_t sid;

	nv[n++] = (nghttp2_nv)NV(":method", "POST");
	nv[n++] = (nghttp2_nv)NV(":scheme", c->tls ? "https" : "http");
	nv[n++] = (nghttp2_nv)NV(":path", k->method);
	nv[n++] = (nghttp2_nv)NV(":authority", c->authority);
	nv[n++] = (nghttp2_nv)NV("content-type", "application/grpc+proto");
	nv[n++] = (nghttp2_nv)NV("te", "trailers");
	nv[n++] = (nghttp2_nv)NV("user-agent", "basalt-grpc/1");
	if (k->deadline) {
		uint64_t now = mono_ms();

		grpc_timeout_format(k->deadline > now ? k->deadline - now : 1, tmo);
		nv[n++] = (nghttp2_nv)NV("grpc-timeout", tmo);
	}
	for (size_t i = 0; i < k->nmd && n < sizeof(nv) / sizeof(nv[0]); i++)
		nv[n++] = (nghttp2_nv)NV(k->md[i].name, k->md[i].value);
	sid = nghttp2_submit_request(s, NULL, nv, n, &dp, k);
	if (sid < 0)
		return -EIO;
	k->stream_id = sid;
	return 0;
}

static void submit_pending(struct grpc_client *c)
{
	struct grpc_ccall *k, *next;

	for (k = c->calls; k; k = next) {
		next = k->next;
		if (k->stream_id == 0 && !k->done && call_submit(k) < 0)
			call_fail(k, GRPC_INTERNAL, "could not submit the request");
	}
	h2conn_kick(c->h2);
}

/* --- receiving --- */

static struct grpc_ccall *stream_call(nghttp2_session *s, int32_t sid)
{
	return nghttp2_session_get_stream_user_data(s, sid);
}

/* The value of 1 to maxdigits decimal digits and nothing else, or -1. */
static int decimal(const uint8_t *v, size_t n, size_t maxdigits)
{
	int r = 0;

	if (n == 0 || n > maxdigits)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		r = r * 10 + (v[i] - '0');
	}
	return r;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
	struct grpc_ccall *k = stream_call(s, f->hd.stream_id);

	(void)flags;
	(void)user;
	if (!k || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (namelen == 7 && !memcmp(name, ":status", 7)) {
		int v = decimal(value, valuelen, 3);

		k->http_status = valuelen == 3 && v >= 100 ? v : 0;  /* 0: not a status at all */
	} else if (namelen == 11 && !memcmp(name, "grpc-status", 11)) {
		int v = decimal(value, valuelen, 2);

		/* Only the codes gRPC defines; anything else (empty, "0001", "99") is UNKNOWN. */
		k->status = v >= 0 && v <= GRPC_UNAUTHENTICATED && (valuelen == 1 || value[0] != '0') ? v : GRPC_UNKNOWN;
	} else if (namelen == 12 && !memcmp(name, "grpc-message", 12)) {
		free(k->status_msg);
		k->status_msg = malloc(valuelen + 1);
		if (k->status_msg) {
			size_t m = grpc_msg_decode((const char *)value, valuelen, k->status_msg,
						   valuelen + 1);
			k->status_msg[m] = '\0';
		}
	}
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data, size_t len,
		   void *user)
{
	struct grpc_ccall *k = stream_call(s, sid);
	const uint8_t *msg;
	size_t mlen;
	int r;

	(void)flags;
	(void)user;
	if (!k || k->done || k->fail_code >= 0) {
		nghttp2_session_consume(s, sid, len);
		return 0;
	}
	r = grpc_deframer_push(&k->in, data, len);
	if (r < 0) {
		k->fail_code = r == -EMSGSIZE ? GRPC_RESOURCE_EXHAUSTED : GRPC_INTERNAL;
		snprintf(k->fail_msg, sizeof(k->fail_msg), "%s",
			 r == -EMSGSIZE	  ? "reply larger than the client's message size limit"
			 : r == -ENOTSUP ? "server sent a compressed reply (not negotiated)"
					 : "out of memory");
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
		nghttp2_session_consume(s, sid, len);
		return 0;
	}
	while ((r = grpc_deframer_next(&k->in, &msg, &mlen)) == 1) {
			r = k->on_msg ? k->on_msg(k->arg, msg, mlen) : 0;
			if (r != 0 || k->cancel_requested) {
			k->fail_code = GRPC_CANCELLED;
			snprintf(k->fail_msg, sizeof(k->fail_msg), "cancelled by the client");
			nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
			break;
		}
	}
	if (k->paused)
		k->unconsumed += len;
	else
		nghttp2_session_consume(s, sid, len);
	return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t sid, uint32_t error_code, void *user)
{
	struct grpc_ccall *k = stream_call(s, sid);

	(void)user;
	if (!k)
		return 0;
	nghttp2_session_set_stream_user_data(s, sid, NULL);
	k->stream_id = -1;
	call_conclude(k, error_code);
	return 0;
}

/* --- the connection --- */

static void fail_all(struct grpc_client *c, int code, const char *why)
{
	while (c->calls)
		call_end(c->calls, code, why);
}

static void on_ready(void *arg, struct h2conn *h)
{
	struct grpc_client *c = arg;

	c->open = true;
	nghttp2_session_set_local_window_size(h2conn_session(h), NGHTTP2_FLAG_NONE, 0, CONN_WINDOW);
	submit_pending(c);
	(void)h;
}

static void on_closed(void *arg, struct h2conn *h, const char *why)
{
	struct grpc_client *c = arg;
	char msg[sizeof(c->error)];

	(void)h;
	c->open = false;
	if (!c->error[0])
		snprintf(c->error, sizeof(c->error), "%s: %s", c->authority,
			 why && *why ? why : "connection closed");
	snprintf(msg, sizeof(msg), "%s", c->error);
	fail_all(c, c->closing ? GRPC_CANCELLED : GRPC_UNAVAILABLE, msg);
}

static void on_reap(void *arg)
{
	grpc_client_free(arg);
}

static void on_failed(void *arg)
{
	struct grpc_client *c = arg;

	fail_all(c, GRPC_UNAVAILABLE, c->error);
}

static nghttp2_session_callbacks *client_callbacks(void)
{
	static nghttp2_session_callbacks *cbs;

	if (!cbs) {
		if (nghttp2_session_callbacks_new(&cbs) != 0)
			return NULL;
		nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
		nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
		nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	}
	return cbs;
}

static int dial(const struct grpc_client_opts *o, int *fd, bool *connecting, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = o->numeric_only ? AI_NUMERICHOST : 0 };
	struct addrinfo *ai = NULL;
	char port[8];
	int one = 1, r, s;

	snprintf(port, sizeof(port), "%u", o->port);
	r = getaddrinfo(o->host, port, &hints, &ai);
	if (r != 0) {
		snprintf(err, errlen, "%s: %s", o->host,
			 o->numeric_only && r == EAI_NONAME ? "not an IP address" : gai_strerror(r));
		return -EINVAL;
	}
	s = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		r = -errno;
		freeaddrinfo(ai);
		snprintf(err, errlen, "socket: %s", strerror(-r));
		return r;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*connecting = false;
	if (connect(s, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			r = -errno;
			freeaddrinfo(ai);
			close(s);
			snprintf(err, errlen, "connect: %s", strerror(-r));
			return r;
		}
		*connecting = true;
	}
	freeaddrinfo(ai);
	*fd = s;
	return 0;
}

int grpc_client_new(const struct grpc_client_opts *o, struct grpc_client **out, char *err,
		    size_t errlen)
{
	struct grpc_client *c = calloc(1, sizeof(*c));
	struct h2conn_opts ho = { 0 };
	bool connecting = false;
	char why[256];
	int fd = -1, r;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->loop = o->loop;
	c->max_msg = o->max_msg ? o->max_msg : GRPC_MAX_MSG_DEFAULT;
	loop_timer_init(&c->reap, on_reap, c);
	loop_timer_init(&c->failed, on_failed, c);
	if (strchr(o->host, ':'))
		snprintf(c->authority, sizeof(c->authority), "[%s]:%u", o->host, o->port);
	else
		snprintf(c->authority, sizeof(c->authority), "%s:%u", o->host, o->port);
	if (!client_callbacks()) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->tls = o->tls ? tls_config_ref(o->tls) : NULL;
	if (o->adopt_fd > 0) {
		fd = o->adopt_fd;
		r = 0;
	} else {
		r = dial(o, &fd, &connecting, why, sizeof(why));
	}
	if (r == -EINVAL) {
		snprintf(err, errlen, "%s", why);
		grpc_client_free(c);
		return r;
	}
	if (r < 0) {
		/* Refused at once: calls made now still fail through their done callback. */
		snprintf(c->error, sizeof(c->error), "%s: %s", c->authority, why);
		*out = c;
		return 0;
	}
	ho.loop = o->loop;
	ho.fd = fd;
	ho.connecting = connecting;
	ho.tls = c->tls;
	ho.peer_name = o->host;
	ho.peer_port = o->port;
	ho.server = false;
	ho.cbs = client_callbacks();
	ho.session_data = c;
	ho.max_streams = 100;
	ho.window = STREAM_WINDOW;
	ho.manual_window = true;
	ho.setup_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms : 10000;
	ho.ready = on_ready;
	ho.closed = on_closed;
	ho.arg = c;
	r = h2conn_new(&ho, &c->h2, why, sizeof(why));
	if (r < 0) {
		close(fd);
		snprintf(err, errlen, "%s: %s", c->authority, why);
		grpc_client_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void grpc_client_free(struct grpc_client *c)
{
	if (!c)
		return;
	while (c->calls) {
		struct grpc_ccall *k = c->calls;

		call_unlink(k);
		call_free(k);
	}
	loop_timer_cancel(c->loop, &c->reap);
	loop_timer_cancel(c->loop, &c->failed);
	h2conn_free(c->h2);
	tls_config_free(c->tls);
	free(c);
}

void grpc_client_close(struct grpc_client *c)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	fail_all(c, GRPC_CANCELLED, "client closed");
	loop_timer_arm(c->loop, &c->reap, 0);
}

const char *grpc_client_error(const struct grpc_client *c)
{
	return c->error[0] ? c->error : NULL;
}

bool grpc_client_connected(const struct grpc_client *c)
{
	return c->open && !c->error[0];
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

int grpc_client_call(struct grpc_client *c, const char *method, const struct grpc_md *md, size_t nmd,
		     const void *req, size_t len, uint64_t timeout_ms, grpc_msg_fn *on_msg,
		     grpc_done_fn *on_done, void *arg, struct grpc_ccall **out)
{
	struct grpc_ccall *k;

	if (c->closing)
		return -ESHUTDOWN;
	if (len > UINT32_MAX)
		return -EMSGSIZE;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->cl = c;
	k->status = -1;
	k->fail_code = -1;
	k->on_msg = on_msg;
	k->on_done = on_done;
	k->arg = arg;
	grpc_deframer_init(&k->in, c->max_msg);
	loop_timer_init(&k->timer, on_call_timer, k);
	k->method = xstrdup(method);
	k->req = malloc(GRPC_PREFIX + len);
	k->md = nmd ? calloc(nmd, sizeof(*k->md)) : NULL;
	if (!k->method || !k->req || (nmd && !k->md))
		goto nomem;
	for (size_t i = 0; i < nmd; i++) {
		k->md[i].name = xstrdup(md[i].name);
		k->md[i].value = xstrdup(md[i].value);
		k->nmd = i + 1;
		if (!k->md[i].name || !k->md[i].value)
			goto nomem;
	}
	grpc_prefix(k->req, len);
	if (len)
		memcpy(k->req + GRPC_PREFIX, req, len);
	k->reqlen = GRPC_PREFIX + len;
	k->next = c->calls;
	if (c->calls)
		c->calls->prev = k;
	c->calls = k;
	if (timeout_ms) {
		k->deadline = mono_ms() + timeout_ms;
		loop_timer_arm(c->loop, &k->timer, timeout_ms);
	}
	if (out)
		*out = k;
	if (!c->h2 || h2conn_is_closed(c->h2)) {
		/* Never connected, or gone: report from the loop. */
		if (!c->error[0])
			snprintf(c->error, sizeof(c->error), "%s: connection closed", c->authority);
		loop_timer_arm(c->loop, &c->failed, 0);
	} else if (c->open) {
		if (call_submit(k) < 0) {
			call_unlink(k);
			call_free(k);
			return -EIO;
		}
		h2conn_kick(c->h2);
	}
	return 0;
nomem:
	call_free(k);
	return -ENOMEM;
}

void grpc_ccall_cancel(struct grpc_ccall *k)
{
	if (k->done)
		return;
	k->cancel_requested = true;
	loop_timer_arm(k->cl->loop, &k->timer, 0);
}

void grpc_ccall_pause(struct grpc_ccall *k)
{
	k->paused = true;
}

void grpc_ccall_resume(struct grpc_ccall *k)
{
	struct grpc_client *c = k->cl;

	k->paused = false;
	if (k->unconsumed && k->stream_id > 0 && c->h2 && !h2conn_is_closed(c->h2)) {
		nghttp2_session_consume(h2conn_session(c->h2), k->stream_id, k->unconsumed);
		h2conn_kick(c->h2);
	}
	k->unconsumed = 0;
}
