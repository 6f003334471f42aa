/* SPDX-License-Identifier: MIT */
/*
 * glibc's _FORTIFY_SOURCE entry points, referenced by Debian's static archives (mbedTLS,
 * libfyaml, nghttp2, libnl) and absent from musl. Each does the check its glibc namesake
 * promises, then the plain operation; a failed check aborts like glibc does.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "lib/compat/fmt.h"
#include "lib/compat/fortify.h"

_Noreturn static void chk_fail(const char *what)
{
	static const char pre[] = "*** buffer overflow detected ***: ";

	(void)!write(2, pre, sizeof(pre) - 1);
	(void)!write(2, what, strlen(what));
	(void)!write(2, "\n", 1);
	abort();
}

/* Fortify level > 0 forbids %n, the classic format-string write primitive. */
bool fortify_fmt_has_percent_n(const char *fmt)
{
	return compat_fmt_has(fmt, 'n', false);
}

static void chk_format(int flag, const char *fmt, const char *what)
{
	if (flag > 0 && fortify_fmt_has_percent_n(fmt))
		chk_fail(what);
}

void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen)
{
	if (len > dstlen)
		chk_fail("__memcpy_chk");
	return memcpy(dst, src, len);
}

void *__memset_chk(void *dst, int c, size_t len, size_t dstlen)
{
	if (len > dstlen)
		chk_fail("__memset_chk");
	return memset(dst, c, len);
}

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap)
{
	if (maxlen > slen)
		chk_fail("__vsnprintf_chk");
	chk_format(flag, fmt, "__vsnprintf_chk");
	return vsnprintf(s, maxlen, fmt, ap);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vsnprintf_chk(s, maxlen, flag, slen, fmt, ap);
	va_end(ap);
	return r;
}

int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	int r;

	chk_format(flag, fmt, "__sprintf_chk");
	va_start(ap, fmt);
	r = vsnprintf(s, slen, fmt, ap);
	va_end(ap);
	if (r >= 0 && (size_t)r >= slen)
		chk_fail("__sprintf_chk");
	return r;
}

int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	chk_format(flag, fmt, "__vfprintf_chk");
	return vfprintf(f, fmt, ap);
}

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vfprintf_chk(f, flag, fmt, ap);
	va_end(ap);
	return r;
}

int __printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vfprintf_chk(stdout, flag, fmt, ap);
	va_end(ap);
	return r;
}

int __vasprintf_chk(char **s, int flag, const char *fmt, va_list ap)
{
	chk_format(flag, fmt, "__vasprintf_chk");
	return vasprintf(s, fmt, ap);
}

int __asprintf_chk(char **s, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vasprintf_chk(s, flag, fmt, ap);
	va_end(ap);
	return r;
}

/* FD_SET/FD_ISSET index check: an fd outside fd_set would write past it. */
long __fdelt_chk(long d)
{
	if (d < 0 || d >= FD_SETSIZE)
		chk_fail("__fdelt_chk");
	return d / (8 * (long)sizeof(fd_mask));
}

/* mbedTLS's zeroize: explicit_bzero, which the compiler may not drop. */
void __explicit_bzero_chk(void *dst, size_t len, size_t dstlen)
{
	if (len > dstlen)
		chk_fail("__explicit_bzero_chk");
	explicit_bzero(dst, len);
}
