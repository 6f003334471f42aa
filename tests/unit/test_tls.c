/* SPDX-License-Identifier: MIT */
/*
 * lib/tls.c's session tickets against a client that plays by other rules (a raw mbedTLS
 * client): a ticket seen on the wire (its identity travels in clear in a resuming
 * ClientHello) and offered without its secret, with no certificate, must get no ticket and
 * no identity; a TLS 1.2 client gets no ticket.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "lib/pki.h"
#include "lib/rng.h"
#include "lib/tls.h"

static char err[512];
static char *ca_crt, *ca_key, *srv_crt, *srv_key, *adm_crt, *adm_key;
static struct tls_config *srv;

static char *issue(const char *cn, const char *org, bool server, char **key)
{
	struct pki_subject s = { .cn = cn, .days = 30, .server = server };
	char *crt = NULL;

	if (org)
		s.org[s.norg++] = org;
	if (server)
		s.sans[s.nsans++] = "127.0.0.1";
	assert_int_equal(pki_gen_key(key, err, sizeof(err)), 0);
	assert_int_equal(pki_issue(&s, *key, ca_crt, ca_key, &crt, err, sizeof(err)), 0);
	return crt;
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

static int raw_send(void *ctx, const unsigned char *b, size_t l)
{
	ssize_t n = send(*(int *)ctx, b, l, MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
	return (int)n;
}

static int raw_recv(void *ctx, unsigned char *b, size_t l)
{
	ssize_t n = recv(*(int *)ctx, b, l, 0);

	if (n < 0)
		return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_NET_RECV_FAILED;
	return (int)n;
}

/*
 * A raw mbedTLS client without a certificate, offering `offer` (or nothing), against the
 * server config. Returns the server's tls_handshake result; *ticket tells whether the
 * client received a NewSessionTicket (kept in *got when not NULL).
 */
static int raw_client(mbedtls_ssl_protocol_version max, mbedtls_ssl_session *offer, bool *ticket,
		      mbedtls_ssl_session *got, struct tls_conn **server_conn, bool with_cert)
{
	mbedtls_ssl_config cc;
	mbedtls_ssl_context c;
	mbedtls_x509_crt own;
	mbedtls_pk_context key;
	struct tls_conn *s = NULL;
	unsigned char buf[64];
	int sv[2], rs = -EAGAIN, rc = MBEDTLS_ERR_SSL_WANT_READ;

	pair(sv);
	assert_int_equal(tls_conn_new(srv, sv[0], NULL, 0, &s), 0);
	mbedtls_ssl_config_init(&cc);
	mbedtls_ssl_init(&c);
	assert_int_equal(mbedtls_ssl_config_defaults(&cc, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, 0), 0);
	mbedtls_ssl_conf_rng(&cc, rng_random, rng_ctx());
	mbedtls_ssl_conf_authmode(&cc, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_min_tls_version(&cc, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(&cc, max);
	mbedtls_ssl_conf_session_tickets(&cc, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
	mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(&cc, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
	mbedtls_x509_crt_init(&own);
	mbedtls_pk_init(&key);
	if (with_cert) {
		assert_int_equal(mbedtls_x509_crt_parse(&own, (const unsigned char *)adm_crt, strlen(adm_crt) + 1), 0);
		assert_int_equal(mbedtls_pk_parse_key(&key, (const unsigned char *)adm_key, strlen(adm_key) + 1, NULL,
						      0, rng_random, rng_ctx()), 0);
		assert_int_equal(mbedtls_ssl_conf_own_cert(&cc, &own, &key), 0);
	}
	assert_int_equal(mbedtls_ssl_setup(&c, &cc), 0);
	mbedtls_ssl_set_hostname(&c, NULL);
	if (offer)
		assert_int_equal(mbedtls_ssl_set_session(&c, offer), 0);
	mbedtls_ssl_set_bio(&c, &sv[1], raw_send, raw_recv, NULL);
	for (int i = 0; i < 400 && (rs == -EAGAIN || rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE); i++) {
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			rc = mbedtls_ssl_handshake(&c);
		if (rs == -EAGAIN)
			rs = tls_handshake(s);
	}
	*ticket = false;
	for (int i = 0; i < 50; i++) {
		int r = mbedtls_ssl_read(&c, buf, sizeof(buf));

		if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
			*ticket = true;
			if (got)
				mbedtls_ssl_get_session(&c, got);
			break;
		}
		if (r != MBEDTLS_ERR_SSL_WANT_READ)
			break;
	}
	if (!*ticket && max == MBEDTLS_SSL_VERSION_TLS1_2 && rc == 0) {
		mbedtls_ssl_session s12;

		mbedtls_ssl_session_init(&s12);
		if (mbedtls_ssl_get_session(&c, &s12) == 0 && s12.ticket_len > 0)
			*ticket = true;
		mbedtls_ssl_session_free(&s12);
	}
	mbedtls_ssl_free(&c);
	mbedtls_ssl_config_free(&cc);
	mbedtls_x509_crt_free(&own);
	mbedtls_pk_free(&key);
	close(sv[1]);
	*server_conn = s;
	return rs;
}

/* The victim (an admin) connects in full and receives a ticket; its exported session. */
static unsigned char *victim_session(size_t *len)
{
	struct tls_opts vo = { .cert_pem = adm_crt, .key_pem = adm_key, .ca_pem = ca_crt };
	struct tls_config *vic = NULL;
	struct tls_conn *s = NULL, *v = NULL;
	unsigned char *blob = NULL;
	int sv[2], rs = -EAGAIN, rv = -EAGAIN;
	char b[16];

	assert_int_equal(tls_config_new(&vo, &vic, err, sizeof(err)), 0);
	pair(sv);
	assert_int_equal(tls_conn_new(srv, sv[0], NULL, 0, &s), 0);
	assert_int_equal(tls_conn_new(vic, sv[1], "127.0.0.1", 1, &v), 0);
	for (int i = 0; i < 400 && (rs == -EAGAIN || rv == -EAGAIN); i++) {
		if (rv == -EAGAIN)
			rv = tls_handshake(v);
		if (rs == -EAGAIN)
			rs = tls_handshake(s);
	}
	assert_int_equal(rs, 0);
	assert_int_equal(rv, 0);
	for (int i = 0; i < 20; i++)
		(void)tls_read(v, b, sizeof(b));
	assert_int_equal(tls_config_session_get(vic, "127.0.0.1:1", &blob, len), 0);
	tls_conn_free(s);
	tls_conn_free(v);
	close(sv[0]);
	close(sv[1]);
	tls_config_free(vic);
	return blob;
}

static void test_sniffed_ticket_without_certificate(void **state)
{
	mbedtls_ssl_session sniffed, minted;
	struct tls_stats before, after;
	struct tls_conn *s = NULL;
	unsigned char *blob;
	size_t len = 0;
	bool ticket;
	int r;

	(void)state;
	blob = victim_session(&len);
	mbedtls_ssl_session_init(&sniffed);
	mbedtls_ssl_session_init(&minted);
	/* What an observer has is the ticket: not its age or its resumption secret. */
	assert_int_equal(mbedtls_ssl_session_load(&sniffed, blob, len - 32), 0);
	sniffed.ticket_age_add += 3600u * 1000u;
	memset(sniffed.resumption_key, 0x41, sizeof(sniffed.resumption_key));
	tls_config_stats(srv, &before);
	r = raw_client(MBEDTLS_SSL_VERSION_TLS1_3, &sniffed, &ticket, &minted, &s, false);
	tls_config_stats(srv, &after);
	assert_int_not_equal(r, 0);                 /* no certificate: refused */
	assert_false(ticket);                       /* and no ticket naming the victim */
	assert_null(tls_peer_cert(s));
	assert_int_equal(after.resumed, before.resumed);
	tls_conn_free(s);
	/* With the real secret but a wrong age the ticket is set aside the same way. */
	mbedtls_ssl_session_free(&sniffed);
	mbedtls_ssl_session_init(&sniffed);
	assert_int_equal(mbedtls_ssl_session_load(&sniffed, blob, len - 32), 0);
	sniffed.ticket_age_add += 3600u * 1000u;
	r = raw_client(MBEDTLS_SSL_VERSION_TLS1_3, &sniffed, &ticket, NULL, &s, false);
	assert_int_not_equal(r, 0);
	assert_false(ticket);
	tls_conn_free(s);
	mbedtls_ssl_session_free(&sniffed);
	mbedtls_ssl_session_free(&minted);
	pki_free_secret_n(blob, len);
}

static void test_tls12_gets_no_ticket(void **state)
{
	struct tls_conn *s = NULL;
	bool ticket;

	(void)state;
	/* An admin over TLS 1.2 is served, and gets no ticket (only TLS 1.3 resumes). */
	assert_int_equal(raw_client(MBEDTLS_SSL_VERSION_TLS1_2, NULL, &ticket, NULL, &s, true), 0);
	assert_false(ticket);
	assert_int_equal(pki_cert_role(tls_peer_cert(s)), ROLE_ADMIN);
	tls_conn_free(s);
	/* No certificate: refused, and whatever the handshake reached, no ticket. */
	(void)raw_client(MBEDTLS_SSL_VERSION_TLS1_2, NULL, &ticket, NULL, &s, false);
	assert_false(ticket);
	assert_null(tls_peer_cert(s));
	tls_conn_free(s);
}

static int setup(void **state)
{
	struct pki_subject cas = { .cn = "ca", .days = 30, .ca = true };
	struct tls_opts so = { .server = true, .require_peer_cert = true };

	(void)state;
	assert_int_equal(pki_gen_key(&ca_key, err, sizeof(err)), 0);
	assert_int_equal(pki_issue(&cas, ca_key, NULL, NULL, &ca_crt, err, sizeof(err)), 0);
	srv_crt = issue("node", NULL, true, &srv_key);
	adm_crt = issue("admin", PKI_ROLE_ADMIN, false, &adm_key);
	so.cert_pem = srv_crt;
	so.key_pem = srv_key;
	so.ca_pem = ca_crt;
	assert_int_equal(tls_config_new(&so, &srv, err, sizeof(err)), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tls_config_free(srv);
	free(ca_crt);
	free(srv_crt);
	free(adm_crt);
	pki_free_secret(ca_key);
	pki_free_secret(srv_key);
	pki_free_secret(adm_key);
	return 0;
}

/*
 * Every serial number is a positive INTEGER in its shortest DER form. A random first byte
 * of 0 followed by one below 0x80 is padding that OpenSSL refuses ("illegal padding"): one
 * certificate in 256 made that way failed every TLS client but ours.
 */
static void test_serials_minimal_der(void **state)
{
	struct pki_subject s = { .cn = "node", .days = 1, .server = true };

	(void)state;
	s.sans[s.nsans++] = "127.0.0.1";
	for (int i = 0; i < 2000; i++) {
		mbedtls_x509_crt c;
		char *crt = NULL;

		assert_int_equal(pki_issue(&s, srv_key, ca_crt, ca_key, &crt, err, sizeof(err)), 0);
		mbedtls_x509_crt_init(&c);
		assert_int_equal(mbedtls_x509_crt_parse(&c, (const unsigned char *)crt, strlen(crt) + 1), 0);
		assert_true(c.serial.len >= 1 && c.serial.len <= 20);
		assert_true(c.serial.p[0] < 0x80);
		assert_false(c.serial.len > 1 && c.serial.p[0] == 0 && c.serial.p[1] < 0x80);
		mbedtls_x509_crt_free(&c);
		free(crt);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sniffed_ticket_without_certificate),
		cmocka_unit_test(test_tls12_gets_no_ticket),
		cmocka_unit_test(test_serials_minimal_der),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
