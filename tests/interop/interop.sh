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
plan 30

[[ -d $here/node_modules/@grpc/grpc-js ]] || bail "@grpc/grpc-js installed in tests/interop (make installs it with npm ci)"
basalt_node "$out" "$t/n" "$ep"
cd "$t" || exit 1
fp=$(basalt_fingerprint n)
"$osctl" gen config interop https://127.0.0.1:6443 -o gen >/dev/null
expect "the node takes a config in maintenance mode" 'applied without a reboot' \
	"$osctl" apply-config --insecure --cert-fingerprint "$fp" -e "$ep" -f gen/controlplane.yaml
wait_line n/console.log 'API serving mutual TLS' 10 >/dev/null
export OSCONFIG=$t/gen/osconfig
check "the node serves its services over mutual TLS" wait_until 10 bash -c "'$osctl' -e '$ep' services | grep -q containerd"
grep -oP '(?<=crt: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.crt
grep -oP '(?<=key: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.key
"$osctl" gen key --name admin >/dev/null && "$osctl" gen crt --ca ca --key admin.key --name admin --role os:admin >/dev/null
"$osctl" gen key --name reader >/dev/null && "$osctl" gen crt --ca ca --key reader.key --name reader --role os:reader >/dev/null
# An os:impersonator certificate (the identity a node forwards with), minted by hand since
# osctl refuses to: it may claim a role in x-basalt-role but never forward again.
openssl ecparam -genkey -name prime256v1 -noout -out imp.key 2>openssl.err
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >imp.ext
openssl req -new -key imp.key -subj "/O=os:impersonator/CN=forwarder" 2>>openssl.err |
	openssl x509 -req -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile imp.ext -out imp.crt 2>>openssl.err ||
	bail "an impersonator certificate minted with openssl" "$(cat openssl.err)" "ca.key: $(wc -c <ca.key) bytes"

# TLS as the README promises: 1.3 first (AEAD suites, X25519 or P-256), 1.2 with ECDHE-ECDSA
# and AEAD ciphers for older clients, nothing older, ALPN h2.
tlsc() { timeout 10 openssl s_client -connect "$ep" -cert admin.crt -key admin.key -CAfile ca.crt "$@" </dev/null 2>&1; }
o=$(tlsc -alpn h2)
grep -qE 'New, TLSv1.3, Cipher is TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)' <<<"$o" && grep -q 'Server Temp Key: X25519' <<<"$o" &&
	grep -q 'ALPN protocol: h2' <<<"$o" && grep -q 'Verify return code: 0' <<<"$o" &&
	ok "OpenSSL's default: TLS 1.3 ($(grep -oE 'TLS_[A-Z0-9_]+' <<<"$o" | head -1)), X25519, ALPN h2, the node's certificate verified" ||
	not_ok "TLS 1.3 by default" "$(grep -E 'New,|Temp Key|ALPN|Verify|error' <<<"$o")"
o=$(tlsc -tls1_3 -groups P-256 -ciphersuites TLS_CHACHA20_POLY1305_SHA256 -alpn h2)
grep -q 'New, TLSv1.3, Cipher is TLS_CHACHA20_POLY1305_SHA256' <<<"$o" && grep -q 'Server Temp Key: ECDH, prime256v1' <<<"$o" &&
	ok "TLS 1.3 with P-256 and ChaCha20-Poly1305 when the client asks" ||
	not_ok "TLS 1.3 P-256 ChaCha20" "$(grep -E 'New,|Temp Key|alert|error' <<<"$o")"
o=$(tlsc -tls1_3 -ciphersuites TLS_AES_128_CCM_SHA256 -alpn h2)
grep -q 'alert handshake failure' <<<"$o" && ok "TLS 1.3 without an offered AEAD suite is refused (CCM: handshake_failure alert)" ||
	not_ok "TLS 1.3 CCM refused" "$(grep -E 'New,|alert' <<<"$o")"
o=$(tlsc -tls1_2 -alpn h2)
grep -q 'Protocol *: TLSv1.2' <<<"$o" && grep -q 'ALPN protocol: h2' <<<"$o" && grep -qE 'Cipher *: ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)' <<<"$o" &&
	ok "TLS 1.2 for older clients: ECDHE-ECDSA and an AEAD cipher, ALPN h2" || not_ok "TLS 1.2, AEAD, ALPN h2" "$(grep -E 'Protocol|Cipher|ALPN|error' <<<"$o")"
o=$(tlsc -tls1_1)
grep -q 'alert protocol version' <<<"$o" && ok "TLS 1.1 is refused by the node (protocol_version alert)" || not_ok "TLS 1.1 is refused" "$(grep -E 'Protocol|Cipher' <<<"$o")"
o=$(tlsc -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:AES128-SHA')
grep -q 'alert handshake failure' <<<"$o" && ok "CBC ciphers and RSA key exchange are refused (handshake_failure alert)" || not_ok "CBC refused" "$(grep -E 'Cipher' <<<"$o")"
o=$(tlsc -tls1_2 -alpn http/1.1)
grep -q 'alert no application protocol' <<<"$o" && ok "a client offering only ALPN http/1.1 is refused (no_application_protocol alert)" ||
	not_ok "ALPN http/1.1 refused" "$(grep -E 'ALPN|Cipher|alert' <<<"$o")"

# osctl against OpenSSL's server (a certificate for 127.0.0.1 from the same CA): it speaks
# TLS 1.3, and 1.2 when told (--tls-max 1.2); a 1.3-only server refuses the latter.
openssl ecparam -genkey -name prime256v1 -noout -out srv.key 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n' >srv.ext
openssl req -new -key srv.key -subj "/CN=s_server" 2>/dev/null |
	openssl x509 -req -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile srv.ext -out srv.crt 2>/dev/null
# s_server_osctl NAME S_SERVER_FLAGS... -- OSCTL_FLAGS...: one handshake; s_server's report in
# NAME.out (its stdin stays open: at EOF it would end the session before reporting).
s_server_osctl() {
	local name=$1 sflags=() spid
	shift
	while [[ $1 != -- ]]; do sflags+=("$1"); shift; done
	shift
	openssl s_server -accept 127.0.0.1:50100 -naccept 1 -brief -cert srv.crt -key srv.key -CAfile ca.crt \
		-Verify 1 -alpn h2 "${sflags[@]}" < <(sleep 8) >"$name.out" 2>&1 &
	spid=$!
	wait_until 5 bash -c "ss -ltn | grep -q 127.0.0.1:50100" >/dev/null
	# The server speaks no HTTP/2: the call itself fails after the handshake.
	timeout 5 "$osctl" -e 127.0.0.1:50100 "$@" version >"$name.osctl" 2>&1
	sed -i 's/^/  /' "$name.osctl"
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
}
s_server_osctl s13 -tls1_3 --
grep -q 'Protocol version: TLSv1.3' s13.out && grep -q 'Peer certificate: .*O = os:admin' s13.out &&
	ok "osctl speaks TLS 1.3 to OpenSSL ($(sed -n 's/^Ciphersuite: *//p' s13.out), with its client certificate)" ||
	not_ok "osctl speaks TLS 1.3" "$(cat s13.out s13.osctl)"
s_server_osctl s12 -- --tls-max 1.2
grep -q 'Protocol version: TLSv1.2' s12.out && ok "osctl --tls-max 1.2 speaks TLS 1.2 ($(sed -n 's/^Ciphersuite: *//p' s12.out))" ||
	not_ok "osctl --tls-max 1.2" "$(cat s12.out s12.osctl)"
s_server_osctl s13only -tls1_3 -- --tls-max 1.2
grep -q 'unsupported protocol' s13only.out && ! grep -q 'Protocol version: TLSv1' s13only.out &&
	grep -q 'TLS handshake: handshake: the peer sent a fatal protocol_version alert (the node and this client share no TLS version' s13only.osctl &&
	ok "osctl --tls-max 1.2 and a 1.3-only server: no session; osctl names the protocol_version alert" ||
	not_ok "--tls-max 1.2 against 1.3 only" "$(cat s13only.out s13only.osctl)"

# The client prints its checks; its exit status is a check of its own, so a client that
# throws before printing fails here even with no "not ok" line.
timeout 60 node --no-deprecation "$here/client.js" "$ep" ca.crt admin.crt admin.key reader.crt reader.key imp.crt imp.key >client.out 2>&1
rc=$?
tap_through client.out
((rc == 0)) && ok "the grpc-js client exited cleanly" || not_ok "the grpc-js client exited cleanly" "exit status $rc"
finish
