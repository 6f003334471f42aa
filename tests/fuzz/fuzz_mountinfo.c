/* SPDX-License-Identifier: MIT */
/*
 * /proc/self/mountinfo as shutdown (init) and MountStatus (machined) read it
 * (lib/mountinfo.c): the input is the file's text. Every mount point kept must be whole
 * (NUL-terminated, not empty, never "/"), and no more than asked for; every field of a
 * parsed line is NUL-terminated within its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mountinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char pts[16][MOUNTINFO_PATH];
	char *text = malloc(size ? size : 1);
	size_t n, skipped;

	if (!text)
		return 0;
	memcpy(text, data, size);
	n = mountinfo_points(text, size, pts, 16, &skipped);
	if (n > 16)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!memchr(pts[i], '\0', MOUNTINFO_PATH) || !pts[i][0] || strcmp(pts[i], "/") == 0)
			abort();
	{
		static struct mount_entry e;
		const char *nl = memchr(text, '\n', size);

		if (mountinfo_entry(text, nl ? (size_t)(nl - text) : size, &e) &&
		    (!e.point[0] || !memchr(e.root, '\0', sizeof(e.root)) || !memchr(e.options, '\0', sizeof(e.options)) ||
		     !memchr(e.fstype, '\0', sizeof(e.fstype)) || !memchr(e.source, '\0', sizeof(e.source)) ||
		     !memchr(e.super, '\0', sizeof(e.super))))
			abort();
	}
	free(text);
	return 0;
}
