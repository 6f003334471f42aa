#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The repository's shape, as ARCHITECTURE.md's layout table sets it: which folder may
# include which, init using only lib's core and its binary free of TLS/HTTP2/YAML code, an
# SPDX line on every source. Each rule is first shown to catch a planted violation.
#   layout.sh [OUTDIR]
set -uo pipefail
. "$(dirname "$0")/lib.sh"
out=${1:-_out}
t=$(test_dir)

# allowed DIR: the project folders DIR's C may include from.
allowed() {
	case $1 in
	lib) echo "lib api" ;;
	init) echo "init lib api" ;;
	netctl) echo "netctl lib api" ;;
	machined) echo "machined netctl lib api" ;;
	osctl) echo "osctl lib api" ;;
	image) echo "image init lib api" ;;
	hack) echo "hack lib api" ;;
	esac
}
dirs=(lib init netctl machined osctl image hack)

# bad_includes ROOT DIR: the include lines of ROOT/DIR's C that reach a folder DIR may not use.
bad_includes() {
	grep -rnE '^#include "[a-z]+/' --include='*.[ch]' "$1/$2" | while IFS= read -r line; do
		target=$(sed -E 's/.*#include "([a-z]+)\/.*/\1/' <<<"$line")
		grep -qw "$target" <<<"$(allowed "$2")" || echo "$line"
	done
}

# lib_core: the lib/ sources init may use (LIB_CORE_SRCS in lib/build.mk).
lib_core() {
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' lib/build.mk | sed -n 's/^LIB_CORE_SRCS := //p' | tr -s ' \t' '\n'
}
# init_bad_lib ROOT: init's includes of lib headers whose source is not in lib's core.
init_bad_lib() {
	local core
	core=$(lib_core)
	grep -rnoE '#include "lib/[a-z0-9_/]+\.h"' --include='*.[ch]' "$1/init" | while IFS= read -r line; do
		src=$(sed -E 's/.*"(lib\/[a-z0-9_/]+)\.h"/\1.c/' <<<"$line")
		[[ -e $src ]] || continue  # a header-only part of lib
		grep -qx "$src" <<<"$core" || echo "$line"
	done
}

# machined's parts (ARCHITECTURE.md): core (store, resources, runtime) uses nothing of the
# others; ctrl (controllers, the config, the link to init) the core; api (apid, its link,
# the RPCs) both; platform (the platforms) the core and disk (a seed volume is found by its
# label); disk (block devices, volumes) only lib; ctrl may use disk. main.c wires them.
allowed_sub() {
	case $1 in
	core) echo "core" ;;
	ctrl) echo "core ctrl disk" ;;
	api) echo "core ctrl api" ;;
	platform) echo "core platform disk" ;;
	disk) echo "disk" ;;
	esac
}
subs=(core ctrl api platform disk)
# bad_sub ROOT SUB: machined/SUB's includes of a machined part SUB may not use.
bad_sub() {
	grep -rnE '^#include "machined/[a-z]+/' --include='*.[ch]' "$1/machined/$2" 2>/dev/null | while IFS= read -r line; do
		target=$(sed -E 's/.*#include "machined\/([a-z]+)\/.*/\1/' <<<"$line")
		grep -qw "$target" <<<"$(allowed_sub "$2")" || echo "$line"
	done
}

present=()
for d in "${dirs[@]}"; do
	if [[ -n $(find "$d" -name '*.[ch]' 2>/dev/null | head -1) ]]; then present+=("$d"); else note "$d/ has no C sources yet"; fi
done
subs_present=()
for d in "${subs[@]}"; do
	[[ -n $(find "machined/$d" -name '*.[ch]' 2>/dev/null | head -1) ]] && subs_present+=("$d") || note "machined/$d/ has no C sources yet"
done
plan $((${#present[@]} + ${#subs_present[@]} + 5))

# The rules catch what they are for: a planted violation in a copy.
mkdir -p "$t/fx/lib" "$t/fx/init"
printf '#include "machined/core/store.h"\n' >"$t/fx/lib/planted.c"
printf '#include "lib/grpc_server.h"\n#include "lib/h2conn.h"\n#include "lib/log.h"\n' >"$t/fx/init/planted.c"
l=$(bad_includes "$t/fx" lib)
i=$(init_bad_lib "$t/fx")
if grep -q 'machined/core/store.h' <<<"$l" && grep -q grpc_server <<<"$i" && grep -q h2conn <<<"$i" && ! grep -q log.h <<<"$i"; then
	ok "the layout rules catch planted violations (lib including machined, init including grpc_server and h2conn)"
else
	not_ok "the layout rules catch planted violations" "lib: $l" "init: $i"
fi

for dir in "${present[@]}"; do
	bad=$(bad_includes . "$dir")
	if [[ -z "$bad" ]]; then ok "$dir/ includes only from: $(allowed "$dir")"; else not_ok "$dir/ includes only from: $(allowed "$dir")" "$bad"; fi
done

mkdir -p "$t/fx/machined/core" "$t/fx/machined/ctrl"
printf '#include "machined/api/api.h"\n#include "machined/core/store.h"\n' >"$t/fx/machined/core/planted.c"
printf '#include "machined/core/store.h"\n' >"$t/fx/machined/ctrl/planted.c"
c=$(bad_sub "$t/fx" core)
r=$(bad_sub "$t/fx" ctrl)
if grep -q 'machined/api/api.h' <<<"$c" && ! grep -q 'core/store.h' <<<"$c" && [[ -z $r ]]; then
	ok "the machined rules catch a planted violation (core including api) and pass a good include"
else
	not_ok "the machined rules catch planted violations" "core: $c" "ctrl: $r"
fi
for sub in "${subs_present[@]}"; do
	bad=$(bad_sub . "$sub")
	if [[ -z "$bad" ]]; then ok "machined/$sub/ uses only: $(allowed_sub "$sub")"; else not_ok "machined/$sub/ uses only: $(allowed_sub "$sub")" "$bad"; fi
done

bad=$(init_bad_lib .)
if [[ -z "$bad" ]]; then ok "init uses only lib's core ($(lib_core | xargs -n1 basename | tr '\n' ' '))"; else not_ok "init uses only lib's core" "$bad"; fi

# init links no TLS, HTTP/2, YAML or netlink code (it may use protobuf-c and lib's core).
if [[ -x $out/bin/init ]]; then
	hits=$(nm "$out/bin/init" | grep -E ' (mbedtls_|psa_|nghttp2_|fy_|nl_socket_|nl_msg|pbyaml_|mconfig_|pki_|tls_|h2conn_|grpc_)' | head -5)
	if [[ -z "$hits" ]]; then ok "init contains no TLS, HTTP/2, YAML or netlink library code"; else not_ok "init contains no TLS/HTTP2/YAML code" "$hits"; fi
else
	not_ok "init is built ($out/bin/init)"
fi

missing=$(git ls-files -co --exclude-standard -- '*.c' '*.h' '*.sh' '*.mk' '*.js' Makefile | while read -r f; do
	[[ -e $f ]] || continue
	head -3 "$f" | grep -q 'SPDX-License-Identifier' || echo "$f"
done)
if [[ -z "$missing" ]]; then ok "every source file carries an SPDX line"; else not_ok "every source file carries an SPDX line" $missing; fi
finish
