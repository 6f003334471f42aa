#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Interop: a configured node on loopback called by @grpc/grpc-js (pinned in package.json,
# installed with npm ci) with client certificates: Version, List, Watch, errors, roles.
#   interop.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
here=$(realpath "$(dirname "$0")")
out=$(realpath "$1")
osctl=$out/bin/osctl
t=$(mktemp -d /tmp/basalt-interop.XXXXXX)
ep=127.0.0.1:$((40000 + RANDOM % 10000))
at_exit "rm -rf $t"

if [[ ! -d $here/node_modules/@grpc/grpc-js ]]; then
	(cd "$here" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null 2>&1) ||
		{ not_ok "npm ci in tests/interop (needs the npm registry)"; finish; }
fi
basalt_node "$out" "$t/n" "$ep"
cd "$t" || exit 1
fp=$(basalt_fingerprint n)
"$osctl" gen config interop https://127.0.0.1:6443 -o gen >/dev/null
check "the node takes a config" "$osctl" apply-config --insecure --cert-fingerprint "$fp" -e "$ep" -f gen/worker.yaml
wait_line n/console.log 'API serving mutual TLS' 10 >/dev/null
export OSCONFIG=$t/gen/osconfig
wait_until 10 bash -c "'$osctl' -e '$ep' services | grep -q containerd" || not_ok "node ready"
grep -oP '(?<=crt: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.crt
grep -oP '(?<=key: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.key
"$osctl" gen key --name admin >/dev/null && "$osctl" gen crt --ca ca --key admin.key --name admin --role os:admin >/dev/null
"$osctl" gen key --name reader >/dev/null && "$osctl" gen crt --ca ca --key reader.key --name reader --role os:reader >/dev/null
node --no-deprecation "$here/client.js" "$ep" ca.crt admin.crt admin.key reader.crt reader.key
finish
