#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# relock.sh CACHEDIR LOCKFILE...
# Rewrites each lock with what Debian serves now: for every pinned package its current
# version and the sha256 apt's signed index gives (a package gone altogether is replaced by
# the first dependency of its via= meta-package), comments and order kept. Prints the diff
# of each lock and "relock: no change" when there is none.
set -euo pipefail
cache=$1
shift
mkdir -p "$cache"
export APT_ROOT=${APT_ROOT:-$(realpath "$cache")/apt}
. "$(dirname "$0")/apt.sh"
changed=0

for lock in "$@"; do
	new=$(mktemp "$lock.XXXXXX")
	trap 'rm -f "$new"' EXIT
	while IFS= read -r line; do
		read -r name suite version sha via <<<"$line" || true
		if [[ -z "$name" || "$name" == \#* ]]; then
			printf '%s\n' "$line" >>"$new"
			continue
		fi
		apt_update "$suite"
		use= ver=
		read -r use ver <<<"$(apt_current "$suite" "$name" "$via")" || true
		if [[ -z $ver ]]; then
			echo "relock: $lock: Debian $suite serves no $name${via:+ (nor does ${via#via=} name a replacement)}" >&2
			exit 1
		fi
		sha=$(apt_sha256 "$suite" "$use" "$ver")
		printf '%s %s %s %s%s\n' "$use" "$suite" "$ver" "$sha" "${via:+ $via}" >>"$new"
	done <"$lock"
	if diff -u --label "a/$lock" --label "b/$lock" "$lock" "$new"; then
		rm -f "$new"
	else
		changed=1
		chmod --reference="$lock" "$new"
		mv "$new" "$lock"
	fi
	trap - EXIT
done
((changed)) || echo "relock: no change"
exit 0
