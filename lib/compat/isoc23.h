/* SPDX-License-Identifier: MIT */
/* C23 entry points of glibc 2.38+ that Debian 13's static archives reference; see isoc23.c. */
#ifndef BASALT_COMPAT_ISOC23_H
#define BASALT_COMPAT_ISOC23_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

bool isoc23_fmt_has_binary(const char *fmt);

long __isoc23_strtol(const char *s, char **end, int base);
unsigned long __isoc23_strtoul(const char *s, char **end, int base);
int __isoc23_vsscanf(const char *s, const char *fmt, va_list ap);
int __isoc23_sscanf(const char *s, const char *fmt, ...);
int __isoc23_fscanf(FILE *f, const char *fmt, ...);

#endif
