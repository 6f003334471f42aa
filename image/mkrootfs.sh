#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mkrootfs.sh STAGING OUT.sqsh BINDIR PKGDIR KMODDIR MODPATHS WITH_PACKAGES(0|1)
# Assembles the root filesystem tree in STAGING and packs it as a reproducible SquashFS:
# our static binaries, the /etc skeleton, third-party programs from pinned packages with
# their shared-library closure, and the kernel modules listed in MODPATHS (with indexes).
set -euo pipefail
. "$(dirname "$0")/modules.sh"
staging=$1 sqsh=$2 bindir=$3 pkgdir=$4 kmoddir=$5 modpaths=$6 with_pkgs=$7
: "${SOURCE_DATE_EPOCH:?}"
umask 022  # what the build creates must not depend on the caller's umask
version=$(cat VERSION)

rm -rf "$staging"
mkdir -p "$staging"
cd "$staging"
mkdir -p dev proc sys run tmp var system etc/basalt sbin usr/bin usr/sbin lib/modules
chmod 1777 tmp
cd - >/dev/null

# Our binaries, stripped; modprobe is init under another name.
strip -o "$staging/sbin/init" "$bindir/init"
strip -o "$staging/sbin/machined" "$bindir/machined"
ln -s init "$staging/sbin/modprobe"

cp -a rootfs/etc/. "$staging/etc/"
rm "$staging/etc/os-release.in"
sed "s/@VERSION@/$version/g" rootfs/etc/os-release.in >"$staging/etc/os-release"
ln -s ../system/resolv.conf "$staging/etc/resolv.conf"

# Copies a file (and the chain of symlinks to it) from package tree $1, path $2.
copy_from_pkg() {
	local root=$1 path=$2
	while :; do
		mkdir -p "$staging$(dirname "$path")"
		cp -a "$root$path" "$staging$path"
		[[ -L "$root$path" ]] || break
		local target
		target=$(readlink "$root$path")
		[[ "$target" == /* ]] || target="$(dirname "$path")/$target"
		path=$(realpath -sm "$target")
	done
}

# Finds a shared library by soname in the extracted packages.
find_lib() {
	local name=$1 d
	for d in "$pkgdir"/*/; do
		for sub in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64; do
			if [[ -e "$d$sub/$name" ]]; then
				echo "${d%/} /$sub/$name"
				return 0
			fi
		done
	done
	return 1
}

# Adds ELF $1's interpreter $2 from the package that has it at that path, or under /usr in
# a merged-/usr package (Debian 13: /usr/lib64/ld-linux...), with /lib64 linked to it.
add_interp() {
	local elf=$1 interp=$2 d
	for d in "$pkgdir"/*/; do
		d=${d%/}
		if [[ -e "$d$interp" ]]; then
			copy_from_pkg "$d" "$interp"
			return 0
		fi
		if [[ -e "$d/usr$interp" && "$(dirname "$interp")" == /lib64 ]]; then
			copy_from_pkg "$d" "/usr$interp"
			ln -sfn usr/lib64 "$staging/lib64"
			return 0
		fi
	done
	echo "mkrootfs: $elf: interpreter $interp not in any pinned package" >&2
	exit 1
}

# Adds the interpreter and every NEEDED library of ELF file $1, recursively.
add_closure() {
	local elf=$1 dep interp found
	interp=$(readelf -l "$elf" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
	if [[ -n "$interp" && ! -e "$staging$interp" ]]; then
		add_interp "$elf" "$interp"
	fi
	for dep in $(readelf -d "$elf" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		found=$(find_lib "$dep") || { echo "mkrootfs: $elf needs $dep, which no pinned package provides" >&2; exit 1; }
		if [[ ! -e "$staging${found#* }" ]]; then
			copy_from_pkg "${found% *}" "${found#* }"
			add_closure "$staging${found#* }"
		fi
	done
}

if [[ "$with_pkgs" == 1 ]]; then
	while read -r pkg path; do
		[[ -z "$pkg" || "$pkg" == \#* ]] && continue
		[[ -e "$pkgdir/$pkg$path" ]] || { echo "mkrootfs: rootfs/files.list: $pkg has no $path" >&2; exit 1; }
		copy_from_pkg "$pkgdir/$pkg" "$path"
		add_closure "$staging$path"
	done <rootfs/files.list
fi

install_modules "$staging" "$kmoddir" "$modpaths"

normalise_tree "$staging"
chmod 1777 "$staging/tmp"
rm -f "$sqsh"
# mksquashfs takes its timestamps from SOURCE_DATE_EPOCH.
mksquashfs "$staging" "$sqsh" -quiet -noappend -all-root -no-xattrs -comp zstd \
	-Xcompression-level 19 >/dev/null
