/* SPDX-License-Identifier: MIT */
/* NoCloud meta-data as a seed volume hands it over (machined/platform/cloudinit.c): what
 * is taken is NUL-terminated in its field, and a host name taken is one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "machined/platform/cloudinit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct platform_metadata md;
	char err[512];

	memset(&md, 0, sizeof(md));
	if (cloudinit_meta_parse((const char *)data, size, &md, err, sizeof(err)) == 0) {
		if (!memchr(md.hostname, '\0', sizeof(md.hostname)) || !memchr(md.instance_id, '\0', sizeof(md.instance_id)))
			abort();
		for (const char *c = md.hostname; *c; c++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.", *c))
				abort();
	} else if (!memchr(err, '\0', sizeof(err)) || !err[0]) {
		abort();
	}
	return 0;
}
