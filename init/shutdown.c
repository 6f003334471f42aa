/* SPDX-License-Identifier: MIT */
#include "init/shutdown.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init/mountinfo.h"
#include "lib/buf.h"
#include "lib/log.h"

#define MOUNTS_MAX 128
#define MOUNTINFO_MAX (1u << 20)  /* bytes of mountinfo read at most */

const char *shutdown_action_name(enum shutdown_action a)
{
	return a == SHUTDOWN_REBOOT ? "reboot" : a == SHUTDOWN_POWEROFF ? "poweroff" : "none";
}

static void on_timer(void *arg);

void shutdown_init(struct shutdown *sd, struct loop *loop, struct supervisor *sup, bool container)
{
	memset(sd, 0, sizeof(*sd));
	sd->loop = loop;
	sd->sup = sup;
	sd->container = container;
	loop_timer_init(&sd->timer, on_timer, sd);
}

/*
 * Whether user processes other than us remain. Every one descends from PID 1, so as long
 * as any exists we have a child; kill(-1, 0) would also count kernel threads. WNOWAIT
 * leaves zombies for the supervisor's reaper. Only meaningful as PID 1 of our namespace.
 */
static bool others_exist(void)
{
	siginfo_t si;

	if (getpid() != 1)
		return false;
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 || errno != ECHILD;
}

/* Unmounts everything but / in reverse mount order; busy ones are detached. */
static void unmount_all(void)
{
	static char points[MOUNTS_MAX][MOUNTINFO_PATH];
	struct buf b;
	size_t n, skipped;
	int done = 0, detached = 0, failed = 0, fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	ssize_t r = 0;

	buf_init(&b);
	while (fd >= 0 && b.len < MOUNTINFO_MAX && buf_reserve(&b, 16384) == 0 &&
	       (r = read(fd, buf_tail(&b), 16384)) > 0)
		b.len += (size_t)r;
	if (fd < 0 || r < 0) {
		log_warn("shutdown: read /proc/self/mountinfo");
		if (fd >= 0)
			close(fd);
		buf_fini(&b);
		return;
	}
	close(fd);
	n = mountinfo_points((const char *)buf_head(&b), b.len, points, MOUNTS_MAX, &skipped);
	buf_fini(&b);
	if (skipped)
		log_warnx("shutdown: %zu mounts in /proc/self/mountinfo left as they are (paths over %d bytes)",
			  skipped, MOUNTINFO_PATH - 1);
	while (n-- > 0) {
		if (umount2(points[n], 0) == 0) {
			done++;
		} else if (errno == EBUSY && umount2(points[n], MNT_DETACH) == 0) {
			detached++;
			log_debug("shutdown: %s busy, detached", points[n]);
		} else if (errno != EINVAL && errno != ENOENT) {
			failed++;
			log_warn("shutdown: unmount %s", points[n]);
		}
	}
	mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
	log_info("unmounted %d filesystems (%d detached, %d failed)", done + detached, detached,
		 failed);
}

_Noreturn static void finish(struct shutdown *sd)
{
	int cmd = sd->action == SHUTDOWN_REBOOT ? RB_AUTOBOOT : RB_POWER_OFF;

	sd->phase = SD_FINAL;
	sync();
	if (!sd->container)
		unmount_all();
	log_info("shutdown complete in %llu ms, %s",
		 (unsigned long long)(mono_ms() - sd->started_ms),
		 sd->action == SHUTDOWN_REBOOT ? "rebooting" : "powering off");
	reboot(cmd);
	/* Only reached without CAP_SYS_BOOT (a container runtime's PID 1): leave instead. */
	log_warn("shutdown: reboot(2)");
	_exit(sd->action == SHUTDOWN_REBOOT ? 129 : 0);
}

static void kill_rest(struct shutdown *sd)
{
	if (!others_exist())
		finish(sd);
	sd->phase = SD_REST_TERM;
	log_info("sending SIGTERM to remaining processes");
	kill(-1, SIGTERM);
	kill(-1, SIGCONT);
	loop_timer_arm(sd->loop, &sd->timer, SHUTDOWN_REST_TERM_MS);
}

static void on_timer(void *arg)
{
	struct shutdown *sd = arg;

	switch (sd->phase) {
	case SD_SERVICES:
		supervisor_kill_all(sd->sup);
		/* Killed services are reaped soon; continue regardless after a short grace. */
		sd->phase = SD_REST_TERM;
		loop_timer_arm(sd->loop, &sd->timer, 1000);
		break;
	case SD_REST_TERM:
		if (others_exist()) {
			log_info("sending SIGKILL to remaining processes");
			kill(-1, SIGKILL);
		}
		sd->phase = SD_REST_KILL;
		loop_timer_arm(sd->loop, &sd->timer, 1000);
		break;
	case SD_REST_KILL:
		finish(sd);
	default:
		break;
	}
}

bool shutdown_begin(struct shutdown *sd, enum shutdown_action action, const char *why)
{
	if (sd->phase != SD_IDLE) {
		log_info("%s requested by %s: already shutting down", shutdown_action_name(action),
			 why);
		return false;
	}
	sd->action = action;
	sd->phase = SD_SERVICES;
	sd->started_ms = mono_ms();
	log_info("%s requested by %s: stopping services", shutdown_action_name(action), why);
	loop_timer_arm(sd->loop, &sd->timer, SHUTDOWN_SERVICES_MS);
	if (sd->before_stop)
		sd->before_stop(sd->before_stop_arg, action);
	supervisor_stop_all(sd->sup);
	return true;
}

void shutdown_services_down(struct shutdown *sd)
{
	if (sd->phase != SD_SERVICES)
		return;
	log_info("all services stopped in %llu ms",
		 (unsigned long long)(mono_ms() - sd->started_ms));
	loop_timer_cancel(sd->loop, &sd->timer);
	kill_rest(sd);
}

void shutdown_child_reaped(struct shutdown *sd)
{
	if ((sd->phase == SD_REST_TERM || sd->phase == SD_REST_KILL) && !others_exist())
		finish(sd);
}
