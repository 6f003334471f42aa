/* SPDX-License-Identifier: MIT */
/*
 * Label selectors, as Kubernetes users write them: comma-separated terms that must all
 * hold. "key=value" (or "=="), "key!=value", "key" (present), "!key" (absent).
 */
#ifndef BASALT_SELECTOR_H
#define BASALT_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "machined/core/res.h"

#define SELECTOR_MAX_TERMS 16

enum sel_op {
	SEL_EQ,
	SEL_NE,
	SEL_EXISTS,
	SEL_ABSENT,
};

struct sel_term {
	enum sel_op op;
	char *key;
	char *value;  /* NULL for EXISTS/ABSENT */
};

struct selector {
	struct sel_term terms[SELECTOR_MAX_TERMS];
	size_t n;
};

/* Parses text (empty selects everything). err says which term is wrong and why. */
int selector_parse(const char *text, struct selector *out, char *err, size_t errlen);
void selector_fini(struct selector *s);
bool selector_match(const struct selector *s, const struct res *r);

#endif
