/* SPDX-License-Identifier: MIT */
/*
 * svchelper MODE ARGS: a service with a known behaviour, for the init integration test.
 *   crash FILE          append "start NS" and "exit NS" (CLOCK_MONOTONIC) to FILE, exit 1
 *   orphan FILE         fork a grandchild that outlives its parent, appends "orphan-exit",
 *                       and exits: init must reap it; the service itself stays up
 *   stop NAME FILE      on SIGTERM, append "NAME NS" to FILE and exit 0
 *   ignore-term FILE    ignore SIGTERM; append "ready" to FILE; wait to be killed
 *   talk N              print N numbered lines, then one line every 50 ms
 *   crash-once FILE     first run: append "start NS", "exit NS" and exit 1; later runs:
 *                       append "start NS" and stay up
 *   sleep X             stay up
 *   family FILE         start a child that ignores SIGTERM (it runs as "svchelper sleep
 *                       FILE.child", to be found by name), then stay up; SIGTERM ends only us
 *   escape FILE         as family, but the child ("svchelper sleep FILE.escaped") first
 *                       moves itself to the root cgroup of every hierarchy, out of reach of
 *                       the service's cgroup (as containerd's shims leave containerd's)
 * Run as another supervisor's ./run (no mode argument), the mode and its argument come
 * from the file svchelper.args ("MODE ARG") in the working directory.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *out_file;
static const char *stop_name;

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void append(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd >= 0) {
		(void)!write(fd, text, strlen(text));
		close(fd);
	}
}

static void on_term(int sig)
{
	char line[128];

	(void)sig;
	snprintf(line, sizeof(line), "%s %llu\n", stop_name, now_ns());
	append(out_file, line);
	_exit(0);
}

static void wait_forever(void)
{
	for (;;)
		pause();
}

/* Moves this process to the root cgroup of each hierarchy it is in (v1 and v2). */
static void to_root_cgroups(void)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[512], path[600], pid[16];

	if (!f)
		return;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	while (fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *end;
		int fd;

		if (!ctrl || !(end = strchr(++ctrl, ':')))
			continue;
		*end = '\0';
		if (strncmp(ctrl, "name=", 5) == 0)
			ctrl += 5;
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%scgroup.procs", ctrl, *ctrl ? "/" : "");
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			(void)!write(fd, pid, strlen(pid));
			close(fd);
		}
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	char line[128];
	static char mode[32], arg[256];
	char *file_argv[] = { argv[0], mode, arg, NULL };
	FILE *f;

	/* s6-supervise runs ./run with the service name as its only argument. */
	if (argc <= 2 && (f = fopen("svchelper.args", "re")) != NULL) {
		if (fscanf(f, "%31s %255s", mode, arg) == 2) {
			argv = file_argv;
			argc = 3;
		}
		fclose(f);
	}
	if (argc < 3) {
		fprintf(stderr, "usage: svchelper crash|crash-once|orphan|stop|ignore-term|talk|sleep|family ARGS\n");
		return 2;
	}
	if (strcmp(argv[1], "crash") == 0) {
		snprintf(line, sizeof(line), "start %llu\n", now_ns());
		append(argv[2], line);
		snprintf(line, sizeof(line), "exit %llu\n", now_ns());
		append(argv[2], line);
		return 1;
	}
	if (strcmp(argv[1], "crash-once") == 0) {
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		bool again = fd >= 0;

		if (fd >= 0)
			close(fd);
		snprintf(line, sizeof(line), "start %llu\n", now_ns());
		append(argv[2], line);
		if (again)
			wait_forever();
		snprintf(line, sizeof(line), "exit %llu\n", now_ns());
		append(argv[2], line);
		return 1;
	}
	if (strcmp(argv[1], "sleep") == 0)
		wait_forever();
	if (strcmp(argv[1], "family") == 0 || strcmp(argv[1], "escape") == 0) {
		bool escape = argv[1][0] == 'e';
		char name[300];

		snprintf(name, sizeof(name), "%s.%s", argv[2], escape ? "escaped" : "child");
		if (fork() == 0) {
			if (escape)
				to_root_cgroups();
			signal(SIGTERM, SIG_IGN);  /* kept across exec */
			execl("/proc/self/exe", "svchelper", "sleep", name, (char *)NULL);
			_exit(127);
		}
		append(argv[2], "started\n");
		wait_forever();
	}
	if (strcmp(argv[1], "orphan") == 0) {
		pid_t child = fork();

		if (child == 0) {
			if (fork() == 0) {
				struct timespec ts = { 0, 200 * 1000 * 1000 };

				/* Outlive the parent so init adopts us, then exit for init to reap. */
				nanosleep(&ts, NULL);
				snprintf(line, sizeof(line), "orphan-exit %d\n", (int)getpid());
				append(argv[2], line);
				_exit(0);
			}
			_exit(0);
		}
		wait_forever();
	}
	if (strcmp(argv[1], "stop") == 0 && argc >= 4) {
		stop_name = argv[2];
		out_file = argv[3];
		signal(SIGTERM, on_term);
		wait_forever();
	}
	if (strcmp(argv[1], "ignore-term") == 0) {
		signal(SIGTERM, SIG_IGN);
		append(argv[2], "ready\n");
		wait_forever();
	}
	if (strcmp(argv[1], "talk") == 0) {
		int n = atoi(argv[2]);
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		setvbuf(stdout, NULL, _IOLBF, 0);
		for (int i = 1; i <= n; i++)
			printf("line %d\n", i);
		for (int i = 1;; i++) {
			nanosleep(&ts, NULL);
			printf("tick %d\n", i);
		}
	}
	fprintf(stderr, "svchelper: unknown mode %s\n", argv[1]);
	return 2;
}
