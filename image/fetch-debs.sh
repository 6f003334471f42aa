#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fetch-debs.sh LOCKFILE CACHEDIR EXTRACTDIR
# Fetches each package LOCKFILE pins into CACHEDIR (once) with our own apt for its suite
# (image/apt.sh), refuses a sha256 that differs from the pin, and extracts it into
# EXTRACTDIR/<package as locked>/. Lock lines:
#   <package> <suite> <version> <sha256> [via=<meta-package>]
# Debian serves only the current version of a package. When the pinned version is gone,
# the version served now is used instead (apt checks it against the signed index), loudly,
# and recorded in LOCK_DRIFT (default CACHEDIR/../lock-drift); `make relock` adopts it.
# A package gone altogether (a kernel's ABI name) is replaced by the first dependency of
# its via= meta-package. A pinned version still served with other bytes is refused.
set -euo pipefail
lock=$1 cache=$2 extract=$3
mkdir -p "$cache" "$extract"
cache=$(realpath "$cache") extract=$(realpath "$extract")
export APT_ROOT=${APT_ROOT:-$cache/apt}
drift_file=${LOCK_DRIFT:-$(dirname "$cache")/lock-drift}
. "$(dirname "$0")/apt.sh"
drift=()

say() { echo "fetch-debs: $lock: $*" >&2; }
deb_path() { echo "$cache/${1}_${2//:/%3a}_amd64.deb"; }

# download SUITE NAME VERSION DEST: apt-get download (which checks the signed index's hash).
download() {
	local tmp
	tmp=$(mktemp -d "$cache/.dl.XXXXXX")
	if ! (cd "$tmp" && apt_q "$1" apt-get download -q "$2=$3" >/dev/null 2>"$tmp/err"); then
		say "downloading $2 $3 ($1) failed:"
		grep -v '^W:' "$tmp/err" >&2 || true
		rm -rf "$tmp"
		return 1
	fi
	mv "$tmp"/*.deb "$4"
	rm -rf "$tmp"
}

# in_index SUITE NAME VERSION: sets idx to the signed index's sha256 for it (empty if not
# there), updating the indexes once if the version is not in them yet.
in_index() {
	apt_lists_present "$1" || apt_update "$1"
	idx=$(apt_sha256 "$1" "$2" "$3")
	if [[ -z $idx ]]; then
		apt_update "$1"
		idx=$(apt_sha256 "$1" "$2" "$3")
	fi
}

while read -r name suite version sha via; do
	[[ -z "$name" || "$name" == \#* ]] && continue
	if [[ ! $sha =~ ^[0-9a-f]{64}$ || -z $version ]]; then
		say "bad line for '$name': want <package> <suite> <version> <sha256> [via=<meta>]"
		exit 1
	fi
	use_name=$name use_version=$version use_sha=$sha
	deb=$(deb_path "$name" "$version")
	if [[ ! -f "$deb" ]]; then
		in_index "$suite" "$name" "$version"
		if [[ -n $idx && $idx != "$sha" ]]; then
			say "the signed $suite index gives $name $version sha256 $idx, pinned $sha; refusing it"
			say "if Debian rebuilt it, re-pin with 'make relock' (it shows the diff)"
			exit 1
		elif [[ -n $idx ]]; then
			download "$suite" "$name" "$version" "$deb"
		else
			read -r use_name use_version <<<"$(apt_current "$suite" "$name" "$via")" || true
			if [[ -z $use_version ]]; then
				say "$name $version is not served by Debian $suite any more, and nothing replaces it"
				say "re-pin it (package, version and sha256) in $lock, or run 'make relock'"
				exit 1
			fi
			use_sha=$(apt_sha256 "$suite" "$use_name" "$use_version")
			deb=$(deb_path "$use_name" "$use_version")
			[[ -f $deb ]] || download "$suite" "$use_name" "$use_version" "$deb"
			say "LOCK DRIFT: $name $version ($suite) is no longer served by Debian"
			say "LOCK DRIFT: using $use_name $use_version instead (sha256 $use_sha, as apt's signed $suite index gives it)"
			drift+=("$lock $name $version $use_name $use_version $use_sha")
		fi
	fi
	got=$(sha256sum "$deb" | cut -d' ' -f1)
	if [[ "$got" != "$use_sha" ]]; then
		say "$use_name $use_version has sha256 $got, pinned $use_sha; refusing it"
		say "if the pin is out of date, re-pin with 'make relock' (it shows the diff)"
		rm -f "$deb"
		exit 1
	fi
	dest="$extract/$name"
	if [[ ! -f "$dest/.sha256" || "$(cat "$dest/.sha256")" != "$use_sha" ]]; then
		rm -rf "$dest"
		mkdir -p "$dest"
		dpkg-deb -x "$deb" "$dest"
		echo "$use_sha" >"$dest/.sha256"
	fi
done <"$lock"

# This lock's lines in the drift record are replaced, under a lock (fetches run in parallel).
mkdir -p "$(dirname "$drift_file")"
{
	flock 9
	touch "$drift_file"
	grep -v "^$lock " "$drift_file" >"$drift_file.tmp" || true
	for d in "${drift[@]}"; do echo "$d" >>"$drift_file.tmp"; done
	mv "$drift_file.tmp" "$drift_file"
} 9>>"$drift_file.lock"
if ((${#drift[@]})); then
	say "LOCK DRIFT: ${#drift[@]} package(s) differ from the lock, recorded in $drift_file;" \
		"'make relock' adopts them into the tree"
fi
exit 0
