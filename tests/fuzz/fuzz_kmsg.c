/* SPDX-License-Identifier: MIT */
/*
 * One /dev/kmsg record as machined's Dmesg reads it (machined/api/kmsg.c): the input is the
 * record, not NUL-terminated (the kernel's are not), copied to a buffer of exactly its
 * size so any read past it is caught; the first byte also picks the output buffer's size.
 * What comes out must be "[sec.usec] text\n" and fit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "machined/api/kmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[9000];
	size_t outlen = size && data[0] < 64 ? (size_t)data[0] + 1 : sizeof(out), n;
	char *rec = malloc(size ? size : 1);

	if (!rec)
		return 0;
	memcpy(rec, data, size);
	n = kmsg_format(rec, size, out, outlen);
	if (n >= outlen || (n && (out[0] != '[' || out[n - 1] != '\n' || memchr(out, '\0', n))))
		abort();
	free(rec);
	return 0;
}
