#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What is inside the boot assets: no shell anywhere, static binaries of ours, a closed
# shared-library closure for the third-party programs, os-release, kernel modules.
#   contents.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
sqsh=$out/image/rootfs.sqsh
staging=$out/image/rootfs
t=$(test_dir)
plan 17

unsquashfs -d "" -lc "$sqsh" 2>/dev/null | sed 's|^squashfs-root||' | sort >"$t/rootfs.list"
image/initramfs-list.sh "$out/initramfs.xz" | sort >"$t/initramfs.list"
image/initramfs-list.sh "$out/initramfs.xz" -v --numeric-uid-gid >"$t/initramfs.long"
note "rootfs: $(wc -l <"$t/rootfs.list") entries; initramfs: $(wc -l <"$t/initramfs.list") entries"

# A shell is found by what it is, not its name: an ELF carrying a shell grammar's keyword
# table (at least 5 of these as separate strings; dash has 6, bash 7, our binaries 2 at most).
is_shell() {
	local s n=0 w
	s=$(strings -n 2 "$1" 2>/dev/null)
	for w in esac elif then done case while until fi; do grep -qx "$w" <<<"$s" && n=$((n + 1)); done
	((n >= 5))
}
elfs() { find "$1" -type f -print0 | while IFS= read -r -d '' f; do [[ $(head -c 4 "$f" 2>/dev/null) == $'\x7fELF' ]] && echo "$f"; done; }
mkdir -p "$t/initramfs"
(cd "$t/initramfs" && xz -dc --single-stream "$out/initramfs.xz" | cpio -id --quiet --no-absolute-filenames 2>/dev/null)
ref=$(command -v dash || command -v bash)
if is_shell "$ref" && ! is_shell "$staging/sbin/machined"; then
	shells=$(for f in $(elfs "$staging") $(elfs "$t/initramfs"); do is_shell "$f" && echo "$f"; done)
	named=$(grep -E '/(sh|bash|dash|ash|zsh|ksh|mksh|busybox|toybox)$' "$t/rootfs.list" "$t/initramfs.list")
	if [[ -z "$shells$named" && -s "$t/rootfs.list" ]]; then
		ok "no shell in the image: no ELF is a shell interpreter ($(elfs "$staging" | wc -l) checked), none named like one"
	else
		not_ok "no shell in the image" $shells $named
	fi
else
	not_ok "the shell detector knows a shell ($ref) from machined"
fi
scripts=$(find "$staging" "$t/initramfs" -type f -print0 | while IFS= read -r -d '' f; do [[ $(head -c 2 "$f" 2>/dev/null) == '#!' ]] && echo "${f#$t/}"; done)
[[ -z "$scripts" ]] && ok "no scripts in the image (nothing there needs an interpreter)" || not_ok "no scripts in the image" $scripts
pm=$(grep -E '/(dpkg|dpkg-deb|apt|apt-get|aptitude|rpm|yum|dnf|apk|opkg|pip[0-9.]*|pacman|zypper)$|^/var/lib/(dpkg|apt|rpm)(/|$)' "$t/rootfs.list" "$t/initramfs.list")
[[ -z "$pm" ]] && ok "no package manager or package database in the image" || not_ok "no package manager in the image" $pm

for f in /sbin/init /sbin/machined /sbin/discoveryd /sbin/modprobe /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 \
	/usr/sbin/runc /usr/bin/etcd /etc/os-release /etc/containerd/config.toml /lib64 /usr/lib64/ld-linux-x86-64.so.2; do
	grep -qx "$f" "$t/rootfs.list" || missing+=" $f"
done
if [[ -z "${missing:-}" ]]; then ok "rootfs holds init, machined, containerd, runc, etcd and their loader"; else not_ok "rootfs holds what it should" "missing:$missing"; fi

# The third-party programs run from the image's own library closure (Debian 13's glibc,
# not the build host's), and are the versions the lock promises.
for p in "containerd:/usr/bin/containerd --version:containerd .* 1\.7\." "runc:/usr/sbin/runc --version:^runc version 1\.1\." \
	"etcd:/usr/bin/etcd --version:^etcd Version: 3\.5\."; do
	IFS=: read -r name cmd re <<<"$p"
	# shellcheck disable=SC2086
	v=$(chroot "$staging" $cmd 2>&1 | head -3)
	if grep -qE "$re" <<<"$v"; then ok "$name runs from the image's closure: $(grep -E "$re" <<<"$v" | head -1)"; else not_ok "$name runs from the image's closure" "$v"; fi
done

for f in init rootfs.sqsh etc/basalt/modules.early dev/console; do
	grep -qx "$f" "$t/initramfs.list" || imissing+=" $f"
done
if [[ -z "${imissing:-}" ]]; then ok "initramfs holds /init, the root image and the early module list"; else not_ok "initramfs contents" "missing:$imissing"; fi
if grep -qE '^crw------- .* 5, +1 .* dev/console$' "$t/initramfs.long"; then ok "initramfs has /dev/console (5,1)"; else not_ok "initramfs has /dev/console" "$(grep console "$t/initramfs.long")"; fi
if awk '{ print $3 $4 }' "$t/initramfs.long" | grep -qv '^00$'; then not_ok "initramfs entries owned by 0:0"; else ok "initramfs entries owned by 0:0"; fi

for b in sbin/init sbin/machined sbin/discoveryd; do
	if readelf -l "$staging/$b" | grep -q 'Requesting program interpreter' || readelf -d "$staging/$b" | grep -q NEEDED; then
		not_ok "$b is a static executable"
	else
		ok "$b is a static executable ($(stat -c %s "$staging/$b") bytes)"
	fi
done

# Every NEEDED library of every ELF in the rootfs is in the rootfs.
unresolved=
while IFS= read -r -d '' f; do
	readelf -h "$f" >/dev/null 2>&1 || continue
	for lib in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		found=
		for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64 usr/lib64; do
			[[ -e "$staging/$d/$lib" ]] && found=1
		done
		[[ -n "$found" ]] || unresolved+=" ${f#$staging}:$lib"
	done
done < <(find "$staging" -type f -perm -u+x -print0)
if [[ -z "$unresolved" ]]; then ok "shared-library closure is complete"; else not_ok "shared-library closure is complete" "$unresolved"; fi

if grep -q '^NAME="Basalt"$' "$staging/etc/os-release" && grep -q "^VERSION_ID=$(cat VERSION)$" "$staging/etc/os-release"; then
	ok "os-release names Basalt $(cat VERSION)"
else
	not_ok "os-release names Basalt" "$(cat "$staging/etc/os-release")"
fi

krel=$(ls "$staging/lib/modules")
for m in wireguard bonding 8021q bridge veth br_netfilter overlay; do
	grep -q "/$m.ko:" "$staging/lib/modules/$krel/modules.dep" || mmissing+=" $m"
done
if [[ -z "${mmissing:-}" ]]; then ok "rootfs modules.dep lists the later modules (wireguard, bonding, 8021q, ...)"; else not_ok "rootfs modules" "missing:$mmissing"; fi
for m in squashfs loop virtio_blk evdev button; do
	grep -qE "/$m.ko$" "$t/initramfs.list" || emissing+=" $m"
done
if [[ -z "${emissing:-}" ]]; then ok "initramfs carries the early modules"; else not_ok "initramfs early modules" "missing:$emissing"; fi
finish
