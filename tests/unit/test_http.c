/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/http.h"

static int feed_str(struct http_resp *r, const char *s)
{
	return http_resp_feed(r, (const uint8_t *)s, strlen(s));
}

/* Feeds s one byte at a time: a response split anywhere reads the same. */
static int feed_bytes(struct http_resp *r, const char *s)
{
	int rc = 0;

	for (size_t i = 0; s[i] && rc == 0; i++)
		rc = http_resp_feed(r, (const uint8_t *)s + i, 1);
	return rc;
}

static void test_url(void **state)
{
	struct http_url u;
	char err[128];

	(void)state;
	assert_int_equal(http_url_parse("http://10.0.0.1:8080/configs/52:54:00:12:34:56.yaml?x=1", &u, err, sizeof(err)), 0);
	assert_false(u.tls);
	assert_string_equal(u.host, "10.0.0.1");
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.path, "/configs/52:54:00:12:34:56.yaml?x=1");
	assert_int_equal(http_url_parse("https://[fd00::1]", &u, err, sizeof(err)), 0);
	assert_true(u.tls);
	assert_string_equal(u.host, "fd00::1");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/");
	assert_int_equal(http_url_parse("ftp://x/y", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "want http or https"));
	assert_int_equal(http_url_parse("http://x:70000/", &u, err, sizeof(err)), -1);
	assert_int_equal(http_url_parse("http://10.0.0.1/a b", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "space or control"));
}

static void test_request(void **state)
{
	struct http_url u;
	struct buf b;
	char err[64];
	const char *h[] = { "X-aws-ec2-metadata-token-ttl-seconds: 60" };

	(void)state;
	buf_init(&b);
	assert_int_equal(http_url_parse("http://[fd00::1]:81/latest/api/token", &u, err, sizeof(err)), 0);
	assert_int_equal(http_request(&b, "PUT", &u, h, 1), 0);
	assert_int_equal(b.len, strlen("PUT /latest/api/token HTTP/1.1\r\nHost: [fd00::1]:81\r\nUser-Agent: basalt\r\n"
				       "Accept: */*\r\nConnection: close\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n"));
	assert_memory_equal(buf_head(&b), "PUT /latest/api/token HTTP/1.1\r\nHost: [fd00::1]:81\r\n", 51);
	buf_clear(&b);
	/* A header with a line break would smuggle another: refused. */
	h[0] = "X: a\r\nEvil: 1";
	assert_int_equal(http_request(&b, "GET", &u, h, 1), -1);
	buf_fini(&b);
}

static void test_length_body(void **state)
{
	struct http_resp r;

	(void)state;
	http_resp_init(&r, 1024);
	assert_int_equal(feed_bytes(&r, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello"), 1);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 5);
	assert_memory_equal(buf_head(&r.body), "hello", 5);
	http_resp_fini(&r);
}

static void test_chunked(void **state)
{
	struct http_resp r;
	const char *resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "4;ext=1\r\nmach\r\nA\r\nine: conf\r\n0\r\nTrailer: x\r\n\r\n";

	(void)state;
	http_resp_init(&r, 1024);
	assert_int_equal(feed_str(&r, resp), 1);
	assert_int_equal(r.body.len, 14);
	assert_memory_equal(buf_head(&r.body), "machine: conf", 13);
	http_resp_fini(&r);
	http_resp_init(&r, 1024);
	assert_int_equal(feed_bytes(&r, resp), 1);
	assert_int_equal(r.body.len, 14);
	http_resp_fini(&r);
}

static void test_to_eof_and_cut_short(void **state)
{
	struct http_resp r;

	(void)state;
	/* No length: the body ends with the connection. */
	http_resp_init(&r, 1024);
	assert_int_equal(feed_str(&r, "HTTP/1.0 404 Not Found\r\n\r\nnope"), 0);
	assert_int_equal(http_resp_eof(&r), 1);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.body.len, 4);
	http_resp_fini(&r);
	/* A length the connection did not deliver: never taken as complete. */
	http_resp_init(&r, 1024);
	assert_int_equal(feed_str(&r, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"), 0);
	assert_int_equal(http_resp_eof(&r), -1);
	assert_non_null(strstr(r.error, "6 bytes before the end"));
	http_resp_fini(&r);
	/* Nor a chunked body without its last chunk. */
	http_resp_init(&r, 1024);
	assert_int_equal(feed_str(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"), 0);
	assert_int_equal(http_resp_eof(&r), -1);
	http_resp_fini(&r);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *resp, *why;
	} bad[] = {
		{ "SSH-2.0-OpenSSH\r\n", "status line" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", "Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", "larger than allowed" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "chunked" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", "both" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffff\r\n", "larger than allowed" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "CRLF after a chunk" },
		{ "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "header line" },
		{ "HTTP/1.1 100 Continue\r\n\r\n", "interim" },
	};
	struct http_resp r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http_resp_init(&r, 1024);
		assert_int_equal(feed_str(&r, bad[i].resp), -1);
		if (!strstr(r.error, bad[i].why))
			fail_msg("%s: error '%s', wanted '%s'", bad[i].resp, r.error, bad[i].why);
		http_resp_fini(&r);
	}
	/* An endless header is cut off at HTTP_HEAD_MAX. */
	http_resp_init(&r, 1024);
	assert_int_equal(feed_str(&r, "HTTP/1.1 200 OK\r\n"), 0);
	for (int i = 0, rc = 0; rc == 0 && i < 2000; i++)
		if ((rc = feed_str(&r, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n")) == -1)
			assert_non_null(strstr(r.error, "header is larger"));
	assert_int_equal(r.state, HTTP_ERROR);
	http_resp_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),          cmocka_unit_test(test_request),
		cmocka_unit_test(test_length_body),  cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_to_eof_and_cut_short), cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
