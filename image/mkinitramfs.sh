#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mkinitramfs.sh STAGING OUT.xz INIT ROOTFS.sqsh KMODDIR MODPATHS MKCPIO
# The initramfs: /init (stage 1), the early kernel modules with their indexes, the list of
# modules stage 1 always loads, and the root image. Reproducible: see image/mkcpio.c.
# Two concatenated segments, which the kernel unpacks in turn: an xz-compressed cpio with
# everything but the root image, then an uncompressed cpio holding rootfs.sqsh (already
# compressed; xz over it would cost the kernel most of a second under emulation for nothing).
set -euo pipefail
. "$(dirname "$0")/modules.sh"
staging=$1 out=$2 init=$3 sqsh=$4 kmoddir=$5 modpaths=$6 mkcpio=$7
: "${SOURCE_DATE_EPOCH:?}"
umask 022  # what the build creates must not depend on the caller's umask

rm -rf "$staging" "$staging.root"
mkdir -p "$staging"/{dev,proc,sys,run,newroot,etc/basalt} "$staging.root"
strip -o "$staging/init" "$init"
cp kernel/modules.early "$staging/etc/basalt/modules.early"
cp "$sqsh" "$staging.root/rootfs.sqsh"

install_modules "$staging" "$kmoddir" "$modpaths"
normalise_tree "$staging"

"$mkcpio" -t "$SOURCE_DATE_EPOCH" -n /dev/console:600:5:1 "$staging" |
	xz --check=crc32 --lzma2=preset=6 -T1 >"$out.tmp"
# The kernel looks for the next segment's header at a 4-byte aligned offset.
size=$(stat -c %s "$out.tmp")
head -c $(((4 - size % 4) % 4)) /dev/zero >>"$out.tmp"
"$mkcpio" -t "$SOURCE_DATE_EPOCH" "$staging.root" >>"$out.tmp"
mv "$out.tmp" "$out"
