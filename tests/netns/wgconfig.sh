#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A WireGuard interface from the machine config (machine.network.interfaces[].wireguard),
# applied by machined through netctl's userspace backend to a device wireguard-go runs in
# the node's network namespace (the host kernel has no WireGuard; the QEMU suites use the
# kernel backend). Two namespaces made here joined by a veth (10.81.0.1 the peer, .2 the
# node); the peer's device is set with wg(8). machined configures its side from the config:
# keys, port, the peer, its endpoint, allowed IPs and keepalive, and the tunnel address;
# WireguardStatus and wg(8) agree on what the device holds; a ping passes through the
# tunnel; a re-apply that changes nothing of it sets nothing; a new allowed IP is one set.
#   wgconfig.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
need_netns
command -v wireguard-go >/dev/null && command -v wg >/dev/null && command -v ping >/dev/null ||
	bail "wireguard-go, wg and ping are installed (hack/deps.sh: wireguard-go wireguard-tools iputils-ping)"
t=$(test_dir)
plan 7
cd "$t" || exit 1
n=wcn$TEST_ID p=wcp$TEST_ID
wn=wcgn$TEST_ID wp=wcgp$TEST_ID
netns_new "$n" && netns_new "$p" || bail "network namespaces"
ip link add eth0 netns "$n" type veth peer name eth0 netns "$p" && ip -n "$p" addr add 10.81.0.1/24 dev eth0 &&
	ip -n "$p" link set eth0 up || bail "the veth between the two"
for side in n p; do
	ip netns exec "${!side}" wireguard-go -f "$(eval echo \$w$side)" >"wg-$side.log" 2>&1 &
	pr=$(proc_track $!)
	at_exit "proc_kill $pr TERM"
	(umask 077 && wg genkey >"$side.key") && wg pubkey <"$side.key" >"$side.pub" || bail "keys"
done
sock_up() { [[ -S /var/run/wireguard/$1.sock ]]; }
wait_until 10 sock_up "$wn" && wait_until 10 sock_up "$wp" || bail "wireguard-go starts" "$(tail -3 wg-n.log)"
ip netns exec "$p" wg set "$wp" private-key p.key listen-port 51821 peer "$(cat n.pub)" endpoint 10.81.0.2:51820 \
	allowed-ips 10.82.0.2/32 && ip -n "$p" addr add 10.82.0.1/24 dev "$wp" && ip -n "$p" link set "$wp" up ||
	bail "the peer's side"

"$osctl" gen config wgc https://10.81.0.2:6443 -o gen >/dev/null
# The node's config: eth0's address, and the WireGuard interface with its peer.
config() {
	sed "s|^machine:\$|machine:\n  network:\n    hostname: $1\n    interfaces:\n      - interface: eth0\n        addresses: [10.81.0.2/24]\n      - interface: $wn\n        addresses: [10.82.0.2/24]\n        wireguard:\n          privateKey: $(cat n.key)\n          listenPort: 51820\n          peers:\n            - publicKey: $(cat p.pub)\n              endpoint: 10.81.0.1:51821\n              persistentKeepaliveInterval: 5s\n              allowedIPs: [$2]|" gen/controlplane.yaml
}
config wg-node 10.82.0.1/32 >node.yaml
NODE_NETNS=$n basalt_node "$out" "$t/node" 0.0.0.0:50000
fp=$(basalt_fingerprint "$t/node") || bail "the node starts" "$(tail -5 "$t/node/console.log")"
ip netns exec "$n" timeout 20 "$osctl" apply-config --insecure --cert-fingerprint "$fp" -e 127.0.0.1:50000 \
	-f node.yaml >apply.out 2>&1 || bail "the node takes its config" "$(cat apply.out)"
export OSCONFIG=$t/gen/osconfig
o() { ip netns exec "$n" timeout 20 "$osctl" -e 127.0.0.1:50000 "$@"; }
st() { o get wireguard "$wn" -o yaml 2>&1; }
configured() { st | grep -q "publicKey: $(cat p.pub)"; }
wait_until 30 configured
v=$(st)
if grep -q 'backend: userspace' <<<"$v" && grep -q "^  publicKey: $(cat n.pub)" <<<"$v" && grep -q 'listenPort: 51820' <<<"$v" &&
	grep -q 'endpoint: 10.81.0.1:51821' <<<"$v" && grep -q -- '- 10.82.0.1/32' <<<"$v" &&
	grep -q 'persistentKeepaliveInterval: 5' <<<"$v"; then
	ok "machined applies the config's WireGuard interface: WireguardStatus shows its key, port and peer (endpoint, allowed IPs, keepalive)"
else
	not_ok "WireguardStatus" "$v" "$(grep -i wireguard "$t/node/console.log" | tail -3)"
fi
d=$(ip netns exec "$n" wg show "$wn" dump 2>&1)
grep -qP "^\\Q$(cat n.key)\\E\t\\Q$(cat n.pub)\\E\t51820\t" <<<"$d" &&
	grep -qP "^\\Q$(cat p.pub)\\E\t\(none\)\t10\.81\.0\.1:51821\t10\.82\.0\.1/32\t[0-9]+\t[0-9]+\t[0-9]+\t5$" <<<"$d" &&
	ok "wg(8) reads back the same from the device" || not_ok "wg show dump" "$d"
pings() { ip netns exec "$p" ping -c1 -W1 10.82.0.2 >/dev/null 2>&1; }
wait_until 20 pings && ok "a ping passes through the tunnel the config made (10.82.0.1 to the node's 10.82.0.2)" ||
	not_ok "ping through the tunnel" "$(ip -n "$n" addr show dev "$wn" 2>&1)" "$(ip netns exec "$n" wg show "$wn" 2>&1)"
sets() { st | sed -n 's/^  sets: *//p'; }
s0=$(sets)
[[ -z $s0 ]] && s0=0
o patch mc --patch '{"machine":{"network":{"hostname":"wg-node-2"}}}' >patch1.out 2>&1
renamed() { o get hostname 2>/dev/null | grep -q wg-node-2; }
wait_until 20 renamed && sleep 1 && [[ $(sets) == "$s0" ]] && pings &&
	ok "a re-apply that changes nothing of the device sets nothing (sets stays $s0), the tunnel still up" ||
	not_ok "re-apply" "sets $s0 -> $(sets)" "$(cat patch1.out)"
# An allowed IP added (written with host bits: the kernel keeps 10.82.0.76/30): one set that
# updates the peer in place, so its session (the handshake the node holds) is kept.
hs() { ip netns exec "$n" wg show "$wn" latest-handshakes | awk '{ print $2 }'; }
hs0=$(hs)
config wg-node-2 "10.82.0.1/32, 10.82.0.77/30" >node2.yaml
o apply-config -f node2.yaml >apply2.out 2>&1
has76() { ip netns exec "$n" wg show "$wn" allowed-ips | grep -q '10.82.0.76/30'; }
wait_until 20 has76 && [[ $(sets) == $((s0 + 1)) ]] && pings && [[ -n $hs0 && $hs0 != 0 && $(hs) == "$hs0" ]] &&
	ok "an allowed IP added in the config: one set, in the device, the peer's session kept (handshake at $hs0), pings still pass" ||
	not_ok "allowed IP added" "sets $s0 -> $(sets)" "handshake $hs0 -> $(hs)" "$(cat apply2.out)" "$(ip netns exec "$n" wg show "$wn" 2>&1)"
o patch mc --patch '{"machine":{"network":{"hostname":"wg-node-3"}}}' >patch2.out 2>&1
renamed3() { o get hostname 2>/dev/null | grep -q wg-node-3; }
wait_until 20 renamed3 && sleep 1 && [[ $(sets) == $((s0 + 1)) ]] &&
	ok "and a re-apply after it sets nothing (the config's host bits compare as the kernel keeps them)" ||
	not_ok "re-apply after the host-bits IP" "sets $(sets), want $((s0 + 1))" "$(cat patch2.out)"
v=$(o get links "$wn" -o yaml 2>&1)
c=$(o get controllers -o yaml 2>&1)
healthy() { awk -v c="$1" '/^  id: / { cur = $2 } cur == c && /healthy:/ { print; exit }' <<<"$c" | grep -q true; }
grep -q 'kind: tun' <<<"$v" && healthy WireguardController && healthy LinkSpecController &&
	ok "the daemon's device stands for the wireguard link (LinkSpecController and WireguardController healthy)" ||
	not_ok "controllers" "$v" "$(o get controllers -o yaml 2>&1 | grep -A8 -E 'id: (Wireguard|LinkSpec)Controller')"
finish
