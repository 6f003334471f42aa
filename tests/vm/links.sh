#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Link kinds the test host's kernel lacks, in the QEMU guest's (its modules load on
# demand): the image booted with five more isolated NICs (eth1-eth5), then one config
# applied over the API: a bond of eth1 and eth2 (active-backup, MII monitoring, MTU 1450)
# with an address and a VLAN on it, a bridge with eth3, a dummy link, and a link found by
# its MAC glob, driver, PCI ID and bus path (deviceSelector) rather than its name, and one by
# a glob of its name. Then the dummy taken out of the config:
# the link machined made goes, the rest stays.
#   links.sh OUTDIR [--accel tcg|kvm]
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
accel=${2:-tcg}
[[ "$accel" == --accel ]] && accel=$3
osctl=$out/bin/osctl
need_netns
t=$(test_dir)
plan 13
con=$t/console.log
vm_start "$t" "$accel" --api-port 50000 --extra-nics 7
fp=$(basalt_fingerprint "$t" 180) || bail "the node boots to maintenance mode" "$(tail -20 "$con")"
cd "$t" || exit 1
"$osctl" gen config links https://127.0.0.1:6443 -o gen >/dev/null
cat >net.yaml <<'YAML'
machine:
  network:
    interfaces:
      - interface: bond0
        bond:
          interfaces: [eth1, eth2]
          mode: active-backup
          miimon: 100
          primary: eth2
          useCarrier: false
        mtu: 1450
        addresses: [10.10.0.2/24]
        vlans:
          - vlanId: 7
            addresses: [10.7.0.2/24]
      - interface: br0
        bridge:
          interfaces: [eth3]
        addresses: [10.20.0.2/24]
      - interface: dummy0
        dummy: true
        addresses: [10.99.0.1/32]
      - deviceSelector:
          hardwareAddr: "52:54:00:00:00:0*"
          driver: virtio_net
          pciID: "1af4:*"
          busPath: "virtio4"
        addresses: [10.30.0.2/24]
      - deviceSelector:
          name: "e*5"
        addresses: [10.40.0.2/24]
      - interface: bond1
        bond:
          interfaces: [eth6]
          mode: 802.3ad
          lacpRate: fast
          adSelect: bandwidth
          xmitHashPolicy: layer3+4
          minLinks: 1
      - interface: bond2
        bond:
          interfaces: [eth7]
          mode: active-backup
          arpInterval: 250
          arpIPTarget: [10.12.0.1, 10.12.0.9]
          updelay: 0
      - interface: wg0
        addresses: [10.90.0.1/24]
        wireguard:
          privateKey: WGKEY
          listenPort: 51820
          firewallMark: 7
          peers:
            - publicKey: WGPEER
              endpoint: 10.0.2.2:51821
              persistentKeepaliveInterval: 25s
              allowedIPs: [10.90.0.2/32, "fd90::2/128"]
YAML
# The WireGuard interface's keys: made here (wg(8)), the private one only in the config.
(umask 077 && wg genkey >wg.key) && wg pubkey <wg.key >wg.pub && wg genkey | wg pubkey >peer.pub ||
	bail "WireGuard keys (wireguard-tools)"
sed -i "s|WGKEY|$(cat wg.key)|; s|WGPEER|$(cat peer.pub)|" net.yaml
expect "a config with a bond, a VLAN, a bridge, a dummy and a selected link is applied" 'applied without a reboot' \
	timeout 60 "$osctl" apply-config --insecure --cert-fingerprint "$fp" -e 127.0.0.1:50000 -f gen/controlplane.yaml \
	--config-patch @net.yaml
export OSCONFIG=$t/gen/osconfig
o() { timeout 20 "$osctl" -e 127.0.0.1:50000 "$@"; }
# A link's field in `get links -o yaml`.
field() { awk -v id="$1" -v f="$2" '/^  id: / { cur = $2 } cur == id && $1 == f":" { print $2; exit }' <<<"$links"; }
# Links are made over several runs (a bond, then its members, then addresses): the state is
# read once it has settled, or at the deadline.
settled() {
	links=$(o get links -o yaml 2>&1) && addrs=$(o get addresses 2>&1) || return 1
	[[ -n $(field eth1 masterIndex) && -n $(field eth3 masterIndex) && $(field bond0 mtu) == 1450 ]] &&
		grep -q 'eth4/10.30.0.2/24 ' <<<"$addrs" && grep -q 'bond0.7/10.7.0.2/24 ' <<<"$addrs" &&
		grep -q 'dummy0/10.99.0.1/32 ' <<<"$addrs" && grep -q 'eth5/10.40.0.2/24 ' <<<"$addrs" &&
		[[ -n $(field eth7 masterIndex) && -n $(field eth6 masterIndex) ]] && grep -q 'wg0/10.90.0.1/24 ' <<<"$addrs"
}
wait_until 60 settled || note "the links had not settled within 60 s"
settled
bond=$(field bond0 index)
if [[ $(field bond0 kind) == bond && $(field eth1 masterIndex) == "$bond" && $(field eth2 masterIndex) == "$bond" &&
	$(field bond0 mtu) == 1450 ]] && grep -q 'bond0/10.10.0.2/24 ' <<<"$addrs"; then
	ok "bond0: a bond of eth1 and eth2, MTU 1450, with 10.10.0.2/24"
else
	not_ok "the bond" "kind $(field bond0 kind) index $bond, eth1 in $(field eth1 masterIndex), eth2 in $(field eth2 masterIndex), mtu $(field bond0 mtu)" \
		"$(o get controllers LinkSpecController -o yaml 2>&1 | grep lastError)"
fi
[[ $(field bond0.7 kind) == vlan ]] && grep -q 'bond0.7/10.7.0.2/24 ' <<<"$addrs" &&
	ok "bond0.7: VLAN 7 on the bond, with 10.7.0.2/24" || not_ok "the VLAN" "kind $(field bond0.7 kind)" "$addrs"
[[ $(field br0 kind) == bridge && $(field eth3 masterIndex) == "$(field br0 index)" ]] && grep -q 'br0/10.20.0.2/24 ' <<<"$addrs" &&
	ok "br0: a bridge with eth3, with 10.20.0.2/24" || not_ok "the bridge" "kind $(field br0 kind), eth3 in $(field eth3 masterIndex)"
[[ $(field dummy0 kind) == dummy ]] && grep -q 'dummy0/10.99.0.1/32 ' <<<"$addrs" &&
	ok "dummy0: a dummy link with 10.99.0.1/32" || not_ok "the dummy" "kind $(field dummy0 kind)"
[[ $(field eth4 driver) == virtio_net && $(field eth4 pciID) == 1AF4:1000 && $(field eth4 busPath) == virtio4 ]] &&
	ok "eth4's LinkStatus: driver virtio_net, pciID 1AF4:1000 (QEMU's virtio-net-pci), busPath virtio4" ||
	not_ok "eth4's driver and PCI ID" "driver $(field eth4 driver), pciID $(field eth4 pciID), busPath $(field eth4 busPath)"
grep -q 'eth4/10.30.0.2/24 ' <<<"$addrs" && ! grep -qE 'eth[0-3]/10.30.0.2/24 ' <<<"$addrs" &&
	ok "deviceSelector by MAC glob, driver, PCI ID and bus path: eth4 alone has 10.30.0.2/24" ||
	not_ok "deviceSelector" "$addrs"
# A bond's options as the kernel reports them (LinkStatus.bond, read from its IFLA_INFO_DATA).
bondyaml() { awk -v id="$1" '/^  id: / { cur = $2 } cur == id' <<<"$links"; }
b0=$(bondyaml bond0) b1=$(bondyaml bond1) b2=$(bondyaml bond2)
if grep -q 'mode: active-backup' <<<"$b0" && grep -q 'primary: eth2' <<<"$b0" && grep -q 'miimon: 100' <<<"$b0" &&
	! grep -q 'useCarrier: true' <<<"$b0" && grep -q 'mode: 802.3ad' <<<"$b1" && grep -q 'adSelect: bandwidth' <<<"$b1" &&
	grep -q 'lacpRate: fast' <<<"$b1" && grep -q 'xmitHashPolicy: layer3+4' <<<"$b1" && grep -q 'minLinks: 1' <<<"$b1" &&
	grep -q 'arpInterval: 250' <<<"$b2" && grep -qE -- '- 10\.12\.0\.1$' <<<"$b2" && grep -qE -- '- 10\.12\.0\.9$' <<<"$b2" &&
	[[ $(field eth7 masterIndex) == "$(field bond2 index)" ]]; then
	ok "bond options in the kernel as configured: primary and carrier (bond0), 802.3ad with LACP rate, aggregator selection, hash and minimum links (bond1), ARP monitoring with two targets (bond2)"
else
	not_ok "bond options" "$b0" "$b1" "$b2"
fi
# The WireGuard link: made by LinkSpecController, set by WireguardController through the
# kernel's generic netlink, read back from the kernel.
wgs=$(o get wireguard wg0 -o yaml 2>&1)
if [[ $(field wg0 kind) == wireguard ]] && grep -q 'backend: kernel' <<<"$wgs" && grep -q "^  publicKey: $(cat wg.pub)" <<<"$wgs" &&
	grep -q 'listenPort: 51820' <<<"$wgs" && grep -q 'firewallMark: 7' <<<"$wgs" && grep -q "publicKey: $(cat peer.pub)" <<<"$wgs" &&
	grep -q 'endpoint: 10.0.2.2:51821' <<<"$wgs" && grep -q -- '- 10.90.0.2/32' <<<"$wgs" && grep -q -- '- fd90::2/128' <<<"$wgs" &&
	grep -q 'persistentKeepaliveInterval: 25' <<<"$wgs" && grep -q 'wg0/10.90.0.1/24 ' <<<"$addrs"; then
	ok "wg0 from the config: a wireguard link, its key, port, mark and peer set in the kernel (read back over generic netlink), 10.90.0.1/24 on it"
else
	not_ok "the WireGuard link" "kind $(field wg0 kind)" "$wgs"
fi
grep -q 'eth5/10.40.0.2/24 ' <<<"$addrs" && ! grep -qE 'eth[0-4]/10.40.0.2/24 ' <<<"$addrs" &&
	ok "deviceSelector by a name glob (e*5): eth5 alone has 10.40.0.2/24" || not_ok "deviceSelector by name" "$addrs"
v=$(o get controllers -o yaml 2>&1)
for c in LinkSpecController NetworkConfigController AddressSpecController; do
	awk -v c="$c" '/^  id: / { cur = $2 } cur == c && /healthy:/ { print; exit }' <<<"$v" | grep -q true || bad+=" $c"
done
[[ -z ${bad:-} ]] && ok "the link, network config and address controllers are healthy" ||
	not_ok "unhealthy:${bad:-}" "$(grep -A1 'lastError: [^"]' <<<"$v" | head -20)"
o patch mc --patch '[{"op":"remove","path":"/machine/network/interfaces/2"}]' >patch.out 2>&1
if wait_until 30 bash -c "$(declare -f o); osctl='$osctl'; ! o get links 2>/dev/null | grep -q ' dummy0 '" &&
	o get links | grep -q ' bond0 '; then
	ok "the dummy out of the config: machined deletes the link it made; the bond stays"
else
	not_ok "link removal" "$(cat patch.out)" "$(o get links 2>&1)"
fi
echo system_powerdown >"$t/mon.in"
check "the node powers off" wait_line "$con" 'reboot: Power down' 60
finish
