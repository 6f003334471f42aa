/* SPDX-License-Identifier: MIT */
#include "lib/keyset.h"

#include <stdlib.h>
#include <string.h>

void keyset_init(struct keyset *s, size_t esize, size_t ksize, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->esize = esize;
	s->ksize = ksize;
	s->max = max;
}

void keyset_fini(struct keyset *s)
{
	free(s->e);
	free(s->slot);
	keyset_init(s, s->esize, s->ksize, s->max);
}

/* FNV-1a over the key bytes. */
static size_t hash(const struct keyset *s, const void *key)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < s->ksize; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

void *keyset_at(const struct keyset *s, size_t i)
{
	return s->e + i * s->esize;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t probe(const struct keyset *s, const void *key)
{
	size_t mask = s->nslot - 1, i = hash(s, key) & mask;

	while (s->slot[i] && memcmp(keyset_at(s, s->slot[i] - 1), key, s->ksize) != 0)
		i = (i + 1) & mask;
	return i;
}

void *keyset_find(const struct keyset *s, const void *key)
{
	size_t i;

	if (!s->nslot)
		return NULL;
	i = probe(s, key);
	return s->slot[i] ? keyset_at(s, s->slot[i] - 1) : NULL;
}

/* Room for one more entry: the array doubled and the index rebuilt at twice its size. */
static int grow(struct keyset *s)
{
	size_t cap = s->cap ? 2 * s->cap : 64, nslot = 128;
	unsigned char *e;
	uint32_t *slot;

	if (cap > s->max)
		cap = s->max;
	if (cap <= s->cap)
		return -1;
	while (nslot < 2 * cap)
		nslot *= 2;
	if (!(e = realloc(s->e, cap * s->esize)))
		return -1;
	s->e = e;
	if (!(slot = calloc(nslot, sizeof(*slot))))
		return -1;
	free(s->slot);
	s->slot = slot;
	s->nslot = nslot;
	s->cap = cap;
	for (size_t i = 0; i < s->n; i++)
		s->slot[probe(s, keyset_at(s, i))] = (uint32_t)(i + 1);
	return 0;
}

void *keyset_add(struct keyset *s, const void *key)
{
	void *found = keyset_find(s, key), *e;

	if (found)
		return found;
	if (s->n == s->cap && grow(s) < 0)
		return NULL;
	e = keyset_at(s, s->n);
	memset(e, 0, s->esize);
	memcpy(e, key, s->ksize);
	s->slot[probe(s, key)] = (uint32_t)++s->n;
	return e;
}

/* Empties slot i, moving later entries of its probe run back so none is cut off from its hash. */
static void slot_clear(struct keyset *s, size_t i)
{
	size_t mask = s->nslot - 1, j = i;

	s->slot[i] = 0;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!s->slot[j])
			return;
		home = hash(s, keyset_at(s, s->slot[j] - 1)) & mask;
		/* The entry at j may fill the hole at i when its home is not in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			s->slot[i] = s->slot[j];
			s->slot[j] = 0;
			i = j;
		}
	}
}

void keyset_del_at(struct keyset *s, size_t i)
{
	size_t last = s->n - 1;

	slot_clear(s, probe(s, keyset_at(s, i)));
	if (i != last) {
		memcpy(keyset_at(s, i), keyset_at(s, last), s->esize);
		s->slot[probe(s, keyset_at(s, i))] = (uint32_t)(i + 1);
	}
	s->n--;
}
