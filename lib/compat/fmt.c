/* SPDX-License-Identifier: MIT */
/* The format scan the fortify and C23 shims share (fmt.h). */
#include <string.h>

#include "lib/compat/fmt.h"

/* Whether a printf (or, with scan, a scanf) format holds the conversion conv. */
bool compat_fmt_has(const char *fmt, char conv, bool scan)
{
	for (const char *p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == '%')
			continue;
		/* flags, width, precision and argument numbers; scanf's assignment suppression */
		while (*p && strchr(scan ? "*0123456789$" : "-+ #0'0123456789*.$", *p))
			p++;
		while (*p && strchr("hlLqjzt", *p))
			p++;
		if (*p == conv)
			return true;
		if (scan && *p == '[') {  /* a scanset may hold ']' first, and any letter */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']')
				p++;
		}
		if (!*p)
			break;
	}
	return false;
}
