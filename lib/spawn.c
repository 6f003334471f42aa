/* SPDX-License-Identifier: MIT */
#include "lib/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum spawn_step { STEP_FDS = 1, STEP_CGROUP, STEP_CHDIR, STEP_EXEC };

struct spawn_report {
	int step;
	int err;
	int idx;  /* which join path, for STEP_CGROUP */
};

_Noreturn static void child_fail(int pipefd, int step, int idx)
{
	struct spawn_report rep = { .step = step, .err = errno, .idx = idx };

	(void)!write(pipefd, &rep, sizeof(rep));
	_exit(127);
}

static int write_self(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -1;
	r = write(fd, "0", 1) == 1 ? 0 : -1;
	close(fd);
	return r;
}

/* Moves fd to target; fd may already be target. */
static int dup_to(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

#define HIGH_FD 256  /* where descriptors wait while stdio and the kept ones are placed */

_Noreturn static void child(const struct spawn_opts *o, int pipefd)
{
	sigset_t none;
	int devnull = -1, in, out, errfd, keep[SPAWN_MAX_KEEP];

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setsid();

	/* Out of the way of 0..2+nkeep first: the report pipe and the kept descriptors. */
	if ((pipefd = fcntl(pipefd, F_DUPFD_CLOEXEC, HIGH_FD)) < 0)
		_exit(127);
	if (o->nkeep > SPAWN_MAX_KEEP) {
		errno = EINVAL;
		child_fail(pipefd, STEP_FDS, 0);
	}
	for (size_t i = 0; i < o->nkeep; i++)
		if ((keep[i] = fcntl(o->keep[i], F_DUPFD_CLOEXEC, HIGH_FD)) < 0)
			child_fail(pipefd, STEP_FDS, 0);

	if (o->stdin_fd < 0 || o->stdout_fd < 0) {
		devnull = open("/dev/null", O_RDWR);
		if (devnull < 0)
			child_fail(pipefd, STEP_FDS, 0);
	}
	in = o->stdin_fd >= 0 ? o->stdin_fd : devnull;
	out = o->stdout_fd >= 0 ? o->stdout_fd : devnull;
	errfd = o->stderr_fd >= 0 ? o->stderr_fd : out;
	if (dup_to(in, 0) < 0 || dup_to(out, 1) < 0 || dup_to(errfd, 2) < 0)
		child_fail(pipefd, STEP_FDS, 0);
	if (devnull > 2)
		close(devnull);
	for (size_t i = 0; i < o->nkeep; i++)
		if (dup2(keep[i], 3 + (int)i) < 0)
			child_fail(pipefd, STEP_FDS, 0);
	/* Everything else closes at exec (best effort before Linux 5.11: then CLOEXEC alone). */
	syscall(SYS_close_range, 3 + (unsigned)o->nkeep, ~0u, CLOSE_RANGE_CLOEXEC);

	for (size_t i = 0; i < o->njoin; i++)
		if (write_self(o->join[i]) < 0)
			child_fail(pipefd, STEP_CGROUP, (int)i);
	if (chdir(o->cwd ? o->cwd : "/") < 0)
		child_fail(pipefd, STEP_CHDIR, 0);
	execve(o->argv[0], o->argv, o->envp);
	child_fail(pipefd, STEP_EXEC, 0);
}

static void describe(const struct spawn_opts *o, const struct spawn_report *rep, char *err,
		     size_t errlen)
{
	switch (rep->step) {
	case STEP_FDS:
		snprintf(err, errlen, "set up stdio: %s", strerror(rep->err));
		break;
	case STEP_CGROUP:
		snprintf(err, errlen, "join cgroup %s: %s",
			 rep->idx >= 0 && (size_t)rep->idx < o->njoin ? o->join[rep->idx] : "?",
			 strerror(rep->err));
		break;
	case STEP_CHDIR:
		snprintf(err, errlen, "chdir %s: %s", o->cwd ? o->cwd : "/", strerror(rep->err));
		break;
	default:
		snprintf(err, errlen, "exec %s: %s", o->argv[0], strerror(rep->err));
		break;
	}
}

int spawn(const struct spawn_opts *o, pid_t *pid, char *err, size_t errlen)
{
	struct spawn_report rep;
	int p[2];
	ssize_t n;
	pid_t child_pid;

	if (!o->argv || !o->argv[0] || o->argv[0][0] != '/') {
		snprintf(err, errlen, "exec: argv[0] must be an absolute path");
		return -EINVAL;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	child_pid = fork();
	if (child_pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		snprintf(err, errlen, "fork: %s", strerror(e));
		return -e;
	}
	if (child_pid == 0) {
		close(p[0]);
		child(o, p[1]);
	}
	close(p[1]);
	/* Returns at exec (the pipe closes on exec) or with the child's report. */
	do
		n = read(p[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == (ssize_t)sizeof(rep)) {
		while (waitpid(child_pid, NULL, 0) < 0 && errno == EINTR)
			;
		describe(o, &rep, err, errlen);
		return rep.err ? -rep.err : -EIO;
	}
	*pid = child_pid;
	return 0;
}
