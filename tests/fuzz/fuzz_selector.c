/* SPDX-License-Identifier: MIT */
/*
 * Label selectors as clients send them (List/Watch label_selector, machined/core/selector.c),
 * matched against a resource's labels (machined/core/res.c). One input is the selector text,
 * a NUL, then the resource's labels as "key=value" lines applied in order (a line without
 * '=' removes that key). The match must agree with a plain reading of the same lines.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "machined/core/res.h"
#include "machined/core/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct line {
	const char *key;
	const char *value;  /* NULL: removes key */
};

/* The label as the lines say, last one winning: what res_label must answer. */
static const char *model_label(const struct line *l, size_t n, const char *key)
{
	while (n > 0) {
		n--;
		if (strcmp(l[n].key, key) == 0)
			return l[n].value;
	}
	return NULL;
}

static bool model_match(const struct selector *s, const struct line *l, size_t n)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct sel_term *t = &s->terms[i];
		const char *v = model_label(l, n, t->key);
		bool ok;

		switch (t->op) {
		case SEL_EQ:
			ok = v && strcmp(v, t->value) == 0;
			break;
		case SEL_NE:
			ok = !v || strcmp(v, t->value) != 0;
			break;
		case SEL_EXISTS:
			ok = v != NULL;
			break;
		default:
			ok = v == NULL;
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* Splits text (modified in place) into lines and applies them to r. */
static size_t apply_lines(struct res *r, char *text, struct line *l)
{
	size_t n = 0;

	for (char *p = text, *nl; *p; p = nl ? nl + 1 : p + strlen(p)) {
		char *eq;

		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (!*p)
			continue;
		eq = strchr(p, '=');
		if (eq)
			*eq = '\0';
		l[n].key = p;
		l[n].value = eq ? eq + 1 : NULL;
		if (res_set_label(r, l[n].key, l[n].value) < 0)
			abort();
		n++;
	}
	return n;
}

static void check(const struct res *r, const struct line *l, size_t n, const char *seltext)
{
	struct selector s;
	char err[256];

	for (size_t i = 0; i < n; i++) {
		const char *want = model_label(l, n, l[i].key), *got = res_label(r, l[i].key);

		if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0))
			abort();
	}
	if (selector_parse(seltext, &s, err, sizeof(err)) < 0)
		return;
	if (s.n > SELECTOR_MAX_TERMS || selector_match(&s, r) != model_match(&s, l, n))
		abort();
	selector_fini(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 2), *labels;
	struct line *l;
	struct res *r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = text[size + 1] = '\0';
	labels = text + strlen(text) + 1;
	/* At most one line per two bytes ("k\n"), plus one unterminated. */
	l = calloc(size / 2 + 1, sizeof(*l));
	r = res_new(RES(SERVICE), "id", NULL);
	if (l && r)
		check(r, l, apply_lines(r, labels, l), text);
	res_unref(r);
	free(l);
	free(text);
	return 0;
}
