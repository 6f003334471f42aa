/* SPDX-License-Identifier: MIT */
/*
 * One HTTP/2 connection over TLS (or plain, for tests and fuzzing) on the event loop: the
 * non-blocking connect, the TLS handshake, then bytes between the socket and an nghttp2
 * session. Writes are pulled from nghttp2 only while the socket takes them, so a peer that
 * stops reading holds at most one chunk here; EPOLLOUT is asked for only while one waits.
 *
 * The owner supplies the session callbacks; h2conn never calls back into the owner from
 * inside a function the owner called (closing is always reported from the loop).
 */
#ifndef BASALT_H2CONN_H
#define BASALT_H2CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "lib/loop.h"
#include "lib/tls.h"

struct h2conn;

/* The TLS handshake finished (or, plain, the connection is up). */
typedef void h2conn_ready_fn(void *arg, struct h2conn *c);
/* The connection is gone; why says how. The owner frees c (h2conn_free) here or later. */
typedef void h2conn_closed_fn(void *arg, struct h2conn *c, const char *why);

struct h2conn_opts {
	struct loop *loop;
	int fd;                          /* taken over: closed by h2conn_free */
	bool connecting;                 /* a client socket whose connect() is in progress */
	struct tls_config *tls;          /* NULL: plain HTTP/2 (tests, fuzzing) */
	const char *peer_name;           /* client: the address dialled, for verification */
	unsigned peer_port;              /* client: with peer_name, which session ticket to offer */
	bool server;
	const nghttp2_session_callbacks *cbs;
	void *session_data;              /* user_data for the nghttp2 callbacks */
	uint32_t max_streams;            /* SETTINGS_MAX_CONCURRENT_STREAMS we announce */
	uint32_t window;                 /* initial stream window we announce (0: 64 KiB) */
	bool manual_window;              /* the owner calls nghttp2_session_consume itself */
	uint64_t setup_timeout_ms;       /* connect + handshake must finish in this time */
	h2conn_ready_fn *ready;
	h2conn_closed_fn *closed;
	void *arg;
};

int h2conn_new(const struct h2conn_opts *o, struct h2conn **out, char *err, size_t errlen);
void h2conn_free(struct h2conn *c);

nghttp2_session *h2conn_session(struct h2conn *c);
/* Sends what the session has queued; call after submitting frames or resuming data. */
void h2conn_kick(struct h2conn *c);
/* Ends the connection (GOAWAY when possible); closed is reported from the loop. */
void h2conn_close(struct h2conn *c, const char *why);

bool h2conn_established(const struct h2conn *c);
bool h2conn_is_closed(const struct h2conn *c);
/* The peer's verified certificate, or NULL. */
const mbedtls_x509_crt *h2conn_peer_cert(const struct h2conn *c);
/* Monotonic ms of the last byte received. */
uint64_t h2conn_last_rx(const struct h2conn *c);

#endif
