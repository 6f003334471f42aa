/* SPDX-License-Identifier: MIT */
#include "machined/api/sandbox.h"

#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define SANDBOX_ARCH AUDIT_ARCH_X86_64
#else
#error "sandbox: this architecture needs its own system call allowlist"
#endif

/*
 * What apid does: its loop, sockets (served and dialled), memory, time, randomness. Not
 * openat: its random generator is seeded before it is confined, and it reads no file.
 * socket(2) is allowed for AF_INET and AF_INET6 only (checked apart, by its argument).
 */
static const int allowed[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_close, SYS_fstat, SYS_newfstatat, SYS_lseek,
	SYS_mmap, SYS_munmap, SYS_mremap, SYS_brk, SYS_madvise, SYS_mprotect,
	SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_sigaltstack,
	SYS_epoll_create1, SYS_epoll_ctl, SYS_epoll_wait, SYS_epoll_pwait,
	SYS_timerfd_create, SYS_timerfd_settime, SYS_timerfd_gettime, SYS_signalfd4,
	SYS_accept4, SYS_connect, SYS_getsockopt, SYS_setsockopt, SYS_getsockname,
	SYS_getpeername, SYS_sendto, SYS_recvfrom, SYS_sendmsg, SYS_recvmsg, SYS_shutdown,
	SYS_clock_gettime, SYS_clock_nanosleep, SYS_nanosleep, SYS_gettimeofday,
	SYS_getpid, SYS_gettid, SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid,
	SYS_getrandom, SYS_fcntl, SYS_ioctl, SYS_futex, SYS_sched_yield,
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

/*
 * An empty, read-only root in a mount namespace of its own: nothing of the machine's
 * filesystems is left to see. pivot_root where it can be (the old root then leaves the
 * namespace); on a machine whose root is the initramfs (init's switch_root), a chroot into
 * the same empty root (no call that could leave it is allowed later).
 */
static int empty_root(char *err, size_t errlen)
{
	const char *step = "unshare the mount namespace";

	if (unshare(CLONE_NEWNS) < 0)
		goto fail;
	step = "make mounts private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		goto fail;
	step = "mount an empty tmpfs";
	if (mount("apid", SANDBOX_ROOT, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0700") < 0)
		goto fail;
	step = "enter it";
	if (chdir(SANDBOX_ROOT) < 0 || mkdir("old", 0700) < 0)
		goto fail;
	if (syscall(SYS_pivot_root, ".", "old") == 0) {
		step = "detach the old root";
		if (umount2("/old", MNT_DETACH) < 0)
			goto fail;
	} else if (chroot(".") < 0) {
		goto fail;
	}
	step = "make the root read-only";
	if (chdir("/") < 0 || rmdir("/old") < 0 ||
	    mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", step, strerror(errno));
	return -errno;
}

int sandbox_enter(char *err, size_t errlen)
{
	enum { N = sizeof(allowed) / sizeof(allowed[0]) };
	struct sock_filter f[12 + 2 * N + 2];
	struct sock_fprog prog = { .filter = f };
	size_t n = 0;
	int r = 0;

	if (getuid() == 0 || geteuid() == 0)
		r = empty_root(err, errlen);
	if (r == 0)
		r = drop_privileges(err, errlen);
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
	/* socket(domain, ...): IPv4 and IPv6 only (no AF_UNIX, AF_NETLINK, AF_PACKET, ...). */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 5);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 2, 0);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
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
