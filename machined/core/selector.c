/* SPDX-License-Identifier: MIT */
#include "machined/core/selector.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool valid_label_part(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || strchr("-_./", s[i])))
			return false;
	return true;
}

static char *trimdup(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

static int parse_term(const char *t, size_t n, struct sel_term *out, char *err, size_t errlen)
{
	const char *ne = NULL, *eq = NULL;
	size_t kn;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i + 1 < n; i++)
		if (t[i] == '!' && t[i + 1] == '=')
			ne = t + i;
	eq = memchr(t, '=', n);
	if (ne) {
		out->op = SEL_NE;
		kn = (size_t)(ne - t);
		out->value = trimdup(ne + 2, n - kn - 2);
	} else if (eq) {
		out->op = SEL_EQ;
		kn = (size_t)(eq - t);
		eq += eq + 1 < t + n && eq[1] == '=' ? 2 : 1;
		out->value = trimdup(eq, n - (size_t)(eq - t));
	} else {
		out->op = SEL_EXISTS;
		kn = n;
		while (kn && isspace((unsigned char)*t))
			t++, kn--, n--;
		if (kn && *t == '!') {
			out->op = SEL_ABSENT;
			t++;
			kn--;
			n--;  /* the error below quotes the term from t */
		}
	}
	out->key = trimdup(t, kn);
	if (!out->key || (out->op <= SEL_NE && !out->value)) {
		free(out->key);
		free(out->value);
		return -ENOMEM;
	}
	if (!valid_label_part(out->key, strlen(out->key)) ||
	    (out->value && strlen(out->value) && !valid_label_part(out->value, strlen(out->value)))) {
		snprintf(err, errlen, "label selector term \"%.*s\": keys and values are letters, digits, "
				      "'-', '_', '.' and '/'", (int)(n > 64 ? 64 : n), t);
		free(out->key);
		free(out->value);
		return -EINVAL;
	}
	return 0;
}

int selector_parse(const char *text, struct selector *out, char *err, size_t errlen)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		int r;

		if (out->n == SELECTOR_MAX_TERMS) {
			snprintf(err, errlen, "label selector has more than %d terms", SELECTOR_MAX_TERMS);
			selector_fini(out);
			return -E2BIG;
		}
		r = parse_term(p, n, &out->terms[out->n], err, errlen);
		if (r < 0) {
			selector_fini(out);
			return r;
		}
		out->n++;
		p += n + (comma ? 1 : 0);
	}
	return 0;
}

void selector_fini(struct selector *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->terms[i].key);
		free(s->terms[i].value);
	}
	s->n = 0;
}

bool selector_match(const struct selector *s, const struct res *r)
{
	if (!s)
		return true;
	for (size_t i = 0; i < s->n; i++) {
		const struct sel_term *t = &s->terms[i];
		const char *v = res_label(r, t->key);

		switch (t->op) {
		case SEL_EQ:
			if (!v || strcmp(v, t->value) != 0)
				return false;
			break;
		case SEL_NE:
			if (v && strcmp(v, t->value) == 0)
				return false;
			break;
		case SEL_EXISTS:
			if (!v)
				return false;
			break;
		case SEL_ABSENT:
			if (v)
				return false;
			break;
		}
	}
	return true;
}
