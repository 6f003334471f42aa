/* SPDX-License-Identifier: MIT */
/*
 * apid's confinement (machined/sandbox.c) in a forked child: it runs as uid 65534 with no
 * capabilities, no new privileges and seccomp on; what an event loop needs still works; a
 * system call outside the allowlist kills the process with SIGSYS. The child uses raw
 * system calls only once confined and leaves with exit_group, so nothing of the test's own
 * runtime (atexit handlers, sanitizers) runs under the filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "machined/sandbox.h"

typedef void child_fn(int out);

/* Runs fn(out) confined in a child; returns its wait status, its output in buf. */
static int confined(child_fn *fn, char *buf, size_t len)
{
	int p[2], st = 0;
	pid_t pid;
	ssize_t n, got = 0;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];

		close(p[0]);
		if (sandbox_enter(err, sizeof(err)) < 0) {
			(void)!write(p[1], err, strlen(err));
			syscall(SYS_exit_group, 3);
		}
		fn(p[1]);
		syscall(SYS_exit_group, 0);
	}
	close(p[1]);
	while (got < (ssize_t)len - 1 && (n = read(p[0], buf + got, len - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void say(int out, const char *s)
{
	syscall(SYS_write, out, s, strlen(s));
}

/* Reads /proc/self/status (openat and read are allowed) and passes it on. */
static void status_child(int out)
{
	char b[4096];
	long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
	long n = fd >= 0 ? syscall(SYS_read, fd, b, sizeof(b) - 1) : -1;

	if (n > 0)
		syscall(SYS_write, out, b, (size_t)n);
}

static void test_confined_identity(void **state)
{
	char buf[4096];
	int st;

	(void)state;
	if (geteuid() != 0)
		skip();
	st = confined(status_child, buf, sizeof(buf));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!strstr(buf, "Uid:\t65534\t65534\t65534\t65534") || !strstr(buf, "Gid:\t65534\t65534\t65534") ||
	    !strstr(buf, "CapEff:\t0000000000000000") || !strstr(buf, "CapPrm:\t0000000000000000") ||
	    !strstr(buf, "NoNewPrivs:\t1") || !strstr(buf, "Seccomp:\t2"))
		fail_msg("not confined as promised:\n%s", buf);
}

/* What apid's loop does: a socket, a write, the clock. */
static void allowed_child(int out)
{
	struct timespec ts;
	long s = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (s >= 0 && syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0)
		say(out, "allowed calls work");
}

static void test_allowed_calls_work(void **state)
{
	char buf[256];
	int st;

	(void)state;
	st = confined(allowed_child, buf, sizeof(buf));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal(buf, "allowed calls work");
}

static void execve_child(int out)
{
	static char *const argv[] = { "true", NULL };

	say(out, "before");
	syscall(SYS_execve, "/bin/true", argv, NULL);
	say(out, " after");
}

static void ptrace_child(int out)
{
	(void)out;
	syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
}

static void kill_child(int out)
{
	(void)out;
	syscall(SYS_kill, syscall(SYS_getppid), 0);
}

static void setuid_child(int out)
{
	(void)out;
	syscall(SYS_setuid, 0);
}

static void test_forbidden_calls_kill(void **state)
{
	static const struct {
		const char *name;
		child_fn *fn;
	} t[] = {
		{ "execve", execve_child }, { "ptrace", ptrace_child }, { "kill", kill_child },
		{ "setuid", setuid_child },
	};
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int st = confined(t[i].fn, buf, sizeof(buf));

		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
			fail_msg("%s under the sandbox: wanted death by SIGSYS, got status 0x%x (output \"%s\")",
				 t[i].name, st, buf);
	}
	/* It died at the call, not after it. */
	confined(execve_child, buf, sizeof(buf));
	assert_string_equal(buf, "before");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confined_identity),
		cmocka_unit_test(test_allowed_calls_work),
		cmocka_unit_test(test_forbidden_calls_kill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
