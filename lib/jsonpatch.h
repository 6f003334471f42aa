/* SPDX-License-Identifier: MIT */
/*
 * Config patches, in YAML or JSON: a mapping is an RFC 7386 merge patch (null deletes a
 * key), a list is an RFC 6902 JSON patch (add, remove, replace, move, copy, test; RFC 6901
 * pointers with ~0 and ~1 escapes, "-" to append to a list).
 */
#ifndef BASALT_JSONPATCH_H
#define BASALT_JSONPATCH_H

#include <stddef.h>

#include <libfyaml.h>

#include "lib/diag.h"

/*
 * Applies the patch in text (named file in diagnostics) to target. Returns 0, or -EINVAL
 * with the reason in d; a JSON patch stops at its first failing operation, and the target
 * may then hold the operations before it (callers apply patches to a scratch copy).
 */
int jsonpatch_apply(struct fy_document *target, const char *file, const char *text, size_t len,
		    struct diag *d);

#endif
