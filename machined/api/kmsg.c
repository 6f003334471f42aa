/* SPDX-License-Identifier: MIT */
#include "machined/api/kmsg.h"

#include <stdio.h>
#include <string.h>

/*
 * One /dev/kmsg record, "pri,seq,usec,flags;text" (continuation lines start with a space),
 * as "[sec.usec] text" into out. rec is n bytes and not NUL-terminated (the kernel's
 * records are not): the header is copied out before it is read as a string.
 */
size_t kmsg_format(const char *rec, size_t n, char *out, size_t outlen)
{
	const char *semi = memchr(rec, ';', n), *text, *end;
	unsigned long long us = 0, seq = 0;
	unsigned pri = 0;
	char head[64];
	int w;

	if (!semi || (size_t)(semi - rec) >= sizeof(head))
		return 0;
	memcpy(head, rec, (size_t)(semi - rec));
	head[semi - rec] = '\0';
	if (sscanf(head, "%u,%llu,%llu", &pri, &seq, &us) != 3)
		return 0;
	text = semi + 1;
	end = memchr(text, '\n', (size_t)(rec + n - text));
	if (!end)
		end = rec + n;
	w = snprintf(out, outlen, "[%5llu.%06llu] %.*s\n", us / 1000000, us % 1000000, (int)(end - text), text);
	return w > 0 && (size_t)w < outlen ? (size_t)w : 0;
}
