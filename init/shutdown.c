/* SPDX-License-Identifier: MIT */
#include "init/shutdown.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/mountinfo.h"
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

/* /proc/self/mountinfo into b (at most MOUNTINFO_MAX bytes); false if it cannot be read. */
static bool read_mountinfo(struct buf *b)
{
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	ssize_t r = 0;

	buf_init(b);
	while (fd >= 0 && b->len < MOUNTINFO_MAX && buf_reserve(b, 16384) == 0 && (r = read(fd, buf_tail(b), 16384)) > 0)
		b->len += (size_t)r;
	if (fd >= 0)
		close(fd);
	if (fd < 0 || r < 0) {
		log_warn("shutdown: read /proc/self/mountinfo");
		buf_fini(b);
		return false;
	}
	return true;
}

/* Unmounts point (detached when busy); counts into done/detached/failed. */
static void unmount_one(const char *point, int *done, int *detached, int *failed)
{
	if (umount2(point, 0) == 0) {
		(*done)++;
	} else if (errno == EBUSY && umount2(point, MNT_DETACH) == 0) {
		(*detached)++;
		log_debug("shutdown: %s busy, detached", point);
	} else if (errno != EINVAL && errno != ENOENT) {
		(*failed)++;
		log_warn("shutdown: unmount %s", point);
	}
}

/* Unmounts everything but / in reverse mount order; busy ones are detached. */
static void unmount_all(void)
{
	static char points[MOUNTS_MAX][MOUNTINFO_PATH];
	struct buf b;
	size_t n, skipped;
	int done = 0, detached = 0, failed = 0;

	if (!read_mountinfo(&b))
		return;
	n = mountinfo_points((const char *)buf_head(&b), b.len, points, MOUNTS_MAX, &skipped);
	buf_fini(&b);
	if (skipped)
		log_warnx("shutdown: %zu mounts in /proc/self/mountinfo left as they are (paths over %d bytes)",
			  skipped, MOUNTINFO_PATH - 1);
	while (n-- > 0)
		unmount_one(points[n], &done, &detached, &failed);
	mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
	log_info("unmounted %d filesystems (%d detached, %d failed)", done + detached, detached,
		 failed);
}

/*
 * Unmounts the mounts of the device dev and everything mounted below them, deepest
 * first, while /dev and /proc are still there (a wipe needs the device node).
 */
static void unmount_device(const char *dev)
{
	static struct mount_entry e[MOUNTS_MAX];
	struct buf b;
	size_t n = 0, off = 0;
	int done = 0, detached = 0, failed = 0, r;

	if (!read_mountinfo(&b))
		return;
	while (n < MOUNTS_MAX && (r = mountinfo_next((const char *)buf_head(&b), b.len, &off, &e[n])) >= 0)
		n += (size_t)r;
	buf_fini(&b);
	for (size_t i = 0; i < n; i++) {
		size_t pl = strlen(e[i].point);

		if (strcmp(e[i].source, dev) != 0 || strcmp(e[i].point, "/") == 0)
			continue;
		for (size_t k = n; k-- > 0;) {
			char under[MOUNTINFO_PATH + 2];
			bool below = k >= i && strncmp(e[k].point, e[i].point, pl) == 0 &&
				     (e[k].point[pl] == '/' || e[k].point[pl] == '\0');

			/* An overlay (a container's root) whose layers are on the volume keeps it busy. */
			snprintf(under, sizeof(under), "%s/", e[i].point);
			if (below || (strcmp(e[k].fstype, "overlay") == 0 && strstr(e[k].super, under)))
				unmount_one(e[k].point, &done, &detached, &failed);
		}
	}
	if (done + detached + failed)
		log_info("reset: %s unmounted (%d mount%s, %d detached, %d failed)", dev, done + detached,
			 done + detached == 1 ? "" : "s", detached, failed);
}

/*
 * Wipes a device nothing has mounted any more: the first and the last MiB (where the
 * partition's filesystem and any table keep their signatures) become zeros, so the next
 * boot finds it blank. O_EXCL: the kernel refuses a device still mounted.
 */
static void wipe_device(const char *path)
{
	static char zero[1 << 20];
	uint64_t size = 0;
	struct stat st;
	int fd = -1, ok = 0;

	/* A block device only, looked at before it is opened (opening a tty or a watchdog has
	 * effects of its own); O_EXCL: the kernel refuses one still mounted. */
	if (lstat(path, &st) < 0) {
		log_console("reset: %s not wiped: %s", path, strerror(errno));
		return;
	}
	if (!S_ISBLK(st.st_mode)) {
		log_console("reset: %s not wiped: not a block device", path);
		return;
	}
	fd = open(path, O_WRONLY | O_EXCL | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) || ioctl(fd, BLKGETSIZE64, &size) < 0) {
		log_console("reset: %s not wiped: %s", path, fd < 0 ? strerror(errno) : "not a block device");
		if (fd >= 0)
			close(fd);
		return;
	}
	for (int end = 0; end < 2; end++) {
		uint64_t len = size < sizeof(zero) ? size : sizeof(zero), off = end ? size - len : 0;

		if (pwrite(fd, zero, (size_t)len, (off_t)off) == (ssize_t)len)
			ok++;
	}
	if (fsync(fd) < 0)
		ok = 0;
	close(fd);
	if (ok == 2)
		log_console("reset: %s wiped", path);
	else
		log_console("reset: %s: writing zeros failed: %s", path, strerror(errno));
}

_Noreturn static void finish(struct shutdown *sd)
{
	int cmd = sd->action == SHUTDOWN_REBOOT ? RB_AUTOBOOT : RB_POWER_OFF;

	sd->phase = SD_FINAL;
	sync();
	for (size_t i = 0; i < sd->nwipe; i++) {
		if (sd->container) {
			log_console("reset: %s not wiped: init runs in a container, the device is not the node's", sd->wipe[i]);
		} else {
			unmount_device(sd->wipe[i]);
			wipe_device(sd->wipe[i]);
		}
	}
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

bool shutdown_begin_wipe(struct shutdown *sd, enum shutdown_action action, const char *why, char *const *wipe,
			 size_t nwipe)
{
	if (sd->phase != SD_IDLE) {
		for (size_t i = 0; i < nwipe; i++)
			log_console("reset: %s not wiped: a shutdown was under way already", wipe[i]);
		return shutdown_begin(sd, action, why);
	}
	sd->nwipe = 0;
	for (size_t i = 0; i < nwipe && i < sizeof(sd->wipe) / sizeof(sd->wipe[0]); i++)
		if (strlen(wipe[i]) < sizeof(sd->wipe[0]))
			snprintf(sd->wipe[sd->nwipe++], sizeof(sd->wipe[0]), "%s", wipe[i]);
	return shutdown_begin(sd, action, why);
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
