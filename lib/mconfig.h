/* SPDX-License-Identifier: MIT */
/*
 * The machine config (api/config.proto, v1alpha1): parse, patch, decode, validate. Every
 * problem is reported at once as "file:line:col: /json/path: message"; a config with any
 * problem is never handed out.
 */
#ifndef BASALT_MCONFIG_H
#define BASALT_MCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "api/config.pb-c.h"
#include "lib/diag.h"
#include "lib/pbyaml.h"

#define MCONFIG_VERSION "v1alpha1"

struct mconfig_patch {
	const char *name;  /* used in diagnostics, e.g. the patch's file name */
	const char *text;  /* YAML or JSON */
	size_t len;
};

/*
 * Loads a config: parses text (named file), applies the patches in order, decodes and
 * validates. On success returns 0 and *out (caller frees with mconfig_free); otherwise
 * -EINVAL (or -ENOMEM) with every problem in d and *out NULL.
 */
int mconfig_load(const char *file, const char *text, size_t len,
		 const struct mconfig_patch *patches, size_t npatches, Basalt__Config__Config **out,
		 struct diag *d);
/* The semantic checks alone; sm (may be NULL) gives positions. Returns the error count. */
int mconfig_validate(const Basalt__Config__Config *cfg, const char *file,
		     const struct srcmap *sm, struct diag *d);
void mconfig_free(Basalt__Config__Config *cfg);
/* YAML (or JSON) text of cfg. Caller frees. */
char *mconfig_emit(const Basalt__Config__Config *cfg, bool json);

#endif
