/* SPDX-License-Identifier: MIT */
/* Stage 1's root image check: a missing, foreign, truncated or good SquashFS image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init/stage1.h"

static int image(const uint8_t *sb, size_t sblen, size_t total)
{
	char path[] = "/tmp/basalt-sqsh-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, (off_t)total), 0);
	assert_int_equal(pwrite(fd, sb, sblen, 0), (ssize_t)sblen);
	return fd;
}

static void superblock(uint8_t sb[96], uint64_t bytes_used)
{
	memset(sb, 0, 96);
	memcpy(sb, "hsqs", 4);
	sb[28] = 4;  /* version 4.0 */
	for (int i = 0; i < 8; i++)
		sb[40 + i] = (uint8_t)(bytes_used >> (8 * i));
}

static void expect(int fd, int want, const char *needle)
{
	char err[256] = "";

	assert_int_equal(stage1_check_squashfs(fd, err, sizeof(err)), want);
	if (needle && !strstr(err, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
	close(fd);
}

static void test_good(void **state)
{
	uint8_t sb[96];

	(void)state;
	superblock(sb, 4096);
	expect(image(sb, sizeof(sb), 8192), 0, NULL);
}

static void test_truncated(void **state)
{
	uint8_t sb[96];

	(void)state;
	superblock(sb, 1 << 20);
	expect(image(sb, sizeof(sb), 4096), -22, "truncated: superblock says 1048576 bytes, file has 4096");
}

static void test_not_squashfs(void **state)
{
	uint8_t sb[96] = "\x7f" "ELF";

	(void)state;
	expect(image(sb, sizeof(sb), 4096), -22, "not a SquashFS image");
}

static void test_too_short(void **state)
{
	(void)state;
	expect(image((const uint8_t *)"hs", 2, 10), -22, "too short for a SquashFS superblock");
}

static void test_wrong_version(void **state)
{
	uint8_t sb[96];

	(void)state;
	superblock(sb, 4096);
	sb[28] = 3;
	expect(image(sb, sizeof(sb), 8192), -22, "SquashFS version 3.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_not_squashfs),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_wrong_version),
	};

	return cmocka_run_group_tests_name("squashfs", tests, NULL, NULL);
}
