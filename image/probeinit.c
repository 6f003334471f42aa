/* SPDX-License-Identifier: MIT */
/*
 * The smallest possible PID 1: reports the kernel's uptime when it starts, then powers
 * off. image/kvm-probe.sh boots it to learn whether KVM really runs guests here, and the
 * benchmark uses it as the kernel floor that Basalt's boot is compared against.
 */
#include <stdio.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec ts;
	char line[96];
	int n;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	n = snprintf(line, sizeof(line), "[probe] init reached at %lld ms of uptime\n",
		     (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	(void)!write(1, line, (size_t)n);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
