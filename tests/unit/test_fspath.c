/* SPDX-License-Identifier: MIT */
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

#include "lib/fspath.h"

static const char *const trees[] = { "var", "proc", "sys" };

static int split(const char *path, struct fspath *p, char *err)
{
	return fspath_split(path, trees, 3, p, err, 256);
}

static void test_split(void **state)
{
	static struct fspath p;
	char err[256];

	(void)state;
	assert_int_equal(split("/var/lib//x/./y/", &p, err), 0);
	assert_int_equal(p.tree, 0);
	assert_string_equal(p.rel, "lib/x/y");
	assert_string_equal(p.full, "/var/lib/x/y");
	assert_int_equal(split("//proc/./", &p, err), 0);
	assert_int_equal(p.tree, 1);
	assert_string_equal(p.rel, ".");
	assert_string_equal(p.full, "/proc");
	assert_int_equal(split("/sys/class/net/lo", &p, err), 0);
	assert_int_equal(p.tree, 2);

	assert_int_equal(split("/var/../etc/shadow", &p, err), -1);
	assert_non_null(strstr(err, "\"..\" is refused"));
	assert_int_equal(split("/var/a/..", &p, err), -1);
	assert_int_equal(split("var/x", &p, err), -1);
	assert_non_null(strstr(err, "not an absolute path"));
	assert_int_equal(split("/etc/passwd", &p, err), -1);
	assert_non_null(strstr(err, "only files under /var, /proc and /sys"));
	assert_int_equal(split("/variable", &p, err), -1);
	assert_int_equal(split("/", &p, err), -1);
	assert_int_equal(split("", &p, err), -1);
	/* ".." that looks like a name is a name. */
	assert_int_equal(split("/var/..x/...", &p, err), 0);
	assert_string_equal(p.rel, "..x/...");
	{
		char *big = malloc(FSPATH_MAX + 10);

		memset(big, 'a', FSPATH_MAX + 9);
		memcpy(big, "/var/", 5);
		big[FSPATH_MAX + 9] = '\0';
		assert_int_equal(split(big, &p, err), -1);
		assert_non_null(strstr(err, "longer than"));
		free(big);
	}
}

static void test_denied(void **state)
{
	static struct fspath p;
	char err[256];
	static const char *const refused[] = { "/proc/kcore", "/proc/kmsg", "/proc/1/mem", "/proc/self/mem",
					       "/proc/thread-self/pagemap", "/proc/12/task/13/mem", "/proc/kpageflags" };
	static const char *const served[] = { "/proc/version", "/proc/1/status", "/proc/1/environ", "/proc/mem",
					      "/proc/1/task/mem", "/proc/1/task/2/status", "/var/mem", "/sys/kcore",
					      "/proc/1/task/2/fdinfo/3", "/proc/x/mem" };

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(split(refused[i], &p, err), 0);
		assert_non_null(fspath_denied(trees[p.tree], &p));
	}
	for (size_t i = 0; i < sizeof(served) / sizeof(served[0]); i++) {
		assert_int_equal(split(served[i], &p, err), 0);
		assert_null(fspath_denied(trees[p.tree], &p));
	}
}

static char dir[] = "/tmp/fspath.XXXXXX";

static void test_open_beneath(void **state)
{
	char path[256];
	int root, fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tree", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	root = open(path, O_PATH | O_DIRECTORY);
	assert_true(root >= 0);
	assert_int_equal(mkdirat(root, "d", 0755), 0);
	fd = openat(root, "d/f", O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/outside", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	close(fd);
	assert_int_equal(symlinkat("d/f", root, "in"), 0);
	assert_int_equal(symlinkat("../outside", root, "up"), 0);
	assert_int_equal(symlinkat(path, root, "abs"), 0);
	assert_int_equal(symlinkat(dir, root, "absdir"), 0);

	fd = fspath_open(root, "in", O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fspath_open(root, "up", O_RDONLY, 0), -EXDEV);
	assert_int_equal(fspath_open(root, "abs", O_RDONLY, 0), -EXDEV);
	assert_int_equal(fspath_open(root, "absdir/outside", O_RDONLY, 0), -EXDEV);
	assert_int_equal(fspath_open(root, "d/../../outside", O_RDONLY, 0), -EXDEV);
	assert_int_equal(fspath_open(root, "nosuch", O_RDONLY, 0), -ENOENT);

	/* mkdirs: made where missing; never through a symlink. */
	fd = fspath_mkdirs(root, "a/b/c", 0755);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/tree/a/b/c", dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(fspath_mkdirs(root, "absdir/x", 0755), -ENOTDIR);
	snprintf(path, sizeof(path), "%s/x", dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(fspath_mkdirs(root, "d/f/x", 0755), -ENOTDIR);
	assert_int_equal(fspath_mkdirs(root, "a/../..", 0755), -EXDEV);
	close(root);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_denied),
		cmocka_unit_test(test_open_beneath),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
