/* SPDX-License-Identifier: MIT */
/*
 * Whether KVM can really run a guest here: /dev/kvm can exist and open where guests never
 * run (a VM without nested virtualisation), and where KVM can only emulate (it then runs
 * real-mode code but fails on the first instruction its emulator lacks: a kernel stops in
 * its decompressor). A child process makes a VM with a vCPU in 64-bit long mode, paging on,
 * running a few instructions a kernel's compiled code uses (a VEX-encoded BMI2 shift, a
 * store) and hlt: the run must come back with KVM_EXIT_HLT and the stored result within a
 * second. The child is killed otherwise, so a KVM_RUN that never returns costs that second.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "osctl/cluster/cluster.h"

/* Guest memory: page tables (2 MiB identity pages), code, a result, a stack. */
#define G_PML4 0x1000
#define G_PDPT 0x2000
#define G_PD 0x3000
#define G_CODE 0x4000
#define G_RESULT 0x5000
#define G_MEM 0x10000

static void seg(struct kvm_segment *s, unsigned sel, unsigned type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffffffff;
	s->selector = (unsigned short)sel;
	s->type = (unsigned char)type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

/* In the child: 0 when the guest ran to its hlt with the right result, else the step. */
static int run_guest(void)
{
	static const unsigned char code[] = {
		0xb8, 0x40, 0x00, 0x00, 0x00,             /* mov eax, 0x40 */
		0xb9, 0x03, 0x00, 0x00, 0x00,             /* mov ecx, 3 */
		0xc4, 0xe2, 0x73, 0xf7, 0xc0,             /* shrx eax, eax, ecx (BMI2, VEX) */
		0x89, 0x04, 0x25, 0x00, 0x50, 0x00, 0x00, /* mov [0x5000], eax */
		0xf4,                                     /* hlt */
	};
	struct kvm_userspace_memory_region mr = { 0 };
	struct kvm_sregs sr;
	struct kvm_regs regs = { .rip = G_CODE, .rsp = G_MEM - 16, .rflags = 2 };
	struct kvm_run *run;
	unsigned char *mem;
	uint64_t *pt;
	int kvm, vm, cpu, sz;

	if ((kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
		return 2;
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION || (vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		return 3;
	mem = mmap(NULL, G_MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 4;
	pt = (uint64_t *)(mem + G_PML4);
	pt[0] = G_PDPT | 3;
	pt = (uint64_t *)(mem + G_PDPT);
	pt[0] = G_PD | 3;
	pt = (uint64_t *)(mem + G_PD);
	pt[0] = 0x83;  /* the first 2 MiB, present, writable, a large page */
	memcpy(mem + G_CODE, code, sizeof(code));
	mr.memory_size = G_MEM;
	mr.userspace_addr = (unsigned long)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr) < 0 || (cpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0)
		return 5;
	if ((sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0 ||
	    (run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0)) == MAP_FAILED)
		return 6;
	if (ioctl(cpu, KVM_GET_SREGS, &sr) < 0)
		return 7;
	seg(&sr.cs, 8, 11, true);
	seg(&sr.ds, 16, 3, false);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.cr3 = G_PML4;
	sr.cr4 = 1u << 5;                 /* PAE */
	sr.cr0 = 0x80000001u | 0x10;      /* PG, PE, ET */
	sr.efer = 0x500;                  /* LME, LMA */
	if (ioctl(cpu, KVM_SET_SREGS, &sr) < 0 || ioctl(cpu, KVM_SET_REGS, &regs) < 0)
		return 7;
	if (ioctl(cpu, KVM_RUN, 0) < 0)
		return 8;
	if (run->exit_reason != KVM_EXIT_HLT)
		return run->exit_reason == KVM_EXIT_INTERNAL_ERROR ? 10 : 9;
	return mem[G_RESULT] == 8 ? 0 : 11;
}

bool cluster_kvm_works(char *why, size_t whylen)
{
	static const char *const steps[] = { [2] = "/dev/kvm cannot be opened", [3] = "no VM can be made",
					     [4] = "no memory", [5] = "no vCPU can be made", [6] = "no vCPU can be made",
					     [7] = "the vCPU cannot be set up", [8] = "the vCPU does not run",
					     [9] = "the guest did not reach its hlt",
					     [10] = "KVM only emulates: its emulator failed on the test guest's code",
					     [11] = "the test guest computed a wrong result" };
	struct timespec t0, now;
	int st = 0;
	pid_t pid, r = 0;

	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		snprintf(why, whylen, "/dev/kvm: %s", strerror(errno));
		return false;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return false;
	}
	if (pid == 0)
		_exit(run_guest());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	now = t0;
	do {
		struct timespec d = { 0, 10 * 1000 * 1000 };

		if ((r = waitpid(pid, &st, WNOHANG)) < 0 && errno == EINTR)
			r = 0;  /* not known yet */
		if (r != 0)
			break;
		nanosleep(&d, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		snprintf(why, whylen, "a test guest did not come back from KVM_RUN within 1 s");
		return false;
	}
	if (r < 0) {
		snprintf(why, whylen, "waitpid: %s", strerror(errno));
		return false;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return true;
	snprintf(why, whylen, "%s", WIFEXITED(st) && WEXITSTATUS(st) < 12 && steps[WEXITSTATUS(st)]
					   ? steps[WEXITSTATUS(st)] : "the test guest failed");
	return false;
}
