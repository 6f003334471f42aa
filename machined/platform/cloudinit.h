/* SPDX-License-Identifier: MIT */
/*
 * What cloud-style platforms hand a machine, parsed (machined/platform/cloudinit.c): the
 * NoCloud meta-data (YAML or JSON: instance-id, local-hostname). Lenient as cloud-init is:
 * keys not known here are left alone; a document that does not parse is an error naming
 * where.
 */
#ifndef BASALT_CLOUDINIT_H
#define BASALT_CLOUDINIT_H

#include <stddef.h>

#include "machined/platform/platform.h"

#define CLOUDINIT_DOC_MAX (64u << 10)

/* Fills md's hostname and instance id from meta-data text. 0, or -1 with err. */
int cloudinit_meta_parse(const char *text, size_t len, struct platform_metadata *md, char *err, size_t errlen);

#endif
