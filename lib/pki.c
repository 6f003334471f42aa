/* SPDX-License-Identifier: MIT */
#include "lib/pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/md.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "lib/rng.h"

void pki_free_secret(char *s)
{
	if (!s)
		return;
	mbedtls_platform_zeroize(s, strlen(s));
	free(s);
}

void pki_free_secret_n(void *p, size_t len)
{
	if (!p)
		return;
	mbedtls_platform_zeroize(p, len);
	free(p);
}

static void mbed_err(char *err, size_t errlen, const char *what, int r)
{
	char buf[128];

	mbedtls_strerror(r, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, buf);
}

int pki_gen_key(char **pem, char *err, size_t errlen)
{
	mbedtls_pk_context pk;
	unsigned char *buf = NULL;
	int r;

	mbedtls_pk_init(&pk);
	r = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (r == 0)
		r = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), rng_random, rng_ctx());
	if (r != 0) {
		mbed_err(err, errlen, "generate key", r);
		goto out;
	}
	buf = calloc(1, PKI_PEM_MAX);
	if (!buf || (r = mbedtls_pk_write_key_pem(&pk, buf, PKI_PEM_MAX)) != 0) {
		mbed_err(err, errlen, "write key", buf ? r : MBEDTLS_ERR_PK_ALLOC_FAILED);
		r = -1;
		goto out;
	}
	*pem = (char *)buf;
	buf = NULL;
out:
	mbedtls_pk_free(&pk);
	if (buf) {
		mbedtls_platform_zeroize(buf, PKI_PEM_MAX);
		free(buf);
	}
	return r == 0 ? 0 : -EINVAL;
}

/* --- DER pieces written by hand: subjectAltName (with iPAddress), extendedKeyUsage --- */

/* Ends a SEQUENCE of len content bytes written backwards before *p: its length and tag. */
static int close_seq(unsigned char **p, unsigned char *start, size_t len)
{
	int r, t;

	if ((r = mbedtls_asn1_write_len(p, start, len)) < 0)
		return r;
	if ((t = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0)
		return t;
	return (int)(len + (size_t)r + (size_t)t);
}

/* Writes the GeneralNames of sans backwards into [start, *p) as mbedtls_asn1 does. */
static int write_sans(unsigned char **p, unsigned char *start, const char *const *sans, size_t n)
{
	size_t len = 0;
	int r;

	for (size_t i = n; i-- > 0;) {
		unsigned char ip[16];

		/* iPAddress [7] OCTET STRING, or dNSName [2] IA5String (both implicit) */
		if (inet_pton(AF_INET, sans[i], ip) == 1)
			r = mbedtls_asn1_write_tagged_string(p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7,
							     (const char *)ip, 4);
		else if (inet_pton(AF_INET6, sans[i], ip) == 1)
			r = mbedtls_asn1_write_tagged_string(p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7,
							     (const char *)ip, 16);
		else
			r = mbedtls_asn1_write_tagged_string(p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2,
							     sans[i], strlen(sans[i]));
		if (r < 0)
			return r;
		len += (size_t)r;
	}
	return close_seq(p, start, len);
}

static int write_eku(unsigned char **p, unsigned char *start, bool server, bool client)
{
	size_t len = 0;
	int r;

	if (client) {
		if ((r = mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_CLIENT_AUTH,
						MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH))) < 0)
			return r;
		len += (size_t)r;
	}
	if (server) {
		if ((r = mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_SERVER_AUTH,
						MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH))) < 0)
			return r;
		len += (size_t)r;
	}
	return close_seq(p, start, len);
}

static void asn1_time(time_t t, char out[15])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}

/* "CN=...,O=...": values may not hold ',' or '=' (rejected rather than escaped). */
static int subject_name(const struct pki_subject *s, char *out, size_t len)
{
	size_t n = 0;

	if (strpbrk(s->cn, ",=\\"))
		return -EINVAL;
	n += (size_t)snprintf(out + n, len - n, "CN=%s", s->cn);
	for (size_t i = 0; i < s->norg && n < len; i++) {
		if (strpbrk(s->org[i], ",=\\"))
			return -EINVAL;
		n += (size_t)snprintf(out + n, len - n, ",O=%s", s->org[i]);
	}
	return n < len ? 0 : -ENAMETOOLONG;
}

static int add_extensions(mbedtls_x509write_cert *w, const struct pki_subject *s)
{
	unsigned char buf[2048], *p = buf + sizeof(buf);
	unsigned usage = MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
	int r;

	if (s->ca)
		usage |= MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN;
	if ((r = mbedtls_x509write_crt_set_basic_constraints(w, s->ca, -1)) != 0 ||
	    (r = mbedtls_x509write_crt_set_key_usage(w, usage)) != 0 ||
	    (r = mbedtls_x509write_crt_set_subject_key_identifier(w)) != 0 ||
	    (r = mbedtls_x509write_crt_set_authority_key_identifier(w)) != 0)
		return r;
	if (!s->ca) {
		r = write_eku(&p, buf, s->server || s->both, !s->server || s->both);
		if (r < 0)
			return r;
		r = mbedtls_x509write_crt_set_extension(w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
							MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0, p,
							(size_t)(buf + sizeof(buf) - p));
		if (r != 0)
			return r;
	}
	if (s->nsans) {
		p = buf + sizeof(buf);
		r = write_sans(&p, buf, s->sans, s->nsans);
		if (r < 0)
			return r;
		r = mbedtls_x509write_crt_set_extension(w, MBEDTLS_OID_SUBJECT_ALT_NAME,
							MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, p,
							(size_t)r);
	}
	return r;
}

/* A PEM private key into k (initialised by the caller); mbedTLS's result. */
static int parse_key(mbedtls_pk_context *k, const char *pem)
{
	return mbedtls_pk_parse_key(k, (const unsigned char *)pem, strlen(pem) + 1, NULL, 0, rng_random, rng_ctx());
}

/* A certificate for the public key in key (a private key when self-signed). */
static int issue(const struct pki_subject *s, mbedtls_pk_context *key, const char *issuer_crt_pem,
		 const char *issuer_key_pem, char **crt_pem, char *err, size_t errlen)
{
	mbedtls_pk_context ikey;
	mbedtls_x509_crt issuer;
	mbedtls_x509write_cert w;
	char name[512], iname[512], from[15], to[15];
	unsigned char serial_bytes[16], *out = NULL;
	time_t now = time(NULL) + s->not_before_offset_s;
	int r;

	mbedtls_pk_init(&ikey);
	mbedtls_x509_crt_init(&issuer);
	mbedtls_x509write_crt_init(&w);
	if (subject_name(s, name, sizeof(name)) < 0) {
		snprintf(err, errlen, "issue %s: names may not contain ',', '=' or '\\\\'", s->cn);
		r = -EINVAL;
		goto out;
	}
	if (issuer_crt_pem) {
		r = mbedtls_x509_crt_parse(&issuer, (const unsigned char *)issuer_crt_pem,
					   strlen(issuer_crt_pem) + 1);
		if (r == 0)
			r = parse_key(&ikey, issuer_key_pem);
		if (r != 0) {
			mbed_err(err, errlen, "parse issuer", r);
			goto out;
		}
		mbedtls_x509_dn_gets(iname, sizeof(iname), &issuer.subject);
	}
	rng_random(rng_ctx(), serial_bytes, sizeof(serial_bytes));
	/* A positive INTEGER in its shortest DER form: a first byte of 0 would be padding
	 * (OpenSSL refuses the certificate), one of 0x80 or more a negative number. */
	serial_bytes[0] = (unsigned char)((serial_bytes[0] & 0x7f) | 0x40);
	asn1_time(now - 60, from);
	asn1_time(now + (time_t)s->days * 86400 + (time_t)s->hours * 3600 + (time_t)s->seconds, to);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, key);
	mbedtls_x509write_crt_set_issuer_key(&w, issuer_crt_pem ? &ikey : key);
	if ((r = mbedtls_x509write_crt_set_serial_raw(&w, serial_bytes, sizeof(serial_bytes))) != 0 ||
	    (r = mbedtls_x509write_crt_set_subject_name(&w, name)) != 0 ||
	    (r = mbedtls_x509write_crt_set_issuer_name(&w, issuer_crt_pem ? iname : name)) != 0 ||
	    (r = mbedtls_x509write_crt_set_validity(&w, from, to)) != 0 ||
	    (r = add_extensions(&w, s)) != 0) {
		mbed_err(err, errlen, "build certificate", r);
		goto out;
	}
	out = calloc(1, PKI_PEM_MAX);
	if (!out) {
		r = MBEDTLS_ERR_X509_ALLOC_FAILED;
		mbed_err(err, errlen, "write certificate", r);
		goto out;
	}
	r = mbedtls_x509write_crt_pem(&w, out, PKI_PEM_MAX, rng_random, rng_ctx());
	if (r != 0) {
		mbed_err(err, errlen, "write certificate", r);
		goto out;
	}
	*crt_pem = (char *)out;
	out = NULL;
out:
	free(out);
	mbedtls_x509write_crt_free(&w);
	mbedtls_x509_crt_free(&issuer);
	mbedtls_pk_free(&ikey);
	return r == 0 ? 0 : -EINVAL;
}

int pki_issue(const struct pki_subject *s, const char *key_pem, const char *issuer_crt_pem,
	      const char *issuer_key_pem, char **crt_pem, char *err, size_t errlen)
{
	mbedtls_pk_context key;
	int r;

	mbedtls_pk_init(&key);
	r = parse_key(&key, key_pem);
	if (r != 0)
		mbed_err(err, errlen, "parse key", r);
	else
		r = issue(s, &key, issuer_crt_pem, issuer_key_pem, crt_pem, err, errlen);
	mbedtls_pk_free(&key);
	return r == 0 ? 0 : -EINVAL;
}

int pki_csr_new(const char *key_pem, const char *cn, char **csr_pem, char *err, size_t errlen)
{
	mbedtls_x509write_csr w;
	mbedtls_pk_context key;
	char name[160];
	unsigned char *out = NULL;
	int r;

	mbedtls_x509write_csr_init(&w);
	mbedtls_pk_init(&key);
	if (strpbrk(cn, ",=\\")) {
		snprintf(err, errlen, "request for %s: the name may not contain ',', '=' or '\\'", cn);
		r = -EINVAL;
		goto out;
	}
	snprintf(name, sizeof(name), "CN=%s", cn);
	r = parse_key(&key, key_pem);
	if (r == 0) {
		mbedtls_x509write_csr_set_key(&w, &key);
		mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
		r = mbedtls_x509write_csr_set_subject_name(&w, name);
	}
	if (r == 0 && !(out = calloc(1, PKI_PEM_MAX)))
		r = MBEDTLS_ERR_X509_ALLOC_FAILED;
	if (r == 0)
		r = mbedtls_x509write_csr_pem(&w, out, PKI_PEM_MAX, rng_random, rng_ctx());
	if (r != 0) {
		mbed_err(err, errlen, "certificate request", r);
		goto out;
	}
	*csr_pem = (char *)out;
	out = NULL;
out:
	free(out);
	mbedtls_pk_free(&key);
	mbedtls_x509write_csr_free(&w);
	return r == 0 ? 0 : -EINVAL;
}

int pki_issue_csr(const struct pki_subject *s, const char *csr_pem, size_t csr_len,
		  const char *issuer_crt_pem, const char *issuer_key_pem, char **crt_pem, char *err,
		  size_t errlen)
{
	mbedtls_x509_csr csr;
	unsigned char hash[MBEDTLS_MD_MAX_SIZE];
	const mbedtls_md_info_t *md;
	char *copy = malloc(csr_len + 1);
	int r;

	mbedtls_x509_csr_init(&csr);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(copy, csr_pem, csr_len);
	copy[csr_len] = '\0';
	r = mbedtls_x509_csr_parse(&csr, (const unsigned char *)copy, csr_len + 1);
	free(copy);
	if (r != 0) {
		mbed_err(err, errlen, "not a certificate request", r);
		goto out;
	}
	/* The request proves the key: its signature over its own contents. */
	md = mbedtls_md_info_from_type(csr.MBEDTLS_PRIVATE(sig_md));
	if (!md || mbedtls_md(md, csr.cri.p, csr.cri.len, hash) != 0 ||
	    mbedtls_pk_verify_ext(csr.MBEDTLS_PRIVATE(sig_pk), csr.MBEDTLS_PRIVATE(sig_opts), &csr.pk,
				  csr.MBEDTLS_PRIVATE(sig_md), hash, mbedtls_md_get_size(md), csr.MBEDTLS_PRIVATE(sig).p,
				  csr.MBEDTLS_PRIVATE(sig).len) != 0) {
		snprintf(err, errlen, "the certificate request's signature does not verify");
		r = -EINVAL;
		goto out;
	}
	r = issue(s, &csr.pk, issuer_crt_pem, issuer_key_pem, crt_pem, err, errlen);
out:
	mbedtls_x509_csr_free(&csr);
	return r == 0 ? 0 : -EINVAL;
}

/*
 * 0 when key_pem is the private key of crt's public key; else err says whether it is no
 * key at all (with mbedTLS's reason) or another one (mismatch).
 */
static int crt_holds_key(mbedtls_x509_crt *crt, const char *key_pem, const char *mismatch, char *err,
			 size_t errlen)
{
	mbedtls_pk_context key;
	int r;

	mbedtls_pk_init(&key);
	r = parse_key(&key, key_pem);
	if (r != 0)
		mbed_err(err, errlen, "not a private key", r);
	else if ((r = mbedtls_pk_check_pair(&crt->pk, &key, rng_random, rng_ctx())) != 0)
		snprintf(err, errlen, "%s", mismatch);
	mbedtls_pk_free(&key);
	return r;
}

int pki_check_issued(const char *crt_pem, const char *ca_pem, const char *key_pem, int64_t *not_after,
		     char *err, size_t errlen)
{
	mbedtls_x509_crt crt, ca;
	uint32_t flags = 0;
	int r;

	mbedtls_x509_crt_init(&crt);
	mbedtls_x509_crt_init(&ca);
	r = mbedtls_x509_crt_parse(&crt, (const unsigned char *)crt_pem, strlen(crt_pem) + 1);
	if (r == 0)
		r = mbedtls_x509_crt_parse(&ca, (const unsigned char *)ca_pem, strlen(ca_pem) + 1);
	if (r != 0) {
		mbed_err(err, errlen, "parse certificate", r);
		goto out;
	}
	r = mbedtls_x509_crt_verify(&crt, &ca, NULL, NULL, &flags, NULL, NULL);
	if (r != 0) {
		snprintf(err, errlen, "not issued by the OS CA (verify flags 0x%x)", flags);
		goto out;
	}
	r = crt_holds_key(&crt, key_pem, "not a certificate for this node's key", err, errlen);
	if (r == 0 && not_after) {
		struct tm tm = { .tm_year = crt.valid_to.year - 1900, .tm_mon = crt.valid_to.mon - 1,
				 .tm_mday = crt.valid_to.day, .tm_hour = crt.valid_to.hour,
				 .tm_min = crt.valid_to.min, .tm_sec = crt.valid_to.sec };

		*not_after = (int64_t)timegm(&tm);
	}
out:
	mbedtls_x509_crt_free(&ca);
	mbedtls_x509_crt_free(&crt);
	return r == 0 ? 0 : -EINVAL;
}

int pki_check_ca(const char *crt_pem, const char *key_pem, char *err, size_t errlen)
{
	mbedtls_x509_crt crt;
	int r, which = PKI_BAD_CRT;

	mbedtls_x509_crt_init(&crt);
	r = mbedtls_x509_crt_parse(&crt, (const unsigned char *)crt_pem, strlen(crt_pem) + 1);
	if (r != 0) {
		mbed_err(err, errlen, "not an X.509 certificate", r);
		goto out;
	}
	if (mbedtls_x509_crt_get_ca_istrue(&crt) != 1) {
		snprintf(err, errlen, "not a CA certificate (its basicConstraints say CA:FALSE)");
		r = -1;
		goto out;
	}
	if (!key_pem)
		goto out;
	which = PKI_BAD_KEY;
	r = crt_holds_key(&crt, key_pem, "is not the private key of the certificate in crt", err, errlen);
out:
	mbedtls_x509_crt_free(&crt);
	return r == 0 ? 0 : which;
}

int pki_fingerprint_der(const unsigned char *der, size_t len, char out[65])
{
	unsigned char sum[32];

	if (mbedtls_sha256(der, len, sum, 0) != 0)
		return -EIO;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", sum[i]);
	return 0;
}

int pki_fingerprint(const char *crt_pem, char out[65], char *err, size_t errlen)
{
	mbedtls_x509_crt crt;
	int r;

	mbedtls_x509_crt_init(&crt);
	r = mbedtls_x509_crt_parse(&crt, (const unsigned char *)crt_pem, strlen(crt_pem) + 1);
	if (r != 0)
		mbed_err(err, errlen, "parse certificate", r);
	else
		r = pki_fingerprint_der(crt.raw.p, crt.raw.len, out);
	mbedtls_x509_crt_free(&crt);
	return r == 0 ? 0 : -EINVAL;
}

static const char *const role_names[] = { [ROLE_NONE] = "", [ROLE_READER] = PKI_ROLE_READER,
					  [ROLE_OPERATOR] = PKI_ROLE_OPERATOR,
					  [ROLE_ADMIN] = PKI_ROLE_ADMIN };

const char *pki_role_name(enum pki_role r)
{
	return (unsigned)r <= ROLE_ADMIN ? role_names[r] : "";
}

enum pki_role pki_role_parse(const char *s)
{
	for (int r = ROLE_ADMIN; r > ROLE_NONE; r--)
		if (strcmp(s, role_names[r]) == 0)
			return (enum pki_role)r;
	return ROLE_NONE;
}

bool pki_cert_has_org(const mbedtls_x509_crt *crt, const char *org)
{
	size_t n = strlen(org);

	for (const mbedtls_x509_name *nm = &crt->subject; nm; nm = nm->next) {
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_ORGANIZATION, &nm->oid) == 0 && nm->val.len == n &&
		    memcmp(nm->val.p, org, n) == 0)
			return true;
	}
	return false;
}

enum pki_role pki_cert_role(const mbedtls_x509_crt *crt)
{
	for (int r = ROLE_ADMIN; r > ROLE_NONE; r--)
		if (pki_cert_has_org(crt, role_names[r]))
			return (enum pki_role)r;
	return ROLE_NONE;
}

bool pki_crt_names(const mbedtls_x509_crt *crt, const char *name)
{
	unsigned char ip[16];
	size_t iplen = inet_pton(AF_INET, name, ip) == 1 ? 4 : inet_pton(AF_INET6, name, ip) == 1 ? 16 : 0;

	for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s && s->buf.p; s = s->next) {
		if (iplen && s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && s->buf.len == iplen &&
		    memcmp(s->buf.p, ip, iplen) == 0)
			return true;
		if (!iplen && s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2) &&
		    s->buf.len == strlen(name) && strncasecmp((const char *)s->buf.p, name, s->buf.len) == 0)
			return true;
	}
	return false;
}

bool pki_cert_covers(const char *crt_pem, const char *const *sans, size_t n)
{
	mbedtls_x509_crt crt;
	bool ok;

	mbedtls_x509_crt_init(&crt);
	ok = mbedtls_x509_crt_parse(&crt, (const unsigned char *)crt_pem, strlen(crt_pem) + 1) == 0;
	for (size_t i = 0; ok && i < n; i++)
		ok = pki_crt_names(&crt, sans[i]);
	mbedtls_x509_crt_free(&crt);
	return ok;
}

char *pki_b64_encode(const char *text)
{
	size_t n = strlen(text), olen = 0, cap = 4 * ((n + 2) / 3) + 1;
	unsigned char *out = malloc(cap);

	if (out && mbedtls_base64_encode(out, cap, &olen, (const unsigned char *)text, n) != 0) {
		free(out);
		return NULL;
	}
	return (char *)out;
}

char *pki_b64_decode(const char *b64)
{
	size_t n = strlen(b64), olen = 0;
	unsigned char *out = malloc(n + 1);

	if (!out || mbedtls_base64_decode(out, n, &olen, (const unsigned char *)b64, n) != 0) {
		free(out);
		return NULL;
	}
	out[olen] = '\0';
	return (char *)out;
}
