#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Interop: a configured node on loopback called by @grpc/grpc-js (pinned in package.json,
# installed by make with npm ci) with client certificates: Version, List, Watch, errors, roles.
#   interop.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
here=$(realpath "$(dirname "$0")")
out=$(realpath "$1")
osctl=$out/bin/osctl
t=$(test_dir)
ep=127.0.0.1:50000
plan 9

[[ -d $here/node_modules/@grpc/grpc-js ]] || bail "@grpc/grpc-js installed in tests/interop (make installs it with npm ci)"
basalt_node "$out" "$t/n" "$ep"
cd "$t" || exit 1
fp=$(basalt_fingerprint n)
"$osctl" gen config interop https://127.0.0.1:6443 -o gen >/dev/null
expect "the node takes a config in maintenance mode" 'applied without a reboot' \
	"$osctl" apply-config --insecure --cert-fingerprint "$fp" -e "$ep" -f gen/worker.yaml
wait_line n/console.log 'API serving mutual TLS' 10 >/dev/null
export OSCONFIG=$t/gen/osconfig
check "the node serves its services over mutual TLS" wait_until 10 bash -c "'$osctl' -e '$ep' services | grep -q containerd"
grep -oP '(?<=crt: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.crt
grep -oP '(?<=key: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.key
"$osctl" gen key --name admin >/dev/null && "$osctl" gen crt --ca ca --key admin.key --name admin --role os:admin >/dev/null
"$osctl" gen key --name reader >/dev/null && "$osctl" gen crt --ca ca --key reader.key --name reader --role os:reader >/dev/null
# The client prints its six checks; its exit status is a check of its own, so a client that
# throws before printing fails here even with no "not ok" line.
timeout 60 node --no-deprecation "$here/client.js" "$ep" ca.crt admin.crt admin.key reader.crt reader.key >client.out 2>&1
rc=$?
cat client.out
T_RAN=$((T_RAN + $(grep -cE '^(not )?ok( |$)' client.out)))
T_FAILS=$((T_FAILS + $(grep -cE '^not ok( |$)' client.out)))
((rc == 0)) && ok "the grpc-js client exited cleanly" || not_ok "the grpc-js client exited cleanly" "exit status $rc"
finish
