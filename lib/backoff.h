/* SPDX-License-Identifier: MIT */
/* Exponential restart/retry delays, capped. */
#ifndef BASALT_BACKOFF_H
#define BASALT_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint32_t first_ms;  /* delay before attempt 1 */
	uint32_t base_ms;   /* delay before attempt 2; doubles for each attempt after */
	uint32_t max_ms;    /* cap */
};

/* Delay before retry number attempt (1-based): first_ms, base_ms, 2*base_ms, ..., max_ms. */
uint64_t backoff_delay_ms(const struct backoff *b, unsigned attempt);

#endif
