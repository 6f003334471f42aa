#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mkdisk.sh OUT.raw OUT.qcow2 GRUBDIR ID VMLINUZ INITRAMFS MKDISK
# The system disk image for clouds and VMs, raw and qcow2: GPT with EFI, BIOS, BOOT, META,
# STATE and EPHEMERAL (lib/gpt.c), GRUB for BIOS (the MBR and the BIOS boot partition) and
# UEFI (EFI/BOOT/BOOTX64.EFI), and BOOT holding grub/grub.cfg and slot A's kernel and
# initramfs. The node formats STATE and EPHEMERAL on its first boot, growing EPHEMERAL
# to the end of a larger disk. Reproducible: FAT serials and dates are fixed, GUIDs come
# from ID.
set -euo pipefail
export TZ=UTC LC_ALL=C
umask 022
raw=$1 qcow=$2 grub=$3 id=$4 vmlinuz=$5 initrd=$6 mkdisk=$7
: "${SOURCE_DATE_EPOCH:?SOURCE_DATE_EPOCH not set}"
size_mib=${DISK_SIZE_MIB:-1024}
work=$raw.d
rm -rf "$work" "$raw" "$qcow"
mkdir -p "$work"
export MTOOLS_SKIP_CHECK=1

# FAT images the size of their partitions (lib/gpt.c: EFI 100 MiB, BOOT 400 MiB).
fat() { mkfs.vfat -C -i "$2" -n "$3" ${4:+-F "$4"} --invariant "$1" "$5" >/dev/null; }
stamp() { touch -h -d "@$SOURCE_DATE_EPOCH" "$@"; }
fat "$work/efi.img" 0ba5a171 BASALT-EFI "" 102400
mkdir -p "$work/efi/EFI/BOOT"
cp "$grub/disk/BOOTX64.EFI" "$work/efi/EFI/BOOT/BOOTX64.EFI"
find "$work/efi" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mmd -i "$work/efi.img" ::/EFI ::/EFI/BOOT
mcopy -m -i "$work/efi.img" "$work/efi/EFI/BOOT/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

fat "$work/boot.img" 0ba5a172 BASALT-BOOT 32 409600
mkdir -p "$work/boot/grub" "$work/boot/A"
image/grubcfg.sh /A basalt.boot=disk " (A)" >"$work/boot/grub/grub.cfg"
cp "$vmlinuz" "$work/boot/A/vmlinuz"
cp "$initrd" "$work/boot/A/initramfs.xz"
find "$work/boot" -type f -exec chmod 0644 {} +
find "$work/boot" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mmd -i "$work/boot.img" ::/grub ::/A
for f in grub/grub.cfg A/vmlinuz A/initramfs.xz; do
	mcopy -m -i "$work/boot.img" "$work/boot/$f" "::/$f"
done

"$mkdisk" "$raw" "$size_mib" "$id" "$grub/disk/boot.img" "$grub/disk/core.img" "$work/efi.img" "$work/boot.img"
qemu-img convert -f raw -O qcow2 "$raw" "$qcow"
rm -rf "$work"
