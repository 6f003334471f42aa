/* SPDX-License-Identifier: MIT */
/*
 * apid's confinement (machined/api/sandbox.c) in a forked child: it runs as uid 65534 with no
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "machined/api/sandbox.h"

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

/* Says it is confined, then waits (reading its stdin) for the parent to look at it. */
static void status_child(int out)
{
	char b;

	say(out, "confined\n");
	syscall(SYS_read, 0, &b, 1);
}

static void test_confined_identity(void **state)
{
	char buf[4096], path[64];
	int p[2], in[2], st = 0;
	pid_t pid;
	ssize_t got;
	size_t n;
	FILE *f;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];

		dup2(in[0], 0);
		close(in[1]);
		if (sandbox_enter(err, sizeof(err)) < 0) {
			(void)!write(p[1], err, strlen(err));
			syscall(SYS_exit_group, 3);
		}
		status_child(p[1]);
		syscall(SYS_exit_group, 0);
	}
	close(p[1]);
	close(in[0]);
	got = read(p[0], buf, sizeof(buf) - 1);
	buf[got > 0 ? got : 0] = '\0';
	if (strcmp(buf, "confined\n") != 0)
		fail_msg("the child was not confined: %s", buf);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	close(in[1]);
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!strstr(buf, "Uid:\t65534\t65534\t65534\t65534") || !strstr(buf, "Gid:\t65534\t65534\t65534") ||
	    !strstr(buf, "CapEff:\t0000000000000000") || !strstr(buf, "CapPrm:\t0000000000000000") ||
	    !strstr(buf, "NoNewPrivs:\t1") || !strstr(buf, "Seccomp:\t2"))
		fail_msg("not confined as promised:\n%s", buf);
}

/* The root it sees is empty: no /etc, no /proc/self; "/" itself is there. */
static void root_child(int out)
{
	struct stat sb;

	if (syscall(SYS_newfstatat, AT_FDCWD, "/etc", &sb, 0) < 0 &&
	    syscall(SYS_newfstatat, AT_FDCWD, "/proc/self", &sb, 0) < 0 &&
	    syscall(SYS_newfstatat, AT_FDCWD, "/", &sb, 0) == 0)
		say(out, "empty root");
}

static void test_empty_root(void **state)
{
	char buf[256];
	struct stat sb;
	int st;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(stat("/etc", &sb), 0);
	st = confined(root_child, buf, sizeof(buf));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal(buf, "empty root");
}

/* What apid's loop does: sockets of both families, a write, the clock. */
static void allowed_child(int out)
{
	struct timespec ts;
	long s = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	long s6 = syscall(SYS_socket, AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (s >= 0 && s6 >= 0 && syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0)
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

static void unix_socket_child(int out)
{
	(void)out;
	syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
}

static void netlink_socket_child(int out)
{
	(void)out;
	syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0);
}

static void openat_child(int out)
{
	(void)out;
	syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
}

static void test_forbidden_calls_kill(void **state)
{
	static const struct {
		const char *name;
		child_fn *fn;
	} t[] = {
		{ "execve", execve_child }, { "ptrace", ptrace_child }, { "kill", kill_child },
		{ "setuid", setuid_child }, { "socket(AF_UNIX)", unix_socket_child },
		{ "socket(AF_NETLINK)", netlink_socket_child }, { "openat", openat_child },
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
		cmocka_unit_test(test_empty_root),
		cmocka_unit_test(test_forbidden_calls_kill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
