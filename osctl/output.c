/* SPDX-License-Identifier: MIT */
/* What osctl prints: aligned tables, indented text, replies decoded. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osctl/osctl.h"

void *osc_unpack(const ProtobufCMessageDescriptor *d, struct buf *b)
{
	void *m = protobuf_c_message_unpack(d, NULL, b->len, buf_head(b));

	if (!m)
		fprintf(stderr, "osctl: the reply is not a valid %s\n", d->name);
	return m;
}

void osc_print_indented(const char *text, const char *indent)
{
	const char *p = text;

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n)
			printf("%s%.*s\n", indent, (int)n, p);
		else
			printf("\n");
		p += n + (e ? 1 : 0);
	}
}

void table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols < TABLE_COLS_MAX ? ncols : TABLE_COLS_MAX;
}

void table_add_row(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));

		if (!c)
			return;
		t->cells = c;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = strdup(cells[i] ? cells[i] : "");
	t->nrows++;
}

void table_add(struct table *t, ...)
{
	const char *cells[TABLE_COLS_MAX] = { 0 };
	va_list ap;

	va_start(ap, t);
	for (size_t i = 0; i < t->ncols && i < TABLE_COLS_MAX; i++)
		cells[i] = va_arg(ap, const char *);
	va_end(ap);
	table_add_row(t, cells);
}

void table_print(struct table *t)
{
	size_t w[TABLE_COLS_MAX] = { 0 };

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols && c < TABLE_COLS_MAX; c++) {
			size_t n = strlen(t->cells[r * t->ncols + c]);

			if (n > w[c])
				w[c] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c + 1 == t->ncols)
				printf("%s\n", s);
			else
				printf("%-*s   ", (int)w[c], s);
		}
	}
	fflush(stdout);
}

void table_fini(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}
