#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fetch-debs.sh LOCKFILE CACHEDIR EXTRACTDIR
# Downloads each pinned package of LOCKFILE through apt into CACHEDIR (once), refuses a
# sha256 mismatch, and extracts it into EXTRACTDIR/<package>/.
set -euo pipefail
lock=$1 cache=$2 extract=$3
mkdir -p "$cache" "$extract"
cache=$(realpath "$cache") extract=$(realpath "$extract")

while read -r name version sha; do
	[[ -z "$name" || "$name" == \#* ]] && continue
	deb="$cache/${name}_${version//:/%3a}_amd64.deb"
	if [[ ! -f "$deb" ]]; then
		tmp=$(mktemp -d "$cache/.dl.XXXXXX")
		if ! (cd "$tmp" && apt-get download -q "$name=$version" >/dev/null 2>"$tmp/err"); then
			echo "fetch-debs: $lock: $name $version is not available from apt:" >&2
			grep -v '^W:' "$tmp/err" >&2 || true
			echo "fetch-debs: update the pin (version and sha256) in $lock" >&2
			rm -rf "$tmp"
			exit 1
		fi
		mv "$tmp"/*.deb "$deb"
		rm -rf "$tmp"
	fi
	got=$(sha256sum "$deb" | cut -d' ' -f1)
	if [[ "$got" != "$sha" ]]; then
		echo "fetch-debs: $lock: $name $version has sha256 $got, pinned $sha; refusing it" >&2
		rm -f "$deb"
		exit 1
	fi
	dest="$extract/$name"
	if [[ ! -f "$dest/.sha256" || "$(cat "$dest/.sha256")" != "$sha" ]]; then
		rm -rf "$dest"
		mkdir -p "$dest"
		dpkg-deb -x "$deb" "$dest"
		echo "$sha" >"$dest/.sha256"
	fi
done <"$lock"
