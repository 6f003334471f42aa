/* SPDX-License-Identifier: MIT */
/* One CTR-DRBG per process, seeded from the kernel on first use, for keys and TLS. */
#ifndef BASALT_RNG_H
#define BASALT_RNG_H

#include <stddef.h>

/* The generator, seeded on first call (PSA crypto, for TLS 1.3, is started then too);
 * aborts if the kernel gives no entropy. */
void *rng_ctx(void);
/* mbedTLS's f_rng shape: fills out with len random bytes. */
int rng_random(void *ctx, unsigned char *out, size_t len);

#endif
