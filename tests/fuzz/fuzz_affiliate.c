/* SPDX-License-Identifier: MIT */
/*
 * What other nodes publish, as this node reads it: the first byte picks the path (an
 * affiliate message decoded as is; a sealed blob opened under the test key and decoded;
 * a sealed endpoint opened), the rest is the input. Whatever decodes must encode again
 * and decode to the same affiliate; an opened endpoint must seal back to its blob's size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/affiliate.h"

static const uint8_t key[AFF_KEY_LEN] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
					 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };

static void decode_and_back(const uint8_t *msg, size_t n)
{
	static struct aff_info a, b;
	static uint8_t buf[AFF_PLAIN_MAX];
	size_t len = 0;
	char why[256];

	if (aff_decode(msg, n, &a, why, sizeof(why)) != 0)
		return;
	/* a decoded affiliate always fits again: it came in no larger than the cap ... */
	if (aff_encode(&a, buf, sizeof(buf), &len) != 0)
		return; /* ... unless a proto3 peer's empty fields became present ones: allowed */
	if (aff_decode(buf, len, &b, why, sizeof(why)) != 0 || memcmp(&a, &b, sizeof(a)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t plain[AFF_DATA_MAX];
	struct aff_ep ep;
	uint8_t blob[AFF_EP_BLOB_MAX];
	size_t n = 0;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		decode_and_back(data + 1, size - 1);
		break;
	case 1:
		if (aff_open(key, data + 1, size - 1, plain, sizeof(plain), &n) == 0)
			decode_and_back(plain, n);
		break;
	case 2:
		if (aff_ep_open(key, data + 1, size - 1, &ep) == 0) {
			if (aff_ep_seal(key, &ep, blob, &n) != 0 || n > AFF_EP_BLOB_MAX)
				abort();
		}
		break;
	}
	return 0;
}
