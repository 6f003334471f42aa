/* SPDX-License-Identifier: MIT */
#include "lib/mountinfo.h"

#include <string.h>

/* Decodes the field at *p (up to a space or end) into out (cap bytes); moves *p past it and
 * the spaces after. false if it is empty, holds a NUL or does not fit. */
static bool field(const char **p, const char *end, char *out, size_t cap)
{
	const char *s = *p;
	size_t w = 0;

	for (; s < end && *s != ' '; s++) {
		char c = *s;

		if (c == '\\' && end - s >= 4 && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			c = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		}
		if (c == '\0' || w + 1 >= cap)
			return false;
		out[w++] = c;
	}
	out[w] = '\0';
	while (s < end && *s == ' ')
		s++;
	*p = s;
	return w > 0;
}

/* Moves *p past one field and the spaces after it; false if there was none. */
static bool skip(const char **p, const char *end)
{
	const char *s = *p;

	if (s == end)
		return false;
	while (s < end && *s != ' ')
		s++;
	while (s < end && *s == ' ')
		s++;
	*p = s;
	return true;
}

bool mountinfo_entry(const char *line, size_t len, struct mount_entry *e)
{
	const char *p = line, *end = line + len;

	memset(e, 0, sizeof(*e));
	/* mount ID, parent ID, major:minor */
	for (int i = 0; i < 3; i++)
		if (!skip(&p, end))
			return false;
	if (!field(&p, end, e->root, sizeof(e->root)) || !field(&p, end, e->point, sizeof(e->point)))
		return false;
	if (!field(&p, end, e->options, sizeof(e->options)))
		return true; /* an old-style line: the mount point is what init needs */
	/* optional fields up to "-" */
	while (p < end && !(p[0] == '-' && (p + 1 == end || p[1] == ' ')))
		skip(&p, end);
	if (p == end || !skip(&p, end))
		return true;
	if (!field(&p, end, e->fstype, sizeof(e->fstype)))
		return true;
	if (field(&p, end, e->source, sizeof(e->source)))
		field(&p, end, e->super, sizeof(e->super));
	return true;
}

int mountinfo_next(const char *text, size_t n, size_t *off, struct mount_entry *e)
{
	while (*off < n) {
		const char *line = text + *off, *nl = memchr(line, '\n', n - *off);
		size_t len = nl ? (size_t)(nl - line) : n - *off;

		*off += len + 1;
		if (len)
			return mountinfo_entry(line, len, e) ? 1 : 0;
	}
	return -1;
}

size_t mountinfo_points(const char *text, size_t n, char pts[][MOUNTINFO_PATH], size_t max, size_t *skipped)
{
	static struct mount_entry e;
	size_t count = 0, off = 0;
	int r;

	*skipped = 0;
	while (count < max && (r = mountinfo_next(text, n, &off, &e)) >= 0) {
		if (r == 0)
			(*skipped)++;
		else if (strcmp(e.point, "/") != 0)
			memcpy(pts[count++], e.point, MOUNTINFO_PATH);
	}
	return count;
}
