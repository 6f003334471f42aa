#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reproducible builds: two copies of the source tree, built from clean with the same
# SOURCE_DATE_EPOCH but everything else a build should not depend on made different (build
# path and its depth, the time of day and time zone, umask, locale, the order files were
# created in), each downloading its own pinned packages into its own cache, give
# byte-identical artifacts: the kernel, the initramfs, the SquashFS, the ISO, the disk images raw and qcow2 (and the
# sha256sums beside them) and our static binaries.
# Then the pin itself: a package whose sha256 differs from its lock is refused.
#   repro.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
t=$(test_dir)
arts=(vmlinuz initramfs.xz image/rootfs.sqsh basalt-amd64.iso basalt-amd64.raw basalt-amd64.qcow2 sha256sums bin/init bin/machined bin/osctl)
plan $((2 + ${#arts[@]} + 2))
sde=$(git log -1 --format=%ct 2>/dev/null || echo 1700000000)
files=$(git ls-files -co --exclude-standard)

# build DIR ORDER UMASK LOCALE TZ: copies the tree into DIR (files created in ORDER: sort
# or reverse), builds the image there with its own download cache.
build() {
	local dir=$1 order=$2
	mkdir -p "$dir/src"
	if [[ $order == reverse ]]; then sort -r <<<"$files"; else sort <<<"$files"; fi |
		while IFS= read -r f; do [[ -e $f ]] && cp --parents -a -t "$dir/src" "$f"; done
	# A checkout made under umask 002 has group-writable files.
	[[ $3 == 002 ]] && chmod -R g+w "$dir/src"
	(cd "$dir/src" && umask "$3" && LC_ALL=$4 LANG=$4 TZ=$5 \
		make -j2 all image SOURCE_DATE_EPOCH="$sde" DL_CACHE="$dir/dl" >"$dir/build.log" 2>&1)
}
a=$t/a
b=$t/b/a/much/deeper/path
if build "$a" sort 022 C UTC; then ok "clean build a (umask 022, C locale, UTC)"; else bail "clean build a" "$(tail -5 "$a/build.log")"; fi
if build "$b" reverse 002 C.UTF-8 KIR-14; then
	ok "clean build b (deeper path, files created in reverse, umask 002, C.UTF-8, UTC+14, later)"
else
	bail "clean build b" "$(tail -5 "$b/build.log")"
fi
for f in "${arts[@]}"; do
	x=$(sha256sum "$a/src/_out/$f" | cut -d' ' -f1)
	y=$(sha256sum "$b/src/_out/$f" | cut -d' ' -f1)
	if [[ -n $x && "$x" == "$y" ]]; then ok "$f is reproducible (sha256 ${x:0:16})"; else not_ok "$f is reproducible" "a: $x" "b: $y"; fi
done
# The caches were filled independently: the same bytes came twice.
if diff <(cd "$a/dl" && sha256sum ./*.deb) <(cd "$b/dl" && sha256sum ./*.deb) >"$t/dl.diff"; then
	ok "two independent downloads fetched identical packages ($(ls "$a/dl" | wc -l) .deb files)"
else
	not_ok "two independent downloads fetched identical packages" "$(cat "$t/dl.diff")"
fi

# A package that does not match its pin is refused, named, and not kept.
deb=$(ls "$a/dl"/libseccomp2_*.deb | head -1)
name=$(basename "$deb" _amd64.deb)
mkdir -p "$t/bad/dl"
cp "$deb" "$t/bad/dl/"
printf '%s bookworm %s %s\n' "${name%%_*}" "${name#*_}" "$(printf '0%.0s' {1..64})" >"$t/bad/lock"
o=$(image/fetch-debs.sh "$t/bad/lock" "$t/bad/dl" "$t/bad/x" 2>&1)
rc=$?
if ((rc != 0)) && grep -q "libseccomp2 .* has sha256 [0-9a-f]\{64\}, pinned 0\{64\}; refusing it" <<<"$o" && [[ ! -e $t/bad/dl/$(basename "$deb") ]] && [[ ! -d $t/bad/x/libseccomp2 ]]; then
	ok "a package whose sha256 differs from its pin is refused, named, and removed"
else
	not_ok "a sha256 mismatch is refused" "exit $rc" "$o"
fi
finish
