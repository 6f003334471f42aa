/* SPDX-License-Identifier: MIT */
/* The persisted config: atomic saves, and boots after torn or corrupted writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/atomicfile.h"
#include "machined/ctrl/cfgstate.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/basalt-cfgstate-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[96];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void load_expect(const char *want, const char *report_has)
{
	char *text = NULL, report[512];
	size_t len;

	assert_int_equal(cfgstate_load(dir, &text, &len, report, sizeof(report)), 0);
	if (strcmp(text, want) != 0 || len != strlen(want) ||
	    (report_has ? !strstr(report, report_has) : report[0] != '\0')) {
		free(text);
		fail_msg("loaded with report \"%s\", wanted \"%s\"", report, report_has ? report_has : "");
	}
	free(text);
}

/* The header "# basalt-config sha256=<64 hex> len=N" is 94 bytes for these short texts. */
#define HEADER 94

/* Damages the file in place: truncates it to keep bytes, or flips the byte at flip. */
static void damage(const char *name, long keep, long flip)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	if (keep >= 0)
		assert_int_equal(ftruncate(fd, keep), 0);
	if (flip >= 0) {
		char c;

		assert_int_equal(pread(fd, &c, 1, flip), 1);
		c ^= 0x20;
		assert_int_equal(pwrite(fd, &c, 1, flip), 1);
	}
	close(fd);
}

static void test_missing(void **state)
{
	char *text, report[256];
	size_t len;

	(void)state;
	assert_int_equal(cfgstate_load(dir, &text, &len, report, sizeof(report)), -ENOENT);
}

static void test_save_load_and_keep_previous(void **state)
{
	char err[256];
	struct stat st;
	char path[128];

	(void)state;
	assert_int_equal(cfgstate_save(dir, "first: 1\n", 9, err, sizeof(err)), 0);
	load_expect("first: 1\n", NULL);
	assert_int_equal(cfgstate_save(dir, "second: 2\n", 10, err, sizeof(err)), 0);
	load_expect("second: 2\n", NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, CFGSTATE_PREVIOUS);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_torn_current_falls_back(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(cfgstate_save(dir, "good: 1\n", 8, err, sizeof(err)), 0);
	assert_int_equal(cfgstate_save(dir, "newer: 2\n", 9, err, sizeof(err)), 0);
	damage(CFGSTATE_CURRENT, HEADER + 4, -1);  /* the header and part of the text */
	load_expect("good: 1\n", "torn write?");
}

static void test_corrupt_current_falls_back_and_is_not_rotated(void **state)
{
	char err[256], *text, report[512];
	size_t len;

	(void)state;
	assert_int_equal(cfgstate_save(dir, "good: 1\n", 8, err, sizeof(err)), 0);
	assert_int_equal(cfgstate_save(dir, "newer: 2\n", 9, err, sizeof(err)), 0);
	damage(CFGSTATE_CURRENT, -1, HEADER + 2);  /* one flipped bit in the text */
	load_expect("good: 1\n", "checksum mismatch");
	/* Saving over a corrupt current keeps the good previous copy. */
	assert_int_equal(cfgstate_save(dir, "third: 3\n", 9, err, sizeof(err)), 0);
	damage(CFGSTATE_CURRENT, -1, HEADER + 2);
	load_expect("good: 1\n", "checksum mismatch");
	damage(CFGSTATE_PREVIOUS, 20, -1);
	assert_int_equal(cfgstate_load(dir, &text, &len, report, sizeof(report)), -EBADMSG);
	assert_non_null(strstr(report, "config.yaml: checksum mismatch (corrupted)"));
	assert_non_null(strstr(report, "config.yaml.prev: no checksum header"));
}

/* read_file: a file of /proc (st_size 0) is read to its end; one past max is refused. */
static void test_read_file_proc(void **state)
{
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(read_file("/proc/self/status", 1 << 20, &text, &len), 0);
	assert_true(len > 100);
	assert_int_equal(strncmp(text, "Name:", 5), 0);
	assert_int_equal(text[len], '\0');
	free(text);
	text = NULL;
	assert_int_equal(read_file("/proc/self/status", 64, &text, &len), -EFBIG);
	assert_null(text);
	assert_int_equal(read_file("/proc/self/nosuch", 64, &text, &len), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load_and_keep_previous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_current_falls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_current_falls_back_and_is_not_rotated, setup, teardown),
		cmocka_unit_test(test_read_file_proc),
	};

	return cmocka_run_group_tests_name("cfgstate", tests, NULL, NULL);
}
