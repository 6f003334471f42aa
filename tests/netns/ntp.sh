#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Time against a real NTP server: chronyd (serving its own clock at stratum 8, never
# adjusting it) in a namespace of its own, a node in another, joined by a veth. The node is
# configured over its API with a static address and machine.time.servers (a silent server
# first, then chronyd): TimeStatus shows the sync, from the second server, with the offset
# of two clocks that are one; in container mode the clock is measured, never adjusted. A
# server named by a DNS name is looked up at the node's DNS server (dnsmasq beside chronyd):
# found, it syncs; NXDOMAIN is said so. machine.time.disabled stops it.
#   ntp.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
chronyd=$out/peers/chronyd
need_netns
[[ -x $chronyd ]] || bail "chronyd is there ($chronyd: make $chronyd)"
t=$(test_dir)
plan 8
cd "$t" || exit 1
srv=bntp$TEST_ID node=bntpn$TEST_ID
netns_new "$srv" && netns_new "$node" || bail "network namespaces"
ip link add eth0 netns "$node" type veth peer name v0 netns "$srv" &&
	ip -n "$srv" addr add 10.78.0.1/24 dev v0 && ip -n "$srv" link set v0 up || bail "the veth"

cat >chrony.conf <<CONF
local stratum 8
allow all
bindaddress 10.78.0.1
cmdport 0
pidfile $t/chronyd.pid
CONF
ip netns exec "$srv" "$chronyd" -f "$t/chrony.conf" -d -x -u root >chronyd.log 2>&1 &
c=$(proc_track $!)
at_exit "proc_kill $c TERM"
check "chronyd serves NTP on 10.78.0.1:123" \
	wait_until 10 bash -c "ip netns exec '$srv' ss -ulnH | grep -q '10.78.0.1:123 '"
# DNS beside it: ntp.lab.test is chronyd, every other lab.test name does not exist.
ip netns exec "$srv" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --listen-address=10.78.0.1 \
	--bind-interfaces --address=/ntp.lab.test/10.78.0.1 --local=/lab.test/ --pid-file= --log-queries \
	--log-facility="$t/dnsmasq.log" >dnsmasq.out 2>&1 &
d=$(proc_track $!)
at_exit "proc_kill $d TERM"
wait_until 10 bash -c "ip netns exec '$srv' ss -ulnH | grep -q '10.78.0.1:53 '" || bail "dnsmasq serves DNS" "$(cat dnsmasq.out)"

NODE_NETNS=$node basalt_node "$out" "$t/n" 127.0.0.1:50000
fp=$(basalt_fingerprint "$t/n") || bail "the node starts" "$(tail -5 "$t/n/console.log")"
o() { ip netns exec "$node" timeout 20 "$osctl" -e 127.0.0.1:50000 "$@"; }
"$osctl" gen config ntp https://127.0.0.1:6443 -o gen >/dev/null
sed 's/^machine:$/machine:\n  time:\n    servers: [10.78.0.99, 10.78.0.1]\n  network:\n    interfaces:\n      - interface: eth0\n        addresses: [10.78.0.2\/24]/' \
	gen/controlplane.yaml >node.yaml
expect "the node takes a config with two time servers" 'applied without a reboot' \
	o apply-config --insecure --cert-fingerprint "$fp" -f node.yaml
export OSCONFIG=$t/gen/osconfig
status() { o get timestatus time -o yaml 2>&1; }
if wait_until 20 bash -c "$(declare -f o status); osctl='$osctl' node='$node'; status | grep -q 'synced: true'"; then
	v=$(status)
	grep -q 'server: 10.78.0.1$' <<<"$v" && grep -q 'stratum: 8$' <<<"$v" &&
		ok "TimeStatus: synced with chronyd (10.78.0.1, stratum 8) after the silent 10.78.0.99" ||
		not_ok "the sync's server" "$v"
	off=$(awk '/offsetNs:/ {gsub(/"/, "", $2); print $2}' <<<"$v")
	off=${off:-0}
	((${off#-} < 100000000)) && ok "the offset of one clock against itself is small (${off} ns)" ||
		not_ok "offset" "$v"
	grep -q 'adjusted: true' <<<"$v" && not_ok "a node in a container adjusted the host's clock" "$v" ||
		ok "in container mode the clock is measured, not adjusted"
else
	not_ok "TimeStatus synced" "$(status)" "$(tail -5 chronyd.log)"
	not_ok "offset" "no sync"
	not_ok "not adjusted" "no sync"
fi
o patch mc --patch '{"machine":{"time":{"servers":["ntp.lab.test"]},"network":{"nameservers":["10.78.0.1"]}}}' >patch.out 2>&1
if wait_until 20 bash -c "$(declare -f o status); osctl='$osctl' node='$node'; status | grep -q 'server: ntp.lab.test$'" &&
	status | grep -q 'synced: true' && grep -q 'query\[A\] ntp.lab.test' "$t/dnsmasq.log"; then
	ok "a server by name: ntp.lab.test looked up at the node's DNS server (10.78.0.1), then synced with"
else
	not_ok "time server by name" "$(status)" "$(cat patch.out)" "$(tail -3 "$t/dnsmasq.log")"
fi
o patch mc --patch '{"machine":{"time":{"servers":["nosuch.lab.test"]}}}' >patch.out 2>&1
check "a name that does not exist is said so: NXDOMAIN from 10.78.0.1" \
	wait_until 10 bash -c "$(declare -f o status); osctl='$osctl' node='$node'; status | grep -q 'nosuch.lab.test: looking it up at 10.78.0.1: no such name (NXDOMAIN)'"
o patch mc --patch '[{"op":"remove","path":"/machine/time/servers"},{"op":"add","path":"/machine/time/disabled","value":true}]' >patch.out 2>&1
check "machine.time.disabled: time sync is off, and says so" \
	wait_until 10 bash -c "$(declare -f o status); osctl='$osctl' node='$node'; status | grep -q 'machine.time.disabled'"
finish
