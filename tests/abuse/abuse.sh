#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile clients against a configured node: 1,000 concurrent connections, slowloris,
# garbage instead of TLS, an oversized frame and message, a client that never reads a
# stream. machined and its apid must stay up (same processes), keep their memory bounded
# and keep serving others. The node's containerd is a script that writes log lines as fast as it can.
#   abuse.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
abuse=$out/host/bin/abuse
t=$(mktemp -d /tmp/basalt-abuse.XXXXXX)
ep=127.0.0.1:$((40000 + RANDOM % 10000))
at_exit "cp -r $t/n/console.log /tmp/abuse-console.log 2>/dev/null; rm -rf $t"
printf '#!/bin/sh\nwhile :; do seq -f "noise line %%g ................................................" 1 5000; sleep 0.02; done\n' >"$t/noisy"
basalt_node "$out" "$t/n" "$ep" "$t/noisy"
cd "$t" || exit 1
fp=$(basalt_fingerprint n)
"$osctl" gen config abuse https://127.0.0.1:6443 -o gen >/dev/null
"$osctl" apply-config --insecure --cert-fingerprint "$fp" -e "$ep" -f gen/worker.yaml >/dev/null
wait_line n/console.log 'API serving mutual TLS' 10 >/dev/null
export OSCONFIG=$t/gen/osconfig
grep -oP '(?<=crt: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.crt
grep -oP '(?<=key: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.key
"$osctl" gen key --name c >/dev/null && "$osctl" gen crt --ca ca --key c.key --name c --role os:admin >/dev/null
creds=(ca.crt c.crt c.key)

# machined's host PID: the child of init (the child of unshare) named machined.
u=$(cat n/pid)
init=$(cat /proc/$u/task/$u/children | awk '{print $1}')
mpid=
for c in $(cat /proc/$init/task/*/children); do [[ $(cat /proc/$c/comm 2>/dev/null) == machined ]] && mpid=$c; done
[[ -n $mpid ]] || { not_ok "find machined"; finish; }
apid=
for c in $(cat /proc/$mpid/task/*/children); do [[ $(cat /proc/$c/comm 2>/dev/null) == apid ]] && apid=$c; done
[[ -n $apid ]] || { not_ok "find apid"; finish; }
# The API's memory: machined's core and its apid together.
rss() { echo $(($(awk '/VmRSS/ {print $2}' /proc/$mpid/status) + $(awk '/VmRSS/ {print $2}' /proc/$apid/status))); }
# A sampler keeps the largest RSS seen in peak.
(while kill -0 $mpid 2>/dev/null; do r=$(rss); p=$(cat peak 2>/dev/null || echo 0); ((r > p)) && echo $r >peak; sleep 0.1; done) &
sampler=$!
at_exit "kill $sampler 2>/dev/null"
wait_until 10 bash -c "'$osctl' -e '$ep' services | grep -q containerd"
base=$(rss)
note "machined + apid RSS at rest: $base KiB"
served() { "$osctl" -e "$ep" version >/dev/null 2>&1; }

"$abuse" conns 1000 "$ep" "${creds[@]}"
p1000=$(cat peak)
note "peak RSS with 1000 connections: $p1000 KiB"
((p1000 < 65536)) && ok "1000 connections fit in under 64 MiB (peak $((p1000 / 1024)) MiB: TLS buffers and an HTTP/2 session each)" ||
	not_ok "memory with 1000 connections" "peak $p1000 KiB"
"$abuse" slowloris 200 "$ep" 14 &
slow=$!
sleep 2  # a test parameter: the attack under way before another client asks
check "served while 200 slowloris sockets hang" served
wait $slow
"$abuse" garbage 20 "$ep"
"$abuse" bigframe "$ep" "${creds[@]}"
"$abuse" oversized "$ep" "${creds[@]}"
echo 0 >peak
"$abuse" noread "$ep" "${creds[@]}" containerd 12 &
nr=$!
sleep 4  # a test parameter: the stream backed up before another client asks
check "served while a client does not read its log stream" served
wait $nr
noread_peak=$(cat peak)
note "peak RSS while a client did not read a fast log: $noread_peak KiB (at rest $base KiB)"
((noread_peak - base < 24576)) && ok "memory stays bounded with a client not reading (+$(((noread_peak - base) / 1024)) MiB)" ||
	not_ok "memory bounded with a non-reading client" "peak $noread_peak KiB, at rest $base KiB"
check "served afterwards" served
[[ $(cat /proc/$mpid/comm 2>/dev/null) == machined ]] && ok "machined is the same process as before (never restarted)" || not_ok "machined survived"
[[ $(cat /proc/$apid/comm 2>/dev/null) == apid ]] && ok "apid is the same process as before (no crash)" || not_ok "apid survived"
v=$("$osctl" -e "$ep" services 2>&1)
grep -qE 'machined +running +OK +[0-9]+ +0 ' <<<"$v" && ok "init counts no machined restart" || not_ok "machined restarts" "$v"
finish
