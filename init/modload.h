/* SPDX-License-Identifier: MIT */
/* Boot-time module loading: an explicit list, then coldplug, from /lib/modules/<release>. */
#ifndef BASALT_MODLOAD_H
#define BASALT_MODLOAD_H

#include "init/kmod.h"

/* Directory of the running kernel's modules: /lib/modules/<uname -r>. */
int modload_dir(char *out, size_t len);
/*
 * Loads every module named in list_file (one per line, # comments; missing file is fine),
 * then coldplugs. Problems are logged; boot goes on without the module.
 */
void modload_boot(const char *stage, const char *list_file);

#endif
