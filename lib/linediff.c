/* SPDX-License-Identifier: MIT */
#include "lib/linediff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#define CONTEXT 3
#define LCS_MAX_CELLS (16u << 20)  /* beyond, the changed middle is shown as replaced whole */

struct line {
	const char *p;
	size_t n;
};

static size_t split(const char *s, struct line **out)
{
	size_t n = 0, cap = 0;
	struct line *v = NULL;

	while (*s) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (n == cap) {
			struct line *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!nv) {
				free(v);
				*out = NULL;
				return SIZE_MAX;
			}
			v = nv;
		}
		v[n++] = (struct line){ s, len };
		s += len + (e ? 1 : 0);
	}
	*out = v;
	return n;
}

static int eq(const struct line *a, const struct line *b)
{
	return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

/* One edit per line: ' ' keep, '-' from a, '+' from b. */
struct edit {
	char op;
	size_t ai, bi;
};

static int add(struct edit **v, size_t *n, size_t *cap, char op, size_t ai, size_t bi)
{
	if (*n == *cap) {
		struct edit *nv = realloc(*v, (*cap = *cap ? *cap * 2 : 128) * sizeof(**v));

		if (!nv)
			return -1;
		*v = nv;
	}
	(*v)[(*n)++] = (struct edit){ op, ai, bi };
	return 0;
}

/* Edits for the middle a[a0..a1) b[b0..b1) by longest common subsequence. */
static int middle(const struct line *a, size_t a0, size_t a1, const struct line *b, size_t b0,
		  size_t b1, struct edit **v, size_t *n, size_t *cap)
{
	size_t na = a1 - a0, nb = b1 - b0, i = 0, j = 0;
	uint32_t *t;

	if ((uint64_t)(na + 1) * (nb + 1) > LCS_MAX_CELLS) {
		for (size_t k = a0; k < a1; k++)
			if (add(v, n, cap, '-', k, 0) < 0)
				return -1;
		for (size_t k = b0; k < b1; k++)
			if (add(v, n, cap, '+', 0, k) < 0)
				return -1;
		return 0;
	}
	t = calloc((na + 1) * (nb + 1), sizeof(*t));
	if (!t)
		return -1;
#define T(x, y) t[(x) * (nb + 1) + (y)]
	for (size_t x = na; x-- > 0;)
		for (size_t y = nb; y-- > 0;)
			T(x, y) = eq(&a[a0 + x], &b[b0 + y]) ? T(x + 1, y + 1) + 1
				  : T(x + 1, y) >= T(x, y + 1) ? T(x + 1, y) : T(x, y + 1);
	while (i < na || j < nb) {
		int r;

		if (i < na && j < nb && eq(&a[a0 + i], &b[b0 + j])) {
			r = add(v, n, cap, ' ', a0 + i++, b0 + j++);
		} else if (i < na && (j == nb || T(i + 1, j) >= T(i, j + 1))) {
			r = add(v, n, cap, '-', a0 + i++, 0);
		} else {
			r = add(v, n, cap, '+', 0, b0 + j++);
		}
		if (r < 0) {
			free(t);
			return -1;
		}
	}
#undef T
	free(t);
	return 0;
}

static int put_line(struct buf *o, char op, const struct line *l)
{
	return buf_append(o, &op, 1) < 0 || buf_append(o, l->p, l->n) < 0 || buf_append(o, "\n", 1) < 0
		       ? -1 : 0;
}

char *linediff(const char *a, const char *b, const char *a_name, const char *b_name)
{
	struct line *la = NULL, *lb = NULL;
	size_t na = split(a, &la), nb = split(b, &lb), pre = 0, suf = 0, n = 0, cap = 0;
	struct edit *v = NULL;
	struct buf o;
	char *res = NULL;
	char hdr[512];

	buf_init(&o);
	if (na == SIZE_MAX || nb == SIZE_MAX)
		goto out;
	while (pre < na && pre < nb && eq(&la[pre], &lb[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre && eq(&la[na - 1 - suf], &lb[nb - 1 - suf]))
		suf++;
	if (pre == na && pre == nb) {
		res = calloc(1, 1);
		goto out;
	}
	for (size_t k = 0; k < pre; k++)
		if (add(&v, &n, &cap, ' ', k, k) < 0)
			goto out;
	if (middle(la, pre, na - suf, lb, pre, nb - suf, &v, &n, &cap) < 0)
		goto out;
	for (size_t k = 0; k < suf; k++)
		if (add(&v, &n, &cap, ' ', na - suf + k, nb - suf + k) < 0)
			goto out;
	snprintf(hdr, sizeof(hdr), "--- %s\n+++ %s\n", a_name, b_name);
	if (buf_append(&o, hdr, strlen(hdr)) < 0)
		goto out;
	/* Hunks: runs of changes with up to CONTEXT kept lines around them. */
	for (size_t k = 0; k < n;) {
		size_t s, e, ai, bi, ca = 0, cb = 0;

		while (k < n && v[k].op == ' ')
			k++;
		if (k == n)
			break;
		s = k > CONTEXT ? k - CONTEXT : 0;
		e = k;
		for (;;) {
			size_t run = 0;

			while (e < n && v[e].op != ' ')
				e++;
			while (e + run < n && v[e + run].op == ' ')
				run++;
			if (e + run == n || run > 2 * CONTEXT) {
				e += run < CONTEXT ? run : CONTEXT;
				break;
			}
			e += run;
		}
		/* Line numbers: count from the first edit of the hunk. */
		ai = bi = 0;
		for (size_t x = 0; x < s; x++) {
			ai += v[x].op != '+';
			bi += v[x].op != '-';
		}
		for (size_t x = s; x < e; x++) {
			ca += v[x].op != '+';
			cb += v[x].op != '-';
		}
		snprintf(hdr, sizeof(hdr), "@@ -%zu,%zu +%zu,%zu @@\n", ca ? ai + 1 : ai, ca, cb ? bi + 1 : bi, cb);
		if (buf_append(&o, hdr, strlen(hdr)) < 0)
			goto out;
		for (size_t x = s; x < e; x++) {
			const struct line *l = v[x].op == '+' ? &lb[v[x].bi] : &la[v[x].ai];

			if (put_line(&o, v[x].op, l) < 0)
				goto out;
		}
		k = e;
	}
	if (buf_append(&o, "", 1) < 0)
		goto out;
	res = (char *)buf_head(&o);
	o.data = NULL;  /* handed to the caller */
out:
	if (!res)
		buf_fini(&o);
	free(v);
	free(la);
	free(lb);
	return res;
}
