/* SPDX-License-Identifier: MIT */
/* Stage 1, in the initramfs: mounts, modules, the SquashFS root, switch_root. */
#ifndef BASALT_STAGE1_H
#define BASALT_STAGE1_H

#include <stddef.h>
#include <stdint.h>

#define STAGE1_ROOT_IMAGE "/rootfs.sqsh"
#define STAGE1_NEWROOT "/newroot"
#define STAGE1_REBOOT_DELAY_S 10

/* Checks a SquashFS image's superblock against the file size; err says what is wrong. */
int stage1_check_squashfs(int fd, char *err, size_t errlen);

/* Never returns: execs stage 2, or reports the failure and reboots. */
_Noreturn void stage1_main(void);

#endif
