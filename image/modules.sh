# SPDX-License-Identifier: MIT
# Sourced by the image builders.

# normalise_tree DIR: what a checkout's umask or the build host may vary is made fixed: no
# file is group- or world-writable, every mtime is SOURCE_DATE_EPOCH.
normalise_tree() {
	find "$1" ! -type l -perm /022 -exec chmod go-w {} +
	find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# install_modules STAGING KMODDIR MODPATHS: copies the modules listed in MODPATHS (paths
# relative to KMODDIR) into STAGING/lib/modules/<release>, decompressed (Debian ships them
# as .ko.xz; the image is compressed as a whole, and init need not ask the kernel to
# decompress each), and writes their indexes with depmod, keeping only the text forms init
# reads (modules.dep, .alias, .builtin, .softdep).
install_modules() {
	local staging=$1 kmoddir=$2 modpaths=$3 krel rel dst
	krel=$(basename "$(realpath "$kmoddir")")
	dst="$staging/lib/modules/$krel"
	mkdir -p "$dst"
	while read -r rel; do
		mkdir -p "$dst/$(dirname "$rel")"
		case $rel in
		*.ko.xz) xz -dc "$kmoddir/$rel" >"$dst/${rel%.xz}" ;;
		*.ko.zst) zstd -qdc "$kmoddir/$rel" >"$dst/${rel%.zst}" ;;
		*) cp "$kmoddir/$rel" "$dst/$rel" ;;
		esac
	done <"$modpaths"
	cp "$kmoddir/modules.builtin" "$kmoddir/modules.builtin.modinfo" "$kmoddir/modules.order" "$dst/"
	depmod -b "$staging" "$krel"
	rm -f "$dst"/*.bin "$dst/modules.devname" "$dst/modules.symbols" "$dst/modules.builtin.alias" \
		"$dst/modules.builtin.modinfo"
}
