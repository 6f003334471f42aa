#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# discoveryd on loopback, called by @grpc/grpc-js with the discovery protocol's own schema
# (client.js): the service's calls, TTLs, limits, rate limit, TLS, a stalled watcher; and
# here what a user of the daemon sees: its usage errors, its memory, its clean stop.
#   registry.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
here=$(realpath "$(dirname "$0")")
out=$(realpath "$1")
d=$out/bin/discoveryd
t=$(test_dir)
plan 22
cd "$t" || exit 1
[[ -d $here/../interop/node_modules/@grpc/grpc-js ]] || bail "@grpc/grpc-js installed in tests/interop (make installs it with npm ci)"

refuse "an option without a number is refused, naming it" 'discoveryd: --rate fast: a whole number from 0 to 1000000 is required' \
	"$d" --rate fast
refuse "--cert without --key is refused" 'discoveryd: --cert and --key go together' "$d" --cert x.pem

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=registry \
	-addext subjectAltName=IP:127.0.0.1 -keyout reg.key -out reg.crt 2>openssl.err || bail "a certificate for the TLS registry" "$(cat openssl.err)"
start() {  # start NAME ARGS...: a discoveryd logging into NAME.log; its PID:START in NAME.pid
	local name=$1
	shift
	"$d" "$@" >"$name.log" 2>&1 &
	proc_track $! >"$name.pid"
	at_exit proc_kill "$(cat "$name.pid")"
	wait_line "$name.log" 'serving the discovery registry' 10 >/dev/null || bail "discoveryd $name started" "$(cat "$name.log")"
}
start main --listen 127.0.0.1:3000 --rate 0 --stats 1
start limited --listen 127.0.0.1:3001 --rate 5 --burst 5
start tls --listen 127.0.0.1:3002 --cert reg.crt --key reg.key
refuse "a port already taken: said, and it exits" 'listen on 127.0.0.1 port 3000: Address in use' timeout 10 "$d" --listen 127.0.0.1:3000

timeout 120 node --no-deprecation "$here/client.js" 127.0.0.1:3000 127.0.0.1:3001 127.0.0.1:3002 reg.crt >client.out 2>&1
rc=$?
tap_through client.out
((rc == 0)) && ok "the client exited 0" || not_ok "the client exited $rc" "$(tail -5 client.out)"

pid=$(cut -d: -f1 main.pid)
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
((rss > 0 && rss < 32768)) && ok "discoveryd's memory after all that (1,100 affiliates, a dropped watcher): ${rss} KiB resident" ||
	not_ok "discoveryd's memory" "VmRSS ${rss} KiB"
wait_line main.log 'stats: .* watchers dropped' 5 >/dev/null
grep -qE 'stats: .*[1-9][0-9]* watchers dropped' main.log && ok "its stats line counts the watcher it dropped" ||
	not_ok "stats" "$(grep stats: main.log | tail -1)"
kill -TERM "$pid"
wait "$pid" 2>/dev/null
rc=$?
((rc == 0)) && grep -q 'signal 15: stopping' main.log && ok "SIGTERM: it stops cleanly (exit 0)" ||
	not_ok "SIGTERM" "exit $rc" "$(tail -3 main.log)"
finish
