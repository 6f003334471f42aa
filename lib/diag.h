/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics: every error found in a document, each with where (file, line, column, JSON
 * pointer) and why, formatted as "file:line:col: /json/path: message".
 */
#ifndef BASALT_DIAG_H
#define BASALT_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#define DIAG_MAX 200  /* beyond this, one last entry says how many more there were */

struct diag_entry {
	char *file;  /* NULL when not tied to a file */
	int line;    /* 1-based; 0 when unknown */
	int col;     /* 1-based; 0 when unknown */
	char *path;  /* JSON pointer; "" for the document */
	char *msg;
};

struct diag {
	struct diag_entry *v;
	size_t n, cap;
	size_t dropped;  /* entries over DIAG_MAX */
};

void diag_init(struct diag *d);
void diag_fini(struct diag *d);
void diag_add(struct diag *d, const char *file, int line, int col, const char *path,
	      const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static inline bool diag_ok(const struct diag *d)
{
	return d->n == 0;
}
/* Whether an entry sits at path or at one of its ancestors (a whole JSON pointer prefix). */
bool diag_covers(const struct diag *d, const char *path);
/* All entries, sorted by file, line and column, one per line. Caller frees. */
char *diag_format(const struct diag *d);

#endif
