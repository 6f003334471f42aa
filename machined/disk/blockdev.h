/* SPDX-License-Identifier: MIT */
/*
 * Block devices, mechanism only: the partitions the kernel lists in sysfs (found by their
 * GPT name), what a device holds (the filesystem signatures we know, blank, or data),
 * growing a system disk's last partition to a disk that got larger, mkfs and mount.
 * What is on a disk is outside input: every reader checks its bounds.
 */
#ifndef BASALT_DISK_BLOCKDEV_H
#define BASALT_DISK_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLK_PROBE_BYTES (64u * 1024u) /* what blk_fs_probe looks at */

struct blk_part {
	char name[32];  /* the kernel's name: vda5 */
	char disk[32];  /* its disk: vda */
	char label[40]; /* the GPT partition name: STATE */
	unsigned partno;
	uint64_t size;  /* bytes */
};

/* A whole disk, from sysfs (class/block/NAME and its device). */
struct blk_disk {
	char name[32];      /* vda */
	uint64_t size;      /* bytes */
	char model[64], serial[64], wwid[128], modalias[96];
	char transport[16]; /* virtio, nvme, sata, scsi, usb, mmc or "" */
	char bus_path[256]; /* under /sys/devices, up to the disk's own directory */
	char type[8];       /* nvme, sd (MMC/SD), hdd (rotational) or ssd */
	int rotational, readonly;
};

#define BLK_MAX_DISKS 32
/* blk_list_disks: up to max whole disks (no partitions, loop, ram, zram, device-mapper,
 * md, nbd or optical drives), sorted by name. The count, or -1 with err. */
int blk_list_disks(const char *sysfs, struct blk_disk *out, size_t max, char *err, size_t errlen);

/* blk_uevent_get: KEY's value in a sysfs uevent file's text ("KEY=value" lines); 0, or -1
 * when it is not there or does not fit out. */
int blk_uevent_get(const char *text, size_t len, const char *key, char *out, size_t outlen);

/* blk_find_part: the partition whose GPT name is label, looking through sysfs's
 * class/block. 0 when found, 1 when no partition has it, -1 with err when two do. */
int blk_find_part(const char *sysfs, const char *label, struct blk_part *out, char *err, size_t errlen);

/* A size as people read it: "2.1 GB", "105.0 MB" (powers of 1000, one decimal). */
void blk_pretty_size(uint64_t bytes, char *out, size_t len);

/* blk_fs_probe: what the first bytes of a device say it holds: "xfs", "ext4", "vfat",
 * "iso9660", "squashfs", "gpt", "mbr" (a partition table), NULL when every byte is zero
 * (blank), "data" otherwise. */
const char *blk_fs_probe(const uint8_t *buf, size_t len);

/* The label of the filesystem fs ("iso9660": its volume id; "vfat": its volume label) the
 * first bytes carry, trailing blanks cut; "" when it has none. */
void blk_fs_label(const uint8_t *buf, size_t len, const char *fs, char *out, size_t outlen);
/*
 * The first block device (a whole disk, or a partition unless whole_only; skip, loop and
 * ram devices left out) holding a vfat or iso9660 filesystem labelled label, in any case:
 * 0 with its path (devdir/name) in out and its type in *fs, 1 when there is none.
 */
int blk_find_labelled(const char *sysfs, const char *devdir, const char *label, const char *skip, bool whole_only,
		      char *out, size_t outlen, const char **fs);

/* blk_probe_dev: blk_fs_probe on the device at path; -1 with err when it cannot be read. */
int blk_probe_dev(const char *path, const char **what, char *err, size_t errlen);

/*
 * blk_grow_disk: when the disk at path has grown past the GPT on it, moves the end of its
 * last partition (and the backup table) to the disk's end and tells the kernel the
 * partition's new size. 0 when it grew (*grown_mib says by how much), 1 when there was
 * nothing to grow, -1 with err.
 */
int blk_grow_disk(const char *path, uint64_t *grown_mib, char *err, size_t errlen);

/* blk_mkfs: runs argv (a mkfs) to completion; -1 with err holding its last line of
 * output (or how it failed) when it does not exit 0. */
int blk_mkfs(char *const *argv, char *err, size_t errlen);

/* blk_mount: mounts the device on dir (made when missing) unless it is mounted there
 * already (a restarted machined): 0 mounted now, 1 already there, -1 with err. */
int blk_mount(const char *dev, const char *dir, const char *fstype, unsigned long flags, char *err,
	      size_t errlen);

#endif
