/* SPDX-License-Identifier: MIT */
/* The kernel log's records, as /dev/kmsg gives them, made readable. */
#ifndef BASALT_KMSG_H
#define BASALT_KMSG_H

#include <stddef.h>

/*
 * Formats one record of n bytes ("pri,seq,usec,flags;text", not NUL-terminated) as
 * "[sec.usec] text\n" into out. Returns the length written, or 0 for a record that does not
 * parse or does not fit.
 */
size_t kmsg_format(const char *rec, size_t n, char *out, size_t outlen);

#endif
