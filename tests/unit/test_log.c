/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

/* A FIFO stands in for the console: like a busy serial line, it is full when we write. */
struct fifo {
	char dir[64], path[96];
	int rd, fill;
};

static void fifo_open_full(struct fifo *f)
{
	char junk[4096];

	memset(junk, 'x', sizeof(junk));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_log.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/console", f->dir);
	assert_int_equal(mkfifo(f->path, 0600), 0);
	f->rd = open(f->path, O_RDONLY | O_NONBLOCK);
	assert_true(f->rd >= 0);
	f->fill = open(f->path, O_WRONLY | O_NONBLOCK);
	assert_true(f->fill >= 0);
	while (write(f->fill, junk, sizeof(junk)) > 0)
		;
	assert_int_equal(errno, EAGAIN);
	setenv("BASALT_CONSOLE", f->path, 1);
}

static void fifo_close(struct fifo *f)
{
	close(f->rd);
	close(f->fill);
	unlink(f->path);
	rmdir(f->dir);
	unsetenv("BASALT_CONSOLE");
}

/* Reads everything the FIFO holds (the filler's bytes, then what the console got). */
static size_t drain(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (n < cap && poll(&p, 1, 1000) > 0) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}

static void test_console_full_line_waits(void **state)
{
	/* The console is full for 300 ms: the line still arrives, whole, after the filler. */
	static char buf[1 << 20];
	struct fifo f;
	const char *want = "[test] API in maintenance mode: fingerprint 0123456789abcdef\n";
	pid_t reader;
	int st, logfd;
	size_t n;

	(void)state;
	fifo_open_full(&f);
	reader = fork();
	assert_true(reader >= 0);
	if (reader == 0) {
		usleep(300 * 1000);
		n = drain(f.rd, buf, sizeof(buf));
		_exit(n > strlen(want) && memcmp(buf + n - strlen(want), want, strlen(want)) == 0 ? 0 : 1);
	}
	logfd = open("/dev/null", O_WRONLY);
	log_init("test", logfd);
	log_console("API in maintenance mode: fingerprint %s", "0123456789abcdef");
	close(f.fill);
	f.fill = -1;
	assert_int_equal(waitpid(reader, &st, 0), reader);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(logfd);
	fifo_close(&f);
}

static void test_console_stuck_gives_up(void **state)
{
	/* Nobody drains the console: the caller is not stopped for more than a few seconds. */
	struct fifo f;
	struct timespec a, b;
	int logfd = open("/dev/null", O_WRONLY);
	long ms;

	(void)state;
	fifo_open_full(&f);
	log_init("test", logfd);
	clock_gettime(CLOCK_MONOTONIC, &a);
	log_console("nobody reads this");
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms >= 2000);
	assert_true(ms < 6000);
	close(logfd);
	fifo_close(&f);
}

static void test_console_every_listed(void **state)
{
	/* BASALT_CONSOLE lists the screen and the serial line: both get the line. */
	char dir[] = "/tmp/test_log.XXXXXX", a[64], b[64], list[160], buf[256];
	int ra, rb, logfd = open("/dev/null", O_WRONLY);
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/tty0", dir);
	snprintf(b, sizeof(b), "%s/ttyS0", dir);
	assert_int_equal(mkfifo(a, 0600), 0);
	assert_int_equal(mkfifo(b, 0600), 0);
	ra = open(a, O_RDONLY | O_NONBLOCK);
	rb = open(b, O_RDONLY | O_NONBLOCK);
	snprintf(list, sizeof(list), "%s:%s", b, a);
	setenv("BASALT_CONSOLE", list, 1);
	log_init("test", logfd);
	log_console("fingerprint %d", 42);
	n = read(ra, buf, sizeof(buf));
	assert_int_equal(n, 22);
	assert_memory_equal(buf, "[test] fingerprint 42\n", 22);
	n = read(rb, buf, sizeof(buf));
	assert_int_equal(n, 22);
	assert_memory_equal(buf, "[test] fingerprint 42\n", 22);
	close(ra);
	close(rb);
	close(logfd);
	unlink(a);
	unlink(b);
	rmdir(dir);
	unsetenv("BASALT_CONSOLE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_console_full_line_waits),
		cmocka_unit_test(test_console_stuck_gives_up),
		cmocka_unit_test(test_console_every_listed),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
