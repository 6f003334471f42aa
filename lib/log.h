/* SPDX-License-Identifier: MIT */
/* Logging for daemons: one line per message, "[ident] text", written with one write(2). */
#ifndef BASALT_LOG_H
#define BASALT_LOG_H

#include <stdbool.h>

/* Lines go to fd (the console for init, stderr elsewhere). ident is borrowed for life. */
void log_init(const char *ident, int fd);
void log_set_fd(int fd);
void log_set_debug(bool on);
bool log_debug_enabled(void);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": <strerror(errno)>"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Also on every console BASALT_CONSOLE lists ("/dev/ttyS0:/dev/tty0": set by init on a real
 * machine, not in container mode), where it shows whether or not service output is echoed
 * there: for what the person at the machine must read, on its screen and serial line alike.
 */
void log_console(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For the unrecoverable in daemons other than init: log, then exit(1). */
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
