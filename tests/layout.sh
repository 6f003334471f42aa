#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The repository's shape, as ARCHITECTURE.md's layout table sets it: which folder may
# include which, init's binary free of TLS/HTTP2/YAML code, an SPDX line on every source.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
out=${OUT:-_out}

# allowed DIR: the project folders DIR's C may include from.
allowed() {
	case $1 in
	lib) echo "lib api" ;;
	init) echo "init lib api" ;;
	netctl) echo "netctl lib api" ;;
	machined) echo "machined netctl lib api" ;;
	osctl) echo "osctl lib api" ;;
	image) echo "image init lib api" ;;
	esac
}

for dir in lib init netctl machined osctl image; do
	[[ -d $dir ]] || continue
	bad=$(grep -rnE '^#include "[a-z]+/' --include='*.[ch]' "$dir" | while IFS= read -r line; do
		target=$(sed -E 's/.*#include "([a-z]+)\/.*/\1/' <<<"$line")
		grep -qw "$target" <<<"$(allowed "$dir")" || echo "$line"
	done)
	if [[ -z "$bad" ]]; then ok "$dir/ includes only from: $(allowed "$dir")"; else not_ok "$dir/ includes only from: $(allowed "$dir")" "$bad"; fi
done

# init links no TLS, HTTP/2 or YAML code (it may use protobuf-c and lib's core).
if [[ -x $out/bin/init ]]; then
	hits=$(nm "$out/bin/init" | grep -cE ' (mbedtls_|nghttp2_|fy_|nl_socket_|nl_msg)' || true)
	if [[ "$hits" == 0 ]]; then ok "init contains no TLS, HTTP/2, YAML or netlink library code"; else not_ok "init contains no TLS/HTTP2/YAML code" "$hits symbols"; fi
fi
bad=$(grep -lE 'lib/(tls|grpc|http|yaml|codec)' init/*.[ch] 2>/dev/null)
if [[ -z "$bad" ]]; then ok "init uses only lib's core"; else not_ok "init uses only lib's core" "$bad"; fi

missing=$(git ls-files -co --exclude-standard -- '*.c' '*.h' '*.sh' '*.mk' Makefile | while read -r f; do
	head -3 "$f" | grep -q 'SPDX-License-Identifier' || echo "$f"
done)
if [[ -z "$missing" ]]; then ok "every source file carries an SPDX line"; else not_ok "every source file carries an SPDX line" $missing; fi
finish
