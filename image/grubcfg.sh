#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# grubcfg.sh DIR [ARGS [TAG]]: a grub.cfg whose kernel and initramfs are in DIR (/boot on
# the ISO, a slot's /A on the system disk's BOOT), with ARGS added to the kernel's and TAG
# to the entries' names: the normal entry, and a maintenance entry that ignores the
# installed config. Both consoles: the kernel writes to each; the last (serial) is
# /dev/console, and init repeats what a user must read (the maintenance fingerprint) on
# every console. The ISO, the disk image and the installer (which finds the disk's on the
# ISO as /boot/disk/grub.cfg) write theirs with it.
set -euo pipefail
dir=$1 extra=${2:-} tag=${3:-}
args="console=tty0 console=ttyS0,115200${extra:+ $extra}"
cat <<CFG
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
set timeout=3
set default=0
menuentry "Basalt $(cat VERSION)$tag" {
	linux $dir/vmlinuz $args
	initrd $dir/initramfs.xz
}
menuentry "Basalt $(cat VERSION)$tag, maintenance (ignore the installed config)" {
	linux $dir/vmlinuz $args basalt.maintenance=1
	initrd $dir/initramfs.xz
}
CFG
