/* SPDX-License-Identifier: MIT */
#include "lib/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void diag_fini(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].path);
		free(d->v[i].msg);
	}
	free(d->v);
	diag_init(d);
}

void diag_add(struct diag *d, const char *file, int line, int col, const char *path,
	      const char *fmt, ...)
{
	struct diag_entry *e;
	char msg[512];
	va_list ap;

	if (d->n >= DIAG_MAX) {
		d->dropped++;
		return;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct diag_entry *v = realloc(d->v, cap * sizeof(*v));

		if (!v) {
			d->dropped++;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = &d->v[d->n];
	e->file = file ? strdup(file) : NULL;
	e->line = line;
	e->col = col;
	e->path = strdup(path ? path : "");
	e->msg = strdup(msg);
	if (!e->path || !e->msg) {
		free(e->file);
		free(e->path);
		free(e->msg);
		d->dropped++;
		return;
	}
	d->n++;
}

bool diag_covers(const struct diag *d, const char *path)
{
	for (size_t i = 0; i < d->n; i++) {
		size_t n = strlen(d->v[i].path);

		if (n && strncmp(d->v[i].path, path, n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return true;
	}
	return false;
}

struct ordered {
	const struct diag_entry *e;
	size_t seq;  /* insertion order: ties keep the order the checks ran in */
};

static int cmp_entry(const void *a, const void *b)
{
	const struct ordered *oa = a, *ob = b;
	const struct diag_entry *x = oa->e, *y = ob->e;
	int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return oa->seq < ob->seq ? -1 : oa->seq > ob->seq;
}

char *diag_format(const struct diag *d)
{
	struct ordered *sorted = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	if (d->n) {
		sorted = malloc(d->n * sizeof(*sorted));
		if (sorted) {
			for (size_t i = 0; i < d->n; i++)
				sorted[i] = (struct ordered){ &d->v[i], i };
			qsort(sorted, d->n, sizeof(*sorted), cmp_entry);
		}
	}
	for (size_t i = 0; i < d->n; i++) {
		const struct diag_entry *e = sorted ? sorted[i].e : &d->v[i];

		if (e->file && e->line)
			fprintf(f, "%s:%d:%d: ", e->file, e->line, e->col);
		else if (e->file)
			fprintf(f, "%s: ", e->file);
		if (e->path[0])
			fprintf(f, "%s: ", e->path);
		fprintf(f, "%s\n", e->msg);
	}
	if (d->dropped)
		fprintf(f, "... and %zu more errors\n", d->dropped);
	free(sorted);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}
