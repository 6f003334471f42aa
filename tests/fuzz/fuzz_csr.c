/* SPDX-License-Identifier: MIT */
/*
 * A certificate request as a worker sends it to a control-plane node's signing port
 * (lib/pki.c pki_issue_csr: mbedTLS parses it, we check its signature and sign): the input
 * is the request, PEM or DER. Whatever comes in, a certificate signed for it must verify
 * against the CA and say what the subject asked for, never a CA, never another key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *ca_crt, *ca_key;

static void setup(void)
{
	struct pki_subject s = { .cn = "fuzz-ca", .days = 1, .ca = true };
	char err[256];

	if (pki_gen_key(&ca_key, err, sizeof(err)) < 0 || pki_issue(&s, ca_key, NULL, NULL, &ca_crt, err, sizeof(err)) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pki_subject s = { .cn = "node", .days = 1, .server = true, .sans = { "node", "10.0.0.1" }, .nsans = 2 };
	char err[256], *crt = NULL;
	mbedtls_x509_crt c, ca;
	uint32_t flags = 0;

	if (!ca_crt)
		setup();
	if (pki_issue_csr(&s, (const char *)data, size, ca_crt, ca_key, &crt, err, sizeof(err)) < 0)
		return 0;
	mbedtls_x509_crt_init(&c);
	mbedtls_x509_crt_init(&ca);
	if (mbedtls_x509_crt_parse(&c, (const unsigned char *)crt, strlen(crt) + 1) != 0 ||
	    mbedtls_x509_crt_parse(&ca, (const unsigned char *)ca_crt, strlen(ca_crt) + 1) != 0 ||
	    mbedtls_x509_crt_verify(&c, &ca, NULL, NULL, &flags, NULL, NULL) != 0 ||
	    mbedtls_x509_crt_get_ca_istrue(&c) || !pki_crt_names(&c, "node") || pki_cert_role(&c) != ROLE_NONE)
		abort();
	mbedtls_x509_crt_free(&c);
	mbedtls_x509_crt_free(&ca);
	free(crt);
	return 0;
}
