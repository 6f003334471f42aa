/* SPDX-License-Identifier: MIT */
#include "lib/ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ring_init(struct ring *r, size_t size)
{
	r->head = 0;
	r->size = size;
	r->data = malloc(size ? size : 1);
	return r->data ? 0 : -ENOMEM;
}

void ring_fini(struct ring *r)
{
	free(r->data);
	r->data = NULL;
	r->size = 0;
}

void ring_write(struct ring *r, const void *p, size_t n)
{
	const uint8_t *src = p;

	if (r->size == 0)
		return;
	if (n > r->size) {
		/* Only the last size bytes survive; account for the rest as written. */
		r->head += n - r->size;
		src += n - r->size;
		n = r->size;
	}
	while (n > 0) {
		size_t at = (size_t)(r->head % r->size);
		size_t chunk = r->size - at < n ? r->size - at : n;

		memcpy(r->data + at, src, chunk);
		r->head += chunk;
		src += chunk;
		n -= chunk;
	}
}

uint64_t ring_oldest(const struct ring *r)
{
	return r->head > r->size ? r->head - r->size : 0;
}

size_t ring_read(const struct ring *r, uint64_t *pos, void *dst, size_t cap, uint64_t *lost)
{
	uint64_t oldest = ring_oldest(r);
	uint8_t *out = dst;
	size_t done = 0;

	if (lost)
		*lost = 0;
	if (*pos < oldest) {
		if (lost)
			*lost = oldest - *pos;
		*pos = oldest;
	}
	if (*pos > r->head)
		*pos = r->head;
	while (done < cap && *pos < r->head) {
		size_t at = (size_t)(*pos % r->size);
		size_t avail = (size_t)(r->head - *pos);
		size_t chunk = r->size - at;

		if (chunk > avail)
			chunk = avail;
		if (chunk > cap - done)
			chunk = cap - done;
		memcpy(out + done, r->data + at, chunk);
		done += chunk;
		*pos += chunk;
	}
	return done;
}

uint64_t ring_line_start(const struct ring *r, uint64_t pos)
{
	if (pos == 0 || pos < ring_oldest(r) || pos > r->head)
		return pos;
	/* At the oldest byte the one before is gone: assume a partial line. */
	if (pos > ring_oldest(r) && r->data[(pos - 1) % r->size] == '\n')
		return pos;
	for (uint64_t p = pos; p < r->head; p++)
		if (r->data[p % r->size] == '\n')
			return p + 1;
	return pos;
}
