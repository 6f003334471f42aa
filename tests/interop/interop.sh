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
plan 19

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
# An os:impersonator certificate (the identity a node forwards with), minted by hand since
# osctl refuses to: it may claim a role in x-basalt-role but never forward again.
openssl ecparam -genkey -name prime256v1 -noout -out imp.key 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >imp.ext
openssl req -new -key imp.key -subj "/O=os:impersonator/CN=forwarder" 2>/dev/null |
	openssl x509 -req -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile imp.ext -out imp.crt 2>/dev/null ||
	bail "an impersonator certificate minted with openssl"

# TLS as the README promises: 1.2 only, ECDHE with AEAD ciphers, ALPN h2.
tlsc() { timeout 10 openssl s_client -connect "$ep" -cert admin.crt -key admin.key -CAfile ca.crt "$@" </dev/null 2>&1; }
o=$(tlsc -tls1_2 -alpn h2)
grep -q 'Protocol *: TLSv1.2' <<<"$o" && grep -q 'ALPN protocol: h2' <<<"$o" && grep -qE 'Cipher *: ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)' <<<"$o" &&
	ok "TLS 1.2 with ECDHE-ECDSA and an AEAD cipher, ALPN h2" || not_ok "TLS 1.2, AEAD, ALPN h2" "$(grep -E 'Protocol|Cipher|ALPN|error' <<<"$o")"
o=$(tlsc -tls1_1)
grep -q 'alert protocol version' <<<"$o" && ok "TLS 1.1 is refused by the node (protocol_version alert)" || not_ok "TLS 1.1 is refused" "$(grep -E 'Protocol|Cipher' <<<"$o")"
o=$(tlsc -tls1_3)
grep -q 'alert handshake failure' <<<"$o" && ok "TLS 1.3 is not offered yet (mbedTLS 2.28: handshake_failure alert)" || not_ok "TLS 1.3 not offered" "$(grep -E 'Protocol|Cipher' <<<"$o")"
o=$(tlsc -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:AES128-SHA')
grep -q 'alert handshake failure' <<<"$o" && ok "CBC ciphers and RSA key exchange are refused (handshake_failure alert)" || not_ok "CBC refused" "$(grep -E 'Cipher' <<<"$o")"
o=$(tlsc -tls1_2 -alpn http/1.1)
grep -q 'alert no application protocol' <<<"$o" && ok "a client offering only ALPN http/1.1 is refused (no_application_protocol alert)" ||
	not_ok "ALPN http/1.1 refused" "$(grep -E 'ALPN|Cipher|alert' <<<"$o")"

# The client prints its checks; its exit status is a check of its own, so a client that
# throws before printing fails here even with no "not ok" line.
timeout 60 node --no-deprecation "$here/client.js" "$ep" ca.crt admin.crt admin.key reader.crt reader.key imp.crt imp.key >client.out 2>&1
rc=$?
tap_through client.out
((rc == 0)) && ok "the grpc-js client exited cleanly" || not_ok "the grpc-js client exited cleanly" "exit status $rc"
finish
