/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.1, the client's part (RFC 9112): a URL taken apart, a request written, and a
 * response read incrementally with every length checked (status line, headers of at most
 * HTTP_HEAD_MAX bytes, a body by Content-Length, chunked, or to the end of the
 * connection, never past the caller's cap), so a body is either whole or reported as cut
 * short. And a GET on the event loop over plain TCP to an address literal, for what
 * machined fetches at boot (a machine config) and later cloud metadata.
 */
#ifndef BASALT_HTTP_H
#define BASALT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define HTTP_HEAD_MAX 16384
#define HTTP_HOST_MAX 256
#define HTTP_PATH_MAX 2048

struct http_url {
	bool tls;                      /* https */
	char host[HTTP_HOST_MAX];      /* as written, without the brackets of an IPv6 literal */
	uint16_t port;
	char path[HTTP_PATH_MAX];      /* from the first '/', with the query; "/" when none */
};

/* 0, or -1 with err naming what is wrong (scheme, host, port, length). */
int http_url_parse(const char *url, struct http_url *u, char *err, size_t errlen);

/* A GET (or method) request for u into b, with extra header lines (each "Name: value"). */
int http_request(struct buf *b, const char *method, const struct http_url *u, const char *const *headers,
		 size_t nheaders);

enum http_state { HTTP_STATUS, HTTP_HEADERS, HTTP_BODY, HTTP_CHUNK_SIZE, HTTP_CHUNK_DATA, HTTP_CHUNK_END,
		  HTTP_TRAILERS, HTTP_DONE, HTTP_ERROR };

struct http_resp {
	enum http_state state;
	int status;                    /* 200, 404, ... */
	bool chunked, has_length, head_only;
	uint64_t length;               /* Content-Length, or what is left of the chunk */
	size_t max_body;
	struct buf line;               /* the line being read (status, header, chunk size) */
	size_t head_bytes;
	struct buf body;
	char error[160];
};

/* A response to read, its body at most max_body bytes (more is an error). */
void http_resp_init(struct http_resp *r, size_t max_body);
void http_resp_fini(struct http_resp *r);
/* Feeds what arrived. -1 once the response is malformed or too large (r->error says why);
 * 1 when it is complete; 0 for more. */
int http_resp_feed(struct http_resp *r, const uint8_t *p, size_t n);
/* The connection ended: 1 if that completes the response (a body read to the end), -1 if
 * it was cut short (r->error says where). */
int http_resp_eof(struct http_resp *r);

/* A request's head as a server reads it: only GET and HEAD, an origin-form path. */
struct http_req {
	char method[8];
	char path[HTTP_PATH_MAX];      /* percent-decoded, without the query */
};
/* The head (up to its blank line) in buf: 1 with r filled, 0 for more, -1 with err (then
 * status says what to answer: 400, 405, 414, 431). */
int http_req_parse(const char *buf, size_t len, struct http_req *r, int *status, char *err, size_t errlen);

struct loop;
struct http_get;
/* status 0 with err on failure (connect, timeout, malformed); body valid during the call. */
typedef void http_get_fn(void *arg, int status, const uint8_t *body, size_t len, const char *err);
/*
 * GETs u (http only, host an address literal) within timeout_ms; fn is called once, on the
 * loop, unless http_get_cancel comes first. extra headers as for http_request.
 */
int http_get_start(struct loop *loop, const struct http_url *u, const char *const *headers, size_t nheaders,
		   size_t max_body, unsigned timeout_ms, http_get_fn *fn, void *arg, struct http_get **out,
		   char *err, size_t errlen);
/* The same with another method (a PUT without a body names "Content-Length: 0" in headers). */
int http_fetch_start(struct loop *loop, const char *method, const struct http_url *u, const char *const *headers,
		     size_t nheaders, size_t max_body, unsigned timeout_ms, http_get_fn *fn, void *arg,
		     struct http_get **out, char *err, size_t errlen);
void http_get_cancel(struct http_get *g);

#endif
