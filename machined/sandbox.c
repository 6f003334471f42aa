/* SPDX-License-Identifier: MIT */
#include "machined/sandbox.h"

#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define SANDBOX_ARCH AUDIT_ARCH_X86_64
#else
#error "sandbox: this architecture needs its own system call allowlist"
#endif

/* What apid does: its loop, sockets (served and dialled), memory, time, randomness. */
static const int allowed[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_close, SYS_fstat, SYS_newfstatat, SYS_lseek,
	SYS_mmap, SYS_munmap, SYS_mremap, SYS_brk, SYS_madvise, SYS_mprotect,
	SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_sigaltstack,
	SYS_epoll_create1, SYS_epoll_ctl, SYS_epoll_wait, SYS_epoll_pwait,
	SYS_timerfd_create, SYS_timerfd_settime, SYS_timerfd_gettime, SYS_signalfd4,
	SYS_accept4, SYS_socket, SYS_connect, SYS_getsockopt, SYS_setsockopt, SYS_getsockname,
	SYS_getpeername, SYS_sendto, SYS_recvfrom, SYS_sendmsg, SYS_recvmsg, SYS_shutdown,
	SYS_clock_gettime, SYS_clock_nanosleep, SYS_nanosleep, SYS_gettimeofday,
	SYS_getpid, SYS_gettid, SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid,
	SYS_getrandom, SYS_openat, SYS_fcntl, SYS_ioctl, SYS_futex, SYS_sched_yield,
	SYS_exit, SYS_exit_group, SYS_tgkill, SYS_tkill, SYS_restart_syscall, SYS_uname,
	SYS_prlimit64, SYS_getrlimit,
};

static int drop_privileges(char *err, size_t errlen)
{
	if (getuid() != 0 && geteuid() != 0)
		return 0;  /* already unprivileged (a test run as a user) */
	if (setgroups(0, NULL) < 0 || setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID) < 0 ||
	    setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) < 0) {
		snprintf(err, errlen, "drop to uid %d: %s", SANDBOX_UID, strerror(errno));
		return -errno;
	}
	if (setresuid(0, 0, 0) == 0) {
		snprintf(err, errlen, "root could be regained after dropping it");
		return -EPERM;
	}
	return 0;
}

int sandbox_enter(char *err, size_t errlen)
{
	enum { N = sizeof(allowed) / sizeof(allowed[0]) };
	struct sock_filter f[4 + 2 * N + 2];
	struct sock_fprog prog = { .filter = f };
	size_t n = 0;
	int r = drop_privileges(err, errlen);

	if (r < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		snprintf(err, errlen, "prctl: %s", strerror(errno));
		return -errno;
	}
	/* Only this architecture's calling convention; then the allowlist; else kill. */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < N; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)allowed[i], 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog.len = (unsigned short)n;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		snprintf(err, errlen, "seccomp: %s", strerror(errno));
		return -errno;
	}
	return 0;
}
