/* SPDX-License-Identifier: MIT */
/*
 * Installing Basalt onto a disk from the boot medium (the ISO): a new GPT with the system
 * disk's layout and fresh GUIDs, GRUB for BIOS (the MBR's boot code and the core image in
 * the BIOS partition) and UEFI (EFI/BOOT/BOOTX64.EFI), BOOT with grub/grub.cfg and slot
 * A's kernel and initramfs, STATE and EPHEMERAL formatted (xfs) and the node's persisted
 * files (its config and identity) copied onto STATE. Whatever was on the disk is gone:
 * the caller decides whether that may be done (machine.install.wipe).
 */
#ifndef BASALT_DISK_INSTALL_H
#define BASALT_DISK_INSTALL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/gpt.h"

struct install_req {
	const char *disk;        /* /dev/vda */
	const char *devdir;      /* /dev: where the new partitions' nodes appear */
	const char *medium;      /* where the boot medium is mounted (boot/vmlinuz, boot/initramfs.xz, boot/disk/) */
	const char *work;        /* a directory for the installer's mount points */
	const char *mkfs_xfs, *mkfs_fat;
	const char *state_from;  /* the running node's state directory */
	const char *const *state_files; /* the names copied from it onto STATE (NULL-terminated; missing ones skipped) */
	uint8_t guids[GPT_P_COUNT + 1][16];
};

/* disk_install: 0, or -1 with err naming the step that failed. Progress goes to the
 * console, one line a step. */
int disk_install(const struct install_req *r, char *err, size_t errlen);

/* disk_part_name: the kernel's name of partition n of disk ("vda" 3 → "vda3", "nvme0n1"
 * 3 → "nvme0n1p3"). */
void disk_part_name(const char *disk, unsigned n, char *out, size_t outlen);

/*
 * disk_find_medium: the block device holding the Basalt boot medium (an iso9660 volume
 * labelled BASALT: the ISO as a CD, or written to a USB stick), skipping the disk named
 * skip. 0 with its path in out, 1 when there is none.
 */
int disk_find_medium(const char *sysfs, const char *devdir, const char *skip, char *out, size_t outlen);

#endif
