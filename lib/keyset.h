/* SPDX-License-Identifier: MIT */
/*
 * A set of fixed-size entries found by their leading key bytes: entries live in one dense
 * array (index 0..n-1, in no particular order) and an open-addressing index finds one in
 * O(1), so a controller tracking thousands of objects it added never scans them per
 * object. Keys compare as bytes: zero what a key leaves unused (padding, string tails).
 */
#ifndef BASALT_KEYSET_H
#define BASALT_KEYSET_H

#include <stddef.h>
#include <stdint.h>

struct keyset {
	size_t esize, ksize;   /* an entry's size; its first ksize bytes are its key */
	size_t n, cap, max;    /* entries held, room for, and the most it may grow to */
	unsigned char *e;      /* the entries, dense */
	uint32_t *slot;        /* the index: entry position + 1, 0 for an empty slot */
	size_t nslot;          /* a power of two, at least twice cap */
};

void keyset_init(struct keyset *s, size_t esize, size_t ksize, size_t max);
void keyset_fini(struct keyset *s);
/* The entry with this key, or NULL. */
void *keyset_find(const struct keyset *s, const void *key);
/*
 * The entry with this key, added (zeroed, key set) when new; NULL when new and the set
 * holds max entries already or memory ran out. Positions stay until a delete.
 */
void *keyset_add(struct keyset *s, const void *key);
/* Entry i (0 <= i < n). */
void *keyset_at(const struct keyset *s, size_t i);
/* Removes entry i: the last entry takes its place (walk i down from n-1 to delete while walking). */
void keyset_del_at(struct keyset *s, size_t i);

#endif
