/* SPDX-License-Identifier: MIT */
/*
 * TLS on a non-blocking socket, with mbedTLS 3.6: TLS 1.3 (and TLS 1.2 with ECDHE-ECDSA
 * for older peers), AEAD ciphers only (AES-GCM, ChaCha20-Poly1305), key exchange X25519 or
 * P-256, ALPN "h2". A server may require client certificates from
 * its CA; a client verifies the server against its CA (and that the certificate names the
 * address it dialled) or, for a machine in maintenance mode, against a pinned fingerprint.
 */
#ifndef BASALT_TLS_H
#define BASALT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mbedtls/x509_crt.h>

struct tls_config;
struct tls_conn;

struct tls_opts {
	bool server;
	const char *cert_pem;     /* own certificate (chain), PEM */
	const char *key_pem;      /* its key, PEM */
	const char *ca_pem;       /* verify the peer against this CA; NULL: do not ask/verify */
	bool require_peer_cert;   /* server: a client without a valid certificate is refused */
	const char *pin_sha256;   /* client: accept exactly this server certificate (hex) */
	bool max_tls12;           /* offer TLS 1.2 at most (for peers and tests that need it) */
	uint32_t ticket_lifetime; /* server: seconds a session ticket is good for (0: default) */
	bool no_resume;           /* client: never offer a ticket (to measure full handshakes) */
};

/* A ticket is good for a day, or until the client certificate expires if that is sooner. */
#define TLS_TICKET_LIFETIME 86400u

struct tls_stats {
	unsigned long full;       /* handshakes with certificates */
	unsigned long resumed;    /* TLS 1.3 resumptions from a ticket */
	unsigned long tickets;    /* client: tickets received */
	unsigned long verified_cached;  /* server: client certificates known from an earlier check */
};

int tls_config_new(const struct tls_opts *o, struct tls_config **out, char *err, size_t errlen);
/* Reference counted: each connection holds one, so a config can be replaced under them. */
struct tls_config *tls_config_ref(struct tls_config *c);
void tls_config_free(struct tls_config *c);
/*
 * A server whose clients must present certificates issues TLS 1.3 session tickets; a
 * client config keeps the latest ticket per server name and offers it when it dials that
 * name again. These move a client's ticket in and out (to keep it across processes): the
 * blob holds the session's resumption secret, and an HMAC under a key derived from the
 * client's private key, so put refuses a blob that a config with another key (or no key)
 * exported, or that was changed.
 */
int tls_config_session_put(struct tls_config *c, const char *name, const unsigned char *blob,
			   size_t len);
int tls_config_session_get(const struct tls_config *c, const char *name, unsigned char **blob,
			   size_t *len);
void tls_config_stats(const struct tls_config *c, struct tls_stats *st);

/*
 * A connection on fd (not taken over). For a client, name is the address dialled and port
 * its port: name:port picks the session ticket to offer.
 */
int tls_conn_new(struct tls_config *c, int fd, const char *name, unsigned port, struct tls_conn **out);
void tls_conn_free(struct tls_conn *t);

/*
 * Advances the handshake: 0 when done, -EAGAIN to wait for the socket (readable, or
 * writable if tls_wants_write), another -errno on failure (tls_error says why).
 */
int tls_handshake(struct tls_conn *t);
/* Bytes read, 0 at a clean close, -EAGAIN, or -errno. */
ssize_t tls_read(struct tls_conn *t, void *buf, size_t len);
/* Bytes written (maybe fewer than len), -EAGAIN, or -errno. */
ssize_t tls_write(struct tls_conn *t, const void *buf, size_t len);
bool tls_wants_write(const struct tls_conn *t);
/*
 * The owner's poll said the socket is readable. After a read that did not fill its buffer
 * the TLS layer answers -EAGAIN without a system call, until this is called (or one read).
 */
void tls_socket_readable(struct tls_conn *t);
/* Bytes waiting inside the TLS layer, decrypted or not (read them before waiting on the
 * socket: they wake no epoll). */
size_t tls_pending(const struct tls_conn *t);
void tls_close_notify(struct tls_conn *t);
const char *tls_error(const struct tls_conn *t);
/* The peer's verified certificate (for a resumed session, the one its ticket names), or NULL. */
const mbedtls_x509_crt *tls_peer_cert(const struct tls_conn *t);
const char *tls_alpn(const struct tls_conn *t);
/*
 * A TLS 1.3 client whose handshake is done but which has had no byte from the server yet:
 * the server may still refuse its certificate (TLS 1.3 tells the client only then).
 */
bool tls_verdict_pending(const struct tls_conn *t);

#endif
