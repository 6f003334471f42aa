# SPDX-License-Identifier: MIT
# Sourced by the image builders.

# install_modules STAGING KMODDIR MODPATHS: copies the modules listed in MODPATHS (paths
# relative to KMODDIR) into STAGING/lib/modules/<release> and writes their indexes with
# depmod, keeping only the text forms init reads (modules.dep, .alias, .builtin, .softdep).
install_modules() {
	local staging=$1 kmoddir=$2 modpaths=$3 krel rel dst
	krel=$(basename "$kmoddir")
	dst="$staging/lib/modules/$krel"
	mkdir -p "$dst"
	while read -r rel; do
		mkdir -p "$dst/$(dirname "$rel")"
		cp "$kmoddir/$rel" "$dst/$rel"
	done <"$modpaths"
	cp "$kmoddir/modules.builtin" "$kmoddir/modules.builtin.modinfo" "$kmoddir/modules.order" "$dst/"
	depmod -b "$staging" "$krel"
	rm -f "$dst"/*.bin "$dst/modules.devname" "$dst/modules.symbols" "$dst/modules.builtin.alias" \
		"$dst/modules.builtin.modinfo"
}
