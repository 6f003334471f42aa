/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/backoff.h"

static void test_schedule(void **state)
{
	/* init's restart schedule: immediate, then doubling from the base, capped. */
	struct backoff b = { 0, 100, 1000 };
	const uint64_t want[] = { 0, 0, 100, 200, 400, 800, 1000, 1000 };

	(void)state;
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(backoff_delay_ms(&b, i), want[i]);
}

static void test_no_overflow(void **state)
{
	struct backoff b = { 5, 100, 30000 };

	(void)state;
	assert_int_equal(backoff_delay_ms(&b, 1), 5);
	assert_int_equal(backoff_delay_ms(&b, 1000000), 30000);
	assert_int_equal(backoff_delay_ms(&b, 0xffffffffu), 30000);
}

static void test_base_above_cap(void **state)
{
	struct backoff b = { 5000, 7000, 2000 };

	(void)state;
	assert_int_equal(backoff_delay_ms(&b, 1), 2000);
	assert_int_equal(backoff_delay_ms(&b, 2), 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_no_overflow),
		cmocka_unit_test(test_base_above_cap),
	};

	return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
