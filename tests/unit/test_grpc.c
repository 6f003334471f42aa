/* SPDX-License-Identifier: MIT */
/*
 * The gRPC server and client against each other over loopback TLS: calls, trailers,
 * deadlines, cancellation, size limits, streams, concurrency, and certificates that must
 * be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grpc_client.h"
#include "lib/grpc_server.h"
#include "lib/pki.h"

static struct loop *loop;
static struct grpc_server *srv;
static char *ca_crt, *ca_key, *srv_crt, *srv_key, *cli_crt, *cli_key;
static struct tls_config *srv_tls;
static char err[512];

/* What the server saw. */
static int cancels;
static int last_role;
static struct grpc_call *held;

/* --- the server's handler --- */

static void on_cancel(void *arg, struct grpc_call *c)
{
	(void)arg;
	cancels++;
	if (c == held)
		held = NULL;
	grpc_call_finish(c, GRPC_CANCELLED, NULL);
}

struct streamer {
	unsigned next, total;
};

static void stream_more(void *arg, struct grpc_call *c)
{
	struct streamer *s = arg;
	char m[32];

	while (s->next < s->total) {
		int n = snprintf(m, sizeof(m), "%u", s->next++);
		int r = grpc_call_send(c, m, (size_t)n);

		if (r < 0) {
			free(s);
			grpc_call_finish(c, GRPC_INTERNAL, "send failed");
			return;
		}
		if (r == 1)
			return;  /* on_writable brings us back */
	}
	free(s);
	grpc_call_on_cancel(c, NULL, NULL);
	grpc_call_finish(c, GRPC_OK, NULL);
}

static void stream_cancel(void *arg, struct grpc_call *c)
{
	free(arg);
	cancels++;
	grpc_call_finish(c, GRPC_CANCELLED, NULL);
}

static void handler(void *arg, struct grpc_call *c)
{
	const char *m = grpc_call_method(c);
	size_t len;
	const uint8_t *req = grpc_call_request(c, &len);

	(void)arg;
	last_role = pki_cert_role(grpc_call_peer_cert(c));
	if (strcmp(m, "/t.T/Echo") == 0) {
		grpc_call_send(c, req, len);
		grpc_call_finish(c, GRPC_OK, NULL);
	} else if (strcmp(m, "/t.T/Fail") == 0) {
		grpc_call_finish(c, GRPC_NOT_FOUND, "nö such thing: 100%");
	} else if (strcmp(m, "/t.T/Hold") == 0) {
		held = c;
		grpc_call_on_cancel(c, on_cancel, NULL);
	} else if (strcmp(m, "/t.T/Stream") == 0) {
		struct streamer *s = calloc(1, sizeof(*s));

		s->total = (unsigned)atoi(len ? (const char *)req : "0");
		grpc_call_on_cancel(c, stream_cancel, s);
		grpc_call_on_writable(c, stream_more, s);
		stream_more(s, c);
	} else if (strcmp(m, "/t.T/Header") == 0) {
		const char *v = grpc_call_header(c, "x-test");

		grpc_call_send(c, v ? v : "", v ? strlen(v) : 0);
		grpc_call_finish(c, GRPC_OK, NULL);
	} else {
		grpc_call_finish(c, GRPC_UNIMPLEMENTED, "unknown method");
	}
}

/* --- the client's side --- */

struct result {
	bool done;
	int code;
	char msg[512];
	unsigned nmsgs;
	char last[64];
	size_t bytes;
	bool in_order;
	unsigned cancel_after;
	struct grpc_ccall *call;
};

static int on_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct result *r = arg;
	char want[32];

	snprintf(want, sizeof(want), "%u", r->nmsgs);
	if (len != strlen(want) || memcmp(msg, want, len) != 0)
		r->in_order = false;
	r->nmsgs++;
	r->bytes += len;
	snprintf(r->last, sizeof(r->last), "%.*s", (int)(len < 63 ? len : 63), (const char *)msg);
	if (r->cancel_after && r->nmsgs == r->cancel_after)
		grpc_ccall_cancel(r->call);
	return 0;
}

static void on_done(void *arg, int code, const char *msg)
{
	struct result *r = arg;

	r->done = true;
	r->code = code;
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

static void run_until(bool *flag, unsigned ms)
{
	uint64_t end = mono_ms() + ms;

	while (!*flag && mono_ms() < end)
		loop_run_once(loop, 20);
}

static void run_for(unsigned ms)
{
	uint64_t end = mono_ms() + ms;

	while (mono_ms() < end)
		loop_run_once(loop, 10);
}

static char *issue(const char *cn, const char *org, bool server, int64_t offset, unsigned days,
		   const char *ica, const char *ikey, char **key)
{
	struct pki_subject s = { .cn = cn, .days = days, .server = server,
				 .not_before_offset_s = offset };
	char *crt = NULL;

	if (org)
		s.org[s.norg++] = org;
	if (server) {
		s.sans[s.nsans++] = "127.0.0.1";
		s.sans[s.nsans++] = "localhost";
	}
	assert_int_equal(pki_gen_key(key, err, sizeof(err)), 0);
	assert_int_equal(pki_issue(&s, *key, ica, ikey, &crt, err, sizeof(err)), 0);
	return crt;
}

static struct tls_config *client_tls(const char *crt, const char *key, const char *ca,
				     const char *pin)
{
	struct tls_opts o = { .cert_pem = crt, .key_pem = key, .ca_pem = ca, .pin_sha256 = pin };
	struct tls_config *t = NULL;

	assert_int_equal(tls_config_new(&o, &t, err, sizeof(err)), 0);
	return t;
}

static struct grpc_client *dial(struct tls_config *t)
{
	struct grpc_client_opts o = { .loop = loop, .host = "127.0.0.1",
				      .port = grpc_server_port(srv), .numeric_only = true, .tls = t };
	struct grpc_client *c = NULL;

	assert_int_equal(grpc_client_new(&o, &c, err, sizeof(err)), 0);
	return c;
}

static struct result call(struct grpc_client *c, const char *method, const char *req, size_t len,
			  uint64_t timeout)
{
	struct result r = { .in_order = true };

	assert_int_equal(grpc_client_call(c, method, NULL, 0, req, len, timeout, on_msg, on_done, &r,
					  &r.call), 0);
	run_until(&r.done, 10000);
	assert_true(r.done);
	return r;
}

static int setup(void **state)
{
	struct pki_subject cas = { .cn = "test-ca", .days = 30, .ca = true };
	struct tls_opts so = { .server = true, .require_peer_cert = true };
	struct grpc_server_opts gso = { .handler = handler, .hold_until_tls = true };

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(pki_gen_key(&ca_key, err, sizeof(err)), 0);
	assert_int_equal(pki_issue(&cas, ca_key, NULL, NULL, &ca_crt, err, sizeof(err)), 0);
	srv_crt = issue("node", NULL, true, 0, 30, ca_crt, ca_key, &srv_key);
	cli_crt = issue("admin", PKI_ROLE_ADMIN, false, 0, 30, ca_crt, ca_key, &cli_key);
	so.cert_pem = srv_crt;
	so.key_pem = srv_key;
	so.ca_pem = ca_crt;
	assert_int_equal(tls_config_new(&so, &srv_tls, err, sizeof(err)), 0);
	gso.loop = loop;
	assert_int_equal(grpc_server_new(&gso, &srv), 0);
	grpc_server_set_tls(srv, srv_tls);
	assert_int_equal(grpc_server_listen(srv, "127.0.0.1", 0, err, sizeof(err)), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	grpc_server_free(srv);
	tls_config_free(srv_tls);
	loop_free(loop);
	free(ca_crt);
	free(srv_crt);
	free(cli_crt);
	pki_free_secret(ca_key);
	pki_free_secret(srv_key);
	pki_free_secret(cli_key);
	return 0;
}

static void test_unary_echo_and_role(void **state)
{
	struct tls_config *t = client_tls(cli_crt, cli_key, ca_crt, NULL);
	struct grpc_client *c = dial(t);
	struct result r;

	(void)state;
	r = call(c, "/t.T/Echo", "0", 1, 5000);
	assert_int_equal(r.code, GRPC_OK);
	assert_int_equal(r.nmsgs, 1);
	assert_string_equal(r.last, "0");
	assert_int_equal(last_role, ROLE_ADMIN);
	/* An empty request is a message too. */
	r = call(c, "/t.T/Echo", NULL, 0, 5000);
	assert_int_equal(r.code, GRPC_OK);
	assert_int_equal(r.nmsgs, 1);
	assert_int_equal(r.bytes, 0);
	grpc_client_free(c);
	tls_config_free(t);
}

static void test_status_and_message(void **state)
{
	struct tls_config *t = client_tls(cli_crt, cli_key, ca_crt, NULL);
	struct grpc_client *c = dial(t);
	struct result r;

	(void)state;
	r = call(c, "/t.T/Fail", "", 0, 5000);
	assert_int_equal(r.code, GRPC_NOT_FOUND);
	assert_string_equal(r.msg, "nö such thing: 100%");
	r = call(c, "/t.T/Nope", "", 0, 5000);
	assert_int_equal(r.code, GRPC_UNIMPLEMENTED);
	grpc_client_free(c);
	tls_config_free(t);
}

static void test_metadata(void **state)
{
	struct tls_config *t = client_tls(cli_crt, cli_key, ca_crt, NULL);
	struct grpc_client *c = dial(t);
	struct grpc_md md[] = { { "x-test", "hello" } };
	struct result r = { .in_order = true };

	(void)state;
	assert_int_equal(grpc_client_call(c, "/t.T/Header", md, 1, "", 0, 5000, on_msg, on_done, &r,
					  NULL), 0);
	run_until(&r.done, 5000);
	assert_int_equal(r.code, GRPC_OK);
	assert_string_equal(r.last, "hello");
	grpc_client_free(c);
	tls_config_free(t);
}

static void test_deadline(void **state)
{
	struct tls_config *t = client_tls(cli_crt, cli_key, ca_crt, NULL);
	struct grpc_client *c = dial(t);
	struct result r;
	int before = cancels;
	uint64_t t0 = mono_ms();

	(void)state;
	r = call(c, "/t.T/Hold", "", 0, 300);
	assert_int_equal(r.code, GRPC_DEADLINE_EXCEEDED);
	assert_true(mono_ms() - t0 >= 290);
	assert_true(mono_ms() - t0 < 3000);
	run_for(200);
	/* The server learned of it too (its own deadline, or the reset). */
	assert_int_equal(cancels, before + 1);
	assert_null(held);
	grpc_client_free(c);
	tls_config_free(t);
}

static void test_cancel_stream(void **state)
{
	struct tls_config *t = client_tls(cli_crt, cli_key, ca_crt, NULL);
	struct grpc_client *c = dial(t);
	struct result r = { .in_order = true, .cancel_after = 10 };
	int before = cancels;

	(void)state;
	assert_int_equal(grpc_client_call(c, "/t.T/Stream", NULL, 0, "100000000", 9, 0, on_msg, on_done, &r,
					  &r.call), 0);
	run_until(&r.done, 10000);
	assert_true(r.done);
	assert_int_equal(r.code, GRPC_CANCELLED);
	assert_true(r.nmsgs >= 10);
	run_for(300);
	assert_int_equal(cancels, before + 1);
	/* The connection is still good. */
	r = call(c, "/t.T/Echo", "0", 1, 5000);
	assert_int_equal(r.code, GRPC_OK);
	grpc_client_free(c);
	tls_config_free(t);
}

static void test_stream_in_order(void **state)
{
	struct tls_config *t = client_tls(cli_crt, cli_key, ca_crt, NULL);
	struct grpc_client *c = dial(t);
	struct result r;

	(void)state;
	r = call(c, "/t.T/Stream", "50000", 5, 20000);
	assert_int_equal(r.code, GRPC_OK);
	assert_int_equal(r.nmsgs, 50000);
	assert_true(r.in_order);
	grpc_client_free(c);
	tls_config_free(t);
}

static void test_oversized_request(void **state)
{
	struct tls_config *t = client_tls(cli_crt, cli_key, ca_crt, NULL);
	struct grpc_client *c = dial(t);
	size_t n = GRPC_MAX_MSG_DEFAULT + 1;
	char *big = calloc(1, n);
	struct result r;

	(void)state;
	r = call(c, "/t.T/Echo", big, n, 20000);
	assert_int_equal(r.code, GRPC_RESOURCE_EXHAUSTED);
	/* Exactly the limit is fine. */
	r = call(c, "/t.T/Echo", big, n - 1, 20000);
	assert_int_equal(r.code, GRPC_OK);
	assert_int_equal(r.bytes, n - 1);
	free(big);
	grpc_client_free(c);
	tls_config_free(t);
}

static void test_many_concurrent(void **state)
{
	struct tls_config *t = client_tls(cli_crt, cli_key, ca_crt, NULL);
	struct grpc_client *c = dial(t);
	enum { N = 300 };
	struct result *r = calloc(N, sizeof(*r));
	unsigned ok = 0;
	uint64_t end = mono_ms() + 20000;

	(void)state;
	for (unsigned i = 0; i < N; i++) {
		r[i].in_order = true;
		assert_int_equal(grpc_client_call(c, "/t.T/Stream", NULL, 0, "20", 2, 20000, on_msg, on_done,
						  &r[i], NULL), 0);
	}
	for (;;) {
		unsigned d = 0;

		for (unsigned i = 0; i < N; i++)
			d += r[i].done;
		if (d == N || mono_ms() > end)
			break;
		loop_run_once(loop, 20);
	}
	for (unsigned i = 0; i < N; i++)
		ok += r[i].done && r[i].code == GRPC_OK && r[i].nmsgs == 20 && r[i].in_order;
	assert_int_equal(ok, N);
	free(r);
	grpc_client_free(c);
	tls_config_free(t);
}

/* A call on a connection the server refuses ends UNAVAILABLE with the reason. */
static struct tls_stats stats_of(struct tls_config *t)
{
	struct tls_stats st;

	tls_config_stats(t, &st);
	return st;
}

/* One call on a new connection: its status, the role the server saw. */
static int call_once(struct tls_config *t)
{
	struct grpc_client *c = dial(t);
	struct result r = call(c, "/t.T/Echo", "0", 1, 5000);

	grpc_client_free(c);
	return r.code;
}

static void expect_refused(struct tls_config *t, const char *why)
{
	struct grpc_client *c = dial(t);
	struct result r = call(c, "/t.T/Echo", "0", 1, 5000);

	if (r.code != GRPC_UNAVAILABLE)
		fail_msg("%s: got %s (%s)", why, grpc_code_name(r.code), r.msg);
	assert_int_equal(last_role, -1);
	grpc_client_free(c);
	tls_config_free(t);
}

static void test_bad_client_certs(void **state)
{
	char *k2 = NULL, *k3 = NULL, *k4 = NULL, *k5 = NULL, *oca_key = NULL, *oca_crt = NULL;
	char *expired, *selfsigned, *foreign;
	struct pki_subject cas = { .cn = "other-ca", .days = 30, .ca = true };

	(void)state;
	last_role = -1;
	expect_refused(client_tls(NULL, NULL, ca_crt, NULL), "no client certificate");
	expired = issue("old", PKI_ROLE_ADMIN, false, -10 * 86400, 2, ca_crt, ca_key, &k2);
	expect_refused(client_tls(expired, k2, ca_crt, NULL), "expired certificate");
	selfsigned = issue("self", PKI_ROLE_ADMIN, false, 0, 30, NULL, NULL, &k3);
	expect_refused(client_tls(selfsigned, k3, ca_crt, NULL), "self-signed certificate");
	/* And a refused client leaves without a ticket (mbedTLS writes it inside the handshake). */
	{
		struct tls_config *t = client_tls(selfsigned, k3, ca_crt, NULL);

		assert_int_equal(call_once(t), GRPC_UNAVAILABLE);
		assert_int_equal(stats_of(t).tickets, 0);
		tls_config_free(t);
	}
	assert_int_equal(pki_gen_key(&oca_key, err, sizeof(err)), 0);
	assert_int_equal(pki_issue(&cas, oca_key, NULL, NULL, &oca_crt, err, sizeof(err)), 0);
	foreign = issue("foreign", PKI_ROLE_ADMIN, false, 0, 30, oca_crt, oca_key, &k4);
	expect_refused(client_tls(foreign, k4, ca_crt, NULL), "certificate from another CA");
	/* A certificate from the CA, but a CertificateVerify made with another key. */
	assert_int_equal(pki_gen_key(&k5, err, sizeof(err)), 0);
	expect_refused(client_tls(cli_crt, k5, ca_crt, NULL), "someone else's certificate");
	/* And the client refuses a server it cannot verify. */
	expect_refused(client_tls(cli_crt, cli_key, oca_crt, NULL), "server from another CA");
	free(expired);
	free(selfsigned);
	free(foreign);
	free(oca_crt);
	pki_free_secret(k2);
	pki_free_secret(k3);
	pki_free_secret(k4);
	pki_free_secret(k5);
	pki_free_secret(oca_key);
}

/* A client certificate checked once is known on its next full handshake (no chain check). */
static void test_verified_cache(void **state)
{
	struct tls_opts o = { .cert_pem = cli_crt, .key_pem = cli_key, .ca_pem = ca_crt, .no_resume = true };
	struct tls_config *t = NULL;
	struct tls_stats before = stats_of(srv_tls);

	(void)state;
	assert_int_equal(tls_config_new(&o, &t, err, sizeof(err)), 0);
	last_role = -1;
	assert_int_equal(call_once(t), GRPC_OK);
	assert_int_equal(last_role, ROLE_ADMIN);
	last_role = -1;
	assert_int_equal(call_once(t), GRPC_OK);
	assert_int_equal(last_role, ROLE_ADMIN);
	assert_int_equal(stats_of(t).full, 2);
	assert_int_equal(stats_of(srv_tls).full, before.full + 2);
	/* Earlier tests connected with this certificate: both handshakes found it checked. */
	assert_int_equal(stats_of(srv_tls).verified_cached, before.verified_cached + 2);
	tls_config_free(t);
}

/*
 * TLS 1.3 resumption: the second connection resumes from the ticket the first received,
 * and the server still knows the client's certificate (its role); the ticket moves to
 * another config (another process) and resumes there; a server with a new config, or an
 * expired ticket, means a full handshake again.
 */
static void test_resumption(void **state)
{
	char *rkey = NULL, *rcrt = issue("reader", PKI_ROLE_READER, false, 0, 30, ca_crt, ca_key, &rkey);
	struct tls_config *t = client_tls(rcrt, rkey, ca_crt, NULL), *t2, *s2;
	struct tls_opts so = { .server = true, .require_peer_cert = true, .cert_pem = srv_crt,
			       .key_pem = srv_key, .ca_pem = ca_crt, .ticket_lifetime = 1 };
	struct tls_stats before = stats_of(srv_tls);
	char key[64];
	unsigned char *blob = NULL;
	size_t len = 0;

	(void)state;
	snprintf(key, sizeof(key), "127.0.0.1:%u", grpc_server_port(srv));
	last_role = -1;
	assert_int_equal(call_once(t), GRPC_OK);
	assert_int_equal(last_role, ROLE_READER);
	assert_int_equal(stats_of(t).full, 1);
	assert_true(stats_of(t).tickets >= 1);
	last_role = -1;
	assert_int_equal(call_once(t), GRPC_OK);
	assert_int_equal(last_role, ROLE_READER);
	assert_int_equal(stats_of(t).resumed, 1);
	assert_int_equal(stats_of(srv_tls).resumed, before.resumed + 1);
	/* A renewed ticket (issued on the resumed connection) carries the certificate on. */
	last_role = -1;
	assert_int_equal(call_once(t), GRPC_OK);
	assert_int_equal(last_role, ROLE_READER);
	assert_int_equal(stats_of(t).resumed, 2);

	/* Exported and imported: a new client config (process) resumes too. */
	assert_int_equal(tls_config_session_get(t, key, &blob, &len), 0);
	t2 = client_tls(rcrt, rkey, ca_crt, NULL);
	assert_int_equal(tls_config_session_put(t2, key, (const unsigned char *)"junk", 4), -EINVAL);
	/* Changed, or exported under another client key: refused before mbedTLS reads it. */
	blob[len / 2] ^= 1;
	assert_int_equal(tls_config_session_put(t2, key, blob, len), -EINVAL);
	blob[len / 2] ^= 1;
	{
		struct tls_config *other = client_tls(cli_crt, cli_key, ca_crt, NULL);

		assert_int_equal(tls_config_session_put(other, key, blob, len), -EINVAL);
		tls_config_free(other);
	}
	assert_int_equal(tls_config_session_put(t2, key, blob, len), 0);
	last_role = -1;
	assert_int_equal(call_once(t2), GRPC_OK);
	assert_int_equal(last_role, ROLE_READER);
	assert_int_equal(stats_of(t2).resumed, 1);
	assert_int_equal(stats_of(t2).full, 0);

	/* A TLS 1.3 ticket is not offered where only TLS 1.2 may be spoken (--tls-max 1.2). */
	{
		struct tls_opts o12 = { .cert_pem = rcrt, .key_pem = rkey, .ca_pem = ca_crt, .max_tls12 = true };
		struct tls_config *t12 = NULL;

		assert_int_equal(tls_config_new(&o12, &t12, err, sizeof(err)), 0);
		assert_int_equal(tls_config_session_put(t12, key, blob, len), 0);
		assert_int_equal(call_once(t12), GRPC_OK);
		assert_int_equal(stats_of(t12).full, 1);
		assert_int_equal(stats_of(t12).resumed, 0);
		tls_config_free(t12);
	}

	/* The server's config replaced (a new CA would do this): its old tickets do not open. */
	assert_int_equal(tls_config_new(&so, &s2, err, sizeof(err)), 0);
	grpc_server_set_tls(srv, s2);
	assert_int_equal(call_once(t2), GRPC_OK);
	assert_int_equal(stats_of(t2).full, 1);
	assert_int_equal(stats_of(s2).resumed, 0);
	/* Its tickets last a second here: within it resumed, after it a full handshake. */
	assert_int_equal(call_once(t2), GRPC_OK);
	assert_int_equal(stats_of(s2).resumed, 1);
	run_for(2100);
	assert_int_equal(call_once(t2), GRPC_OK);
	assert_int_equal(stats_of(s2).resumed, 1);
	assert_int_equal(stats_of(s2).full, 2);
	assert_int_equal(last_role, ROLE_READER);

	grpc_server_set_tls(srv, srv_tls);
	tls_config_free(s2);
	tls_config_free(t2);
	tls_config_free(t);
	free(blob);
	free(rcrt);
	pki_free_secret(rkey);
}

static void test_pinned_server(void **state)
{
	char fp[65], bad[65];
	struct tls_config *t;
	struct grpc_client *c;
	struct result r;

	(void)state;
	assert_int_equal(pki_fingerprint(srv_crt, fp, err, sizeof(err)), 0);
	t = client_tls(cli_crt, cli_key, NULL, fp);
	c = dial(t);
	r = call(c, "/t.T/Echo", "0", 1, 5000);
	assert_int_equal(r.code, GRPC_OK);
	grpc_client_free(c);
	tls_config_free(t);
	memcpy(bad, fp, sizeof(bad));
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	last_role = -1;
	expect_refused(client_tls(cli_crt, cli_key, NULL, bad), "wrong pin");
}

/* A server with no TLS set up yet and hold_until_tls (apid before the core's first
 * settings) does not accept and close: the client waits in the backlog and is served once TLS is set. */
static void test_waits_for_tls(void **state)
{
	struct tls_config *t = client_tls(cli_crt, cli_key, ca_crt, NULL);
	struct grpc_client *c;
	struct result r = { .in_order = true };

	(void)state;
	grpc_server_set_tls(srv, NULL);
	c = dial(t);
	assert_int_equal(grpc_client_call(c, "/t.T/Echo", NULL, 0, "0", 1, 5000, on_msg, on_done, &r,
					  &r.call), 0);
	run_for(300);
	assert_false(r.done);
	grpc_server_set_tls(srv, srv_tls);
	run_until(&r.done, 5000);
	assert_true(r.done);
	assert_int_equal(r.code, GRPC_OK);
	grpc_client_free(c);
	tls_config_free(t);
}

static void test_connection_refused(void **state)
{
	struct grpc_client_opts o = { .loop = loop, .host = "127.0.0.1", .port = 1,
				      .numeric_only = true };
	struct grpc_client *c = NULL;
	struct result r = { 0 };

	(void)state;
	assert_int_equal(grpc_client_new(&o, &c, err, sizeof(err)), 0);
	assert_int_equal(grpc_client_call(c, "/t.T/Echo", NULL, 0, "", 0, 1000, on_msg, on_done, &r,
					  NULL), 0);
	run_until(&r.done, 3000);
	assert_int_equal(r.code, GRPC_UNAVAILABLE);
	assert_non_null(strstr(r.msg, "refused"));
	grpc_client_free(c);
	o.host = "example.com";
	assert_int_not_equal(grpc_client_new(&o, &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not an IP address"));
}

static void test_timeout_codec(void **state)
{
	uint64_t ms;
	char out[16];

	(void)state;
	assert_int_equal(grpc_timeout_parse("100m", 4, &ms), 0);
	assert_int_equal(ms, 100);
	assert_int_equal(grpc_timeout_parse("2S", 2, &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(grpc_timeout_parse("1500u", 5, &ms), 0);
	assert_int_equal(ms, 2);
	assert_int_equal(grpc_timeout_parse("1H", 2, &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_not_equal(grpc_timeout_parse("123456789S", 10, &ms), 0);
	assert_int_not_equal(grpc_timeout_parse("10x", 3, &ms), 0);
	assert_int_not_equal(grpc_timeout_parse("m", 1, &ms), 0);
	grpc_timeout_format(250, out);
	assert_int_equal(grpc_timeout_parse(out, strlen(out), &ms), 0);
	assert_int_equal(ms, 250);
}

static void test_deframer(void **state)
{
	struct grpc_deframer d;
	uint8_t pre[GRPC_PREFIX];
	const uint8_t *m;
	size_t len;

	(void)state;
	grpc_deframer_init(&d, 10);
	grpc_prefix(pre, 3);
	assert_int_equal(grpc_deframer_push(&d, pre, 2), 0);
	assert_int_equal(grpc_deframer_next(&d, &m, &len), 0);
	assert_int_equal(grpc_deframer_push(&d, pre + 2, 3), 0);
	assert_int_equal(grpc_deframer_push(&d, "abc", 3), 0);
	assert_int_equal(grpc_deframer_next(&d, &m, &len), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(m, "abc", 3);
	assert_int_equal(grpc_deframer_next(&d, &m, &len), 0);
	assert_int_equal(grpc_deframer_partial(&d), 0);
	grpc_prefix(pre, 11);
	assert_int_equal(grpc_deframer_push(&d, pre, 5), -EMSGSIZE);
	grpc_deframer_fini(&d);
	grpc_deframer_init(&d, 10);
	grpc_prefix(pre, 1);
	pre[0] = 1;
	assert_int_equal(grpc_deframer_push(&d, pre, 5), -ENOTSUP);
	grpc_deframer_fini(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout_codec),
		cmocka_unit_test(test_deframer),
		cmocka_unit_test(test_unary_echo_and_role),
		cmocka_unit_test(test_status_and_message),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_cancel_stream),
		cmocka_unit_test(test_stream_in_order),
		cmocka_unit_test(test_oversized_request),
		cmocka_unit_test(test_many_concurrent),
		cmocka_unit_test(test_bad_client_certs),
		cmocka_unit_test(test_resumption),
		cmocka_unit_test(test_verified_cache),
		cmocka_unit_test(test_pinned_server),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_waits_for_tls),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
