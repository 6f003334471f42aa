/* SPDX-License-Identifier: MIT */
/* /proc/self/mountinfo: read by init for the mount points shutdown must undo, and by
 * machined for block/MountStatus. */
#ifndef BASALT_MOUNTINFO_H
#define BASALT_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>

#define MOUNTINFO_PATH 256  /* longest path or field kept, with its NUL */

/* One line's fields, octal escapes such as \040 decoded. */
struct mount_entry {
	char root[MOUNTINFO_PATH];    /* field 4: the root of the mount in its filesystem */
	char point[MOUNTINFO_PATH];   /* field 5: the mount point */
	char options[MOUNTINFO_PATH]; /* field 6: per-mount options (ro, nosuid, ...) */
	char fstype[64];              /* after the "-" separator */
	char source[MOUNTINFO_PATH];
	char super[MOUNTINFO_PATH];   /* the superblock's options */
};

/*
 * Parses one line (len bytes, no newline). false when it does not parse or a field does
 * not fit: a field is never shortened (a shortened path could name another mount).
 */
bool mountinfo_entry(const char *line, size_t len, struct mount_entry *e);
/*
 * The next line of the n bytes of mountinfo text from *off, which moves past it (empty
 * lines are passed over): 1 with it parsed into *e, 0 when it does not parse, -1 at the end.
 */
int mountinfo_next(const char *text, size_t n, size_t *off, struct mount_entry *e);
/*
 * The mount points of the n bytes of mountinfo text, in order, into pts[0..max-1]; "/" is
 * left out. A line that does not parse, or whose mount point does not fit, is skipped.
 * Returns how many were stored; *skipped counts the lines passed over.
 */
size_t mountinfo_points(const char *text, size_t n, char pts[][MOUNTINFO_PATH], size_t max, size_t *skipped);

#endif
