/* SPDX-License-Identifier: MIT */
#include "init/mountinfo.h"

#include <stdbool.h>
#include <string.h>

/* Decodes field 5 of one line (len bytes, no newline) into out; false if it has no field
 * 5 or the path does not fit. */
static bool mount_point(const char *line, size_t len, char *out)
{
	const char *p = line, *end = line + len;
	size_t w = 0;

	for (int field = 0; field < 4; field++) {
		while (p < end && *p != ' ')
			p++;
		while (p < end && *p == ' ')
			p++;
	}
	if (p == end)
		return false;
	for (; p < end && *p != ' '; p++) {
		char c = *p;

		if (c == '\\' && end - p >= 4 && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			c = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		}
		if (c == '\0' || w + 1 >= MOUNTINFO_PATH)
			return false;
		out[w++] = c;
	}
	out[w] = '\0';
	return w > 0;
}

size_t mountinfo_points(const char *text, size_t n, char pts[][MOUNTINFO_PATH], size_t max, size_t *skipped)
{
	size_t count = 0, off = 0;

	*skipped = 0;
	while (off < n && count < max) {
		const char *nl = memchr(text + off, '\n', n - off);
		size_t len = nl ? (size_t)(nl - (text + off)) : n - off;

		if (len > 0) {
			if (!mount_point(text + off, len, pts[count]))
				(*skipped)++;
			else if (strcmp(pts[count], "/") != 0)
				count++;
		}
		off += len + 1;
	}
	return count;
}
