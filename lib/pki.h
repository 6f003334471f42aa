/* SPDX-License-Identifier: MIT */
/*
 * The machine API's PKI, with mbedTLS: ECDSA P-256 keys, a self-signed CA, certificates
 * issued by it (servers with their SANs, clients with their role in the Organization),
 * PEM in and out, SHA-256 fingerprints. Keys are zeroed when freed.
 */
#ifndef BASALT_PKI_H
#define BASALT_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#define PKI_ROLE_ADMIN "os:admin"
#define PKI_ROLE_OPERATOR "os:operator"
#define PKI_ROLE_READER "os:reader"
#define PKI_ROLE_IMPERSONATOR "os:impersonator"  /* node to node: acts with the caller's role */
#define PKI_MAX_SANS 32
#define PKI_PEM_MAX 8192

enum pki_role {
	ROLE_NONE = 0,
	ROLE_READER,
	ROLE_OPERATOR,
	ROLE_ADMIN,
};

struct pki_subject {
	const char *cn;
	const char *org[4];             /* Organization values (roles for clients) */
	size_t norg;
	const char *sans[PKI_MAX_SANS]; /* DNS names or IP addresses */
	size_t nsans;
	unsigned days;                  /* validity from now: days ... */
	unsigned hours;                 /* ... plus hours */
	unsigned seconds;               /* ... plus seconds */
	int64_t not_before_offset_s;    /* tests: shift the start (negative: in the past) */
	bool ca;                        /* basicConstraints CA:TRUE, keyCertSign */
	bool server;                    /* extendedKeyUsage serverAuth (else clientAuth) */
	bool both;                      /* serverAuth and clientAuth */
};

/* A new ECDSA P-256 key, PEM (caller frees; zero before freeing: pki_free_secret). */
int pki_gen_key(char **pem, char *err, size_t errlen);
/* A certificate for the key in key_pem, signed by issuer (NULL: self-signed). */
int pki_issue(const struct pki_subject *s, const char *key_pem, const char *issuer_crt_pem,
	      const char *issuer_key_pem, char **crt_pem, char *err, size_t errlen);
/*
 * Whether crt_pem is a CA certificate and, when key_pem is given, key_pem is its key.
 * 0, or PKI_BAD_CRT / PKI_BAD_KEY (which one is at fault) with err saying why.
 */
#define PKI_BAD_CRT (-1)
#define PKI_BAD_KEY (-2)
int pki_check_ca(const char *crt_pem, const char *key_pem, char *err, size_t errlen);
/* A PKCS#10 certificate request for key_pem's public key, subject CN=cn; PEM. */
int pki_csr_new(const char *key_pem, const char *cn, char **csr_pem, char *err, size_t errlen);
/*
 * A certificate with subject s for the public key of a certificate request (PEM, csr_len
 * bytes), whose signature is checked first, signed by issuer. The request's own subject
 * and extensions are ignored: s says what is signed.
 */
int pki_issue_csr(const struct pki_subject *s, const char *csr_pem, size_t csr_len,
		  const char *issuer_crt_pem, const char *issuer_key_pem, char **crt_pem, char *err,
		  size_t errlen);
/* Whether crt_pem is issued by ca_pem for key_pem's key; its notAfter (Unix seconds). */
int pki_check_issued(const char *crt_pem, const char *ca_pem, const char *key_pem, int64_t *not_after,
		     char *err, size_t errlen);
/* Zeroes and frees a secret string. */
void pki_free_secret(char *s);
/* Zeroes and frees a secret of len bytes. */
void pki_free_secret_n(void *p, size_t len);

/* SHA-256 of the certificate's DER, as lowercase hex (65 bytes with the NUL). */
int pki_fingerprint(const char *crt_pem, char out[65], char *err, size_t errlen);
int pki_fingerprint_der(const unsigned char *der, size_t len, char out[65]);
/* The strongest role named in a certificate's Organization values. */
enum pki_role pki_cert_role(const mbedtls_x509_crt *crt);
bool pki_cert_has_org(const mbedtls_x509_crt *crt, const char *org);
const char *pki_role_name(enum pki_role r);
enum pki_role pki_role_parse(const char *s);

/* Whether the SAN extension lists name (a DNS name, or an IP address). */
bool pki_crt_names(const mbedtls_x509_crt *crt, const char *name);
/* Whether crt_pem carries every name in sans (used to decide on renewal). */
bool pki_cert_covers(const char *crt_pem, const char *const *sans, size_t n);

/* Base64 of a PEM text, as configs carry certificates and keys; and back. Caller frees. */
char *pki_b64_encode(const char *text);
char *pki_b64_decode(const char *b64);

#endif
