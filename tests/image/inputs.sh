#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What goes into a shipped binary comes from the pinned sysroot (mk/sysroot.lock) and the
# compiler's own runtime, never from the build host's -dev packages: every file each static
# binary's link map loaded, and every directory musl builds search for headers.
#   inputs.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
bins=(init machined osctl linkcheck)
plan $((${#bins[@]} + 4))
eval "$(make -s --no-print-directory print-toolchain OUT="$out" | sed -E 's/^([A-Z_]+)=(.*)$/\1="\2"/')"
gccdir=$(dirname "$(gcc -print-libgcc-file-name)")

# foreign LIST: the lines of LIST outside our objects, the sysroot and the compiler's dir.
foreign() { realpath -m $1 | grep -vE "^($out/musl/|$SR/|$gccdir/)"; }

for b in "${bins[@]}"; do
	map=$out/bin/$b.map
	loads=$(sed -n 's/^LOAD //p' "$map" 2>/dev/null)
	if [[ -z $loads ]]; then
		not_ok "$b: link map lists its inputs" "no LOAD lines in $map"
	elif bad=$(foreign "$loads"); then
		not_ok "$b: linked only from the sysroot and the compiler" "$bad"
	else
		ok "$b: its $(wc -l <<<"$loads") link inputs come from the sysroot, our objects and gcc's runtime ($(grep -c '\.a$' <<<"$loads") archives)"
	fi
done
# The check itself catches a host archive.
if foreign "$out/musl/lib/log.o
/usr/lib/x86_64-linux-gnu/libmbedtls.a" | grep -q /usr/lib/x86_64-linux-gnu/libmbedtls.a; then
	ok "a host archive in a link map is caught"
else
	not_ok "a host archive in a link map is caught"
fi

# search_dirs SYSROOT: the header directories a musl compile searches, realpaths.
search_dirs() {
	# shellcheck disable=SC2086
	$MUSL_CC -isystem "$1" -E -v -x c /dev/null 2>&1 >/dev/null |
		sed -n '/#include <...> search starts here:/,/End of search list/p' | sed '1d;$d' |
		while read -r d; do realpath -m "$d"; done
}
for v in CORE FULL; do
	root=SYSROOT_$v
	dirs=$(search_dirs "${!root}")
	if [[ -z $dirs ]]; then
		not_ok "musl builds ($v view) search only the sysroot for headers" "no search list from: $MUSL_CC"
	elif bad=$(grep -vE "^($(realpath "${!root}")|$SR/|$(realpath "$gccdir")/)" <<<"$dirs"); then
		not_ok "musl builds ($v view) search only the sysroot for headers" "$bad"
	else
		ok "musl builds ($v view) search only the sysroot and gcc's own headers ($(wc -l <<<"$dirs") directories)"
	fi
done
# And find the libraries' headers there: mbedTLS's version header is the sysroot's.
hdr=$(echo '#include <mbedtls/version.h>' | $MUSL_CC -isystem "$SYSROOT_FULL" -M -x c - 2>&1 | tr ' \\' '\n\n' | grep 'mbedtls/version.h')
if [[ -n $hdr ]] && [[ $(realpath "$hdr") == "$SR"/* ]]; then
	ok "<mbedtls/version.h> resolves into the sysroot ($(realpath "$hdr"))"
else
	not_ok "<mbedtls/version.h> resolves into the sysroot" "${hdr:-not found}"
fi
finish
