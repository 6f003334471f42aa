#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Networking benchmark: one table. In namespaces made here (run through tests/isolate.sh),
# side by side in one run:
#  - converging 500 addresses and 500 routes on one link: machined applying a config
#    (from the ApplyConfiguration call to the last object in the kernel, both stamped on
#    one clock) against `ip -batch` adding the same objects (netlink's near limit), each
#    into a fresh namespace with one event listener;
#  - re-applying that config with only its hostname changed: the netlink changes it makes
#    to links, addresses and routes (counted by `ip monitor`; the goal is none);
#  - DHCP, link up to address: machined's client against busybox udhcpc, on one dnsmasq;
#  - machined's memory (core + apid) holding the 1,000-object config.
#   net.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
need_netns
t=$(test_dir)
cd "$t" || exit 1
N=${BENCH_NET_OBJECTS:-500}
ms() { date +%s%3N; }
us() { date +%s%6N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
msec() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
count() { echo $(($(ip -n "$1" -4 -o addr show dev eth0 | grep -c ' 10\.1[0-9][0-9]\.') + $(ip -n "$1" -4 route show dev eth0 | grep -c '^10\.2[0-9][0-9]\.'))); }
# Two namespaces joined by a veth, eth0 on the named side.
pair() {
	netns_new "$1" && netns_new "$2" && ip link add eth0 netns "$1" type veth peer name v0 netns "$2" &&
		ip -n "$2" link set v0 up
}
addr_of() { echo "10.$((100 + $1 / 250)).$(($1 % 250)).1"; }
route_of() { echo "10.$((200 + $1 / 250)).$(($1 % 250)).0/24"; }

# --- the reference: ip -batch ---
# Without a listener too: the kernel's event delivery is part of what a listener costs.
ref0=bnq$TEST_ID ref0p=bnqp$TEST_ID
pair "$ref0" "$ref0p" || bail "namespaces"
ip -n "$ref0" link set eth0 up
ref=bnr$TEST_ID refp=bnrp$TEST_ID
pair "$ref" "$refp" || bail "namespaces"
ip -n "$ref" link set eth0 up
{
	for ((i = 0; i < N; i++)); do echo "address add $(addr_of $i)/32 dev eth0"; done
	for ((i = 0; i < N; i++)); do echo "route add $(route_of $i) dev eth0"; done
} >batch
t0=$(us)
ip -n "$ref0" -batch batch
ref0_us=$(($(us) - t0))
[[ $(count "$ref0") == $((2 * N)) ]] || bail "ip -batch added $(count "$ref0") of $((2 * N)) (no listener)"
ip -n "$ref" monitor address route >/dev/null 2>&1 &  # one listener, as on the node
rmon=$!
at_exit "kill $rmon 2>/dev/null"
sleep 0.5  # a measurement parameter: the monitor subscribed before the change
t0=$(us)
ip -n "$ref" -batch batch
t1=$(us)
ref_us=$((t1 - t0))
kill "$rmon" 2>/dev/null
[[ $(count "$ref") == $((2 * N)) ]] || bail "ip -batch added $(count "$ref") of $((2 * N))"

# --- machined ---
node=bnn$TEST_ID peer=bnnp$TEST_ID
pair "$node" "$peer" || bail "namespaces"
NODE_NETNS=$node basalt_node "$out" "$t/n" 127.0.0.1:50000
fp=$(basalt_fingerprint "$t/n") || bail "the node starts" "$(tail -5 "$t/n/console.log")"
o() { ip netns exec "$node" timeout 60 "$osctl" -e 127.0.0.1:50000 "$@"; }
"$osctl" gen config bench https://127.0.0.1:6443 -o gen >/dev/null
o apply-config --insecure --cert-fingerprint "$fp" -f gen/controlplane.yaml >/dev/null || bail "maintenance apply"
export OSCONFIG=$t/gen/osconfig
wait_until 20 bash -c "$(declare -f o); osctl='$osctl' node='$node'; o version >/dev/null 2>&1" || bail "mTLS"
{
	echo "machine:"
	echo "  network:"
	echo "    hostname: bench-a"
	echo "    interfaces:"
	echo "      - interface: eth0"
	echo "        addresses:"
	for ((i = 0; i < N; i++)); do echo "          - $(addr_of $i)/32"; done
	echo "        routes:"
	for ((i = 0; i < N; i++)); do echo "          - network: $(route_of $i)"; done
} >objects.yaml
sed 's/^    hostname: bench-a$/    hostname: bench-b/' objects.yaml >objects-b.yaml
# The kernel's own clock on each object: `ip -ts monitor` stamps every event it reads, and
# osctl stamps the moment it sends the apply (OSCTL_TRACE), so the figure is machined's part
# alone: from the ApplyConfiguration call to the last object in the kernel.
ip -n "$node" -ts monitor address route >converge.mon 2>&1 &
cmon=$!
at_exit "kill $cmon 2>/dev/null"
sleep 0.5  # a measurement parameter: the monitor subscribed before the change
objects_seen() { grep -cE 'inet 10\.1[0-9][0-9]\.|^\[[^]]*\] 10\.2[0-9][0-9]\.' converge.mon; }
t0=$(us)
OSCTL_TRACE=1 o patch mc --patch @objects.yaml >patch.out 2>patch.trace || bail "the 1,000-object patch" "$(cat patch.out patch.trace)"
wait_until 60 bash -c "(( \$(grep -cE 'inet 10\.1[0-9][0-9]\.|^\[[^]]*\] 10\.2[0-9][0-9]\.' converge.mon) >= 2 * $N ))" ||
	bail "machined applied $(objects_seen) of $((2 * N)) (as the monitor saw them)" "$(o get controllers -o yaml | grep 'lastError: [^"]')"
kill "$cmon" 2>/dev/null
got=$(count "$node")
((got == 2 * N)) || bail "the kernel has $got of $((2 * N))"
stamp() { date -d "$(sed 's/^\[\([^]]*\)\].*/\1/' <<<"$1")" +%s%6N; }
t_last=$(stamp "$(grep -E 'inet 10\.1[0-9][0-9]\.|^\[[^]]*\] 10\.2[0-9][0-9]\.' converge.mon | tail -1)")
t_call=$(awk '/trace: .* call .*ApplyConfiguration/ { split($3, a, "."); print a[1] a[2] }' patch.trace)
[[ $t_call ]] || bail "osctl traced no ApplyConfiguration call" "$(cat patch.trace)"
m_us=$((t_last - t_call)) e2e_us=$((t_last - t0))

# Re-apply: a config change that touches no link, address or route. First the kernel's own
# changes settle (eth0's IPv6 link-local address and its route come after DAD).
wait_until 10 bash -c "ip -n '$node' -6 addr show dev eth0 scope link | grep -q inet6 && [[ -z \$(ip -n '$node' -6 addr show dev eth0 tentative) ]]"
sleep 0.5  # a measurement parameter: the link-local route follows the address
ip -n "$node" monitor link address route >monitor.out 2>&1 &
mon=$!
at_exit "kill $mon 2>/dev/null"
sleep 0.5  # a measurement parameter: the monitor subscribed before the change
o patch mc --patch @objects-b.yaml >patch-b.out 2>&1 || bail "the re-apply" "$(cat patch-b.out)"
wait_until 10 bash -c "$(declare -f o); osctl='$osctl' node='$node'; o get hostname | grep -q bench-b" || bail "re-apply applied"
sleep 2  # a measurement parameter: two seconds for any change the re-apply would cause
kill "$mon" 2>/dev/null
writes=$(grep -cvE "^$" monitor.out)

# Memory with the 1,000 objects.
u=$(node_pid "$t/n")
init=$(awk '{print $1}' "/proc/$u/task/$u/children")
mpid= apid=
for c in $(cat /proc/"$init"/task/*/children); do [[ $(cat "/proc/$c/comm") == machined ]] && mpid=$c; done
for c in $(cat /proc/"$mpid"/task/*/children); do [[ $(cat "/proc/$c/comm") == apid ]] && apid=$c; done
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
m_rss=$(($(rss "$mpid") + $(rss "$apid")))

# --- DHCP: machined against udhcpc, one dnsmasq ---
srv=bnd$TEST_ID dn=bndn$TEST_ID dr=bndr$TEST_ID
netns_new "$srv" && netns_new "$dn" && netns_new "$dr" || bail "namespaces"
ip -n "$srv" link add br0 type bridge && ip -n "$srv" addr add 10.79.0.1/24 dev br0 && ip -n "$srv" link set br0 up
for ns in "$dn" "$dr"; do
	ip link add eth0 netns "$ns" type veth peer name "p-$ns" netns "$srv" &&
		ip -n "$srv" link set "p-$ns" master br0 && ip -n "$srv" link set "p-$ns" up
done
ip netns exec "$srv" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --port=0 --no-ping \
	--interface=br0 --bind-interfaces --dhcp-range=10.79.0.50,10.79.0.99,255.255.255.0,2m \
	--dhcp-leasefile="$t/leases" --pid-file= --log-facility="$t/dnsmasq.log" >/dev/null 2>&1 &
dns=$(proc_track $!)
at_exit "proc_kill $dns TERM"
wait_line "$t/dnsmasq.log" 'DHCP, IP range' 10 >/dev/null || bail "dnsmasq"
has_lease() { ip -n "$1" -4 -o addr show dev eth0 | grep -q ' 10\.79\.0\.'; }
# udhcpc: the link up, then the client, whose script puts the address on.
printf '#!/bin/sh\n[ "$1" = bound ] && ip addr add "$ip/$mask" dev "$interface"\nexit 0\n' >udhcpc.sh
chmod +x udhcpc.sh
t0=$(ms)
ip -n "$dr" link set eth0 up
ip netns exec "$dr" busybox udhcpc -f -q -i eth0 -s "$t/udhcpc.sh" >udhcpc.out 2>&1 &
wait_until 30 has_lease "$dr" || bail "udhcpc got no lease" "$(cat udhcpc.out)"
ref_dhcp=$(($(ms) - t0))
# machined: a node whose config names eth0 with dhcp: true, applied while the link is down;
# from the link coming up to the address.
NODE_NETNS=$dn basalt_node "$out" "$t/d" 127.0.0.1:50000
fpd=$(basalt_fingerprint "$t/d") || bail "the DHCP node starts"
sed 's/^machine:$/machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: true/' gen/controlplane.yaml >dhcp.yaml
ip -n "$dn" link set eth0 down
ip netns exec "$dn" timeout 60 "$osctl" apply-config --insecure --cert-fingerprint "$fpd" -e 127.0.0.1:50000 -f dhcp.yaml >/dev/null ||
	bail "DHCP node config"
wait_until 10 bash -c "ip -n '$dn' link show eth0 | grep -q 'state UP\|,UP'" || bail "machined brings eth0 up"
t0=$(ms)
wait_until 30 has_lease "$dn" || bail "machined got no lease" "$(grep dhcp4 "$t/d/console.log" | tail -3)"
m_dhcp=$(($(ms) - t0))

echo
echo "| metric | machined | reference | machined / reference |"
echo "|---|---|---|---|"
echo "| converge $N addresses + $N routes on one link: the ApplyConfiguration call to the last object in the kernel | $(msec $m_us) ms | ip -batch: $(msec $ref_us) ms | $(ratio "$m_us" "$ref_us") (goal <= 1.5) |"
echo "| ... against ip -batch with no event listener in its namespace | $(msec $m_us) ms | ip -batch: $(msec $ref0_us) ms | $(ratio "$m_us" "$ref0_us") |"
echo "| ... the same from osctl patch started (its process, TLS handshake, fetching the config, patching it) | $(msec $e2e_us) ms | ip -batch: $(msec $ref_us) ms | $(ratio "$e2e_us" "$ref_us") |"
echo "| netlink changes on a re-apply that touches no link | $writes | goal: 0 | - |"
echo "| DHCP, link up to address (dnsmasq, no ping check) | $m_dhcp ms | busybox udhcpc: $ref_dhcp ms | $(ratio "$m_dhcp" "$ref_dhcp") |"
echo "| resident memory with the $((2 * N))-object config, core + apid | $m_rss KiB | goal: 8192 KiB | $(ratio "$m_rss" 8192) |"
