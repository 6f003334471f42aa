/* SPDX-License-Identifier: MIT */
/*
 * Fixed-size byte ring for service output. Positions are absolute (bytes written since
 * creation), so each reader keeps its own position and learns how much it missed.
 */
#ifndef BASALT_RING_H
#define BASALT_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring {
	uint8_t *data;
	size_t size;    /* capacity in bytes */
	uint64_t head;  /* absolute position of the next byte written */
};

int ring_init(struct ring *r, size_t size);
void ring_fini(struct ring *r);
/* Appends n bytes; the oldest bytes are overwritten when full. */
void ring_write(struct ring *r, const void *p, size_t n);
/* Absolute position of the oldest byte still held. */
uint64_t ring_oldest(const struct ring *r);
/*
 * Copies up to cap bytes starting at *pos into dst and advances *pos. If *pos is older
 * than the oldest byte held, it first jumps forward and *lost (if given) receives the gap.
 * Returns the number of bytes copied.
 */
size_t ring_read(const struct ring *r, uint64_t *pos, void *dst, size_t cap, uint64_t *lost);
/*
 * The first line start at or after pos (which must be held): pos itself at 0 or after a
 * held newline, else just past the next newline, or pos when the held data has none.
 */
uint64_t ring_line_start(const struct ring *r, uint64_t pos);

#endif
