/* SPDX-License-Identifier: MIT */
#include "lib/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>

#include "lib/pki.h"
#include "lib/rng.h"

/* TLS 1.3's AEAD suites first, then TLS 1.2's ECDHE-ECDSA AEAD suites for older clients. */
static const int ciphersuites[] = {
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	0,
};
/*
 * P-256 first: with mbedTLS 3.6 a P-256 key pair comes from the precomputed base-point
 * table, so a whole exchange (key pair and agreement) costs about 2.3 ms against 3.2 ms
 * for X25519's two ladders on the development machine. The group is the client's choice
 * among its key shares: an OpenSSL client's X25519 share is taken as it is, no retry.
 */
static const uint16_t groups[] = { MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
				   MBEDTLS_SSL_IANA_TLS_GROUP_NONE };
static const char *alpn[] = { "h2", NULL };

/*
 * Session tickets. A server seals each ticket with AES-256-GCM under a key of its own
 * config (a new CA or certificate means a new config, so every older ticket stops opening).
 * The ticket carries mbedTLS's session and the client's certificate: mbedTLS keeps no peer
 * certificate on a TLS 1.3 resumption, and the API's roles come from that certificate.
 */
#define TICKET_MAGIC 0x42540001u   /* "BT", version 1 */
#define TICKET_NONCE 12
#define TICKET_TAG 16
#define TICKET_HDR (4 + 8 + 2)     /* magic, expiry (unix seconds), certificate length */
#define CLIENT_SESSIONS 16         /* a client remembers this many servers' tickets */
#define SESSION_MAC 32             /* HMAC-SHA-256 on an exported session */
#define VERIFIED_CACHE 64          /* client certificates whose chain a server checked */

/*
 * A server that requires client certificates checks their chain itself, after the
 * handshake, and remembers the certificates it has checked: the chain's signature check
 * is half a full handshake's cost with mbedTLS, and the same few clients (osctl, the other
 * nodes) come back. mbedTLS is told OPTIONAL with no CA, so it still demands and checks
 * the client's CertificateVerify (possession of the key) but leaves the chain to us. Which
 * handshakes resumed from a ticket (and so carry no certificate) is read from the server's
 * own ServerHello: a pre_shared_key extension there is the protocol's statement that the
 * PSK was accepted.
 */
struct verified {
	unsigned char fp[32];      /* SHA-256 of the leaf certificate's DER */
	uint64_t used;
	time_t until;              /* checked again after this (the CA's own dates move on too) */
};
#define VERIFIED_FOR 3600

struct tls_session {
	char name[272];
	unsigned char *blob;       /* mbedtls_ssl_session_save; holds the resumption secret */
	size_t len;
	uint64_t used;
};

struct tls_config {
	unsigned refs;             /* the creator's and one per connection */
	mbedtls_ssl_config conf;
	mbedtls_x509_crt own;
	mbedtls_pk_context key;
	mbedtls_x509_crt ca;
	bool server;
	char pin[65];
	/* server with tickets */
	bool tickets;
	uint32_t ticket_lifetime;
	mbedtls_gcm_context gcm;
	struct tls_conn *current;  /* the connection mbedTLS is working on (ticket callbacks) */
	bool own_verify;           /* server: client chains checked here (see struct verified) */
	struct verified *verified;  /* VERIFIED_CACHE of them, made at the first check */
	/* client */
	bool no_resume;            /* client: offers no ticket (asked to, or TLS 1.2 at most) */
	unsigned char session_key[32];  /* client: authenticates exported sessions */
	struct tls_session *sessions;  /* CLIENT_SESSIONS of them, made at the first ticket */
	uint64_t clock;
	struct tls_stats stats;
};

/*
 * Socket reads go through a buffer: mbedTLS asks for a record's 5-byte header and then its
 * body, two system calls a record without it. A read that did not fill the buffer drained
 * the socket, so the next empty-buffer read answers "wait" without asking the kernel
 * (epoll, level-triggered, says when more has come).
 */
#define RBUF 4096

struct tls_conn {
	mbedtls_ssl_context ssl;
	struct tls_config *c;
	int fd;
	size_t roff, rlen;
	bool drained;
	unsigned char *rbuf;
	size_t out_skip;           /* server, handshake: bytes of a record already begun */
	bool psk_accepted;         /* server: its last ServerHello carried pre_shared_key */
	bool chain_ok;             /* server: the client's chain was checked in this handshake */
	unsigned char refused_alert;  /* server: the ticket writer refused the chain: this alert */
	bool want_write;
	bool done;                 /* handshake finished */
	bool got_data;             /* application data arrived since */
	bool ip_name;              /* the dialled name is an IP: checked against IP SANs */
	bool offered;              /* client: a ticket was offered */
	bool resumed;
	char session_key[272];     /* client: name:port, whose ticket to keep and offer */
	mbedtls_x509_crt *ticket_peer;  /* server: the client certificate a ticket carried */
	char name[256];
	char err[384];
};

static void mbed_err(char *err, size_t errlen, const char *what, int r)
{
	char buf[160];

	mbedtls_strerror(r, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, buf);
}

struct tls_config *tls_config_ref(struct tls_config *c)
{
	c->refs++;
	return c;
}

void tls_config_free(struct tls_config *c)
{
	if (!c || --c->refs > 0)
		return;
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_x509_crt_free(&c->own);
	mbedtls_pk_free(&c->key);
	mbedtls_x509_crt_free(&c->ca);
	mbedtls_gcm_free(&c->gcm);
	mbedtls_platform_zeroize(c->session_key, sizeof(c->session_key));
	for (size_t i = 0; c->sessions && i < CLIENT_SESSIONS; i++)
		if (c->sessions[i].blob)
			pki_free_secret_n(c->sessions[i].blob, c->sessions[i].len);
	free(c->sessions);
	free(c->verified);
	free(c);
}

/* Frees a certificate a connection or ticket held, and forgets it. */
static void crt_drop(mbedtls_x509_crt **p)
{
	if (*p) {
		mbedtls_x509_crt_free(*p);
		free(*p);
		*p = NULL;
	}
}

/* mbedTLS's words for verification flags, on one line. */
static void verify_why(uint32_t flags, char *why, size_t len)
{
	mbedtls_x509_crt_verify_info(why, len, "", flags);
	why[strcspn(why, "\n")] = '\0';
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Seconds from now until a certificate's notAfter (0 when past). */
static uint64_t secs_left(const mbedtls_x509_time *t, time_t now)
{
	struct tm tm = { .tm_year = t->year - 1900, .tm_mon = t->mon - 1, .tm_mday = t->day,
			 .tm_hour = t->hour, .tm_min = t->min, .tm_sec = t->sec };
	time_t end = timegm(&tm);

	return end > now ? (uint64_t)(end - now) : 0;
}

static uint32_t client_chain_flags(struct tls_config *c, mbedtls_x509_crt *peer);
static unsigned char verify_alert(uint32_t flags);

/*
 * Ticket: nonce | AES-256-GCM(magic, expiry, certificate length, certificate DER, session)
 * | tag. The client certificate is the session's own (a full handshake) or the one the
 * ticket being renewed carried (a resumption).
 */
static int ticket_write(void *arg, const mbedtls_ssl_session *session, unsigned char *start,
			const unsigned char *end, size_t *tlen, uint32_t *lifetime)
{
	struct tls_config *c = arg;
	const mbedtls_x509_crt *peer = session->MBEDTLS_PRIVATE(peer_cert);
	unsigned char *plain = start + TICKET_NONCE, *p;
	size_t room = (size_t)(end - start), slen = 0;
	time_t now = time(NULL);
	uint64_t left;
	int r;

	/* TLS 1.3 only: a TLS 1.2 client gets an empty ticket (and resumes nothing). */
	if (session->MBEDTLS_PRIVATE(tls_version) != MBEDTLS_SSL_VERSION_TLS1_3)
		return MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE;
	/*
	 * mbedTLS writes the ticket inside the handshake, before tls_handshake checks the
	 * client's chain: check it here, or an untrusted certificate would leave with a ticket.
	 */
	if (peer && c->own_verify) {
		uint32_t flags = c->current ? client_chain_flags(c, (mbedtls_x509_crt *)peer) : MBEDTLS_X509_BADCERT_OTHER;

		if (flags) {
			if (c->current) {
				char why[192];

				verify_why(flags, why, sizeof(why));
				snprintf(c->current->err, sizeof(c->current->err), "client certificate rejected: %s", why);
				c->current->refused_alert = verify_alert(flags);
			}
			return MBEDTLS_ERR_SSL_BAD_CERTIFICATE;
		}
		c->current->chain_ok = true;
	}
	/*
	 * No certificate in this handshake: a renewal after a resumption carries the resumed
	 * ticket's client on, and nothing else does. A ticket that opened but was set aside
	 * (the handshake went on in full, without a certificate under OPTIONAL) names nobody.
	 */
	if (!peer && c->current && c->current->psk_accepted)
		peer = c->current->ticket_peer;
	if (!peer || peer->raw.len > 0xffff || room < TICKET_NONCE + TICKET_HDR + peer->raw.len + TICKET_TAG)
		return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
	left = secs_left(&peer->valid_to, now);
	if (left == 0)
		return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
	if (left > c->ticket_lifetime)
		left = c->ticket_lifetime;
	p = plain + TICKET_HDR;
	memcpy(p, peer->raw.p, peer->raw.len);
	p += peer->raw.len;
	r = mbedtls_ssl_session_save(session, p, room - (size_t)(p - start) - TICKET_TAG, &slen);
	if (r != 0)
		return r;
	plain[0] = TICKET_MAGIC >> 24;
	plain[1] = TICKET_MAGIC >> 16 & 0xff;
	plain[2] = TICKET_MAGIC >> 8 & 0xff;
	plain[3] = TICKET_MAGIC & 0xff;
	put64(plain + 4, (uint64_t)now + left);
	plain[12] = (unsigned char)(peer->raw.len >> 8);
	plain[13] = (unsigned char)peer->raw.len;
	if ((r = rng_random(rng_ctx(), start, TICKET_NONCE)) != 0)
		return r;
	size_t plen = TICKET_HDR + peer->raw.len + slen;
	r = mbedtls_gcm_crypt_and_tag(&c->gcm, MBEDTLS_GCM_ENCRYPT, plen, start, TICKET_NONCE, NULL, 0,
				      plain, plain, TICKET_TAG, plain + plen);
	if (r != 0)
		return r;
	*tlen = TICKET_NONCE + plen + TICKET_TAG;
	*lifetime = (uint32_t)left;
	return 0;
}

/*
 * A ticket that opens names a candidate client: it becomes this connection's client only
 * if the handshake then resumes from it (tls_handshake reads that from the ServerHello);
 * mbedTLS may still set the ticket aside (a wrong age, a key exchange mode) and go on to a
 * full handshake.
 */
static int ticket_parse(void *arg, mbedtls_ssl_session *session, unsigned char *buf, size_t len)
{
	struct tls_config *c = arg;
	unsigned char *plain = buf + TICKET_NONCE;
	mbedtls_x509_crt *crt = NULL;
	size_t plen, clen;
	int r = MBEDTLS_ERR_SSL_INVALID_MAC;

	if (len < TICKET_NONCE + TICKET_HDR + TICKET_TAG || !c->current)
		return MBEDTLS_ERR_SSL_INVALID_MAC;
	plen = len - TICKET_NONCE - TICKET_TAG;
	if (mbedtls_gcm_auth_decrypt(&c->gcm, plen, buf, TICKET_NONCE, NULL, 0, plain + plen, TICKET_TAG,
				     plain, plain) != 0)
		return MBEDTLS_ERR_SSL_INVALID_MAC;  /* nothing was decrypted */
	clen = (size_t)plain[12] << 8 | plain[13];
	if (((uint32_t)plain[0] << 24 | (uint32_t)plain[1] << 16 | (uint32_t)plain[2] << 8 | plain[3]) !=
	    TICKET_MAGIC || clen > plen - TICKET_HDR)
		goto out;
	if (get64(plain + 4) <= (uint64_t)time(NULL)) {
		r = MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED;
		goto out;
	}
	if (!(crt = calloc(1, sizeof(*crt)))) {
		r = MBEDTLS_ERR_SSL_ALLOC_FAILED;
		goto out;
	}
	mbedtls_x509_crt_init(crt);
	/* The certificate was checked when the ticket was issued, under this same config. */
	if (mbedtls_x509_crt_parse_der(crt, plain + TICKET_HDR, clen) != 0)
		goto out;
	if (mbedtls_x509_time_is_past(&crt->valid_to)) {
		r = MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED;
		goto out;
	}
	if (mbedtls_ssl_session_load(session, plain + TICKET_HDR + clen, plen - TICKET_HDR - clen) != 0 ||
	    session->MBEDTLS_PRIVATE(tls_version) != MBEDTLS_SSL_VERSION_TLS1_3)
		goto out;
	crt_drop(&c->current->ticket_peer);
	c->current->ticket_peer = crt;
	crt = NULL;
	r = 0;
out:
	mbedtls_platform_zeroize(plain, plen);
	crt_drop(&crt);
	return r;
}

static int tickets_init(struct tls_config *c, const struct tls_opts *o, char *err, size_t errlen)
{
	unsigned char key[32];
	int r;

	c->tickets = true;
	c->ticket_lifetime = o->ticket_lifetime ? o->ticket_lifetime : TLS_TICKET_LIFETIME;
	mbedtls_gcm_init(&c->gcm);
	if ((r = rng_random(rng_ctx(), key, sizeof(key))) != 0 ||
	    (r = mbedtls_gcm_setkey(&c->gcm, MBEDTLS_CIPHER_ID_AES, key, 256)) != 0) {
		mbedtls_platform_zeroize(key, sizeof(key));
		mbed_err(err, errlen, "session ticket key", r);
		return -EINVAL;
	}
	mbedtls_platform_zeroize(key, sizeof(key));
	mbedtls_ssl_conf_session_tickets_cb(&c->conf, ticket_write, ticket_parse, c);
	return 0;
}

static struct tls_session *session_find(struct tls_config *c, const char *name)
{
	for (size_t i = 0; i < CLIENT_SESSIONS; i++)
		if (c->sessions && c->sessions[i].blob && strcmp(c->sessions[i].name, name) == 0)
			return &c->sessions[i];
	return NULL;
}

static void session_drop(struct tls_session *s)
{
	pki_free_secret_n(s->blob, s->len);
	memset(s, 0, sizeof(*s));
}

/*
 * An exported session is mbedTLS's blob and an HMAC under a key derived from the client's
 * private key (a random one without a key): mbedTLS's loader trusts its input (3.6.6 reads
 * a saved hostname without checking it ends), so it only ever sees blobs it wrote itself,
 * here or in a process holding the same key.
 */
static int session_mac(const struct tls_config *c, const char *name, const unsigned char *blob, size_t len,
		       unsigned char mac[SESSION_MAC])
{
	mbedtls_md_context_t md;
	int r;

	/* The name (host:port) is in it: a ticket moved to another server's name does not load. */
	mbedtls_md_init(&md);
	if ((r = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1)) == 0 &&
	    (r = mbedtls_md_hmac_starts(&md, c->session_key, sizeof(c->session_key))) == 0 &&
	    (r = mbedtls_md_hmac_update(&md, (const unsigned char *)name, strlen(name) + 1)) == 0 &&
	    (r = mbedtls_md_hmac_update(&md, blob, len)) == 0)
		r = mbedtls_md_hmac_finish(&md, mac);
	mbedtls_md_free(&md);
	return r;
}

static int session_key_init(struct tls_config *c)
{
	static const char label[] = "basalt tls session v1";
	unsigned char der[1024];
	int n;

	if (!mbedtls_pk_get_type(&c->key))
		return rng_random(rng_ctx(), c->session_key, sizeof(c->session_key));
	/* mbedtls_pk_write_key_der writes at the end of the buffer. */
	n = mbedtls_pk_write_key_der(&c->key, der, sizeof(der));
	if (n <= 0)
		return n < 0 ? n : -1;
	n = mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)label,
			    sizeof(label) - 1, der + sizeof(der) - n, (size_t)n, c->session_key);
	mbedtls_platform_zeroize(der, sizeof(der));
	return n;
}

static int session_store(struct tls_config *c, const char *name, const unsigned char *blob, size_t len);

int tls_config_session_put(struct tls_config *c, const char *name, const unsigned char *blob,
			   size_t len)
{
	unsigned char mac[SESSION_MAC];

	if (c->server || len <= SESSION_MAC || session_mac(c, name, blob, len - SESSION_MAC, mac) != 0 ||
	    mbedtls_ct_memcmp(mac, blob + len - SESSION_MAC, SESSION_MAC) != 0)
		return -EINVAL;
	return session_store(c, name, blob, len - SESSION_MAC);
}

static int session_store(struct tls_config *c, const char *name, const unsigned char *blob, size_t len)
{
	struct tls_session *s = session_find(c, name);
	mbedtls_ssl_session check;
	unsigned char *copy;
	int r;

	if (strlen(name) >= sizeof(s->name))
		return -EINVAL;
	mbedtls_ssl_session_init(&check);
	r = mbedtls_ssl_session_load(&check, blob, len);
	mbedtls_ssl_session_free(&check);
	if (r != 0)
		return -EINVAL;
	if (!c->sessions && !(c->sessions = calloc(CLIENT_SESSIONS, sizeof(*c->sessions))))
		return -ENOMEM;
	if (!(copy = malloc(len)))
		return -ENOMEM;
	memcpy(copy, blob, len);
	if (!s) {
		s = &c->sessions[0];
		for (size_t i = 0; i < CLIENT_SESSIONS; i++) {
			if (!c->sessions[i].blob) {
				s = &c->sessions[i];
				break;
			}
			if (c->sessions[i].used < s->used)
				s = &c->sessions[i];
		}
	}
	if (s->blob)
		session_drop(s);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->blob = copy;
	s->len = len;
	s->used = ++c->clock;
	return 0;
}

int tls_config_session_get(const struct tls_config *c, const char *name, unsigned char **blob,
			   size_t *len)
{
	struct tls_session *s = session_find((struct tls_config *)c, name);

	if (!s)
		return -ENOENT;
	if (!(*blob = malloc(s->len + SESSION_MAC)))
		return -ENOMEM;
	memcpy(*blob, s->blob, s->len);
	if (session_mac(c, name, s->blob, s->len, *blob + s->len) != 0) {
		pki_free_secret_n(*blob, s->len + SESSION_MAC);
		*blob = NULL;
		return -EIO;
	}
	*len = s->len + SESSION_MAC;
	return 0;
}

void tls_config_stats(const struct tls_config *c, struct tls_stats *st)
{
	*st = c->stats;
}

/* A TLS 1.3 client got a ticket: it replaces what this config kept for the server. */
static void session_received(struct tls_conn *t)
{
	mbedtls_ssl_session s;
	unsigned char *blob = NULL;
	size_t len = 0;

	if (!t->session_key[0])
		return;
	mbedtls_ssl_session_init(&s);
	if (mbedtls_ssl_get_session(&t->ssl, &s) == 0 &&
	    mbedtls_ssl_session_save(&s, NULL, 0, &len) == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL &&
	    (blob = malloc(len)) && mbedtls_ssl_session_save(&s, blob, len, &len) == 0 &&
	    session_store(t->c, t->session_key, blob, len) == 0)
		t->c->stats.tickets++;
	if (blob)
		pki_free_secret_n(blob, len);
	mbedtls_ssl_session_free(&s);
}

/* A client offers the ticket its config holds for the name it dials. */
static void session_offer(struct tls_conn *t)
{
	struct tls_session *s = session_find(t->c, t->session_key);
	mbedtls_ssl_session ss;

	if (!s || t->c->no_resume)
		return;
	mbedtls_ssl_session_init(&ss);
	if (mbedtls_ssl_session_load(&ss, s->blob, s->len) == 0 && mbedtls_ssl_set_session(&t->ssl, &ss) == 0) {
		t->offered = true;
		s->used = ++t->c->clock;
	} else {
		session_drop(s);
	}
	mbedtls_ssl_session_free(&ss);
}

static int load_identity(struct tls_config *c, const struct tls_opts *o, char *err, size_t errlen)
{
	int r;

	if (!o->cert_pem)
		return 0;
	r = mbedtls_x509_crt_parse(&c->own, (const unsigned char *)o->cert_pem, strlen(o->cert_pem) + 1);
	if (r != 0) {
		mbed_err(err, errlen, "certificate", r);
		return -EINVAL;
	}
	r = mbedtls_pk_parse_key(&c->key, (const unsigned char *)o->key_pem, strlen(o->key_pem) + 1, NULL, 0,
				 rng_random, rng_ctx());
	if (r != 0) {
		mbed_err(err, errlen, "key", r);
		return -EINVAL;
	}
	r = mbedtls_ssl_conf_own_cert(&c->conf, &c->own, &c->key);
	if (r != 0) {
		mbed_err(err, errlen, "certificate and key", r);
		return -EINVAL;
	}
	return 0;
}

int tls_config_new(const struct tls_opts *o, struct tls_config **out, char *err, size_t errlen)
{
	struct tls_config *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->refs = 1;
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_x509_crt_init(&c->own);
	mbedtls_pk_init(&c->key);
	mbedtls_x509_crt_init(&c->ca);
	c->server = o->server;
	/* mbedTLS would speak TLS 1.3 to resume a TLS 1.3 ticket even when told 1.2 at most. */
	c->no_resume = o->no_resume || o->max_tls12;
	r = mbedtls_ssl_config_defaults(&c->conf, o->server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (r != 0) {
		mbed_err(err, errlen, "TLS defaults", r);
		goto fail;
	}
	/* rng_ctx() also starts PSA, through which TLS 1.3 does its cryptography. */
	mbedtls_ssl_conf_rng(&c->conf, rng_random, rng_ctx());
	mbedtls_ssl_conf_min_tls_version(&c->conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(&c->conf, o->max_tls12 ? MBEDTLS_SSL_VERSION_TLS1_2
								: MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_ciphersuites(&c->conf, ciphersuites);
	mbedtls_ssl_conf_groups(&c->conf, groups);
	if (mbedtls_ssl_conf_alpn_protocols(&c->conf, alpn) != 0)
		goto fail;
	mbedtls_ssl_conf_renegotiation(&c->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	/* Every key exchange is ephemeral, resumptions too (no psk_ke: forward secrecy kept). */
	mbedtls_ssl_conf_tls13_key_exchange_modes(&c->conf, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL |
								    MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL);
	/* A client keeps TLS 1.3 tickets only; a server issues them (TLS 1.3 only: ticket_write)
	 * where clients prove who they are. */
	mbedtls_ssl_conf_session_tickets(&c->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	if (!o->server)
		mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
			&c->conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
	if (load_identity(c, o, err, errlen) < 0)
		goto fail;
	if (o->server && o->require_peer_cert && o->ca_pem && tickets_init(c, o, err, errlen) < 0)
		goto fail;
	if (!o->server && (r = session_key_init(c)) != 0) {
		mbed_err(err, errlen, "session key", r);
		goto fail;
	}
	if (o->ca_pem) {
		r = mbedtls_x509_crt_parse(&c->ca, (const unsigned char *)o->ca_pem, strlen(o->ca_pem) + 1);
		if (r != 0) {
			mbed_err(err, errlen, "CA certificate", r);
			goto fail;
		}
		c->own_verify = o->server && o->require_peer_cert;
		if (!c->own_verify)
			mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
	}
	if (c->own_verify)
		mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
	else if (o->server)
		mbedtls_ssl_conf_authmode(&c->conf, o->require_peer_cert ? MBEDTLS_SSL_VERIFY_REQUIRED
									  : MBEDTLS_SSL_VERIFY_NONE);
	else if (o->pin_sha256)
		mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
	else
		mbedtls_ssl_conf_authmode(&c->conf, o->ca_pem ? MBEDTLS_SSL_VERIFY_REQUIRED
							      : MBEDTLS_SSL_VERIFY_NONE);
	if (o->pin_sha256)
		snprintf(c->pin, sizeof(c->pin), "%s", o->pin_sha256);
	*out = c;
	return 0;
fail:
	if (!err[0])
		snprintf(err, errlen, "TLS configuration failed");
	tls_config_free(c);
	return -EINVAL;
}

/*
 * A server's handshake records as they leave: whether its ServerHello (the last, after a
 * HelloRetryRequest) names a pre_shared_key. Records are followed by their lengths, so a
 * record sent in parts is never mistaken for the start of another.
 */
static void watch_server_hello(struct tls_conn *t, const unsigned char *b, size_t len, size_t sent)
{
	size_t rec, p, end, elen;

	if (t->out_skip) {
		t->out_skip -= sent < t->out_skip ? sent : t->out_skip;
		return;
	}
	if (len < 5)
		return;  /* mbedTLS passes a record from its start: not one */
	rec = 5 + ((size_t)b[3] << 8 | b[4]);
	if (sent < rec)
		t->out_skip = rec - sent;
	if (b[0] != MBEDTLS_SSL_MSG_HANDSHAKE || rec > len || len < 9 || b[5] != MBEDTLS_SSL_HS_SERVER_HELLO)
		return;
	/* type(1) length(3) version(2) random(32) session id(1+n) suite(2) compression(1) */
	end = 9 + ((size_t)b[6] << 16 | (size_t)b[7] << 8 | b[8]);
	if (end > rec)
		return;
	p = 9 + 2 + 32;
	if (p >= end || (p += 1 + b[p]) + 3 + 2 > end)
		return;
	p += 3;
	elen = (size_t)b[p] << 8 | b[p + 1];
	p += 2;
	if (p + elen > end)
		return;
	t->psk_accepted = false;
	for (size_t q = p; q + 4 <= p + elen;) {
		size_t type = (size_t)b[q] << 8 | b[q + 1], l = (size_t)b[q + 2] << 8 | b[q + 3];

		if (type == MBEDTLS_TLS_EXT_PRE_SHARED_KEY)
			t->psk_accepted = true;
		q += 4 + l;
	}
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn *t = ctx;
	ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);

	if (n >= 0 && t->c->own_verify && !t->done)
		watch_server_hello(t, buf, len, (size_t)n);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		t->want_write = true;
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	}
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn *t = ctx;
	ssize_t n;

	if (t->roff == t->rlen) {
		if (t->drained) {
			t->drained = false;
			return MBEDTLS_ERR_SSL_WANT_READ;
		}
		n = recv(t->fd, t->rbuf, RBUF, 0);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return MBEDTLS_ERR_SSL_WANT_READ;
			return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
		}
		t->roff = 0;
		t->rlen = (size_t)n;
		t->drained = (size_t)n < RBUF;
	}
	if (len > t->rlen - t->roff)
		len = t->rlen - t->roff;
	memcpy(buf, t->rbuf + t->roff, len);
	t->roff += len;
	return (int)len;
}

int tls_conn_new(struct tls_config *c, int fd, const char *name, unsigned port, struct tls_conn **out)
{
	struct tls_conn *t = calloc(1, sizeof(*t));
	unsigned char ip[16];

	if (!t)
		return -ENOMEM;
	mbedtls_ssl_init(&t->ssl);
	t->c = tls_config_ref(c);
	t->fd = fd;
	if (!(t->rbuf = malloc(RBUF))) {
		tls_conn_free(t);
		return -ENOMEM;
	}
	if (mbedtls_ssl_setup(&t->ssl, &c->conf) != 0) {
		tls_conn_free(t);
		return -ENOMEM;
	}
	if (!c->server && name) {
		snprintf(t->name, sizeof(t->name), "%s", name);
		t->ip_name = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
		/* mbedTLS matches DNS names; an IP (in the SANs) and a pin are checked after the
		 * handshake, so for them the name check is turned off explicitly (NULL). */
		if (mbedtls_ssl_set_hostname(&t->ssl, !t->ip_name && !c->pin[0] ? name : NULL) != 0) {
			tls_conn_free(t);
			return -ENOMEM;
		}
		snprintf(t->session_key, sizeof(t->session_key), "%s:%u", name, port);
		session_offer(t);
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	*out = t;
	return 0;
}

void tls_conn_free(struct tls_conn *t)
{
	if (!t)
		return;
	mbedtls_ssl_free(&t->ssl);
	if (t->rbuf)
		pki_free_secret_n(t->rbuf, RBUF);
	crt_drop(&t->ticket_peer);
	if (t->c->current == t)
		t->c->current = NULL;
	tls_config_free(t->c);
	free(t);
}

static const char *alert_name(unsigned char d)
{
	static const struct {
		unsigned char code;
		const char *name;
	} names[] = {
		{ MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE, "handshake_failure" },
		{ MBEDTLS_SSL_ALERT_MSG_BAD_CERT, "bad_certificate" },
		{ MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT, "unsupported_certificate" },
		{ MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED, "certificate_revoked" },
		{ MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED, "certificate_expired" },
		{ MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN, "certificate_unknown" },
		{ MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA, "unknown_ca" },
		{ MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED, "access_denied" },
		{ MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR, "decrypt_error" },
		{ MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION, "protocol_version" },
		{ MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY, "insufficient_security" },
		{ MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR, "internal_error" },
		{ MBEDTLS_SSL_ALERT_MSG_CERT_REQUIRED, "certificate_required" },
		{ MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL, "no_application_protocol" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == d)
			return names[i].name;
	return NULL;
}

static int fail(struct tls_conn *t, const char *what, int r)
{
	/* mbedTLS has no accessor for a received alert: its record is still in in_msg. */
	const unsigned char *msg = t->ssl.MBEDTLS_PRIVATE(in_msg);

	if (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && msg) {
		const char *name = alert_name(msg[1]);

		if (name)
			snprintf(t->err, sizeof(t->err), "%s: the peer sent a fatal %s alert", what, name);
		else
			snprintf(t->err, sizeof(t->err), "%s: the peer sent fatal alert %u", what, msg[1]);
	} else {
		mbed_err(t->err, sizeof(t->err), what, r);
	}
	return r == MBEDTLS_ERR_NET_CONN_RESET ? -ECONNRESET : -EPROTO;
}

/* The checks mbedTLS does not do for a client: a pinned certificate, an IP in the SANs. */
static int check_server(struct tls_conn *t)
{
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
	char fp[65];

	if (!peer && t->resumed)
		return 0;  /* the ticket came from a server verified under this same config */
	if (!peer) {
		snprintf(t->err, sizeof(t->err), "the server sent no certificate");
		return -EPROTO;
	}
	if (t->c->pin[0]) {
		pki_fingerprint_der(peer->raw.p, peer->raw.len, fp);
		if (strcmp(fp, t->c->pin) != 0) {
			snprintf(t->err, sizeof(t->err), "server certificate fingerprint %s is not the "
							 "pinned %s", fp, t->c->pin);
			return -EPROTO;
		}
		return 0;
	}
	if (t->ip_name && !pki_crt_names(peer, t->name)) {
		snprintf(t->err, sizeof(t->err), "the server certificate does not name %s", t->name);
		return -EPROTO;
	}
	return 0;
}

static struct verified *verified_find(struct tls_config *c, const unsigned char fp[32])
{
	time_t now = time(NULL);

	for (size_t i = 0; i < VERIFIED_CACHE; i++)
		if (c->verified && c->verified[i].used && now < c->verified[i].until &&
		    memcmp(c->verified[i].fp, fp, 32) == 0)
			return &c->verified[i];
	return NULL;
}

static void verified_add(struct tls_config *c, const unsigned char fp[32])
{
	struct verified *v;

	if (!c->verified && !(c->verified = calloc(VERIFIED_CACHE, sizeof(*c->verified))))
		return;  /* checked again next time */
	v = &c->verified[0];
	for (size_t i = 0; i < VERIFIED_CACHE && v->used; i++)
		if (!c->verified[i].used || c->verified[i].used < v->used)
			v = &c->verified[i];
	memcpy(v->fp, fp, 32);
	v->used = ++c->clock;
	v->until = time(NULL) + VERIFIED_FOR;
}

/* The alert mbedTLS would have sent for these verification flags. */
static unsigned char verify_alert(uint32_t flags)
{
	if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
		return MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED;
	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
		return MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA;
	if (flags & (MBEDTLS_X509_BADCERT_KEY_USAGE | MBEDTLS_X509_BADCERT_EXT_KEY_USAGE))
		return MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT;
	return MBEDTLS_SSL_ALERT_MSG_BAD_CERT;
}

static int refuse_client(struct tls_conn *t, unsigned char alert, const char *why)
{
	snprintf(t->err, sizeof(t->err), "client certificate rejected: %s", why);
	mbedtls_ssl_send_alert_message(&t->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL, alert);
	return -EACCES;
}

/*
 * A client certificate in a server's full handshake: chains to the CA, is in its validity
 * period and is for client authentication (what mbedTLS checks under VERIFY_REQUIRED), or,
 * checked before and unchanged, is still in its validity period. Verification flags, 0 when
 * good.
 */
static uint32_t client_chain_flags(struct tls_config *c, mbedtls_x509_crt *peer)
{
	unsigned char fp[32];
	struct verified *v;
	uint32_t flags = 0;

	if (mbedtls_sha256(peer->raw.p, peer->raw.len, fp, 0) != 0)
		return MBEDTLS_X509_BADCERT_OTHER;
	if ((v = verified_find(c, fp))) {
		if (mbedtls_x509_time_is_past(&peer->valid_to))
			return MBEDTLS_X509_BADCERT_EXPIRED;
		if (mbedtls_x509_time_is_future(&peer->valid_from))
			return MBEDTLS_X509_BADCERT_FUTURE;
		v->used = ++c->clock;
		c->stats.verified_cached++;
		return 0;
	}
	if (mbedtls_x509_crt_verify_with_profile(peer, &c->ca, NULL, &mbedtls_x509_crt_profile_default, NULL,
						 &flags, NULL, NULL) != 0 && !flags)
		flags = MBEDTLS_X509_BADCERT_OTHER;
	if (mbedtls_x509_crt_check_key_usage(peer, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0)
		flags |= MBEDTLS_X509_BADCERT_KEY_USAGE;
	if (mbedtls_x509_crt_check_extended_key_usage(peer, MBEDTLS_OID_CLIENT_AUTH,
						      MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) != 0)
		flags |= MBEDTLS_X509_BADCERT_EXT_KEY_USAGE;
	if (!flags)
		verified_add(c, fp);
	return flags;
}

static int check_client(struct tls_conn *t)
{
	mbedtls_x509_crt *peer = (mbedtls_x509_crt *)mbedtls_ssl_get_peer_cert(&t->ssl);
	uint32_t flags;
	char why[192];

	if (!peer)
		return refuse_client(t, mbedtls_ssl_get_version_number(&t->ssl) == MBEDTLS_SSL_VERSION_TLS1_3
						? MBEDTLS_SSL_ALERT_MSG_CERT_REQUIRED : MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE,
				     "no client certificate");
	if (t->chain_ok)
		return 0;  /* checked when its ticket was written */
	if ((flags = client_chain_flags(t->c, peer)) != 0) {
		verify_why(flags, why, sizeof(why));
		return refuse_client(t, verify_alert(flags), why);
	}
	return 0;
}

int tls_handshake(struct tls_conn *t)
{
	int r;

	t->want_write = false;
	t->c->current = t;
	r = mbedtls_ssl_handshake(&t->ssl);
	t->c->current = NULL;
	if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
		t->want_write = r == MBEDTLS_ERR_SSL_WANT_WRITE || t->want_write;
		return -EAGAIN;
	}
	if (r != 0) {
		uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);

		if (t->refused_alert) {
			mbedtls_ssl_send_alert_message(&t->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL, t->refused_alert);
			return -EACCES;
		}
		/* Told no CA, mbedTLS calls every client certificate untrusted: that is ours to say. */
		if (t->c->own_verify && flags != (uint32_t)-1)
			flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_NOT_TRUSTED;
		if (flags && flags != (uint32_t)-1) {
			char why[192];

			verify_why(flags, why, sizeof(why));
			snprintf(t->err, sizeof(t->err), "%s certificate rejected: %s",
				 t->c->server ? "client" : "server", why);
			/* Under OPTIONAL mbedTLS leaves the alert to us. */
			if (t->c->own_verify)
				mbedtls_ssl_send_alert_message(&t->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
							       flags & MBEDTLS_X509_BADCERT_MISSING
								       ? MBEDTLS_SSL_ALERT_MSG_CERT_REQUIRED
								       : verify_alert(flags));
			return -EACCES;
		}
		return fail(t, "handshake", r);
	}
	t->done = true;
	/*
	 * Resumed: no certificate came in this handshake. A server knows it from its own
	 * ServerHello and its client from the ticket; a client had offered one, and a full
	 * handshake always carries the server's certificate.
	 */
	if (!mbedtls_ssl_get_peer_cert(&t->ssl) && mbedtls_ssl_get_version_number(&t->ssl) == MBEDTLS_SSL_VERSION_TLS1_3 &&
	    (t->c->server ? t->psk_accepted && t->ticket_peer != NULL : t->offered))
		t->resumed = true;
	else
		crt_drop(&t->ticket_peer);
	if (t->c->own_verify && !t->resumed && (r = check_client(t)) < 0)
		return r;
	if (t->resumed)
		t->c->stats.resumed++;
	else
		t->c->stats.full++;
	if (!t->c->server)
		return check_server(t);
	return 0;
}

ssize_t tls_read(struct tls_conn *t, void *buf, size_t len)
{
	int r;

	t->want_write = false;
	t->c->current = t;
	while ((r = mbedtls_ssl_read(&t->ssl, buf, len)) == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
		session_received(t);
	t->c->current = NULL;
	if (r > 0)
		t->got_data = true;
	if (r >= 0)
		return r;
	if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
		return -EAGAIN;
	if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return 0;
	return fail(t, "read", r);
}

ssize_t tls_write(struct tls_conn *t, const void *buf, size_t len)
{
	int r;

	t->want_write = false;
	t->c->current = t;
	while ((r = mbedtls_ssl_write(&t->ssl, buf, len)) == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
		session_received(t);
	t->c->current = NULL;
	if (r >= 0)
		return r;
	if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
		t->want_write = true;
		return -EAGAIN;
	}
	return fail(t, "write", r);
}

bool tls_wants_write(const struct tls_conn *t)
{
	return t->want_write;
}

void tls_socket_readable(struct tls_conn *t)
{
	t->drained = false;
}

size_t tls_pending(const struct tls_conn *t)
{
	return mbedtls_ssl_get_bytes_avail(&t->ssl) + (t->rlen - t->roff);
}

void tls_close_notify(struct tls_conn *t)
{
	mbedtls_ssl_close_notify(&t->ssl);
}

const char *tls_error(const struct tls_conn *t)
{
	return t->err[0] ? t->err : "unknown TLS error";
}

const mbedtls_x509_crt *tls_peer_cert(const struct tls_conn *t)
{
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);

	return peer ? peer : t->resumed && t->c->server ? t->ticket_peer : NULL;
}


const char *tls_alpn(const struct tls_conn *t)
{
	return mbedtls_ssl_get_alpn_protocol(&t->ssl);
}

bool tls_verdict_pending(const struct tls_conn *t)
{
	return !t->c->server && t->done && !t->got_data &&
	       mbedtls_ssl_get_version_number(&t->ssl) == MBEDTLS_SSL_VERSION_TLS1_3;
}
