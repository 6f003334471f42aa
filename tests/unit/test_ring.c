/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/ring.h"

static void test_simple(void **state)
{
	struct ring r;
	char out[16] = { 0 };
	uint64_t pos = 0, lost = 99;

	(void)state;
	assert_int_equal(ring_init(&r, 8), 0);
	ring_write(&r, "abc", 3);
	assert_int_equal(ring_read(&r, &pos, out, sizeof(out), &lost), 3);
	assert_memory_equal(out, "abc", 3);
	assert_int_equal(lost, 0);
	assert_int_equal(pos, 3);
	assert_int_equal(ring_read(&r, &pos, out, sizeof(out), &lost), 0);
	ring_fini(&r);
}

static void test_wrap_around_reports_loss(void **state)
{
	struct ring r;
	char out[16] = { 0 };
	uint64_t pos = 0, lost = 0;

	(void)state;
	assert_int_equal(ring_init(&r, 8), 0);
	ring_write(&r, "abcdef", 6);
	ring_write(&r, "ghij", 4);
	assert_int_equal(ring_oldest(&r), 2);
	assert_int_equal(ring_read(&r, &pos, out, sizeof(out), &lost), 8);
	assert_memory_equal(out, "cdefghij", 8);
	assert_int_equal(lost, 2);
	pos = 5;
	assert_int_equal(ring_read(&r, &pos, out, sizeof(out), &lost), 5);
	assert_memory_equal(out, "fghij", 5);
	assert_int_equal(lost, 0);
	ring_fini(&r);
}

static void test_write_larger_than_ring(void **state)
{
	struct ring r;
	char out[8];
	uint64_t pos = 0, lost;

	(void)state;
	assert_int_equal(ring_init(&r, 4), 0);
	ring_write(&r, "0123456789", 10);
	assert_int_equal(r.head, 10);
	assert_int_equal(ring_oldest(&r), 6);
	assert_int_equal(ring_read(&r, &pos, out, sizeof(out), &lost), 4);
	assert_memory_equal(out, "6789", 4);
	assert_int_equal(lost, 6);
	ring_fini(&r);
}

static void test_small_reads_across_the_seam(void **state)
{
	struct ring r;
	char out[3];
	char all[16];
	size_t got = 0, n;
	uint64_t pos;

	(void)state;
	assert_int_equal(ring_init(&r, 5), 0);
	ring_write(&r, "abcdefg", 7);  /* holds "cdefg", wrapped inside the buffer */
	pos = ring_oldest(&r);
	while ((n = ring_read(&r, &pos, out, sizeof(out), NULL)) > 0) {
		memcpy(all + got, out, n);
		got += n;
	}
	assert_int_equal(got, 5);
	assert_memory_equal(all, "cdefg", 5);
	pos = 1000;  /* a position from the future is clamped to the head */
	assert_int_equal(ring_read(&r, &pos, out, sizeof(out), NULL), 0);
	assert_int_equal(pos, 7);
	ring_fini(&r);
}

static void test_line_start(void **state)
{
	struct ring r;

	(void)state;
	assert_int_equal(ring_init(&r, 16), 0);
	ring_write(&r, "one\ntwo\nthree\nfour\n", 19);  /* holds from byte 3, "\ntwo..." */
	assert_int_equal(ring_line_start(&r, 0), 0);     /* before the oldest: untouched */
	assert_int_equal(ring_line_start(&r, 3), 4);     /* oldest: may be mid-line, skip */
	assert_int_equal(ring_line_start(&r, 4), 4);
	assert_int_equal(ring_line_start(&r, 5), 8);     /* mid "two": next line */
	assert_int_equal(ring_line_start(&r, 8), 8);     /* already a line start */
	assert_int_equal(ring_line_start(&r, 16), 19);
	ring_write(&r, "tail", 4);
	assert_int_equal(ring_line_start(&r, 20), 20);   /* no newline after: stays */
	ring_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_wrap_around_reports_loss),
		cmocka_unit_test(test_write_larger_than_ring),
		cmocka_unit_test(test_small_reads_across_the_seam),
		cmocka_unit_test(test_line_start),
	};

	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
