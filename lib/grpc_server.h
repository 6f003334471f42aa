/* SPDX-License-Identifier: MIT */
/*
 * A gRPC server on the event loop: TLS listeners, HTTP/2 connections, unary and
 * server-streaming calls (one request message, any number of replies), deadlines,
 * cancellation, size limits and connection caps.
 *
 * A call reaches the handler once its request message has fully arrived. The handler owns
 * it from then on and must end it with grpc_call_finish exactly once, even after it was
 * cancelled (the finish is then only a release).
 */
#ifndef BASALT_GRPC_SERVER_H
#define BASALT_GRPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "lib/grpc.h"
#include "lib/loop.h"
#include "lib/tls.h"

struct grpc_server;
struct grpc_call;

typedef void grpc_handler_fn(void *arg, struct grpc_call *call);
typedef void grpc_call_fn(void *arg, struct grpc_call *call);

struct grpc_server_opts {
	struct loop *loop;
	size_t max_conns;              /* 0: 1024; beyond, idle ones are evicted */
	size_t max_msg;                /* 0: GRPC_MAX_MSG_DEFAULT */
	size_t max_buffered;           /* request bytes held across all connections; 0: 64 MiB */
	uint32_t max_streams;          /* concurrent calls per connection; 0: 100 */
	uint64_t handshake_timeout_ms; /* 0: 10 s */
	uint64_t request_timeout_ms;   /* a request must arrive whole in this time; 0: 10 s */
	uint64_t idle_timeout_ms;      /* a connection without calls or traffic; 0: 5 min */
	size_t send_high_water;        /* reply bytes queued per call before backpressure; 0: 1 MiB */
	bool hold_until_tls;           /* no TLS set yet: clients wait in the backlog until it is
					 * (else each is accepted and closed) */
	bool allow_plain;              /* serve plain HTTP/2 while no TLS is set (tests, fuzzing);
					* otherwise connections are refused until there is TLS */
	grpc_handler_fn *handler;
	void *arg;
};

struct grpc_server_stats {
	size_t conns;          /* open now */
	size_t calls;          /* open now */
	uint64_t accepted;
	uint64_t evicted;      /* closed to make room for a new one */
	uint64_t refused;      /* closed at once: no room and nothing to evict */
	uint64_t handshake_failures;
};

int grpc_server_new(const struct grpc_server_opts *o, struct grpc_server **out);
/*
 * Closes every connection. Calls still held by the handler are cancelled: the handler must
 * finish them from its cancel callback, as they must not outlive the server.
 */
void grpc_server_free(struct grpc_server *s);
/* TLS for connections accepted from now on (a reference is taken; NULL: plain HTTP/2). */
void grpc_server_set_tls(struct grpc_server *s, struct tls_config *tls);
/* Listens on addr ("0.0.0.0", "::", "127.0.0.2") and port. */
int grpc_server_listen(struct grpc_server *s, const char *addr, uint16_t port, char *err,
		       size_t errlen);
/* The port of the first listener (useful after listening on port 0). */
uint16_t grpc_server_port(const struct grpc_server *s);
/* Serves an already connected socket (taken over) with the current TLS setting. */
int grpc_server_adopt(struct grpc_server *s, int fd);
/* Closes the connections accepted under an earlier TLS setting (GOAWAY first). */
void grpc_server_close_conns(struct grpc_server *s, const char *why);
/* Stops accepting and closes every connection at once (calls are cancelled). */
void grpc_server_close_all(struct grpc_server *s);
void grpc_server_stats(const struct grpc_server *s, struct grpc_server_stats *st);

/* --- a call, from the handler's side --- */
const char *grpc_call_method(const struct grpc_call *c);   /* "/package.Service/Method" */
const uint8_t *grpc_call_request(const struct grpc_call *c, size_t *len);
/* The first value of a metadata header (lower-case name), or NULL. */
const char *grpc_call_header(const struct grpc_call *c, const char *name);
/* The client's verified certificate, or NULL (none, or the connection is gone). */
const mbedtls_x509_crt *grpc_call_peer_cert(const struct grpc_call *c);
/* The client's address, "ip:port". */
const char *grpc_call_peer_addr(const struct grpc_call *c);
/* Monotonic ms by which the client wants an answer, 0 for none. */
uint64_t grpc_call_deadline(const struct grpc_call *c);
bool grpc_call_cancelled(const struct grpc_call *c);
void *grpc_call_data(const struct grpc_call *c);
void grpc_call_set_data(struct grpc_call *c, void *data);
/*
 * fn runs once if the call ends before the handler finishes it: the client reset it, its
 * deadline passed (the client has been told DEADLINE_EXCEEDED), or the connection is gone.
 */
void grpc_call_on_cancel(struct grpc_call *c, grpc_call_fn *fn, void *arg);
/* fn runs when the reply queue drains below the high water mark after send returned 1. */
void grpc_call_on_writable(struct grpc_call *c, grpc_call_fn *fn, void *arg);
/*
 * Queues one reply message. 0, or 1 when queued but the queue is over its high water mark
 * (wait for on_writable before sending more), -ECANCELED when the call is gone, -ENOMEM.
 */
int grpc_call_send(struct grpc_call *c, const void *msg, size_t len);
size_t grpc_call_queued(const struct grpc_call *c);
/* Ends the call with a status (message may be NULL), after the queued replies. */
void grpc_call_finish(struct grpc_call *c, int code, const char *message);
/*
 * Ends it now: the replies still queued are dropped (but the rest of one HTTP/2 has begun
 * to send), for a client that stopped reading and must not hold our memory.
 */
void grpc_call_abort(struct grpc_call *c, int code, const char *message);

#endif
