#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mkgrub.sh BOOTPKGDIR OUTDIR ID
# Builds the GRUB images every boot medium uses, from the pinned packages of
# image/boot.lock extracted in BOOTPKGDIR (grub-mkimage runs on their own loader and
# libraries): OUTDIR/bios.img (El Torito, for the ISO), OUTDIR/core.img (for a disk's BIOS
# boot partition), OUTDIR/boot.img and boot_hybrid.img (the MBR code) and OUTDIR/BOOTX64.EFI.
# Each has the modules it needs built in and an early config that finds the medium by the
# file /boot/grub/ID and reads /boot/grub/grub.cfg from it, so no module directory is
# shipped and a second Basalt medium in the machine is not taken for this one.
set -euo pipefail
pkg=$1 out=$2 id=$3
lib=$pkg/libc6/usr/lib/x86_64-linux-gnu
libpath=$lib
for p in liblzma5 libdevmapper1.02.1 libselinux1 libudev1 libpcre2-8-0; do
	for d in "$pkg/$p/usr/lib/x86_64-linux-gnu" "$pkg/$p/lib/x86_64-linux-gnu"; do
		[[ -d $d ]] && libpath+=:$d
	done
done
mkimage() {
	"$lib/ld-linux-x86-64.so.2" --library-path "$libpath" "$pkg/grub-common/usr/bin/grub-mkimage" "$@"
}
bios=$pkg/grub-pc-bin/usr/lib/grub/i386-pc
efi=$pkg/grub-efi-amd64-bin/usr/lib/grub/x86_64-efi
rm -rf "$out"
mkdir -p "$out"

cat >"$out/early.cfg" <<EOF
search --no-floppy --set=root --file /boot/grub/$id
set prefix=(\$root)/boot/grub
EOF
# What the menu needs: disks and partition tables (CD, GPT, MBR), the filesystems the
# media carry (ISO 9660, FAT, ext2 for a BOOT partition), the Linux loader, a serial
# terminal beside the screen, and the menu itself.
common=(part_gpt part_msdos iso9660 fat ext2 search search_fs_file search_label normal configfile
	linux echo test serial terminal gzio sleep halt reboot)
mkimage -O i386-pc-eltorito -d "$bios" -p /boot/grub -c "$out/early.cfg" -o "$out/bios.img" \
	biosdisk "${common[@]}"
mkimage -O i386-pc -d "$bios" -p /boot/grub -c "$out/early.cfg" -o "$out/core.img" \
	biosdisk "${common[@]}"
cp "$bios/boot.img" "$bios/boot_hybrid.img" "$out/"
mkimage -O x86_64-efi -d "$efi" -p /boot/grub -c "$out/early.cfg" -o "$out/BOOTX64.EFI" \
	efi_gop efi_uga all_video "${common[@]}"

# The system disk's GRUB (image/mkdisk.sh, and the installer, which finds these on the ISO):
# no early config, its prefix is the BOOT partition (the third) of the disk it was loaded
# from, which holds grub/grub.cfg and the kernels of slots A and B.
mkdir -p "$out/disk"
mkimage -O i386-pc -d "$bios" -p '(,gpt3)/grub' -o "$out/disk/core.img" biosdisk "${common[@]}"
cp "$bios/boot.img" "$out/disk/boot.img"
mkimage -O x86_64-efi -d "$efi" -p '(,gpt3)/grub' -o "$out/disk/BOOTX64.EFI" \
	efi_gop efi_uga all_video "${common[@]}"
