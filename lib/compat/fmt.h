/* SPDX-License-Identifier: MIT */
/* printf and scanf formats, as the compat shims check them. */
#ifndef BASALT_COMPAT_FMT_H
#define BASALT_COMPAT_FMT_H

#include <stdbool.h>

/* Whether a printf (or, with scan, a scanf) format holds the conversion conv. */
bool compat_fmt_has(const char *fmt, char conv, bool scan);

#endif
