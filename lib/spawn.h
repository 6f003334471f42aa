/* SPDX-License-Identifier: MIT */
/*
 * fork + exec with an error pipe: when a step in the child fails (chdir, cgroup, exec)
 * the parent learns which step and its errno, so "exec /usr/bin/x: No such file" reaches
 * the user instead of a bare exit status 127. The child gets stdio and the descriptors it
 * is given (keep), nothing else, whether or not the parent opened them close-on-exec.
 */
#ifndef BASALT_SPAWN_H
#define BASALT_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#define SPAWN_MAX_JOIN 4
#define SPAWN_MAX_KEEP 4

struct spawn_opts {
	char *const *argv;           /* argv[0] is the absolute path executed */
	char *const *envp;
	const char *cwd;             /* NULL: "/" */
	int stdin_fd;                /* -1: /dev/null */
	int stdout_fd;               /* -1: /dev/null */
	int stderr_fd;               /* -1: same as stdout */
	const char *join[SPAWN_MAX_JOIN];  /* cgroup.procs files the child writes itself into */
	size_t njoin;
	const int *keep;             /* descriptors the child keeps, as fds 3, 4, ...; every */
	size_t nkeep;                /* other one past stdio is closed at exec */
};

/*
 * Starts the child with a clean signal mask and default dispositions, in a new session.
 * Returns 0 with *pid set; or -errno with err describing the failed step. A failure after
 * fork leaves no child behind (it has been reaped).
 */
int spawn(const struct spawn_opts *o, pid_t *pid, char *err, size_t errlen);

#endif
