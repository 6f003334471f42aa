/* SPDX-License-Identifier: MIT */
#include "lib/grpc_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "lib/h2conn.h"

#define MAX_HEADERS 32          /* metadata entries kept per call */
#define MAX_HEADER_BYTES 16384  /* all of a request's header block */
#define ACCEPT_BATCH 64
#define MAX_LISTENERS 4

struct hdr {
	char *name;
	char *value;
};

enum call_state {
	C_RECEIVING,  /* headers and request message arriving */
	C_HANDLER,    /* with the handler */
	C_ENDED,      /* status decided (by the handler or the server) */
};

struct grpc_call {
	unsigned refs;               /* the stream's, and the handler's while it holds it */
	struct srv_conn *conn;       /* NULL once the stream or connection is gone */
	struct grpc_call *prev, *next;  /* the connection's calls */
	int32_t stream_id;
	enum call_state state;
	bool handler_holds;          /* dispatched and not yet finished by the handler */
	bool cancelled;
	bool headers_sent;
	bool deferred;               /* the data provider waits for replies */
	bool want_writable;
	bool bad_request;            /* header validation failed: answered already */
	char *method;                /* :path */
	char *http_method;
	char *content_type;
	struct hdr hdrs[MAX_HEADERS];
	size_t nhdrs;
	size_t hdr_bytes;
	struct grpc_deframer req;
	const uint8_t *msg;          /* the request message, inside req */
	size_t msglen;
	size_t budget;               /* request bytes counted against the server's budget */
	struct buf outq;             /* framed replies not yet taken by nghttp2 */
	size_t msg_rem;              /* bytes of outq's first message nghttp2 has yet to take */
	int status;
	char status_msg[512];        /* percent-encoded */
	uint64_t deadline;
	uint64_t started;
	struct loop_timer deadline_timer;
	struct loop_timer notify;    /* on_writable, from the loop */
	grpc_call_fn *cancel_fn, *writable_fn;
	void *cancel_arg, *writable_arg;
	void *data;
	struct grpc_server *srv;
};

struct srv_conn {
	struct grpc_server *srv;
	struct srv_conn *prev, *next;
	struct h2conn *h2;
	struct grpc_call *calls;
	size_t ncalls;
	uint64_t created;
	unsigned tls_gen;            /* the server's TLS setting when this was accepted */
	char peer[64];
};

struct listener {
	struct grpc_server *srv;
	int fd;
	struct loop_watch *w;
};

struct grpc_server {
	struct grpc_server_opts o;
	struct loop *loop;
	struct tls_config *tls;
	unsigned tls_gen;             /* bumped by every grpc_server_set_tls */
	nghttp2_session_callbacks *cbs;
	struct listener ls[MAX_LISTENERS];
	size_t nls;
	struct srv_conn *conns;
	struct grpc_server_stats st;
	size_t buffered;              /* request bytes held, all calls */
	struct loop_timer sweep;
	struct loop_timer accept_pause;
};

static void call_unref(struct grpc_call *c);
static void kick(struct grpc_call *c);

/* --- call accessors --- */

const char *grpc_call_method(const struct grpc_call *c)
{
	return c->method ? c->method : "";
}

const uint8_t *grpc_call_request(const struct grpc_call *c, size_t *len)
{
	*len = c->msglen;
	return c->msg;
}

const char *grpc_call_header(const struct grpc_call *c, const char *name)
{
	for (size_t i = 0; i < c->nhdrs; i++)
		if (strcmp(c->hdrs[i].name, name) == 0)
			return c->hdrs[i].value;
	return NULL;
}

const mbedtls_x509_crt *grpc_call_peer_cert(const struct grpc_call *c)
{
	return c->conn ? h2conn_peer_cert(c->conn->h2) : NULL;
}

const char *grpc_call_peer_addr(const struct grpc_call *c)
{
	return c->conn ? c->conn->peer : "(gone)";
}

uint64_t grpc_call_deadline(const struct grpc_call *c)
{
	return c->deadline;
}

bool grpc_call_cancelled(const struct grpc_call *c)
{
	return c->cancelled;
}

void *grpc_call_data(const struct grpc_call *c)
{
	return c->data;
}

void grpc_call_set_data(struct grpc_call *c, void *data)
{
	c->data = data;
}

void grpc_call_on_cancel(struct grpc_call *c, grpc_call_fn *fn, void *arg)
{
	c->cancel_fn = fn;
	c->cancel_arg = arg;
}

void grpc_call_on_writable(struct grpc_call *c, grpc_call_fn *fn, void *arg)
{
	c->writable_fn = fn;
	c->writable_arg = arg;
}

size_t grpc_call_queued(const struct grpc_call *c)
{
	return c->outq.len;
}

/* --- call lifetime --- */

static void call_free(struct grpc_call *c)
{
	loop_timer_cancel(c->srv->loop, &c->deadline_timer);
	loop_timer_cancel(c->srv->loop, &c->notify);
	c->srv->buffered -= c->budget;
	c->srv->st.calls--;
	for (size_t i = 0; i < c->nhdrs; i++) {
		free(c->hdrs[i].name);
		free(c->hdrs[i].value);
	}
	free(c->method);
	free(c->http_method);
	free(c->content_type);
	grpc_deframer_fini(&c->req);
	buf_fini(&c->outq);
	free(c);
}

static void call_unref(struct grpc_call *c)
{
	if (--c->refs == 0)
		call_free(c);
}

/* The handler learns its call is over; its grpc_call_finish will only release it. */
static void cancel_call(struct grpc_call *c)
{
	if (!c->handler_holds || c->cancelled)
		return;
	c->cancelled = true;
	if (c->cancel_fn)
		c->cancel_fn(c->cancel_arg, c);
}

/* The stream is gone: drop the stream's reference. */
static void detach(struct grpc_call *c)
{
	struct srv_conn *sc = c->conn;

	if (!sc)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		sc->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	sc->ncalls--;
	c->conn = NULL;
	c->refs++;  /* keep c alive through the cancel callback */
	cancel_call(c);
	call_unref(c);   /* the stream's */
	call_unref(c);
}

/* --- replies --- */

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

/* The status pairs of a call's trailers into nv[0..1], formatting the code into code[12]
 * first: a header array must never be built from a buffer not yet written. Returns the
 * number of pairs (grpc-message only when there is one). */
static size_t status_nv(const struct grpc_call *c, char code[12], nghttp2_nv nv[2])
{
	snprintf(code, 12, "%d", c->status);
	nv[0] = (nghttp2_nv)NV("grpc-status", code);
	nv[1] = (nghttp2_nv)NV("grpc-message", c->status_msg);
	return c->status_msg[0] ? 2 : 1;
}

/* Where outq's first whole message begins, so an abort can keep the one begun. */
static void track_taken(struct grpc_call *c, size_t n)
{
	const uint8_t *p = buf_head(&c->outq);

	while (n) {
		if (!c->msg_rem)  /* at a message's prefix: messages are queued whole */
			c->msg_rem = GRPC_PREFIX + ((size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4]);
		size_t k = n < c->msg_rem ? n : c->msg_rem;

		c->msg_rem -= k;
		n -= k;
		p += k;
	}
}

static ssize_t read_reply(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t length,
			  uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	struct grpc_call *c = src->ptr;
	size_t n = length < c->outq.len ? length : c->outq.len;
	size_t high = c->srv->o.send_high_water;

	(void)ud;
	memcpy(buf, buf_head(&c->outq), n);
	track_taken(c, n);
	buf_consume(&c->outq, n);
	if (c->want_writable && c->outq.len < high / 2)
		loop_timer_arm(c->srv->loop, &c->notify, 0);
	if (c->outq.len > 0)
		return (ssize_t)n;
	if (c->state == C_ENDED) {
		char code[12];
		nghttp2_nv tr[2];
		size_t ntr = status_nv(c, code, tr);

		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (nghttp2_submit_trailer(s, sid, tr, ntr) != 0)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		return (ssize_t)n;
	}
	if (n == 0) {
		c->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	return (ssize_t)n;
}

static int send_headers(struct grpc_call *c)
{
	nghttp2_nv h[] = { NV(":status", "200"), NV("content-type", "application/grpc") };
	nghttp2_data_provider dp = { .source.ptr = c, .read_callback = read_reply };

	c->headers_sent = true;
	return nghttp2_submit_response(h2conn_session(c->conn->h2), c->stream_id, h, 2, &dp) == 0
		       ? 0 : -ENOMEM;
}

/* A status with no reply message: one HEADERS frame ending the stream. */
static void send_trailers_only(struct grpc_call *c)
{
	char code[12];
	nghttp2_nv h[4] = { NV(":status", "200"), NV("content-type", "application/grpc") };
	size_t n = 2 + status_nv(c, code, h + 2);

	c->headers_sent = true;
	nghttp2_submit_response(h2conn_session(c->conn->h2), c->stream_id, h, n, NULL);
}

static void kick(struct grpc_call *c)
{
	if (!c->conn)
		return;
	if (c->deferred) {
		c->deferred = false;
		nghttp2_session_resume_data(h2conn_session(c->conn->h2), c->stream_id);
	}
	h2conn_kick(c->conn->h2);
}

/* Decides the call's status and sends it after what is queued. */
static void end_call(struct grpc_call *c, int code, const char *message)
{
	if (c->state == C_ENDED)
		return;
	c->state = C_ENDED;
	c->status = code;
	grpc_msg_encode(message ? message : "", c->status_msg, sizeof(c->status_msg));
	loop_timer_cancel(c->srv->loop, &c->deadline_timer);
	if (!c->conn)
		return;
	if (!c->headers_sent)
		send_trailers_only(c);
	kick(c);
}

int grpc_call_send(struct grpc_call *c, const void *msg, size_t len)
{
	uint8_t pfx[GRPC_PREFIX];

	if (!c->conn || c->cancelled || c->state == C_ENDED)
		return -ECANCELED;
	if (!c->headers_sent && send_headers(c) < 0)
		return -ENOMEM;
	grpc_prefix(pfx, len);
	if (buf_append(&c->outq, pfx, sizeof(pfx)) < 0 || buf_append(&c->outq, msg, len) < 0)
		return -ENOMEM;
	kick(c);
	if (c->outq.len >= c->srv->o.send_high_water) {
		c->want_writable = true;
		return 1;
	}
	return 0;
}

void grpc_call_finish(struct grpc_call *c, int code, const char *message)
{
	if (!c->handler_holds)
		return;
	c->handler_holds = false;
	if (!c->cancelled)
		end_call(c, code, message);
	call_unref(c);
}

void grpc_call_abort(struct grpc_call *c, int code, const char *message)
{
	if (!c->handler_holds)
		return;
	/* The rest of a message HTTP/2 has begun to send stays, so the client reads the status. */
	if (c->outq.len > c->msg_rem)
		c->outq.len = c->msg_rem;
	grpc_call_finish(c, code, message);
}

static void on_notify(void *arg)
{
	struct grpc_call *c = arg;

	if (!c->want_writable || c->outq.len >= c->srv->o.send_high_water / 2)
		return;
	c->want_writable = false;
	if (c->writable_fn && c->handler_holds && !c->cancelled)
		c->writable_fn(c->writable_arg, c);
}

static void on_deadline(void *arg)
{
	struct grpc_call *c = arg;

	c->refs++;
	buf_clear(&c->outq);
	end_call(c, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
	cancel_call(c);
	call_unref(c);
}

/* --- requests --- */

static struct grpc_call *call_new(struct srv_conn *sc, int32_t sid)
{
	struct grpc_call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->refs = 1;
	c->srv = sc->srv;
	c->conn = sc;
	c->stream_id = sid;
	c->started = mono_ms();
	grpc_deframer_init(&c->req, sc->srv->o.max_msg);
	buf_init(&c->outq);
	loop_timer_init(&c->deadline_timer, on_deadline, c);
	loop_timer_init(&c->notify, on_notify, c);
	c->next = sc->calls;
	if (sc->calls)
		sc->calls->prev = c;
	sc->calls = c;
	sc->ncalls++;
	sc->srv->st.calls++;
	return c;
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	struct srv_conn *sc = ud;
	struct grpc_call *c;

	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	c = call_new(sc, f->hd.stream_id);
	if (!c)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	nghttp2_session_set_stream_user_data(s, f->hd.stream_id, c);
	return 0;
}

static char *dupn(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
		     const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct grpc_call *c = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	char **slot = NULL;

	(void)flags;
	(void)ud;
	if (!c || c->state != C_RECEIVING || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	c->hdr_bytes += nlen + vlen + 32;
	if (c->hdr_bytes > MAX_HEADER_BYTES)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  /* resets the stream */
	if (nlen == 5 && memcmp(name, ":path", 5) == 0)
		slot = &c->method;
	else if (nlen == 7 && memcmp(name, ":method", 7) == 0)
		slot = &c->http_method;
	else if (nlen == 12 && memcmp(name, "content-type", 12) == 0)
		slot = &c->content_type;
	if (slot) {
		free(*slot);
		*slot = dupn(value, vlen);
		return *slot ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	if (name[0] == ':' || c->nhdrs == MAX_HEADERS)
		return 0;
	c->hdrs[c->nhdrs].name = dupn(name, nlen);
	c->hdrs[c->nhdrs].value = dupn(value, vlen);
	if (!c->hdrs[c->nhdrs].name || !c->hdrs[c->nhdrs].value) {
		free(c->hdrs[c->nhdrs].name);
		free(c->hdrs[c->nhdrs].value);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	c->nhdrs++;
	return 0;
}

/* HTTP-level problems get an HTTP status, as gRPC asks; the rest a gRPC status. */
static void reject_http(struct grpc_call *c, const char *status)
{
	nghttp2_nv h[] = { NV(":status", status) };

	c->state = C_ENDED;
	c->bad_request = true;
	c->headers_sent = true;
	nghttp2_submit_response(h2conn_session(c->conn->h2), c->stream_id, h, 1, NULL);
}

static void headers_done(struct grpc_call *c)
{
	const char *t = grpc_call_header(c, "grpc-timeout");
	uint64_t ms;

	if (!c->http_method || strcmp(c->http_method, "POST") != 0) {
		reject_http(c, "405");
		return;
	}
	if (!c->content_type || strncmp(c->content_type, "application/grpc", 16) != 0 ||
	    (c->content_type[16] != '\0' && c->content_type[16] != '+' && c->content_type[16] != ';')) {
		reject_http(c, "415");
		return;
	}
	if (!c->method || c->method[0] != '/') {
		end_call(c, GRPC_UNIMPLEMENTED, "malformed method path");
		return;
	}
	if (t) {
		if (grpc_timeout_parse(t, strlen(t), &ms) < 0) {
			end_call(c, GRPC_INVALID_ARGUMENT, "malformed grpc-timeout");
			return;
		}
		c->deadline = mono_ms() + ms;
		loop_timer_arm(c->srv->loop, &c->deadline_timer, ms);
	}
}

static void request_done(struct grpc_call *c)
{
	struct grpc_server *srv = c->srv;

	if (c->state != C_RECEIVING)
		return;
	if (grpc_deframer_next(&c->req, &c->msg, &c->msglen) != 1 || grpc_deframer_partial(&c->req) != 0) {
		end_call(c, GRPC_INVALID_ARGUMENT, "a call carries exactly one request message");
		return;
	}
	c->state = C_HANDLER;
	c->handler_holds = true;
	c->refs++;
	srv->o.handler(srv->o.arg, c);
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	struct grpc_call *c;

	(void)ud;
	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		return 0;
	c = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (!c)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
		headers_done(c);
	if ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) && c->state == C_RECEIVING)
		request_done(c);
	return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data,
			 size_t len, void *ud)
{
	struct grpc_call *c = nghttp2_session_get_stream_user_data(s, sid);
	struct grpc_server *srv;
	int r;

	(void)flags;
	(void)ud;
	if (!c || c->state != C_RECEIVING)
		return 0;
	srv = c->srv;
	if (srv->buffered + len > srv->o.max_buffered) {
		end_call(c, GRPC_RESOURCE_EXHAUSTED, "server busy: too much request data in flight");
		return 0;
	}
	srv->buffered += len;
	c->budget += len;
	r = grpc_deframer_push(&c->req, data, len);
	if (r == -EMSGSIZE) {
		char m[96];

		snprintf(m, sizeof(m), "request message larger than the limit of %zu bytes", srv->o.max_msg);
		end_call(c, GRPC_RESOURCE_EXHAUSTED, m);
	} else if (r == -ENOTSUP) {
		end_call(c, GRPC_UNIMPLEMENTED, "compressed messages are not supported");
	} else if (r < 0) {
		end_call(c, GRPC_INTERNAL, "malformed message framing");
	}
	return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t sid, uint32_t error_code, void *ud)
{
	struct grpc_call *c = nghttp2_session_get_stream_user_data(s, sid);

	(void)error_code;
	(void)ud;
	if (c) {
		nghttp2_session_set_stream_user_data(s, sid, NULL);
		detach(c);
	}
	return 0;
}

/* --- connections --- */

static void conn_teardown(struct srv_conn *sc)
{
	struct grpc_server *srv = sc->srv;

	while (sc->calls)
		detach(sc->calls);
	if (sc->prev)
		sc->prev->next = sc->next;
	else
		srv->conns = sc->next;
	if (sc->next)
		sc->next->prev = sc->prev;
	srv->st.conns--;
	h2conn_free(sc->h2);
	free(sc);
}

static void on_conn_closed(void *arg, struct h2conn *h2, const char *why)
{
	struct srv_conn *sc = arg;

	(void)h2;
	if (!h2conn_established(h2) && strncmp(why, "TLS", 3) == 0)
		sc->srv->st.handshake_failures++;
	conn_teardown(sc);
}

/* Room for one more connection: evict one still in its handshake, else an idle one. */
static bool make_room(struct grpc_server *srv)
{
	struct srv_conn *victim = NULL;

	if (srv->st.conns < srv->o.max_conns)
		return true;
	for (struct srv_conn *sc = srv->conns; sc; sc = sc->next) {
		bool hs = !h2conn_established(sc->h2);

		if (hs && (!victim || h2conn_established(victim->h2) || sc->created < victim->created))
			victim = sc;
		else if (!hs && sc->ncalls == 0 && (!victim || (h2conn_established(victim->h2) &&
					h2conn_last_rx(sc->h2) < h2conn_last_rx(victim->h2))))
			victim = sc;
	}
	if (!victim)
		return false;
	srv->st.evicted++;
	conn_teardown(victim);
	return true;
}

static void on_sweep(void *arg);

static int conn_add(struct grpc_server *srv, int fd, const char *peer)
{
	struct srv_conn *sc = calloc(1, sizeof(*sc));
	char err[128];
	struct h2conn_opts ho = {
		.loop = srv->loop, .fd = fd, .tls = srv->tls, .server = true, .cbs = srv->cbs,
		.max_streams = srv->o.max_streams, .setup_timeout_ms = srv->o.handshake_timeout_ms,
		.closed = on_conn_closed,
	};

	if (!srv->tls && !srv->o.allow_plain) {
		/* No TLS set up yet: nothing may be served in the clear. */
		close(fd);
		free(sc);
		srv->st.refused++;
		return -EAGAIN;
	}
	if (!sc) {
		close(fd);
		return -ENOMEM;
	}
	sc->srv = srv;
	sc->created = mono_ms();
	sc->tls_gen = srv->tls_gen;
	snprintf(sc->peer, sizeof(sc->peer), "%s", peer);
	ho.session_data = sc;
	ho.arg = sc;
	if (h2conn_new(&ho, &sc->h2, err, sizeof(err)) < 0) {
		close(fd);
		free(sc);
		return -ENOMEM;
	}
	sc->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = sc;
	srv->conns = sc;
	srv->st.conns++;
	srv->st.accepted++;
	if (!loop_timer_armed(&srv->sweep))
		loop_timer_arm(srv->loop, &srv->sweep, 1000);
	return 0;
}

static void sweep_conn(struct srv_conn *sc, uint64_t now)
{
	const struct grpc_server_opts *o = &sc->srv->o;
	bool reset = false;

	if (!h2conn_established(sc->h2) || h2conn_is_closed(sc->h2))
		return;
	if (sc->ncalls == 0 && now - h2conn_last_rx(sc->h2) > o->idle_timeout_ms) {
		h2conn_close(sc->h2, "idle");
		return;
	}
	for (struct grpc_call *c = sc->calls; c; c = c->next) {
		if (c->state == C_RECEIVING && now - c->started > o->request_timeout_ms) {
			nghttp2_submit_rst_stream(h2conn_session(sc->h2), NGHTTP2_FLAG_NONE, c->stream_id,
						  NGHTTP2_CANCEL);
			reset = true;
		}
	}
	if (reset)
		h2conn_kick(sc->h2);
}

static void on_sweep(void *arg)
{
	struct grpc_server *srv = arg;
	uint64_t now = mono_ms();

	for (struct srv_conn *sc = srv->conns; sc; sc = sc->next)
		sweep_conn(sc, now);
	if (srv->conns)
		loop_timer_arm(srv->loop, &srv->sweep, 1000);
}

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		port = ntohs(in->sin_port);
		snprintf(out, len, "%s:%u", ip, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		port = ntohs(in6->sin6_port);
		snprintf(out, len, "[%s]:%u", ip, port);
	} else {
		snprintf(out, len, "local");
	}
}

static void pause_accepting(struct grpc_server *srv)
{
	for (size_t i = 0; i < srv->nls; i++)
		loop_watch_mod(srv->loop, srv->ls[i].w, 0);
	loop_timer_arm(srv->loop, &srv->accept_pause, 100);
}

static void on_accept_resume(void *arg)
{
	struct grpc_server *srv = arg;

	for (size_t i = 0; i < srv->nls; i++)
		loop_watch_mod(srv->loop, srv->ls[i].w, EPOLLIN);
}

static void accept_batch(struct grpc_server *srv, struct listener *l)
{
	if (!srv->tls && !srv->o.allow_plain && srv->o.hold_until_tls) {
		/* Nothing may be served yet: a client waits in the backlog until
		 * grpc_server_set_tls, instead of being accepted and closed. */
		for (size_t i = 0; i < srv->nls; i++)
			loop_watch_mod(srv->loop, srv->ls[i].w, 0);
		return;
	}
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char peer[64];
		int one = 1;
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				pause_accepting(srv);
			return;
		}
		if (!make_room(srv)) {
			srv->st.refused++;
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		peer_name(&ss, peer, sizeof(peer));
		conn_add(srv, fd, peer);
	}
}

static void on_listen_io(void *arg, uint32_t events)
{
	struct listener *l = arg;

	(void)events;
	accept_batch(l->srv, l);
}

int grpc_server_listen(struct grpc_server *s, const char *addr, uint16_t port, char *err,
		       size_t errlen)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd = -1, one = 1, r;

	if (s->nls == MAX_LISTENERS) {
		snprintf(err, errlen, "listen %s:%u: too many listeners", addr, port);
		return -ENOSPC;
	}
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		snprintf(err, errlen, "listen: %s is not an IP address", addr);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0)
		goto fail;
	s->ls[s->nls].srv = s;
	s->ls[s->nls].fd = fd;
	r = loop_watch_add(s->loop, fd, EPOLLIN, on_listen_io, &s->ls[s->nls], &s->ls[s->nls].w);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	s->nls++;
	return 0;
fail:
	r = -errno;
	snprintf(err, errlen, "listen on %s port %u: %s", addr, port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

int grpc_server_adopt(struct grpc_server *s, int fd)
{
	if (!make_room(s)) {
		s->st.refused++;
		close(fd);
		return -EMFILE;
	}
	return conn_add(s, fd, "local");
}

void grpc_server_set_tls(struct grpc_server *s, struct tls_config *tls)
{
	tls_config_free(s->tls);
	s->tls = tls ? tls_config_ref(tls) : NULL;
	s->tls_gen++;
	if (s->tls)
		on_accept_resume(s);
}

void grpc_server_stats(const struct grpc_server *s, struct grpc_server_stats *st)
{
	*st = s->st;
}

int grpc_server_new(const struct grpc_server_opts *o, struct grpc_server **out)
{
	struct grpc_server *s = calloc(1, sizeof(*s));

	if (!s || nghttp2_session_callbacks_new(&s->cbs) != 0) {
		free(s);
		return -ENOMEM;
	}
	s->o = *o;
	s->loop = o->loop;
	if (!s->o.max_conns)
		s->o.max_conns = 1024;
	if (!s->o.max_msg)
		s->o.max_msg = GRPC_MAX_MSG_DEFAULT;
	if (!s->o.max_buffered)
		s->o.max_buffered = 64u << 20;
	if (!s->o.max_streams)
		s->o.max_streams = 100;
	if (!s->o.handshake_timeout_ms)
		s->o.handshake_timeout_ms = 10000;
	if (!s->o.request_timeout_ms)
		s->o.request_timeout_ms = 10000;
	if (!s->o.idle_timeout_ms)
		s->o.idle_timeout_ms = 300000;
	if (!s->o.send_high_water)
		s->o.send_high_water = 1u << 20;
	nghttp2_session_callbacks_set_on_begin_headers_callback(s->cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(s->cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(s->cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(s->cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(s->cbs, on_stream_close);
	loop_timer_init(&s->sweep, on_sweep, s);
	loop_timer_init(&s->accept_pause, on_accept_resume, s);
	*out = s;
	return 0;
}

void grpc_server_close_all(struct grpc_server *s)
{
	for (size_t i = 0; i < s->nls; i++) {
		loop_watch_del(s->loop, s->ls[i].w);
		close(s->ls[i].fd);
	}
	s->nls = 0;
	while (s->conns)
		conn_teardown(s->conns);
	loop_timer_cancel(s->loop, &s->sweep);
	loop_timer_cancel(s->loop, &s->accept_pause);
}

void grpc_server_close_conns(struct grpc_server *s, const char *why)
{
	for (struct srv_conn *c = s->conns; c; c = c->next)
		if (c->tls_gen != s->tls_gen)
			h2conn_close(c->h2, why);
}

void grpc_server_free(struct grpc_server *s)
{
	if (!s)
		return;
	grpc_server_close_all(s);
	tls_config_free(s->tls);
	nghttp2_session_callbacks_del(s->cbs);
	free(s);
}

uint16_t grpc_server_port(const struct grpc_server *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (s->nls == 0 || getsockname(s->ls[0].fd, (struct sockaddr *)&ss, &sl) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}
