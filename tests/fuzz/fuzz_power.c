/* SPDX-License-Identifier: MIT */
/*
 * What init's power-button watch reads (init/power.c): the first byte picks input events
 * (struct input_event records, a partial one at the end) or inotify records from
 * /dev/input. The rest, copied to a buffer of exactly its size, is the read. Every name
 * handed on must lie, NUL included, inside the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "init/power.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
	const char *start, *end;
};

static void name_in(void *arg, const char *name)
{
	const struct span *s = arg;

	if (name < s->start || name >= s->end || !memchr(name, '\0', (size_t)(s->end - name)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	struct span s;

	if (size < 1)
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	s.start = buf;
	s.end = buf + size - 1;
	if (data[0] & 1) {
		if (power_inotify_names(buf, size - 1, name_in, &s) > size)
			abort();
	} else if (power_key_presses(buf, size - 1) > size / 24) {
		abort();
	}
	free(buf);
	return 0;
}
