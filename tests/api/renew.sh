#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Certificates that run out, renewed before they do: a control-plane node started with
# --signed-lifetime 24 signs workers' certificates for 24 s and its own os:impersonator
# (forwarding) certificate for 24 s, so what takes 20 days and 6 hours on a node takes
# seconds here. A worker without the CA key first asks a signer that is not there
# (ApiCertificate pending, with the error, in its resource dump), then one that is; its
# certificate is renewed at two thirds of its life (a new fingerprint, a later expiry,
# clients served throughout), and the control plane's forwarding certificate at half of its
# own (forwarded calls go on working across two renewals).
#   renew.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
t=$(test_dir)
plan 9
cd "$t" || exit 1
A=127.0.0.1:50000 B=127.0.0.2:50000
NODE_ARGS="--signed-lifetime 24" basalt_node "$out" "$t/a" "$A"
basalt_node "$out" "$t/b" "$B"
"$osctl" gen config renew https://127.0.0.1:6443 -o gen >/dev/null || bail "gen config"
# (loopback targets: this test's nodes share the host's loopback, so forwarding must allow it)
sed "s/^  certSANs: \[\]/  certSANs: []\n  features:\n    localForwarding: true\n  network:\n    hostname: renew-cp/" gen/controlplane.yaml >cp.yaml
# The worker's signers: first nothing (port 50009), then the control plane.
sed "s/^  certSANs: \[\]/  certSANs: []\n  network:\n    hostname: renew-w/; s|^    endpoint: https://127.0.0.1:6443\$|&\n    certificateSigners: [\"127.0.0.1:50009\"]|" \
	gen/worker.yaml >w-dead.yaml
"$osctl" apply-config --insecure -e "$A" --cert-fingerprint "$(basalt_fingerprint a)" -f cp.yaml >apply-a.out 2>&1 ||
	bail "the control plane takes its config" "$(cat apply-a.out)"
"$osctl" apply-config --insecure -e "$B" --cert-fingerprint "$(basalt_fingerprint b)" -f w-dead.yaml >apply-b.out 2>&1 ||
	bail "the worker takes its config" "$(cat apply-b.out)"
export OSCONFIG=$t/gen/osconfig
wait_line a/console.log 'API serving mutual TLS on 127.0.0.1:50000' 20 >/dev/null || bail "the control plane serves mutual TLS"

# Pending: the only signer is not there. Its resources, dumped on SIGUSR1, say so.
wait_line b/console.log 'API certificate from 127.0.0.1:50009: ' 20 >/dev/null || bail "the worker asks the dead signer"
u=$(node_pid b); binit=$(awk '{print $1}' /proc/$u/task/$u/children)
bpid=; for c in $(cat /proc/$binit/task/*/children); do [[ $(cat /proc/$c/comm 2>/dev/null) == machined ]] && bpid=$c; done
kill -USR1 "$bpid"
pending() { sed -n '/ApiCertificate/,/^[^ ]*\[machined\] [A-Z]/p' b/console.log | grep -q 'state: pending'; }
if wait_until 10 pending && sed -n '/ApiCertificate/,$p' b/console.log | grep -qE 'error: .*(refused|connect)'; then
	ok "with no signer answering, the worker's ApiCertificate is pending and names the error"
else
	not_ok "pending" "$(grep -A12 'ApiCertificate' b/console.log | head -14)"
fi
refuse "meanwhile it serves no client (maintenance is over, and it has no certificate of the CA)" \
	'maintenance mode is over|TLS handshake' "$osctl" -e "$B" version

# The right signer: a node restarted with it (the config is persisted; a new one replaces it
# over the API only with a certificate, which this worker does not have yet).
sed 's|certificateSigners: \["127.0.0.1:50009"\]|certificateSigners: ["127.0.0.1:50009", 127.0.0.1]|' w-dead.yaml >w.yaml
old=$(node_pid b)
proc_kill "$(cat b/pid)"
wait_until 10 bash -c "! kill -0 $old 2>/dev/null" || bail "the first worker ends"
rm -rf b
basalt_node "$out" "$t/b" "$B"
"$osctl" apply-config --insecure -e "$B" --cert-fingerprint "$(basalt_fingerprint b)" -f w.yaml >apply-b2.out 2>&1 ||
	bail "the worker takes its second config" "$(cat apply-b2.out)"
fp_of() { "$osctl" -e "$B" get apicertificate api -o yaml 2>/dev/null | sed -n 's/^ *fingerprint: *//p' | head -1; }
na_of() { "$osctl" -e "$B" get apicertificate api -o yaml 2>/dev/null | sed -n 's/^ *not_after: *//p; s/^ *notAfter: *//p' | head -1; }
wait_until 30 bash -c "'$osctl' -e '$B' version 2>/dev/null | grep -q 'Hostname: *renew-w'" ||
	bail "the worker gets its certificate" "$(grep 'API' b/console.log | tail -5)"
fp1=$(fp_of) na1=$(na_of)
left=$(($(date -d "$na1" +%s) - $(date +%s)))
((left > 10 && left <= 25)) && ok "the control plane signs for its lifetime: the worker's certificate runs out in ${left} s" ||
	not_ok "lifetime" "not_after $na1 (${left} s)"
# Renewed with a third of its life left (about 16 s in), clients served throughout.
served=0 fails=0
for i in $(seq 1 40); do
	"$osctl" -e "$B" version >/dev/null 2>&1 && served=$((served + 1)) || fails=$((fails + 1))
	fp2=$(fp_of)
	[[ -n $fp2 && $fp2 != "$fp1" ]] && break
	sleep 0.5
done
na2=$(na_of)
if [[ -n $fp2 && $fp2 != "$fp1" && $(date -d "$na2" +%s) -gt $(date -d "$na1" +%s) ]]; then
	ok "renewed before it ran out: a new certificate (${fp2:0:12}...), running out later ($na1 -> $na2)"
else
	not_ok "worker renewal" "fingerprint ${fp1:0:12} -> ${fp2:0:12}" "not_after $na1 -> $na2" "$(grep 'API' b/console.log | tail -4)"
fi
((fails == 0 && served > 0)) && ok "the worker answered every call while its certificate was renewed ($served calls)" ||
	not_ok "served during renewal" "$served served, $fails failed"
expect "and it answers with the renewed one" 'Hostname: *renew-w' "$osctl" -e "$B" version

# The control plane's forwarding certificate: 24 s, renewed at 12 s; forwarding across two.
n0=$(grep -c 'forwarding certificate (os:impersonator) issued for 24 s' a/console.log)
fwd_ok=0
for i in $(seq 1 30); do
	"$osctl" -e "$A" -n 127.0.0.2 get hostname 2>/dev/null | grep -q 'renew-w' && fwd_ok=$((fwd_ok + 1))
	sleep 1
done
n1=$(grep -c 'forwarding certificate (os:impersonator) issued for 24 s' a/console.log)
((n1 - n0 >= 2)) && ok "the forwarding certificate is renewed at half its life ($((n1 - n0)) renewals in 30 s)" ||
	not_ok "impersonator renewal" "$n0 -> $n1 issued" "$(grep 'forwarding' a/console.log | tail -3)"
((fwd_ok == 30)) && ok "forwarded calls work across those renewals ($fwd_ok of 30)" || not_ok "forwarding across renewals" "$fwd_ok of 30"
# No private key in any file of the worker (its API key, like the control plane's forwarding
# key, lives in memory only); on the control plane only the CA key, in its config and in
# identity.yaml (machine.ca of the last config in force).
pem=LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t  # "-----BEGIN EC PRIVATE KEY-----", base64
wk=$(grep -rlE -e 'PRIVATE KEY' -e "$pem" b/state 2>/dev/null)
ck=$(grep -rlE -e 'PRIVATE KEY' -e "$pem" a/state 2>/dev/null | grep -vE '/(config[^/]*|identity\.yaml)$')
[[ -z $wk && -z $ck && -n $(ls -A b/state) ]] &&
	ok "no file of the worker holds a private key, nor one of the control plane but the CA key (its config, identity.yaml)" ||
	not_ok "keys in files" "worker: ${wk:-none}" "control plane: ${ck:-none}"
finish
