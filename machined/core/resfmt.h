/* SPDX-License-Identifier: MIT */
/* A resource as people read it: metadata and spec, in YAML or JSON. */
#ifndef BASALT_RESFMT_H
#define BASALT_RESFMT_H

#include <stdbool.h>
#include <stdio.h>

#include "api/resource.pb-c.h"
#include "machined/core/res.h"

/* r's metadata as a message, borrowing r's strings. */
struct resfmt_md {
	Basalt__Resource__Metadata md;
	Basalt__Resource__Metadata__LabelsEntry *entries;
	Basalt__Resource__Metadata__LabelsEntry **ptrs;
	char created[32], updated[32];
};
int resfmt_metadata(const struct res *r, struct resfmt_md *m);
void resfmt_metadata_fini(struct resfmt_md *m);

/* The text of r: a "metadata:" and a "spec:" mapping. Caller frees. */
char *resfmt(const struct res *r, bool json);
/* The same, with the secret fields of a sensitive type shown as RES_REDACTED. */
char *resfmt_redacted(const struct res *r, bool json);
/* Writes r to f as a YAML document ("---" first) or a JSON object, secrets redacted. */
int resfmt_print(FILE *f, const struct res *r, bool json);

#endif
