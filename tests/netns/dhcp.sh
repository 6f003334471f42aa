#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# DHCPv4 against a real server. Two network namespaces made here: a server with dnsmasq
# (leases of 2 minutes, the least it gives, renewed at 10 s and rebound at 15 s) and a
# node (init in container mode, machined) whose eth0 is the other end of a veth. The node
# is configured over its API with `dhcp: true` on eth0, and then: the lease's address and
# default route in the kernel and in the resources, a renewal, an address deleted by hand
# put back, the server gone (the lease runs out and is taken away), the server back (a new
# lease), DHCP switched off (the lease released). A third namespace, named the host's with
# --host-netns, shows the guard: a config naming its link changes nothing there.
#   dhcp.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
need_netns
command -v dnsmasq >/dev/null || bail "dnsmasq is installed (hack/deps.sh: dnsmasq-base)"
t=$(test_dir)
plan 26
cd "$t" || exit 1
srv=bsrv$TEST_ID node=bnode$TEST_ID hostns=bhost$TEST_ID
netns_new "$srv" && netns_new "$node" && netns_new "$hostns" || bail "network namespaces"
ip link add eth0 netns "$node" type veth peer name v0 netns "$srv" &&
	ip -n "$srv" addr add 10.77.0.1/24 dev v0 && ip -n "$srv" addr add fd77::1/64 dev v0 nodad &&
	ip -n "$srv" link set v0 up || bail "the veth between server and node"

mac=$(ip -n "$node" -br link show eth0 | awk '{print $3}')
dnsmasq_start() {
	ip netns exec "$srv" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --port=0 \
		--interface=v0 --bind-interfaces --dhcp-range=10.77.0.50,10.77.0.99,255.255.255.0,2m \
		--dhcp-option=option:router,10.77.0.1 --dhcp-option=option:dns-server,10.77.0.53 \
		--dhcp-option=option:ntp-server,10.77.0.123 --dhcp-option=option:domain-search,lab.test \
		--dhcp-option=option:T1,10 --dhcp-option=option:T2,15 --dhcp-host="$mac,dhcpnode" \
		--dhcp-range=fd77::50,fd77::99,64,2m --dhcp-option=option6:dns-server,[fd77::53] --dhcp-leasefile="$t/leases" --pid-file= \
		--log-dhcp --log-facility="$t/dnsmasq.log" >>"$t/dnsmasq.out" 2>&1 &
	dns=$(proc_track $!)
	at_exit "proc_kill $dns TERM"
	wait_line "$t/dnsmasq.log" 'DHCP, IP range 10.77.0.50' 10 >/dev/null
}
dnsmasq_start && ok "dnsmasq serves 10.77.0.50-99 on the server's side of the veth" ||
	bail "dnsmasq starts" "$(cat "$t/dnsmasq.out" "$t/dnsmasq.log" 2>/dev/null | tail -5)"

# netctl's debug CLI runs the same client once, printing the lease and applying nothing.
ip -n "$node" link set eth0 up
v=$(ip netns exec "$node" "$out/bin/netctl" dhcp4 eth0 20 2>&1)
grep -qE '^address 10\.77\.0\.[0-9]+/24$' <<<"$v" && grep -qx 'dns 10.77.0.53' <<<"$v" && grep -qx 'search lab.test' <<<"$v" &&
	! ip -n "$node" -4 -o addr show dev eth0 | grep -q 10.77 &&
	ok "netctl dhcp4 eth0: a lease printed (address, DNS, search), nothing applied" || not_ok "netctl dhcp4" "$v"
ip -n "$node" link set eth0 down

NODE_NETNS=$node basalt_node "$out" "$t/n" 127.0.0.1:50000
fp=$(basalt_fingerprint "$t/n") || bail "the node starts" "$(tail -5 "$t/n/console.log")"
in_node() { ip netns exec "$node" "$@"; }
o() { in_node timeout 20 "$osctl" -e 127.0.0.1:50000 "$@"; }
"$osctl" gen config dhcp https://127.0.0.1:6443 -o gen >/dev/null
expect "the node takes a config in maintenance mode" 'applied without a reboot' \
	in_node timeout 20 "$osctl" apply-config --insecure --cert-fingerprint "$fp" -e 127.0.0.1:50000 -f gen/controlplane.yaml
export OSCONFIG=$t/gen/osconfig
wait_until 20 bash -c "$(declare -f in_node o); osctl='$osctl' node='$node'; o version 2>/dev/null | grep -q Tag:" ||
	bail "the node serves mutual TLS" "$(tail -5 "$t/n/console.log")"

lease_addr() { ip -n "$node" -4 -o addr show dev eth0 | awk '{print $4}' | grep '^10\.77\.0\.'; }
o patch mc --patch '{"machine":{"network":{"interfaces":[{"interface":"eth0","dhcp":true}]}}}' >patch.out 2>&1
if wait_until 30 lease_addr >/dev/null; then
	addr=$(lease_addr)
	ok "dhcp: true on eth0: a lease from dnsmasq, $addr on the link"
else
	bail "a lease from dnsmasq" "$(cat patch.out)" "$(tail -5 "$t/dnsmasq.log")" "$(grep dhcp4 "$t/n/console.log" | tail -5)"
fi
v=$(o get addresses 2>&1)
grep -qE " eth0/${addr//./\\.} +[0-9]+ +${addr//./\\.} +eth0 +global$" <<<"$v" &&
	ok "AddressStatus shows it" || not_ok "get addresses" "$v"
v=$(o get addressspecs 2>&1)
grep -qE "AddressSpec +dhcp4/eth0/${addr//./\\.} " <<<"$v" && ok "an AddressSpec of the dhcp4 layer" ||
	not_ok "get addressspecs" "$v"
if wait_until 5 bash -c "ip -n '$node' route show default | grep -q 'via 10.77.0.1 dev eth0'" &&
	o get routespecs | grep -qE 'RouteSpec +dhcp4/default-inet4/eth0 +[0-9]+ +10\.77\.0\.1 +eth0 +dhcp4$'; then
	ok "the default route via the lease's router, 10.77.0.1 (a dhcp4 RouteSpec)"
else
	not_ok "default route" "$(ip -n "$node" route)" "$(o get routespecs 2>&1)"
fi
grep -qi "$mac" "$t/leases" && ok "dnsmasq's lease file names the node's MAC ($mac)" || not_ok "lease file" "$(cat "$t/leases")"
v=$(o get operators 2>&1)
grep -qE "OperatorStatus +dhcp4/eth0 +[0-9]+ +bound +${addr//./\\.} +10\.77\.0\.1 +0$" <<<"$v" &&
	ok "OperatorStatus dhcp4/eth0: bound, the lease's address, its server, no packet dropped" || not_ok "get operators" "$v"
# Not DHCP at all, to the client's port: dropped and counted, the lease kept.
ip netns exec "$srv" bash -c "echo 'not a DHCP message' >/dev/udp/${addr%/*}/68"
dropped() { o get operators dhcp4/eth0 -o yaml 2>/dev/null | awk '$1 == "dropped:" { gsub(/"/, "", $2); print $2 }'; }
if wait_until 5 bash -c "$(declare -f in_node o dropped); osctl='$osctl' node='$node'; [[ \$(dropped) == 1 ]]" && lease_addr >/dev/null; then
	ok "a malformed packet to port 68 is dropped and counted (OperatorStatus dropped: 1), the lease kept"
else
	not_ok "dropped count" "$(o get operators dhcp4/eth0 -o yaml 2>&1)"
fi

v=$(o get resolvers 2>&1)
conf=$t/n/state/system/resolv.conf
if grep -qE 'ResolverStatus +resolvers +[0-9]+ +10\.77\.0\.53 +lab\.test +dhcp4$' <<<"$v" &&
	grep -qx 'nameserver 10.77.0.53' "$conf" && grep -qx 'search lab.test' "$conf"; then
	ok "the lease's DNS server and search domain: ResolverStatus and resolv.conf"
else
	not_ok "resolvers" "$v" "$(cat "$conf" 2>&1)"
fi
v=$(o get timeservers 2>&1)
grep -qE 'TimeServerStatus +timeservers +[0-9]+ +10\.77\.0\.123 +dhcp4$' <<<"$v" &&
	ok "the lease's NTP server: TimeServerStatus" || not_ok "timeservers" "$v"
v=$(o get hostname 2>&1)
grep -qE 'HostnameStatus +hostname +[0-9]+ +dhcpnode( |$)' <<<"$v" && ok "the lease's host name (dnsmasq's dhcp-host) is the node's" ||
	not_ok "hostname from DHCP" "$v" "$(o get hostnamespecs 2>&1)"
# The configuration layer is stronger than DHCP's.
o patch mc --patch '{"machine":{"network":{"nameservers":["10.77.0.54","10.77.0.55"],"extraHostEntries":[{"ip":"10.77.0.9","aliases":["registry.lab.test","registry"]}]}}}' >patch.out 2>&1
if wait_until 10 bash -c "grep -qx 'nameserver 10.77.0.55' '$conf'" && ! grep -q 10.77.0.53 "$conf" &&
	o get resolvers | grep -qE ' 10\.77\.0\.54,10\.77\.0\.55 +lab\.test +configuration$'; then
	ok "machine.network.nameservers win over the lease's (a stronger layer), without a reboot"
else
	not_ok "configured nameservers" "$(cat patch.out)" "$(o get resolvers 2>&1)" "$(cat "$conf")"
fi
hosts=$t/n/state/system/hosts
grep -qx '10.77.0.9 registry.lab.test registry' "$hosts" && grep -qx '127.0.1.1 dhcpnode' "$hosts" &&
	grep -qx '127.0.0.1 localhost' "$hosts" && ok "the hosts file: localhost, the node's name and extraHostEntries" ||
	not_ok "hosts file" "$(cat "$hosts" 2>&1)"

# DHCPv6 beside it (dhcpOptions.ipv6): a stateful address from the same dnsmasq.
o patch mc --patch '{"machine":{"network":{"interfaces":[{"interface":"eth0","dhcp":true,"dhcpOptions":{"ipv6":true}}]}}}' >patch6.out 2>&1
if wait_until 20 bash -c "ip -n '$node' -6 -o addr show dev eth0 | grep -q ' inet6 fd77::[0-9a-f]*/128 '" &&
	o get addressspecs | grep -qE 'AddressSpec +dhcp6/eth0/fd77::[0-9a-f]+/128 ' &&
	o get resolverspecs | grep -qE 'ResolverSpec +dhcp6/eth0 +[0-9]+ +fd77::53 +' &&
	o get operators | grep -qE 'OperatorStatus +dhcp6/eth0 +[0-9]+ +bound +fd77::[0-9a-f]+/128 +[0-9a-f]+ +0$'; then
	ok "dhcpOptions.ipv6: a DHCPv6 address (a /128) and DNS server from dnsmasq, as dhcp6 specs; OperatorStatus dhcp6/eth0 bound"
else
	not_ok "DHCPv6" "$(cat patch6.out)" "$(ip -n "$node" -6 addr show dev eth0)" "$(grep dhcp6 "$t/n/console.log" | tail -3)" "$(grep -i dhcpv6 "$t/dnsmasq.log" | tail -3)"
fi

# T1 is 10 s: a renewal is a second REQUEST/ACK for the same address.
acks() { grep -c "DHCPACK(v0) ${addr%/*} " "$t/dnsmasq.log"; }
if wait_until 25 bash -c "(( \$(grep -c 'DHCPACK(v0) ${addr%/*} ' '$t/dnsmasq.log') >= 2 ))" && [[ $(lease_addr) == "$addr" ]]; then
	ok "renewed at T1: $(acks) ACKs for ${addr%/*}, the address unchanged"
else
	not_ok "renewal" "$(tail -8 "$t/dnsmasq.log")"
fi

ip -n "$node" addr del "$addr" dev eth0
check "an address deleted by hand is back within 2 s" wait_until 2 bash -c "ip -n '$node' -4 -o addr show dev eth0 | grep -q '$addr'"
v=$(o get routes 2>&1)
if grep -qE 'RouteStatus +inet4/default/10\.77\.0\.1/eth0/1024 +[0-9]+ +10\.77\.0\.1 +eth0 +1024$' <<<"$v"; then
	ip -n "$node" route del default via 10.77.0.1 dev eth0
	check "RouteStatus has the default route; deleted by hand, it is back within 2 s" \
		wait_until 2 bash -c "ip -n '$node' route show default | grep -q 'via 10.77.0.1 dev eth0'"
else
	not_ok "get routes" "$v"
fi

# The server goes. Renewals (unicast) and rebinding (broadcast) get no answer; when the
# lease's 2 minutes are up the address goes. Then the server comes back: a new lease.
proc_kill "$dns" TERM
gone_at=$(date +%s)
if wait_until 150 bash -c "! ip -n '$node' -4 -o addr show dev eth0 | grep -q '10\.77\.0\.'"; then
	ok "dnsmasq gone: the address is taken away when the lease runs out ($(($(date +%s) - gone_at)) s later)"
else
	not_ok "lease expiry" "$(ip -n "$node" addr show dev eth0)" "$(grep dhcp4 "$t/n/console.log" | tail -5)"
fi
grep -q 'dhcp4 eth0: lease lost' "$t/n/console.log" && ok "machined says the lease was lost" ||
	not_ok "lease lost logged" "$(grep dhcp4 "$t/n/console.log" | tail -5)"
v=$(o get nodeaddresses 2>&1)
if ! grep -qE "NodeAddress +current .*${addr%/*}" <<<"$v" && grep -qE "NodeAddress +accumulative +[0-9]+ +.*${addr%/*}" <<<"$v" &&
	o get apicertificate api -o yaml | grep -q -- "- ${addr%/*}\$"; then
	ok "NodeAddress: the lost address leaves current, stays in accumulative (and the API certificate)"
else
	not_ok "node addresses after the loss" "$v"
fi
dnsmasq_start
check "dnsmasq back: a new lease within 30 s" wait_until 30 lease_addr

# DHCP off: the lease given back (DHCPRELEASE), the address gone.
o patch mc --patch '{"machine":{"network":{"interfaces":[{"interface":"eth0","dhcp":false}]}}}' >patch2.out 2>&1
if wait_until 10 bash -c "grep -q 'DHCPRELEASE(v0)' '$t/dnsmasq.log'" &&
	wait_until 5 bash -c "! ip -n '$node' -4 -o addr show dev eth0 | grep -q '10\.77\.0\.'"; then
	ok "dhcp: false releases the lease (DHCPRELEASE at dnsmasq) and the address goes"
else
	not_ok "release" "$(cat patch2.out)" "$(tail -5 "$t/dnsmasq.log")" "$(ip -n "$node" addr show dev eth0)"
fi

# The guard: a namespace named as the host's. A config naming its link changes nothing.
ip -n "$hostns" link add h0 type veth peer name h1 && ip -n "$hostns" addr add 10.88.0.1/24 dev h1 || bail "veth in $hostns"
snap() { ip -n "$hostns" -o addr; ip -n "$hostns" -o link | sed 's/ qlen.*//'; ip -n "$hostns" route; }
before=$(snap)
hn=$(stat -L -c '%d:%i' "/run/netns/$hostns")
NODE_NETNS=$hostns NODE_ARGS="--host-netns $hn" basalt_node "$out" "$t/h" 127.0.0.1:50000
fph=$(basalt_fingerprint "$t/h") || bail "the host-mode node starts" "$(tail -5 "$t/h/console.log")"
in_host() { ip netns exec "$hostns" timeout 20 "$osctl" "$@"; }
sed 's/^machine:$/machine:\n  network:\n    interfaces:\n      - interface: h0\n        addresses: [10.88.0.2\/24]\n        mtu: 1300\n        routes: [{network: 10.99.0.0\/16, gateway: 10.88.0.1}]/' \
	gen/controlplane.yaml >host.yaml
in_host apply-config --insecure --cert-fingerprint "$fph" -e 127.0.0.1:50000 -f host.yaml >host.out 2>&1
if wait_until 10 bash -c "$(declare -f in_host); osctl='$osctl' hostns='$hostns'; in_host -e 127.0.0.1:50000 get controllers AddressSpecController -o yaml 2>/dev/null | grep -q \"the network here is the host's\""; then
	ok "a node in the host's network namespace refuses to change it, saying why (AddressSpecController)"
else
	not_ok "the guard's reason" "$(cat host.out)" "$(in_host -e 127.0.0.1:50000 get controllers 2>&1)"
fi
after=$(snap)
[[ $before == "$after" ]] && ok "the host's links, addresses and routes are exactly as they were" ||
	not_ok "host network changed" "$(diff <(echo "$before") <(echo "$after"))"
finish
