/* SPDX-License-Identifier: MIT */
/* glibc fortify entry points for musl builds; see fortify.c. */
#ifndef BASALT_COMPAT_FORTIFY_H
#define BASALT_COMPAT_FORTIFY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

bool fortify_fmt_has_percent_n(const char *fmt);

void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t len, size_t dstlen);
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);
int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...);
int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __printf_chk(int flag, const char *fmt, ...);
int __vasprintf_chk(char **s, int flag, const char *fmt, va_list ap);
int __asprintf_chk(char **s, int flag, const char *fmt, ...);
long __fdelt_chk(long d);
void __explicit_bzero_chk(void *dst, size_t len, size_t dstlen);

#endif
