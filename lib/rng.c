/* SPDX-License-Identifier: MIT */
#include "lib/rng.h"

#include <stdlib.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <psa/crypto.h>

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static int seeded;

void *rng_ctx(void)
{
	static const unsigned char personal[] = "basalt";

	if (!seeded) {
		mbedtls_entropy_init(&entropy);
		mbedtls_ctr_drbg_init(&drbg);
		/* Without entropy nothing this process makes (keys, TLS) can be trusted. */
		if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, personal,
					  sizeof(personal) - 1) != 0)
			abort();
		/* PSA (TLS 1.3's cryptography) seeds its own generator: here too, so a process
		 * that sandboxes itself after rng_ctx() has it ready. */
		if (psa_crypto_init() != PSA_SUCCESS)
			abort();
		seeded = 1;
	}
	return &drbg;
}

int rng_random(void *ctx, unsigned char *out, size_t len)
{
	return mbedtls_ctr_drbg_random(ctx, out, len);
}
