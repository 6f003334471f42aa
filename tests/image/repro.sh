#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reproducible builds: two copies of the source tree at different paths, each built from
# clean with the same SOURCE_DATE_EPOCH, give byte-identical vmlinuz, initramfs and SquashFS.
#   repro.sh OUTDIR   (OUTDIR's download cache is shared so nothing is fetched twice)
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
t=$(mktemp -d /tmp/basalt-repro.XXXXXX)
at_exit "rm -rf $t"
sde=$(git log -1 --format=%ct 2>/dev/null || echo 1700000000)

for copy in a bb; do
	mkdir -p "$t/$copy/src"
	git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$t/$copy/src"
	if (cd "$t/$copy/src" && make -j2 image SOURCE_DATE_EPOCH="$sde" DL_CACHE="$out/dl" >"$t/$copy.log" 2>&1); then
		ok "clean build $copy succeeded"
	else
		not_ok "clean build $copy succeeded" "$(tail -5 "$t/$copy.log")"
		finish
	fi
done
for f in vmlinuz initramfs.xz image/rootfs.sqsh; do
	a=$(sha256sum "$t/a/src/_out/$f" | cut -d' ' -f1)
	b=$(sha256sum "$t/bb/src/_out/$f" | cut -d' ' -f1)
	if [[ "$a" == "$b" ]]; then ok "$f is reproducible (sha256 ${a:0:16})"; else not_ok "$f is reproducible" "a: $a" "b: $b"; fi
done
finish
