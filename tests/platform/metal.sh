#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The metal platform: a node booted with basalt.config=<url> and no persisted config fetches
# its config from that URL, the URL's ${uuid} and ${serial} filled in from the machine's
# DMI data (a copy of sysfs here). The server is not up at first (refused), then answers
# with a body cut short, a 503 and a config that does not validate before the good one:
# each failure is said on the console and retried, nothing half-read is applied, and the
# good config puts the node on mutual TLS with its CA. A maintenance boot does not fetch.
#   metal.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
here=$(realpath "$(dirname "$0")")
t=$(test_dir)
plan 10
cd "$t" || exit 1
A=127.0.0.1:50000 port=18080
"$osctl" gen config metal https://127.0.0.1:6443 -o gen >/dev/null
mkdir -p sys/class/dmi/id sys/class/net
echo "4C4C4544-0042-3510-8052-B2C04F4E3232" >sys/class/dmi/id/product_uuid
echo "SN 42/x" >sys/class/dmi/id/product_serial
url="http://127.0.0.1:$port/m/\${uuid}/\${serial}.yaml"
echo "console=ttyS0 basalt.config=$url" >cmdline
NODE_ARGS="--cmdline $t/cmdline --sysfs $t/sys" basalt_node "$out" "$t/n" "$A"
want=/m/4c4c4544-0042-3510-8052-b2c04f4e3232/SN%2042%2Fx.yaml
check "no server yet: the console says the fetch was refused and is retried" \
	wait_line n/console.log "metal: config from http://127\\.0\\.0\\.1:$port$want: connect: Connection refused; trying again" 10
check "meanwhile the node waits in maintenance mode" wait_line n/console.log 'API in maintenance mode' 10
node "$here/server.js" "$port" gen/controlplane.yaml server.log cut 503 invalid good &
at_exit "proc_kill $(proc_track $!)"
check "a body cut short is said and not applied" \
	wait_line n/console.log 'metal: config from .*: the connection closed [0-9]+ bytes before the end of the body; trying again' 20
check "an HTTP status other than 200 is said" wait_line n/console.log 'metal: config from .*: HTTP status 503; trying again' 20
if wait_line n/console.log 'metal: config from .*: does not validate: .*/machine/type: "wroker" is not one of' 30 >/dev/null; then
	ok "a config that does not validate is said, naming the problem"
else
	not_ok "a config that does not validate is said, naming the problem" "$(grep metal: n/console.log)"
fi
check "the good config is applied" wait_line n/console.log "metal: machine config from http://127\\.0\\.0\\.1:$port$want applied \\([0-9]+ bytes, attempt [0-9]+\\)" 40
expect "every request asked for the URL with the machine's uuid and serial filled in" "^GET $want good\$" tail -1 server.log
[[ $(grep -c "^GET $want " server.log) -ge 4 ]] && ok "the node asked again after each failure ($(wc -l <server.log) requests)" ||
	not_ok "retried after each failure" "$(cat server.log)"
export OSCONFIG=$t/gen/osconfig
check "the fetched config is in force: the node serves mutual TLS with its CA" \
	wait_until 20 bash -c "'$osctl' -e '$A' get machineconfig -o yaml | grep -q 'type: controlplane'"
# A maintenance boot ignores basalt.config as it ignores the persisted config.
"$osctl" -e "$A" reboot >/dev/null 2>&1
node_exit n 15 >/dev/null
rm -rf n/state
echo "console=ttyS0 basalt.config=$url basalt.maintenance=1" >cmdline
: >server.log
NODE_ARGS="--cmdline $t/cmdline --sysfs $t/sys" basalt_node "$out" "$t/n" "$A"
wait_line n/console.log 'API in maintenance mode' 10 >/dev/null
sleep 3
[[ ! -s server.log ]] && ok "basalt.maintenance=1: no config is fetched" || not_ok "a maintenance boot fetches nothing" "$(cat server.log)"
finish
