/* SPDX-License-Identifier: MIT */
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static const char *log_ident = "basalt";
static int log_fd = 2;
static bool log_debug_on;

void log_init(const char *ident, int fd)
{
	log_ident = ident;
	log_fd = fd;
}

void log_set_fd(int fd)
{
	log_fd = fd;
}

void log_set_debug(bool on)
{
	log_debug_on = on;
}

bool log_debug_enabled(void)
{
	return log_debug_on;
}

/*
 * Writes all of line to fd, which may be non-blocking, waiting up to wait_ms in all for
 * room. The console gets LOG_CONSOLE_WAIT_MS: a busy one (a serial line emulated under
 * load drains slowly) still gets the line whole, and one that takes nothing for that long
 * is given up on rather than left to stop the caller. The log pipe gets no wait: a line
 * its reader has no room for is dropped, as the reader (init) must never hold us up.
 */
#define LOG_CONSOLE_WAIT_MS 3000

static void write_line(int fd, const char *line, size_t n, int wait_ms)
{
	int waited = 0;

	while (n > 0) {
		ssize_t w = write(fd, line, n);
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		if (w > 0) {
			line += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN && waited < wait_ms) {
			poll(&p, 1, 100);
			waited += 100;
		} else {
			return;
		}
	}
}

/* Formats the whole line first so concurrent writers never interleave within it. */
static void log_emit_fd(int fd, int wait_ms, int errnum, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n = 0;
	int r;

	r = snprintf(line, sizeof(line), "[%s] ", log_ident);
	if (r > 0)
		n = (size_t)r < sizeof(line) ? (size_t)r : sizeof(line) - 1;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	if (errnum != 0 && n < sizeof(line) - 1) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(errnum));
		if (r > 0)
			n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	}
	if (n >= sizeof(line) - 1) {
		memcpy(line + sizeof(line) - 5, "...", 3);
		n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	write_line(fd, line, n, wait_ms);
}

static void log_emit(int errnum, const char *fmt, va_list ap)
{
	log_emit_fd(log_fd, 0, errnum, fmt, ap);
}

#define LOG_WITH(errnum)                         \
	do {                                     \
		int saved_ = errno;              \
		va_list ap_;                     \
		va_start(ap_, fmt);              \
		log_emit((errnum), fmt, ap_);    \
		va_end(ap_);                     \
		errno = saved_;                  \
	} while (0)

void log_debug(const char *fmt, ...)
{
	if (log_debug_on)
		LOG_WITH(0);
}

void log_info(const char *fmt, ...)
{
	LOG_WITH(0);
}

void log_warn(const char *fmt, ...)
{
	LOG_WITH(errno);
}

void log_warnx(const char *fmt, ...)
{
	LOG_WITH(0);
}

void fatal(const char *fmt, ...)
{
	LOG_WITH(errno);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_WITH(0);
	exit(1);
}

void log_console(const char *fmt, ...)
{
	const char *list = getenv("BASALT_CONSOLE");
	int saved = errno, fd;
	va_list ap;

	va_start(ap, fmt);
	log_emit(0, fmt, ap);
	va_end(ap);
	/* Every console of the list ("/dev/ttyS0:/dev/tty0"), each with the line whole. */
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ":");
		char path[128];

		if (n > 0 && n < sizeof(path)) {
			memcpy(path, p, n);
			path[n] = '\0';
			if ((fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) >= 0) {
				va_start(ap, fmt);
				log_emit_fd(fd, LOG_CONSOLE_WAIT_MS, 0, fmt, ap);
				va_end(ap);
				close(fd);
			}
		}
		p += n;
		p += *p == ':';
	}
	errno = saved;
}
