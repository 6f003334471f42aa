#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A QEMU node you can reach: the image booted as `make run` boots it (a user-mode NIC,
# isolated with restrict=on, the guest's port 50000 forwarded to this namespace's
# 127.0.0.1), the kernel's ip= giving it 10.0.2.15/24 with no DHCP server. From the host,
# as README.md shows: the console's fingerprint, a config applied in maintenance mode over
# the forwarded port, then over mutual TLS the links, addresses and network specs it has.
#   net.sh OUTDIR [--accel tcg|kvm]
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
accel=${2:-tcg}
[[ "$accel" == --accel ]] && accel=$3
osctl=$out/bin/osctl
need_netns
t=$(test_dir)
plan 18
con=$t/console.log
vm_start "$t" "$accel" --api-port 50000

if fp=$(basalt_fingerprint "$t" 180); then
	ok "the node prints its maintenance fingerprint on the console"
else
	not_ok "maintenance fingerprint on the console" "$(tail -20 "$con")"
	finish
fi
cd "$t" || exit 1
"$osctl" gen config demo https://127.0.0.1:6443 -o gen >/dev/null
# Nothing but the forwarded port reaches the node: this is the host's view of it.
expect "apply-config --insecure over the forwarded port (maintenance mode, pinned fingerprint)" \
	'applied without a reboot' timeout 60 "$osctl" apply-config --insecure --cert-fingerprint "$fp" -e 127.0.0.1:50000 -f gen/controlplane.yaml
export OSCONFIG=$t/gen/osconfig
check "the node answers over mutual TLS with the config's CA" \
	wait_until 60 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 version 2>/dev/null | grep -q 'Tag:'"
v=$(timeout 60 "$osctl" -e 127.0.0.1:50000 get addresses 2>&1)
grep -qE '^127\.0\.0\.1:50000 +network +AddressStatus +eth0/10\.0\.2\.15/24 +[0-9]+ +10\.0\.2\.15/24 +eth0 +global$' <<<"$v" &&
	ok "over mTLS: eth0 has 10.0.2.15/24, from ip= on the kernel command line" || not_ok "get addresses" "$v"
v=$(timeout 60 "$osctl" -e 127.0.0.1:50000 get links eth0 -o yaml 2>&1)
grep -q 'up: true' <<<"$v" && grep -q 'type: ether' <<<"$v" && ok "eth0 is up (LinkSpecController)" || not_ok "get links eth0" "$v"
v=$(timeout 60 "$osctl" -e 127.0.0.1:50000 get linkspecs 2>&1)
grep -qE 'LinkSpec +cmdline/eth0 ' <<<"$v" && grep -qE 'LinkSpec +default/lo ' <<<"$v" &&
	ok "link specs of the default and cmdline layers" || not_ok "get linkspecs" "$v"
v=$(timeout 60 "$osctl" -e 127.0.0.1:50000 get routespecs 2>&1)
grep -qE 'RouteSpec +cmdline/default-inet4/eth0 +[0-9]+ +10\.0\.2\.2 +eth0 +cmdline$' <<<"$v" &&
	ok "the default route via 10.0.2.2 is a cmdline-layer spec" || not_ok "get routespecs" "$v"
v=$(timeout 60 "$osctl" -e 127.0.0.1:50000 get routes 2>&1)
grep -qE 'RouteStatus +inet4/default/10\.0\.2\.2/eth0/1024 +[0-9]+ +10\.0\.2\.2 +eth0 +1024$' <<<"$v" &&
	ok "RouteSpecController applied it: the kernel has it (RouteStatus)" || not_ok "get routes" "$v"
v=$(timeout 60 "$osctl" -e 127.0.0.1:50000 get apicertificate api -o yaml 2>&1)
grep -q -- '- 10.0.2.15$' <<<"$v" && ok "the API certificate names 10.0.2.15 (from NodeAddress)" || not_ok "certificate names" "$v"
v=$(timeout 60 "$osctl" -e 127.0.0.1:50000 get nodeaddresses 2>&1)
grep -qE 'NodeAddress +current +[0-9]+ +10\.0\.2\.15(,|$)' <<<"$v" && grep -qE 'NodeAddress +default +[0-9]+ +10\.0\.2\.15$' <<<"$v" &&
	ok "NodeAddress: 10.0.2.15 is the node's current and default address" || not_ok "get nodeaddresses" "$v"
v=$(timeout 60 "$osctl" -e 127.0.0.1:50000 get hostname 2>&1)
grep -qE 'HostnameStatus +hostname +[0-9]+ +basalt-123456( |$)' <<<"$v" &&
	ok "with no name configured the node names itself from eth0's MAC (52:54:00:12:34:56): basalt-123456" ||
	not_ok "default hostname" "$v" "$(timeout 20 "$osctl" -e 127.0.0.1:50000 get hostnamespecs 2>&1)"
# The configuration layer: an address, an MTU and a route for eth0 from machine.network,
# applied without a reboot; taken away again when the config no longer has them.
# A watch on the addresses sees the change as it is applied.
timeout 90 "$osctl" -e 127.0.0.1:50000 get addresses -w >watch.out 2>&1 &
wpid=$!
sleep 2
o=$(timeout 60 "$osctl" -e 127.0.0.1:50000 patch mc --patch \
	'{"machine":{"network":{"nameservers":["10.0.2.3"],"interfaces":[{"interface":"eth0","addresses":["10.0.2.16/24"],"mtu":1400,"routes":[{"network":"10.9.0.0/16","gateway":"10.0.2.2"}]}]},"time":{"servers":["10.0.2.2"]}}}' 2>&1)
if wait_until 60 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 get addresses | grep -q 'eth0/10.0.2.16/24 '" &&
	timeout 20 "$osctl" -e 127.0.0.1:50000 get links eth0 -o yaml | grep -q 'mtu: 1400' &&
	timeout 20 "$osctl" -e 127.0.0.1:50000 get routespecs | grep -qE 'configuration/10\.9\.0\.0/16/eth0 +[0-9]+ +10\.9\.0\.0/16 +10\.0\.2\.2 +eth0 +configuration$' &&
	timeout 20 "$osctl" -e 127.0.0.1:50000 get controllers RouteSpecController -o yaml | grep -q 'healthy: true'; then
	ok "machine.network.interfaces: eth0 gets 10.0.2.16/24, MTU 1400 and a route, without a reboot"
	if wait_until 10 grep -qE '^created +127\.0\.0\.1:50000 +network +AddressStatus +eth0/10\.0\.2\.16/24 ' watch.out; then
		ok "get addresses -w showed the new address created while the change was applied"
	else
		not_ok "the watch" "$(cat watch.out)"
	fi
else
	not_ok "the watch (the change did not apply)"
	not_ok "the configuration layer" "$o" "$(timeout 20 "$osctl" -e 127.0.0.1:50000 get addresses 2>&1)" \
		"$(timeout 20 "$osctl" -e 127.0.0.1:50000 get controllers -o yaml 2>&1 | grep -B2 -A3 'lastError: [^"]')"
fi
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
r=$(timeout 20 "$osctl" -e 127.0.0.1:50000 get resolvers 2>&1)
ts=$(timeout 20 "$osctl" -e 127.0.0.1:50000 get timeservers 2>&1)
grep -qE 'ResolverStatus +resolvers +[0-9]+ +10\.0\.2\.3' <<<"$r" && grep -qE 'TimeServerStatus +timeservers +[0-9]+ +10\.0\.2\.2' <<<"$ts" &&
	ok "get resolvers and get timeservers show the configured name server and time server" || not_ok "resolvers/timeservers" "$r" "$ts"
# DHCP against QEMU's own DHCP server (user-mode networking has one; restrict=on makes it
# leave out the router and DNS options): its lease, 10.0.2.15/24, becomes a dhcp4-layer
# spec beside the cmdline's. And what this release does not apply yet (a VIP) is said, not
# dropped.
timeout 60 "$osctl" -e 127.0.0.1:50000 patch mc --patch \
	'{"machine":{"network":{"interfaces":[{"interface":"eth0","addresses":["10.0.2.16/24"],"dhcp":true,"vip":{"ip":"10.0.2.100"}}]}}}' >/dev/null 2>&1
if wait_until 60 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 get addressspecs | grep -qE 'dhcp4/eth0/10\.0\.2\.15/24 +[0-9]+ +10\.0\.2\.15/24 +eth0 +dhcp4$'" &&
	timeout 20 "$osctl" -e 127.0.0.1:50000 logs machined | grep -q 'dhcp4 eth0: bound 10.0.2.15/24 from 10.0.2.2'; then
	ok "dhcp: true: a lease from QEMU's DHCP server (10.0.2.15/24 from 10.0.2.2) as a dhcp4 spec"
else
	not_ok "DHCP from QEMU" "$(timeout 20 "$osctl" -e 127.0.0.1:50000 get addressspecs 2>&1)" \
		"$(timeout 20 "$osctl" -e 127.0.0.1:50000 logs machined 2>&1 | grep dhcp4 | tail -5)"
fi
check "a VIP is named as not applied yet in NetworkConfigController's status" \
	wait_until 60 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 get controllers NetworkConfigController -o yaml | grep -q 'not applied by this release yet: eth0.vip'"
o=$(timeout 60 "$osctl" -e 127.0.0.1:50000 patch mc --patch '[{"op":"remove","path":"/machine/network/interfaces"}]' 2>&1)
if wait_until 60 bash -c "! timeout 20 '$osctl' -e 127.0.0.1:50000 get addresses | grep -q 10.0.2.16" &&
	timeout 20 "$osctl" -e 127.0.0.1:50000 get addresses | grep -q 'eth0/10.0.2.15/24 '; then
	ok "removed from the config, the address goes; the cmdline layer's stays"
else
	not_ok "configuration layer removal" "$o" "$(timeout 20 "$osctl" -e 127.0.0.1:50000 get addresses 2>&1)"
fi
echo system_powerdown >"$t/mon.in"
check "the node powers off" wait_line "$con" 'reboot: Power down' 60
finish
