/* SPDX-License-Identifier: MIT */
#include "lib/backoff.h"

uint64_t backoff_delay_ms(const struct backoff *b, unsigned attempt)
{
	uint64_t d;

	if (attempt <= 1)
		return b->first_ms < b->max_ms ? b->first_ms : b->max_ms;
	d = b->base_ms;
	for (unsigned i = 2; i < attempt && d < b->max_ms; i++)
		d *= 2;
	return d < b->max_ms ? d : b->max_ms;
}
