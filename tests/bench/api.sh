#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The machine API benchmark: the same unary RPC (MachineService.Version) over mutual TLS,
# against machined and against a reference server built from @grpc/grpc-js with the same
# CA, measured in one run by the same C load generator: requests/s and p50/p99 latency
# over 1 connection and over 50 (one call in flight per connection), full and resumed TLS 1.3
# handshakes/s (handshake + one call), and the servers' peak resident memory.
#   api.sh OUTDIR [SECONDS]
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
here=$(realpath "$(dirname "$0")")
root=$(realpath "$here/../..")
out=$(realpath "$1")
secs=${2:-5}
osctl=$out/bin/osctl
bench=$out/bench/grpcbench
t=$(test_dir)
ep=127.0.0.1:50000
refport=50100  # (50001 is the node's certificate-signing port)

[[ -d $root/tests/interop/node_modules/@grpc/grpc-js ]] ||
	{ echo "bench-api: @grpc/grpc-js is not installed in tests/interop (make bench-api installs it)" >&2; exit 1; }
basalt_node "$out" "$t/n" "$ep"
cd "$t" || exit 1
fp=$(basalt_fingerprint n)
"$osctl" gen config bench https://127.0.0.1:6443 -o gen >/dev/null
"$osctl" apply-config --insecure --cert-fingerprint "$fp" -e "$ep" -f gen/controlplane.yaml >/dev/null
wait_line n/console.log 'API serving mutual TLS' 10 >/dev/null
grep -oP '(?<=crt: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.crt
grep -oP '(?<=key: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.key
"$osctl" gen key --name c >/dev/null && "$osctl" gen crt --ca ca --key c.key --name c --role os:admin >/dev/null
"$osctl" gen key --name ref >/dev/null && "$osctl" gen crt --ca ca --key ref.key --name ref --server --san 127.0.0.1 >/dev/null
node --no-deprecation "$root/tests/interop/refserver.js" "$refport" ca.crt ref.crt ref.key >ref.log 2>&1 &
ref=$!
at_exit "kill $ref 2>/dev/null"
wait_line ref.log listening 15 >/dev/null || { echo "bench-api: reference server did not start: $(cat ref.log)" >&2; exit 1; }

u=$(node_pid n)
init=$(awk '{print $1}' /proc/$u/task/$u/children)
mpid=
for c in $(cat /proc/$init/task/*/children); do [[ $(cat /proc/$c/comm 2>/dev/null) == machined ]] && mpid=$c; done
apid=
for c in $(cat /proc/$mpid/task/*/children); do [[ $(cat /proc/$c/comm 2>/dev/null) == apid ]] && apid=$c; done
[[ -n $mpid && -n $apid ]] || { echo "bench-api: machined's core and apid not found under the node's init" >&2; exit 1; }
# machined's side is its core and its apid together.
hwm() { local s=0 p; for p in "$@"; do s=$((s + $(awk '/VmHWM/ {print $2}' /proc/$p/status))); done; echo $s; }
rss() { local s=0 p; for p in "$@"; do s=$((s + $(awk '/VmRSS/ {print $2}' /proc/$p/status))); done; echo $s; }
# PSS: each page counted once across the processes that map it (machined's core and apid
# run the same binary, so its code pages are shared; summing RSS counts them twice).
pss() { local s=0 p; for p in "$@"; do s=$((s + $(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup))); done; echo $s; }
m_rest=$(rss $mpid $apid)
r_rest=$(rss $ref)
m_pss=$(pss $mpid $apid)
r_pss=$(pss $ref)

# CPU time (user + system, in microseconds) the processes have used so far.
cpu_us() {
	local s=0 p tck
	tck=$(getconf CLK_TCK)
	for p in "$@"; do s=$((s + $(awk '{print $14 + $15}' /proc/$p/stat))); done
	echo $((s * 1000000 / tck))
}
# One measurement; the line gets "cpu_us C": the server's CPU per call over the whole run.
run() {
	local c0 line pids
	[[ $3 == "$ep" ]] && pids="$mpid $apid" || pids=$ref
	c0=$(cpu_us $pids)
	line=$("$bench" "$1" "$2" "$secs" "$3" ca.crt c.crt c.key)
	echo "$line cpu_us $(awk -v d=$(($(cpu_us $pids) - c0)) -v n="$(field "$line" total)" 'BEGIN { if (n > 0) printf "%.1f", d / n; else print 0 }')"
}
field() { awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' <<<"$1"; }
# Three rounds, the two servers taking turns; each cell is the round with the median
# requests/s (this machine's scheduling is noisy).
declare -A R
for what in "unary 1" "unary 50" "handshake 4" "resume 4"; do
	for side in machined ref; do R["$what/$side"]=""; done
	for round in 1 2 3; do
		for side in machined ref; do
			[[ $side == machined ]] && target=$ep || target=127.0.0.1:$refport
			R["$what/$side"]+="$(run $what "$target")"$'\n'
		done
	done
	for side in machined ref; do
		R["$what/$side"]=$(grep . <<<"${R["$what/$side"]}" | sort -t' ' -k4,4n | sed -n 2p)
	done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
row() {
	local name=$1 key=$2 f=$3 unit=$4 m r
	m=$(field "${R[$key/machined]}" "$f")
	r=$(field "${R[$key/ref]}" "$f")
	printf '| %-38s | %12s | %12s | %9s |\n' "$name" "$m$unit" "$r$unit" "$(ratio "$m" "$r")"
}
echo
echo "Machine API benchmark: MachineService.Version over mutual TLS (ECDSA P-256), loopback,"
echo "${secs} s per measurement after 1 s of warm-up, one call in flight per connection,"
echo "median of 3 rounds."
echo "Reference: @grpc/grpc-js $(node -p "require('$root/tests/interop/node_modules/@grpc/grpc-js/package.json').version") on Node.js $(node --version), same CA and load generator."
echo
printf '| %-38s | %12s | %12s | %9s |\n' "measure" "machined" "grpc-js" "ratio"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..40})" "$(printf -- '-%.0s' {1..14})" "$(printf -- '-%.0s' {1..14})" "$(printf -- '-%.0s' {1..11})"
row "unary req/s, 1 connection" "unary 1" per_s ""
row "  p50 latency, 1 connection" "unary 1" p50_us " us"
row "  p99 latency, 1 connection" "unary 1" p99_us " us"
row "unary req/s, 50 connections" "unary 50" per_s ""
row "  p50 latency, 50 connections" "unary 50" p50_us " us"
row "  p99 latency, 50 connections" "unary 50" p99_us " us"
row "full TLS 1.3 handshakes/s, 4 parallel" "handshake 4" per_s ""
row "resumed TLS 1.3 handshakes/s, 4 par." "resume 4" per_s ""
row "server CPU per request, 50 conns" "unary 50" cpu_us " us"
row "server CPU per full handshake" "handshake 4" cpu_us " us"
row "server CPU per resumed handshake" "resume 4" cpu_us " us"
m_hwm=$(hwm $mpid $apid)
r_hwm=$(hwm $ref)
printf '| %-38s | %12s | %12s | %9s |\n' "memory at rest (PSS, shared once)" "$m_pss KiB" "$r_pss KiB" "$(ratio "$m_pss" "$r_pss")"
printf '| %-38s | %12s | %12s | %9s |\n' "resident memory at rest (RSS summed)" "$m_rest KiB" "$r_rest KiB" "$(ratio "$m_rest" "$r_rest")"
printf '| %-38s | %12s | %12s | %9s |\n' "peak resident memory (VmHWM)" "$m_hwm KiB" "$r_hwm KiB" "$(ratio "$m_hwm" "$r_hwm")"
pp=$("$bench" pingpong)
printf '| %-38s | %12s | %12s | %9s |\n' "process round trip (socketpair), p50" "$(field "$pp" p50_us) us" "-" "-"
errs=0
for k in "${!R[@]}"; do e=$(field "${R[$k]}" errors); ((errs += e)); done
# A resumption row is only what it says if (nearly) every handshake in it resumed.
for side in machined ref; do
	res=$(field "${R["resume 4/$side"]}" resumed) full=$(field "${R["resume 4/$side"]}" full)
	echo "resumed handshakes, $side: $res resumed, $full full"
	((res > 0 && full * 20 <= res)) || { echo "bench-api: $side did not resume its TLS sessions" >&2; exit 1; }
	[[ $(field "${R["handshake 4/$side"]}" resumed) == 0 ]] || { echo "bench-api: the full-handshake row resumed on $side" >&2; exit 1; }
done
echo
echo "errors during the runs: $errs. machined's memory is its core (store, controllers, init link)"
echo "plus its unprivileged apid process (TLS, HTTP/2), which relays every call to the core:"
echo "each call pays one process round trip more than a single-process server (last row)."
echo "Server CPU per call is the user + system time machined's core and apid (or the Node"
echo "process) used over the whole run, divided by the calls served: lower is better, and unlike"
echo "the rates it does not depend on how fast the shared load generator is."
