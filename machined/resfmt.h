/* SPDX-License-Identifier: MIT */
/* A resource as people read it: metadata and spec, in YAML or JSON. */
#ifndef BASALT_RESFMT_H
#define BASALT_RESFMT_H

#include <stdbool.h>
#include <stdio.h>

#include "machined/res.h"

/* The text of r: a "metadata:" and a "spec:" mapping. Caller frees. */
char *resfmt(const struct res *r, bool json);
/* Writes r to f as a YAML document ("---" first) or a JSON object. */
int resfmt_print(FILE *f, const struct res *r, bool json);

#endif
