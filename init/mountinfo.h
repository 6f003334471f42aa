/* SPDX-License-Identifier: MIT */
/* /proc/self/mountinfo, read for the mount points shutdown must undo. */
#ifndef BASALT_MOUNTINFO_H
#define BASALT_MOUNTINFO_H

#include <stddef.h>

#define MOUNTINFO_PATH 256  /* longest mount point kept, with its NUL */

/*
 * The mount points (field 5, octal escapes such as \040 decoded) of the n bytes of
 * mountinfo text, in order, into pts[0..max-1]; "/" is left out. A line that does not
 * parse, or whose mount point does not fit, is skipped, never shortened (a shortened path
 * could name another mount). Returns how many were stored; *skipped counts the lines
 * passed over.
 */
size_t mountinfo_points(const char *text, size_t n, char pts[][MOUNTINFO_PATH], size_t max, size_t *skipped);

#endif
