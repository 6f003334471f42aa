/* SPDX-License-Identifier: MIT */
/* The kernel command line as stage 1 reads it from /proc/cmdline. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cmdline.h"

static void ignore(void *arg, const char *key, const char *value, const char *msg)
{
	(void)arg;
	(void)key;
	(void)value;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct cmdline c;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cmdline_parse(text, &c, ignore, NULL) == 0)
		cmdline_fini(&c);
	free(text);
	return 0;
}
