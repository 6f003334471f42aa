/* SPDX-License-Identifier: MIT */
#include "lib/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/loop.h"
#include "lib/parse.h"

int http_url_parse(const char *url, struct http_url *u, char *err, size_t errlen)
{
	struct url p;

	memset(u, 0, sizeof(*u));
	if (!parse_url(url, &p)) {
		snprintf(err, errlen, "not a URL (scheme://host[:port][/path])");
		return -1;
	}
	if (strcmp(p.scheme, "http") == 0) {
		u->port = 80;
	} else if (strcmp(p.scheme, "https") == 0) {
		u->tls = true;
		u->port = 443;
	} else {
		snprintf(err, errlen, "scheme %s: want http or https", p.scheme);
		return -1;
	}
	if (p.port > 65535 || (p.port == 0 && strstr(url + strlen(p.scheme) + 3, ":0"))) {
		snprintf(err, errlen, "port %u out of range", p.port);
		return -1;
	}
	if (p.port)
		u->port = (uint16_t)p.port;
	snprintf(u->host, sizeof(u->host), "%s", p.host);
	if (strlen(p.path) >= sizeof(u->path) - 1) {
		snprintf(err, errlen, "path longer than %zu bytes", sizeof(u->path) - 2);
		return -1;
	}
	for (const char *c = p.path; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			snprintf(err, errlen, "a space or control character in the path");
			return -1;
		}
	snprintf(u->path, sizeof(u->path), "%s%s", p.path[0] == '/' ? "" : "/", p.path);
	return 0;
}

int http_request(struct buf *b, const char *method, const struct http_url *u, const char *const *headers,
		 size_t nheaders)
{
	char line[HTTP_HOST_MAX + HTTP_PATH_MAX + 64];
	bool v6 = strchr(u->host, ':') != NULL, dflt = u->port == (u->tls ? 443 : 80);
	int n;

	n = snprintf(line, sizeof(line), "%s %s HTTP/1.1\r\nHost: %s%s%s", method, u->path, v6 ? "[" : "", u->host,
		     v6 ? "]" : "");
	if (n < 0 || (size_t)n >= sizeof(line) || buf_append(b, line, (size_t)n) < 0)
		return -1;
	if (!dflt) {
		n = snprintf(line, sizeof(line), ":%u", u->port);
		if (buf_append(b, line, (size_t)n) < 0)
			return -1;
	}
	if (buf_append(b, "\r\nUser-Agent: basalt\r\nAccept: */*\r\nConnection: close\r\n", 54) < 0)
		return -1;
	for (size_t i = 0; i < nheaders; i++)
		if (strpbrk(headers[i], "\r\n") || buf_append(b, headers[i], strlen(headers[i])) < 0 ||
		    buf_append(b, "\r\n", 2) < 0)
			return -1;
	return buf_append(b, "\r\n", 2);
}

/* --- the response --- */

void http_resp_init(struct http_resp *r, size_t max_body)
{
	memset(r, 0, sizeof(*r));
	r->max_body = max_body;
	buf_init(&r->line);
	buf_init(&r->body);
}

void http_resp_fini(struct http_resp *r)
{
	buf_fini(&r->line);
	buf_fini(&r->body);
}

static int fail(struct http_resp *r, const char *why)
{
	snprintf(r->error, sizeof(r->error), "%s", why);
	r->state = HTTP_ERROR;
	return -1;
}

/* RFC 9112 4: HTTP/1.x SP 3DIGIT SP reason. */
static int status_line(struct http_resp *r, const char *l)
{
	if (strncmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ' || l[9] < '1' ||
	    l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9' || (l[12] != ' ' && l[12]))
		return fail(r, "not an HTTP/1.x status line");
	r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	r->state = HTTP_HEADERS;
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool parse_u64(const char *s, int base, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	for (; *s; s++, n++) {
		int d = hexval(*s);

		if (d >= base)
			d = -1;

		if (d < 0 || v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return n > 0;
}

/* The headers that frame the body; the others are not ours to read. */
static int header(struct http_resp *r, char *l)
{
	char *colon = strchr(l, ':'), *v;
	size_t n;

	if (!colon || colon == l || strpbrk(l, " \t") < colon)
		return fail(r, "a malformed header line");
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (n = strlen(v); n && (v[n - 1] == ' ' || v[n - 1] == '\t'); n--)
		v[n - 1] = '\0';
	if (strcasecmp(l, "Content-Length") == 0) {
		uint64_t len;

		if (!parse_u64(v, 10, &len) || (r->has_length && len != r->length))
			return fail(r, "a bad Content-Length");
		r->has_length = true;
		r->length = len;
	} else if (strcasecmp(l, "Transfer-Encoding") == 0) {
		if (strcasecmp(v, "chunked") != 0)
			return fail(r, "a transfer coding other than chunked");
		r->chunked = true;
	}
	return 0;
}

static int headers_end(struct http_resp *r)
{
	if (r->chunked && r->has_length)
		return fail(r, "both Content-Length and chunked");
	if (r->status / 100 == 1)
		return fail(r, "an interim (1xx) response");
	if (r->head_only || r->status == 204 || r->status == 304) {
		r->state = HTTP_DONE;
		return 1;
	}
	if (r->has_length && r->length > r->max_body)
		return fail(r, "the body is larger than allowed");
	if (r->chunked) {
		r->state = HTTP_CHUNK_SIZE;
	} else {
		r->state = HTTP_BODY;
		if (r->has_length && r->length == 0) {
			r->state = HTTP_DONE;
			return 1;
		}
	}
	return 0;
}

static int chunk_size(struct http_resp *r, char *l)
{
	char *ext = strchr(l, ';');
	uint64_t n;

	if (ext)
		*ext = '\0';
	for (size_t k = strlen(l); k && (l[k - 1] == ' ' || l[k - 1] == '\t'); k--)
		l[k - 1] = '\0';
	if (!parse_u64(l, 16, &n))
		return fail(r, "a bad chunk size");
	if (n > r->max_body - r->body.len)
		return fail(r, "the body is larger than allowed");
	r->length = n;
	r->state = n ? HTTP_CHUNK_DATA : HTTP_TRAILERS;
	return 0;
}

/* One complete line (without its CRLF) in the state that reads lines. */
static int on_line(struct http_resp *r, char *l)
{
	switch (r->state) {
	case HTTP_STATUS:
		return status_line(r, l);
	case HTTP_HEADERS:
		return l[0] ? header(r, l) : headers_end(r);
	case HTTP_CHUNK_SIZE:
		return chunk_size(r, l);
	case HTTP_CHUNK_END:
		if (l[0])
			return fail(r, "no CRLF after a chunk");
		r->state = HTTP_CHUNK_SIZE;
		return 0;
	case HTTP_TRAILERS:
		if (!l[0]) {
			r->state = HTTP_DONE;
			return 1;
		}
		return 0;
	default:
		return fail(r, "a line where none was due");
	}
}

int http_resp_feed(struct http_resp *r, const uint8_t *p, size_t n)
{
	while (n > 0) {
		int rc = 0;

		if (r->state == HTTP_DONE)
			return 1;  /* anything after the response is not read */
		if (r->state == HTTP_ERROR)
			return -1;
		if (r->state == HTTP_BODY || r->state == HTTP_CHUNK_DATA) {
			size_t take = n;

			if (r->has_length || r->state == HTTP_CHUNK_DATA)
				take = r->length < n ? (size_t)r->length : n;
			if (!r->has_length && r->state == HTTP_BODY && r->body.len + take > r->max_body)
				return fail(r, "the body is larger than allowed");
			if (buf_append(&r->body, p, take) < 0)
				return fail(r, "out of memory");
			p += take;
			n -= take;
			if (r->has_length || r->state == HTTP_CHUNK_DATA) {
				r->length -= take;
				if (r->length == 0 && r->state == HTTP_BODY) {
					r->state = HTTP_DONE;
					return 1;
				}
				if (r->length == 0)
					r->state = HTTP_CHUNK_END;
			}
			continue;
		}
		/* A line: up to LF, the CR before it dropped. */
		const uint8_t *lf = memchr(p, '\n', n);
		size_t take = lf ? (size_t)(lf - p) + 1 : n;

		r->head_bytes += take;
		if (r->head_bytes > HTTP_HEAD_MAX)
			return fail(r, "the header is larger than allowed");
		if (buf_append(&r->line, p, take) < 0)
			return fail(r, "out of memory");
		p += take;
		n -= take;
		if (!lf)
			continue;
		{
			char *l = (char *)buf_head(&r->line);
			size_t len = r->line.len - 1;

			if (len && l[len - 1] == '\r')
				len--;
			l[len] = '\0';
			if (memchr(l, '\0', len))
				return fail(r, "a NUL byte in the header");
			rc = on_line(r, l);
			buf_clear(&r->line);
		}
		if (rc != 0)
			return rc;
	}
	return r->state == HTTP_DONE ? 1 : r->state == HTTP_ERROR ? -1 : 0;
}

int http_resp_eof(struct http_resp *r)
{
	if (r->state == HTTP_DONE)
		return 1;
	if (r->state == HTTP_BODY && !r->has_length) {
		r->state = HTTP_DONE;
		return 1;
	}
	if (r->state == HTTP_ERROR)
		return -1;
	if (r->state == HTTP_BODY || r->state == HTTP_CHUNK_DATA)
		snprintf(r->error, sizeof(r->error), "the connection closed %llu bytes before the end of the body",
			 (unsigned long long)r->length);
	else
		snprintf(r->error, sizeof(r->error), "the connection closed before the response was complete");
	r->state = HTTP_ERROR;
	return -1;
}

/* --- a request, as a server reads it --- */

static int req_fail(int *status, int code, char *err, size_t errlen, const char *why)
{
	*status = code;
	snprintf(err, errlen, "%s", why);
	return -1;
}

int http_req_parse(const char *buf, size_t len, struct http_req *r, int *status, char *err, size_t errlen)
{
	const char *end = NULL, *sp1, *sp2, *eol;
	size_t n = 0;

	for (size_t i = 0; i + 1 < len && !end; i++)
		if (buf[i] == '\n' && (buf[i + 1] == '\n' || (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')))
			end = buf + i;
	if (!end)
		return len > HTTP_HEAD_MAX ? req_fail(status, 431, err, errlen, "request header too large") : 0;
	if (memchr(buf, '\0', (size_t)(end - buf)))
		return req_fail(status, 400, err, errlen, "a NUL byte in the request");
	eol = memchr(buf, '\n', (size_t)(end - buf) + 1);
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || sp1 == buf || (size_t)(eol - sp2) < 9 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return req_fail(status, 400, err, errlen, "not an HTTP/1.x request line");
	if ((size_t)(sp1 - buf) >= sizeof(r->method))
		return req_fail(status, 405, err, errlen, "unknown method");
	memcpy(r->method, buf, (size_t)(sp1 - buf));
	r->method[sp1 - buf] = '\0';
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		return req_fail(status, 405, err, errlen, "only GET and HEAD are served");
	if (sp1[1] != '/')
		return req_fail(status, 400, err, errlen, "the target is not a path");
	for (const char *c = sp1 + 1; c < sp2 && *c != '?'; c++) {
		char ch = *c;

		if (ch == '%') {
			int hi = c + 2 < sp2 ? hexval(c[1]) : -1, lo = hi >= 0 ? hexval(c[2]) : -1;

			if (lo < 0 || (hi == 0 && lo == 0))
				return req_fail(status, 400, err, errlen, "a bad percent escape in the path");
			ch = (char)(hi << 4 | lo);
			c += 2;
		} else if ((unsigned char)ch <= ' ' || ch == 0x7f) {
			return req_fail(status, 400, err, errlen, "a control character in the path");
		}
		if (n + 1 >= sizeof(r->path))
			return req_fail(status, 414, err, errlen, "the path is too long");
		r->path[n++] = ch;
	}
	r->path[n] = '\0';
	return 1;
}

/* --- a GET on the loop --- */

struct http_get {
	struct loop *loop;
	int fd;
	struct loop_watch *w;
	struct loop_timer timer;
	struct buf out;
	struct http_resp resp;
	bool connected;
	http_get_fn *fn;
	void *arg;
};

static void get_free(struct http_get *g)
{
	if (g->w)
		loop_watch_del(g->loop, g->w);
	loop_timer_cancel(g->loop, &g->timer);
	if (g->fd >= 0)
		close(g->fd);
	buf_fini(&g->out);
	http_resp_fini(&g->resp);
	free(g);
}

static void get_done(struct http_get *g, const char *err)
{
	if (err)
		g->fn(g->arg, 0, NULL, 0, err);
	else
		g->fn(g->arg, g->resp.status, buf_head(&g->resp.body), g->resp.body.len, NULL);
	get_free(g);
}

static void get_timeout(void *arg)
{
	struct http_get *g = arg;

	get_done(g, g->connected ? "no complete response in time" : "connect timed out");
}

static void get_io(void *arg, uint32_t events)
{
	struct http_get *g = arg;
	char err[200];
	ssize_t n;
	int rc;

	if (!g->connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int e = 0;
		socklen_t el = sizeof(e);

		getsockopt(g->fd, SOL_SOCKET, SO_ERROR, &e, &el);
		if (e) {
			snprintf(err, sizeof(err), "connect: %s", strerror(e));
			get_done(g, err);
			return;
		}
		g->connected = true;
	}
	if (g->out.len) {
		n = buf_write_fd(&g->out, g->fd);
		if (n < 0 && n != -EAGAIN) {
			snprintf(err, sizeof(err), "send: %s", strerror((int)-n));
			get_done(g, err);
			return;
		}
		if (!g->out.len)
			loop_watch_mod(g->loop, g->w, EPOLLIN);
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		uint8_t b[16384];

		n = read(g->fd, b, sizeof(b));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			snprintf(err, sizeof(err), "receive: %s", strerror(errno));
			get_done(g, err);
			return;
		}
		rc = n == 0 ? http_resp_eof(&g->resp) : http_resp_feed(&g->resp, b, (size_t)n);
		if (rc < 0) {
			get_done(g, g->resp.error);
			return;
		}
		if (rc > 0) {
			get_done(g, NULL);
			return;
		}
	}
}

int http_get_start(struct loop *loop, const struct http_url *u, const char *const *headers, size_t nheaders,
		   size_t max_body, unsigned timeout_ms, http_get_fn *fn, void *arg, struct http_get **out,
		   char *err, size_t errlen)
{
	return http_fetch_start(loop, "GET", u, headers, nheaders, max_body, timeout_ms, fn, arg, out, err, errlen);
}

int http_fetch_start(struct loop *loop, const char *method, const struct http_url *u, const char *const *headers,
		     size_t nheaders, size_t max_body, unsigned timeout_ms, http_get_fn *fn, void *arg,
		     struct http_get **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct ipaddr ip;
	struct http_get *g;

	*out = NULL;
	if (u->tls) {
		snprintf(err, errlen, "https is not supported yet (use http)");
		return -ENOTSUP;
	}
	if (!parse_ip(u->host, &ip)) {
		snprintf(err, errlen, "host %s: only an address, not a name, is supported yet", u->host);
		return -ENOTSUP;
	}
	memset(&ss, 0, sizeof(ss));
	if (ip.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(u->port);
		memcpy(&s4->sin_addr, ip.addr, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(u->port);
		memcpy(&s6->sin6_addr, ip.addr, 16);
		sl = sizeof(*s6);
	}
	if (!(g = calloc(1, sizeof(*g)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->loop = loop;
	g->fn = fn;
	g->arg = arg;
	buf_init(&g->out);
	http_resp_init(&g->resp, max_body);
	loop_timer_init(&g->timer, get_timeout, g);
	g->fd = socket(ip.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g->fd < 0 || http_request(&g->out, method, u, headers, nheaders) < 0 ||
	    (connect(g->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) ||
	    loop_watch_add(loop, g->fd, EPOLLOUT | EPOLLIN, get_io, g, &g->w) < 0 ||
	    loop_timer_arm(loop, &g->timer, timeout_ms) < 0) {
		int e = errno ? errno : EINVAL;

		snprintf(err, errlen, "connect: %s", strerror(e));
		get_free(g);
		return -e;
	}
	*out = g;
	return 0;
}

void http_get_cancel(struct http_get *g)
{
	if (g)
		get_free(g);
}
