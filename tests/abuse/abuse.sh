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
t=$(test_dir)
ep=127.0.0.1:50000
plan 32
printf '#!/bin/sh\nwhile :; do seq -f "noise line %%g ................................................" 1 5000; sleep 0.02; done\n' >"$t/noisy"
basalt_node "$out" "$t/n" "$ep" "$t/noisy"
cd "$t" || exit 1
fp=$(basalt_fingerprint n)
"$osctl" gen config abuse https://127.0.0.1:6443 -o gen >/dev/null
expect "the node takes a config" 'applied without a reboot' "$osctl" apply-config --insecure --cert-fingerprint "$fp" -e "$ep" -f gen/controlplane.yaml
wait_line n/console.log 'API serving mutual TLS' 10 >/dev/null || bail "the node serves mutual TLS" "$(tail -5 n/console.log)"
export OSCONFIG=$t/gen/osconfig
grep -oP '(?<=crt: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.crt
grep -oP '(?<=key: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.key
"$osctl" gen key --name c >/dev/null && "$osctl" gen crt --ca ca --key c.key --name c --role os:admin >/dev/null
creds=(ca.crt c.crt c.key)

# machined's PID: the child of init (the child of unshare) named machined.
u=$(node_pid n)
init=$(awk '{print $1}' /proc/$u/task/$u/children)
mpid=
for c in $(cat /proc/$init/task/*/children); do [[ $(cat /proc/$c/comm 2>/dev/null) == machined ]] && mpid=$c; done
[[ -n $mpid ]] || bail "find machined" "children of init: $(cat /proc/$init/task/*/children)"
apid=
for c in $(cat /proc/$mpid/task/*/children); do [[ $(cat /proc/$c/comm 2>/dev/null) == apid ]] && apid=$c; done
[[ -n $apid ]] || bail "find apid"
# The API's memory: machined's core and its apid together.
rss() { echo $(($(awk '/VmRSS/ {print $2}' /proc/$mpid/status) + $(awk '/VmRSS/ {print $2}' /proc/$apid/status))); }
# A sampler appends the RSS every 100 ms to rss.log; window_peak reads the samples taken
# since a mark (a line number), and fails when there are too few to mean anything.
(while kill -0 $mpid 2>/dev/null; do rss >>rss.log; sleep 0.1; done) &
at_exit "kill $! 2>/dev/null"
mark() { wc -l <rss.log; }
window_peak() {
	local n
	n=$(tail -n +$(($1 + 1)) rss.log | wc -l)
	((n >= 5)) || { echo "only $n samples"; return 1; }
	tail -n +$(($1 + 1)) rss.log | sort -n | tail -1
}
wait_until 10 bash -c "'$osctl' -e '$ep' services | grep -q containerd" || bail "the node serves its services"
base=$(rss)
note "machined + apid RSS at rest: $base KiB"
served() { timeout 20 "$osctl" -e "$ep" version 2>&1 | grep -q 'Tag:'; }
# client_sockets STATE: how many client-side sockets to the API are in that TCP state.
client_sockets() { ss -tnH state "$1" "( dport = :50000 )" | wc -l; }
# attack MODE ARGS...: runs the hostile client, passing its checks through; a client that
# exits non-zero without a failing check fails here.
attack() {
	local rc
	"$abuse" "$@" >"$1.out" 2>&1
	rc=$?
	tap_through "$1.out"
	((rc == 0)) || grep -q '^not ok' "$1.out" || not_ok "abuse $1 exited with status $rc"
}

m=$(mark)
attack conns 1000 "$ep" "${creds[@]}"
if p1000=$(window_peak "$m") && ((p1000 > base)); then
	note "peak RSS with 1000 connections: $p1000 KiB"
	((p1000 < 65536)) && ok "1000 connections fit in under 64 MiB (peak $((p1000 / 1024)) MiB: TLS buffers and an HTTP/2 session each)" ||
		not_ok "memory with 1000 connections" "peak $p1000 KiB"
else
	not_ok "memory with 1000 connections was measured" "$p1000 (at rest $base KiB)"
fi

"$abuse" slowloris 200 "$ep" 14 >slowloris.out 2>&1 &
slow=$!
if wait_until 5 bash -c "(( \$(ss -tnH state established '( dport = :50000 )' | wc -l) >= 200 ))"; then
	ok "slowloris under way: 200 sockets open to the API"
else
	not_ok "slowloris under way" "$(client_sockets established) client sockets established"
fi
check "served while 200 slowloris sockets hang" served
wait $slow
tap_through slowloris.out
attack garbage 20 "$ep"
attack bigframe "$ep" "${creds[@]}"
attack oversized "$ep" "${creds[@]}"
attack streams "$ep" "${creds[@]}"
# The cap is 1,024 connections; the sampler and this script hold none between checks.
attack evict 1024 "$ep" "${creds[@]}"

# The evicted connections' memory comes back once they are closed (musl returns freed
# pages); the next window starts from there, so it measures only what a non-reading
# client costs.
if wait_until 15 bash -c "$(declare -f rss); mpid=$mpid apid=$apid; (( \$(rss) < $base + 8192 ))"; then
	ok "memory returns after the 1024 connections close ($(rss) KiB, at rest $base KiB)"
else
	not_ok "memory returns after the 1024 connections close" "$(rss) KiB, at rest $base KiB"
fi
m=$(mark)
"$abuse" noread "$ep" "${creds[@]}" containerd 10 >noread.out 2>&1 &
nr=$!
# Under way: the client's socket holds data it does not read (its receive queue is full).
if wait_until 8 bash -c "ss -tnH state established '( dport = :50000 )' | awk '\$1 > 65536 { f = 1 } END { exit !f }'"; then
	ok "the non-reading client's receive queue fills (the stream is backed up)"
else
	not_ok "the non-reading client's stream backs up" "$(ss -tnH state established '( dport = :50000 )')"
fi
check "served while a client does not read its log stream" served
wait $nr
tap_through noread.out
if noread_peak=$(window_peak "$m"); then
	note "peak RSS while a client did not read a fast log: $noread_peak KiB (at rest $base KiB)"
	((noread_peak - base < 24576)) && ok "memory stays bounded with a client not reading (+$(((noread_peak - base) / 1024)) MiB)" ||
		not_ok "memory bounded with a non-reading client" "peak $noread_peak KiB, at rest $base KiB"
else
	not_ok "memory with a non-reading client was measured" "$noread_peak"
fi
check "served afterwards" served
# Big requests on long streams: the core reads each request where apid's message lies and
# keeps none of it for the call's life (16 x 3 MiB would otherwise stay for as long as the
# watches do).
core_rss() { awk '/VmRSS/ {print $2}' /proc/$mpid/status; }
core0=$(core_rss)
"$abuse" bigreq 3 "$ep" "${creds[@]}" >bigreq.out 2>&1 &
br=$!
if wait_line bigreq.out '^# holding' 60 >/dev/null; then
	core1=$(core_rss)
	((core1 - core0 < 8192)) && ok "16 watches with 3 MiB requests held open: the core keeps none of them (+$(((core1 - core0) / 1024)) MiB)" ||
		not_ok "the core keeps big requests of open streams" "core RSS $core0 -> $core1 KiB"
else
	not_ok "bigreq under way" "$(tail -3 bigreq.out)"
fi
wait $br
tap_through bigreq.out
[[ $(cat /proc/$mpid/comm 2>/dev/null) == machined ]] && ok "machined is the same process as before (never restarted)" || not_ok "machined survived"
[[ $(cat /proc/$apid/comm 2>/dev/null) == apid ]] && ok "apid is the same process as before (no crash)" || not_ok "apid survived"
expect "init counts no machined restart" 'machined +running +OK +[0-9]+ +0 ' "$osctl" -e "$ep" services
finish
