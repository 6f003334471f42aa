/* SPDX-License-Identifier: MIT */
/* Installing to a disk: see install.h. */
#include "machined/disk/install.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/atomicfile.h"
#include "lib/log.h"
#include "machined/disk/blockdev.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)
#define SAY(...) snprintf(err, errlen, __VA_ARGS__)
#define MIB (1024u * 1024u)
#define CORE_MAX MIB /* the BIOS boot partition */

void disk_part_name(const char *disk, unsigned n, char *out, size_t outlen)
{
	size_t len = strlen(disk);

	snprintf(out, outlen, "%s%s%u", disk, len && isdigit((unsigned char)disk[len - 1]) ? "p" : "", n);
}

/* A whole small file (1 to max bytes) into a fresh buffer. */
static uint8_t *slurp(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	char *buf = NULL;
	int r = read_file(path, max, &buf, len);

	if (r < 0 || *len == 0) {
		SAY("%s: %s", path, r == -EFBIG ? "larger than expected" : r < 0 ? strerror(-r) : "empty");
		free(buf);
		return NULL;
	}
	return (uint8_t *)buf;
}

/* Copies src to dst (created, mode), synced. */
static int copy_file(const char *src, const char *dst, mode_t mode, char *err, size_t errlen)
{
	static char buf[256 * 1024];
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, r = 0;

	if (in < 0)
		return ERR("%s: %s", src, strerror(errno));
	if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0) {
		r = ERR("%s: %s", dst, strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = ERR("read %s: %s", src, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((r = fd_write_all(out, buf, (size_t)n)) < 0) {
			r = ERR("write %s: %s", dst, strerror(-r));
			goto out;
		}
	}
	if (fsync(out) < 0)
		r = ERR("fsync %s: %s", dst, strerror(errno));
out:
	if (out >= 0)
		close(out);
	close(in);
	return r;
}

/* Waits (up to 10 s) for the kernel to make a device node after a re-read of the table. */
static int wait_node(const char *path)
{
	for (int i = 0; i < 200; i++) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
			return 0;
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
	}
	return -1;
}

/* The table, the boot code and the core image, then the kernel's view of them. */
static int write_table(const struct install_req *r, struct gpt *g, char *err, size_t errlen)
{
	static uint8_t head[GPT_HEAD_SECTORS * GPT_SECTOR], tail[GPT_TAIL_SECTORS * GPT_SECTOR];
	static uint8_t zero[MIB];
	char path[512], why[256];
	uint8_t *boot = NULL, *core = NULL, code[440];
	size_t blen = 0, clen = 0;
	uint64_t bytes = 0;
	int ssz = 0, fd, rc = -1, e;

	if ((fd = open(r->disk, O_RDWR | O_EXCL | O_CLOEXEC)) < 0)
		return ERR("open %s: %s%s", r->disk, strerror(errno), errno == EBUSY ? " (in use: mounted?)" : "");
	if (ioctl(fd, BLKGETSIZE64, &bytes) < 0 || ioctl(fd, BLKSSZGET, &ssz) < 0) {
		SAY("%s: size: %s", r->disk, strerror(errno));
		goto out;
	}
	if (ssz != GPT_SECTOR) {
		SAY("%s has %d-byte sectors: only 512 are supported", r->disk, ssz);
		goto out;
	}
	if (gpt_basalt_layout(bytes / GPT_SECTOR, r->guids, g, why, sizeof(why)) < 0) {
		SAY("%s: %s", r->disk, why);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/boot/disk/boot.img", r->medium);
	if (!(boot = slurp(path, 512, &blen, err, errlen)))
		goto out;
	snprintf(path, sizeof(path), "%s/boot/disk/core.img", r->medium);
	if (!(core = slurp(path, CORE_MAX, &clen, err, errlen)))
		goto out;
	/* grub-mkimage's core image ends where it ends: padded to whole sectors here. */
	size_t padded = (clen + GPT_SECTOR - 1) / GPT_SECTOR * GPT_SECTOR;
	uint8_t *grown = realloc(core, padded);
	if (!grown) {
		SAY("out of memory");
		goto out;
	}
	core = grown;
	memset(core + clen, 0, padded - clen);
	clen = padded;
	uint64_t core_lba = g->part[GPT_P_BIOS].first;
	if (blen != 512 || gpt_grub_mbr(boot, core_lba, code, why, sizeof(why)) < 0 ||
	    gpt_grub_core(core, clen, core_lba, why, sizeof(why)) < 0) {
		SAY("the medium's GRUB images: %s", blen != 512 ? "boot.img is not 512 bytes" : why);
		goto out;
	}
	if (gpt_encode(g, code, head, tail, why, sizeof(why)) < 0) {
		SAY("%s: %s", r->disk, why);
		goto out;
	}
	/* What was there goes first: both ends of the disk (old tables) and the start of every
	 * new partition (old filesystems' signatures). */
	if ((e = fd_pwrite_all(fd, zero, MIB, 0)) < 0 || (e = fd_pwrite_all(fd, zero, MIB, bytes - MIB)) < 0)
		goto werr;
	for (unsigned i = 0; i < g->n; i++) {
		uint64_t len = (g->part[i].last - g->part[i].first + 1) * GPT_SECTOR;
		if ((e = fd_pwrite_all(fd, zero, len < MIB ? len : MIB, g->part[i].first * GPT_SECTOR)) < 0)
			goto werr;
	}
	if ((e = fd_pwrite_all(fd, core, clen, core_lba * GPT_SECTOR)) < 0 ||
	    (e = fd_pwrite_all(fd, tail, sizeof(tail), bytes - sizeof(tail))) < 0 || (e = fd_pwrite_all(fd, head, sizeof(head), 0)) < 0)
		goto werr;
	if (fsync(fd) < 0) {
		e = -errno;
		goto werr;
	}
	if (ioctl(fd, BLKRRPART) < 0) {
		SAY("%s: the kernel did not re-read the new partition table: %s", r->disk, strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
werr:
	SAY("write %s: %s", r->disk, strerror(-e));
out:
	free(boot);
	free(core);
	close(fd);
	return rc;
}

static int mkfs(const char *tool, const char *label, const char *dev, const char *fat, char *err, size_t errlen)
{
	char *xfs[] = { (char *)tool, "-q", "-L", (char *)label, (char *)dev, NULL };
	char *vfat[] = { (char *)tool, "-F", (char *)fat, "-n", (char *)label, (char *)dev, NULL };

	return blk_mkfs(fat ? vfat : xfs, err, errlen);
}

/* Mounts dev on work/name, runs the copies, unmounts. */
struct copy {
	const char *from; /* relative to the medium, or absolute */
	const char *to;   /* relative to the filesystem's root */
	mode_t mode;
};

static int fill(const struct install_req *r, const char *dev, const char *fstype, const char *name,
		const struct copy *copies, size_t n, char *err, size_t errlen)
{
	char dir[512], src[512], dst[600];
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/%s", r->work, name);
	if (mkdir_parents(dir, 0700) < 0)
		return ERR("mkdir %s: %s", dir, strerror(errno));
	if (mount(dev, dir, fstype, MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return ERR("mount %s on %s (%s): %s", dev, dir, fstype, strerror(errno));
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (copies[i].from[0] == '/')
			snprintf(src, sizeof(src), "%s", copies[i].from);
		else
			snprintf(src, sizeof(src), "%s/%s", r->medium, copies[i].from);
		snprintf(dst, sizeof(dst), "%s/%s", dir, copies[i].to);
		char *slash = strrchr(dst, '/');
		*slash = '\0';
		if (mkdir_parents(dst, 0755) < 0)
			rc = ERR("mkdir %s: %s", dst, strerror(errno));
		*slash = '/';
		if (rc == 0 && access(src, F_OK) == 0)
			rc = copy_file(src, dst, copies[i].mode, err, errlen);
	}
	if (umount(dir) < 0 && rc == 0)
		rc = ERR("unmount %s: %s", dir, strerror(errno));
	return rc;
}

int disk_install(const struct install_req *r, char *err, size_t errlen)
{
	char dev[GPT_P_COUNT][96], name[64];
	const char *disk = strrchr(r->disk, '/') ? strrchr(r->disk, '/') + 1 : r->disk;
	struct gpt g;

	log_console("install: writing the system disk's partition table and GRUB to %s", r->disk);
	if (write_table(r, &g, err, errlen) < 0)
		return -1;
	for (int i = 0; i < GPT_P_COUNT; i++) {
		disk_part_name(disk, (unsigned)i + 1, name, sizeof(name));
		snprintf(dev[i], sizeof(dev[i]), "%s/%s", r->devdir, name);
		if (wait_node(dev[i]) < 0)
			return ERR("%s did not appear after the table was re-read", dev[i]);
	}
	log_console("install: formatting EFI and BOOT (vfat), STATE and EPHEMERAL (xfs)");
	if (mkfs(r->mkfs_fat, "BASALT-EFI", dev[GPT_P_EFI], "16", err, errlen) < 0 ||
	    mkfs(r->mkfs_fat, "BASALT-BOOT", dev[GPT_P_BOOT], "32", err, errlen) < 0 ||
	    mkfs(r->mkfs_xfs, "STATE", dev[GPT_P_STATE], NULL, err, errlen) < 0 ||
	    mkfs(r->mkfs_xfs, "EPHEMERAL", dev[GPT_P_EPHEMERAL], NULL, err, errlen) < 0)
		return -1;
	static const struct copy efi[] = { { "boot/disk/BOOTX64.EFI", "EFI/BOOT/BOOTX64.EFI", 0644 } };
	static const struct copy boot[] = {
		{ "boot/disk/grub.cfg", "grub/grub.cfg", 0644 },
		{ "boot/vmlinuz", "A/vmlinuz", 0644 },
		{ "boot/initramfs.xz", "A/initramfs.xz", 0644 },
	};
	log_console("install: copying GRUB for UEFI and slot A's kernel and initramfs from the boot medium");
	if (fill(r, dev[GPT_P_EFI], "vfat", "efi", efi, 1, err, errlen) < 0 ||
	    fill(r, dev[GPT_P_BOOT], "vfat", "boot", boot, 3, err, errlen) < 0)
		return -1;
	struct copy state[8];
	char from[8][512];
	size_t n = 0;
	for (; r->state_files && r->state_files[n] && n < 8; n++) {
		snprintf(from[n], sizeof(from[n]), "%s/%s", r->state_from, r->state_files[n]);
		state[n] = (struct copy){ from[n], r->state_files[n], 0600 };
	}
	log_console("install: keeping the config and the node identity on STATE");
	if (fill(r, dev[GPT_P_STATE], "xfs", "state", state, n, err, errlen) < 0)
		return -1;
	sync();
	return 0;
}

int disk_find_medium(const char *sysfs, const char *devdir, const char *skip, char *out, size_t outlen)
{
	const char *fs = NULL;

	/* A whole disk only: a hybrid ISO's partitions are not the medium. */
	if (blk_find_labelled(sysfs, devdir, "BASALT", skip, true, out, outlen, &fs) != 0)
		return 1;
	return strcmp(fs, "iso9660") == 0 ? 0 : 1;
}
