/* SPDX-License-Identifier: MIT */
/*
 * C23's strtol, strtoul, sscanf and fscanf as glibc 2.38+ names them: Debian 13 compiles
 * libfyaml and libnl as C23, so their archives call these instead of the C99 names. Neither
 * musl nor the build host's glibc 2.36 has them. C23 adds binary numbers: "0b101" for strto(u)l with base 0 or 2 (done here), and the
 * %b conversion of scanf, which musl cannot do: a format with %b fails (EOF, EINVAL) rather
 * than being read with C99's rules. Linked into the musl binaries and the tests' builds.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compat/fmt.h"
#include "lib/compat/isoc23.h"

/* The digits after a "0b" prefix: their value, the end, whether it overflowed. */
static unsigned long read_binary(const char *p, char **end, bool *overflow)
{
	unsigned long v = 0;

	*overflow = false;
	for (; *p == '0' || *p == '1'; p++) {
		if (v > ULONG_MAX >> 1)
			*overflow = true;
		v = v << 1 | (unsigned long)(*p - '0');
	}
	if (end)
		*end = (char *)p;
	return v;
}

/* Points past the blanks and sign of s; true if it is a binary number for base. */
static bool binary_prefix(const char *s, int base, const char **digits, bool *neg)
{
	const char *p = s;

	while (isspace((unsigned char)*p))
		p++;
	*neg = *p == '-';
	if (*p == '+' || *p == '-')
		p++;
	*digits = p + 2;
	return (base == 0 || base == 2) && p[0] == '0' && (p[1] == 'b' || p[1] == 'B') &&
	       (p[2] == '0' || p[2] == '1');
}

long __isoc23_strtol(const char *s, char **end, int base)
{
	const char *digits;
	unsigned long v;
	bool neg, over;

	if (!binary_prefix(s, base, &digits, &neg))
		return strtol(s, end, base);
	v = read_binary(digits, end, &over);
	if (!neg && (over || v > (unsigned long)LONG_MAX)) {
		errno = ERANGE;
		return LONG_MAX;
	}
	if (neg && (over || v > (unsigned long)LONG_MAX + 1)) {
		errno = ERANGE;
		return LONG_MIN;
	}
	return neg ? (long)(0 - v) : (long)v;
}

unsigned long __isoc23_strtoul(const char *s, char **end, int base)
{
	const char *digits;
	unsigned long v;
	bool neg, over;

	if (!binary_prefix(s, base, &digits, &neg))
		return strtoul(s, end, base);
	v = read_binary(digits, end, &over);
	if (over) {
		errno = ERANGE;
		return ULONG_MAX;
	}
	return neg ? 0 - v : v;
}

/* A %b conversion (C23's binary integer) anywhere in a scanf format. */
bool isoc23_fmt_has_binary(const char *fmt)
{
	return compat_fmt_has(fmt, 'b', true);
}

int __isoc23_vsscanf(const char *s, const char *fmt, va_list ap)
{
	if (isoc23_fmt_has_binary(fmt)) {
		errno = EINVAL;
		return EOF;
	}
	return vsscanf(s, fmt, ap);
}

int __isoc23_sscanf(const char *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __isoc23_vsscanf(s, fmt, ap);
	va_end(ap);
	return r;
}

int __isoc23_fscanf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (isoc23_fmt_has_binary(fmt)) {
		errno = EINVAL;
		return EOF;
	}
	va_start(ap, fmt);
	r = vfscanf(f, fmt, ap);
	va_end(ap);
	return r;
}
