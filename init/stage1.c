/* SPDX-License-Identifier: MIT */
#include "init/stage1.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/loop.h>

#include "init/modload.h"
#include "lib/cmdline.h"
#include "lib/log.h"
#include "lib/loop.h"

#define SQUASHFS_MAGIC_LE 0x73717368u
#define SQUASHFS_SB_SIZE 96

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int stage1_check_squashfs(int fd, char *err, size_t errlen)
{
	uint8_t sb[SQUASHFS_SB_SIZE];
	struct stat st;
	uint64_t used;
	ssize_t n;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "stat: %s", strerror(errno));
		return -errno;
	}
	n = pread(fd, sb, sizeof(sb), 0);
	if (n != (ssize_t)sizeof(sb)) {
		snprintf(err, errlen, "only %lld bytes, too short for a SquashFS superblock",
			 (long long)st.st_size);
		return -EINVAL;
	}
	if (le32(sb) != SQUASHFS_MAGIC_LE) {
		snprintf(err, errlen, "bad magic 0x%08x (want 0x%08x): not a SquashFS image", le32(sb),
			 SQUASHFS_MAGIC_LE);
		return -EINVAL;
	}
	if (sb[28] != 4 || sb[29] != 0) {
		snprintf(err, errlen, "SquashFS version %u.%u (want 4.0)", sb[28] | sb[29] << 8,
			 sb[30] | sb[31] << 8);
		return -EINVAL;
	}
	used = le64(sb + 40);
	if (used > (uint64_t)st.st_size || used < SQUASHFS_SB_SIZE) {
		snprintf(err, errlen, "truncated: superblock says %llu bytes, file has %lld",
			 (unsigned long long)used, (long long)st.st_size);
		return -EINVAL;
	}
	return 0;
}

_Noreturn static void fail_boot(const char *what, const char *detail)
{
	struct timespec ts = { .tv_sec = STAGE1_REBOOT_DELAY_S };

	log_warnx("FATAL: %s: %s", what, detail);
	log_warnx("FATAL: cannot boot; rebooting in %d s", STAGE1_REBOOT_DELAY_S);
	/* A deliberate pause so a person can read the console, not synchronisation. */
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	sync();
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

static void must_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		       const char *data)
{
	char detail[256];

	mkdir(dst, 0755);
	if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY) {
		snprintf(detail, sizeof(detail), "%s on %s: %s", type, dst, strerror(errno));
		fail_boot("mount", detail);
	}
}

static void mount_early(void)
{
	must_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	must_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	must_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	must_mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	must_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666");
	must_mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
}

static void report_cmdline(void *arg, const char *key, const char *value, const char *msg)
{
	(void)arg;
	log_warnx("kernel command line: %s%s%s: %s", key, value ? "=" : "", value ? value : "", msg);
}

static void read_cmdline(void)
{
	struct cmdline c;

	if (cmdline_read("/proc/cmdline", &c, report_cmdline, NULL) == 0) {
		log_set_debug(c.debug);
		cmdline_fini(&c);
	}
}

/*
 * Attaches the image read-only to a free loop device; returns the device's fd, which must
 * stay open until the mount holds the device (autoclear detaches it on last close).
 */
static int loop_attach(int img, char *dev, size_t devlen, char *err, size_t errlen)
{
	struct loop_config cfg = { .fd = (uint32_t)img };
	int ctl, nr, fd;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		snprintf(err, errlen, "open /dev/loop-control: %s (is the loop module loaded?)",
			 strerror(errno));
		return -errno;
	}
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0) {
		snprintf(err, errlen, "no free loop device: %s", strerror(errno));
		return -errno;
	}
	snprintf(dev, devlen, "/dev/loop%d", nr);
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "open %s: %s", dev, strerror(errno));
		return -errno;
	}
	cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
	snprintf((char *)cfg.info.lo_file_name, LO_NAME_SIZE, "%s", STAGE1_ROOT_IMAGE);
	if (ioctl(fd, LOOP_CONFIGURE, &cfg) < 0) {
		snprintf(err, errlen, "attach %s to %s: %s", STAGE1_ROOT_IMAGE, dev, strerror(errno));
		close(fd);
		return -errno;
	}
	return fd;
}

static void mount_root(void)
{
	char dev[32], err[256], detail[384];
	int img = open(STAGE1_ROOT_IMAGE, O_RDONLY | O_CLOEXEC), loopfd;

	if (img < 0) {
		snprintf(detail, sizeof(detail), "%s: %s (the initramfs must carry the root image)",
			 STAGE1_ROOT_IMAGE, strerror(errno));
		fail_boot("root image", detail);
	}
	if (stage1_check_squashfs(img, err, sizeof(err)) < 0) {
		snprintf(detail, sizeof(detail), "%s: %s", STAGE1_ROOT_IMAGE, err);
		fail_boot("root image is corrupt", detail);
	}
	loopfd = loop_attach(img, dev, sizeof(dev), err, sizeof(err));
	if (loopfd < 0)
		fail_boot("root image", err);
	close(img);
	mkdir(STAGE1_NEWROOT, 0755);
	if (mount(dev, STAGE1_NEWROOT, "squashfs", MS_RDONLY, NULL) < 0) {
		snprintf(detail, sizeof(detail), "mount %s (%s) as squashfs: %s", STAGE1_ROOT_IMAGE, dev,
			 strerror(errno));
		fail_boot("root image is corrupt", detail);
	}
	close(loopfd);
	if (access(STAGE1_NEWROOT "/sbin/init", X_OK) < 0) {
		snprintf(detail, sizeof(detail), "%s has no executable /sbin/init: %s",
			 STAGE1_ROOT_IMAGE, strerror(errno));
		fail_boot("root image", detail);
	}
	log_info("stage 1: mounted %s read-only on %s", STAGE1_ROOT_IMAGE, dev);
}

/* Frees the initramfs: deletes what lies on its device, never crossing into mounts. */
static void rm_tree(int dirfd, dev_t rootdev)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;

	if (!d) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != rootdev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				rm_tree(sub, rootdev);
			unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd, de->d_name, 0);
		}
	}
	closedir(d);
}

static void move_to_newroot(const char *what)
{
	char dst[64], detail[160];

	snprintf(dst, sizeof(dst), "%s%s", STAGE1_NEWROOT, what);
	if (mount(what, dst, NULL, MS_MOVE, NULL) < 0) {
		snprintf(detail, sizeof(detail), "%s to %s: %s", what, dst, strerror(errno));
		fail_boot("move mount", detail);
	}
}

_Noreturn static void switch_root(void)
{
	static const char *const moved[] = { "/dev", "/proc", "/sys", "/run" };
	char *const argv[] = { "/sbin/init", "--stage2", NULL };
	struct stat st;
	int rootfd;

	must_mount("tmpfs", STAGE1_NEWROOT "/system", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	must_mount("tmpfs", STAGE1_NEWROOT "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	must_mount("tmpfs", STAGE1_NEWROOT "/var", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	for (size_t i = 0; i < sizeof(moved) / sizeof(moved[0]); i++)
		move_to_newroot(moved[i]);
	rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd >= 0 && fstat(rootfd, &st) == 0)
		rm_tree(rootfd, st.st_dev);
	if (chdir(STAGE1_NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 ||
	    chroot(".") < 0 || chdir("/") < 0)
		fail_boot("switch_root", strerror(errno));
	log_info("stage 1: done at %llu ms of uptime, starting stage 2",
		 (unsigned long long)boot_ms());
	execv(argv[0], argv);
	fail_boot("exec /sbin/init --stage2", strerror(errno));
}

void stage1_main(void)
{
	mount_early();
	read_cmdline();
	log_info("stage 1: Basalt init starting");
	modload_boot("stage 1", "/etc/basalt/modules.early");
	mount_root();
	switch_root();
}
