#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mkiso.sh OUT.iso GRUBDIR ID VMLINUZ INITRAMFS
# The hybrid ISO: boots with BIOS (El Torito, and from a USB stick through its MBR) and with
# UEFI (an EFI system partition image holding GRUB as /EFI/BOOT/BOOTX64.EFI). GRUBDIR is
# what image/mkgrub.sh built for the medium marked ID. Two menu entries: a normal boot,
# and a maintenance boot that ignores any installed config (basalt.maintenance=1).
# Reproducible: every date is SOURCE_DATE_EPOCH, the FAT's serial is fixed, and xorriso
# derives its volume and GPT identifiers from the date.
set -euo pipefail
# FAT keeps local times and tools sort by locale: neither may depend on the build host.
export TZ=UTC LC_ALL=C
umask 022
iso=$1 grub=$2 id=$3 vmlinuz=$4 initrd=$5
: "${SOURCE_DATE_EPOCH:?SOURCE_DATE_EPOCH not set}"
work=$iso.d
rm -rf "$work" "$iso"
mkdir -p "$work/root/boot/grub"
root=$work/root

image/grubcfg.sh /boot >"$root/boot/grub/grub.cfg"
echo "Basalt $(cat VERSION) boot medium" >"$root/boot/grub/$id"
cp "$vmlinuz" "$root/boot/vmlinuz"
cp "$initrd" "$root/boot/initramfs.xz"
cp "$grub/bios.img" "$root/boot/grub/bios.img"
# What the installer writes to a system disk besides the kernel and initramfs.
mkdir -p "$root/boot/disk"
cp "$grub/disk/core.img" "$grub/disk/boot.img" "$grub/disk/BOOTX64.EFI" "$root/boot/disk/"
image/grubcfg.sh /A basalt.boot=disk " (A)" >"$root/boot/disk/grub.cfg"

# The EFI system partition image: FAT, fixed serial and dates.
efi=$root/boot/grub/efi.img
kib=$((($(stat -c %s "$grub/BOOTX64.EFI") / 1024 + 256) / 32 * 32 + 32))
mkfs.vfat -C -i 0ba5a170 -n BASALT-EFI --invariant "$efi" "$kib" >/dev/null
mkdir -p "$work/efi/EFI/BOOT"
cp "$grub/BOOTX64.EFI" "$work/efi/EFI/BOOT/BOOTX64.EFI"
find "$work/efi" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
MTOOLS_SKIP_CHECK=1 mmd -i "$efi" ::/EFI ::/EFI/BOOT
MTOOLS_SKIP_CHECK=1 mcopy -m -i "$efi" "$work/efi/EFI/BOOT/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

xorriso -report_about SORRY -as mkisofs -iso-level 3 -r -V BASALT \
	-b boot/grub/bios.img -no-emul-boot -boot-load-size 4 -boot-info-table --grub2-boot-info \
	--grub2-mbr "$grub/boot_hybrid.img" \
	--efi-boot boot/grub/efi.img -efi-boot-part --efi-boot-image --protective-msdos-label \
	-o "$iso" "$root" 2>"$work/xorriso.log" || { cat "$work/xorriso.log" >&2; exit 1; }
rm -rf "$work"
