#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# initramfs-list.sh FILE [cpio options]: lists both segments of an initramfs made by
# mkinitramfs.sh (xz-compressed cpio, then uncompressed cpio), as `cpio -it` would.
set -euo pipefail
file=$1
shift
xz -dc --single-stream "$file" | cpio -it --quiet "$@" 2>/dev/null
# The raw segment starts with the header of its first entry: magic 070701, inode 1.
off=$(grep -obUaF 07070100000001 "$file" | tail -1 | cut -d: -f1)
[[ -n "$off" ]] && tail -c +$((off + 1)) "$file" | cpio -it --quiet "$@" 2>/dev/null
