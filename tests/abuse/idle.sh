#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The API's idle close, as README promises it: a connection with no calls and no traffic is
# closed after 5 minutes, and the node serves on. Long (over 5 minutes): make test-e2e.
#   idle.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
t=$(test_dir)
ep=127.0.0.1:50000
plan 3
basalt_node "$out" "$t/n" "$ep"
cd "$t" || exit 1
fp=$(basalt_fingerprint n)
"$osctl" gen config idle https://127.0.0.1:6443 -o gen >/dev/null
expect "the node takes a config" 'applied without a reboot' "$osctl" apply-config --insecure --cert-fingerprint "$fp" -e "$ep" -f gen/controlplane.yaml
wait_line n/console.log 'API serving mutual TLS' 10 >/dev/null || bail "the node serves mutual TLS"
grep -oP '(?<=crt: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.crt
grep -oP '(?<=key: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.key
"$osctl" gen key --name c >/dev/null && "$osctl" gen crt --ca ca --key c.key --name c --role os:admin >/dev/null
# An idle connection: TLS done, the HTTP/2 preface sent, then nothing.
start=$SECONDS
(
	printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0'
	sleep 400
) | openssl s_client -connect "$ep" -cert c.crt -key c.key -CAfile ca.crt -alpn h2 >idle.out 2>&1 &
if wait_line idle.out 'unexpected eof while reading|closed' 330 >/dev/null; then
	s=$((SECONDS - start))
	((s >= 295 && s <= 315)) && ok "an idle connection is closed after 5 minutes ($s s)" || not_ok "idle close after 5 minutes" "$s s"
else
	not_ok "an idle connection is closed after 5 minutes" "still open after 330 s"
fi
expect "the node serves new connections afterwards" 'Hostname:' "$osctl" --osconfig gen/osconfig -e "$ep" version
finish
