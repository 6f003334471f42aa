/* SPDX-License-Identifier: MIT */
/* A line diff of two texts, in unified format, for config dry runs and osctl edit. */
#ifndef BASALT_LINEDIFF_H
#define BASALT_LINEDIFF_H

/*
 * The unified diff ("--- a_name", "+++ b_name", hunks with 3 lines of context) turning a
 * into b; "" when they are equal. NULL on ENOMEM. Caller frees.
 */
char *linediff(const char *a, const char *b, const char *a_name, const char *b_name);

#endif
