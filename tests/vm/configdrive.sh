#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The openstack platform: the qcow2 disk image booted beside an OpenStack config drive (an
# iso9660 volume labelled config-2, as Nova writes it) holding openstack/latest/user_data
# (the machine config of `osctl gen config`), meta_data.json (UUID, host name,
# availability zone) and network_data.json (the NIC by its MAC with two static IPv4
# addresses, a default route and a DNS service). The node takes the config at its first
# boot and answers over mutual TLS; PlatformMetadata says openstack with the drive's UUID,
# host name and zone; the network is the platform layer of the network specs, with no DHCP
# on the link it names.
#   configdrive.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
need_netns
t=$(test_dir)
plan 7
[[ -f $out/basalt-amd64.qcow2 ]] || { not_ok "the disk image is built (make disk)"; finish; }
repo=$PWD
cd "$t" || exit 1
"$osctl" gen config os https://127.0.0.1:6443 -o gen >/dev/null
mkdir -p drive/openstack/latest
cp gen/controlplane.yaml drive/openstack/latest/user_data
cat >drive/openstack/latest/meta_data.json <<'EOF2'
{"uuid": "5d0c7c2e-9a43-4bd4-8c11-3a5e2a0f6b01", "name": "drive-node", "hostname": "drive-node.novalocal",
 "availability_zone": "zone-a", "launch_index": 0, "meta": {"role": "test"}}
EOF2
# QEMU's first NIC has the MAC 52:54:00:12:34:56; its user network forwards to 10.0.2.15.
cat >drive/openstack/latest/network_data.json <<'EOF2'
{"links": [{"id": "tap0", "type": "ovs", "ethernet_mac_address": "52:54:00:12:34:56", "mtu": null}],
 "networks": [
  {"id": "n0", "type": "ipv4", "link": "tap0", "ip_address": "10.0.2.15", "netmask": "255.255.255.0",
   "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.2.2"}]},
  {"id": "n1", "type": "ipv4", "link": "tap0", "ip_address": "10.0.2.60", "netmask": "255.255.255.0"}],
 "services": [{"type": "dns", "address": "10.0.2.3"}]}
EOF2
xorriso -as mkisofs -quiet -V config-2 -J -R -o drive.iso drive 2>/dev/null || bail "the config drive (xorriso)"
cp "$out/basalt-amd64.qcow2" node.qcow2
cd "$repo" || exit 1
mkdir -p "$t/b1"
VM_MEDIA=1 vm_start "$t/b1" tcg --disk "$t/node.qcow2" --disk "$t/drive.iso" --api-port 50000
con=$t/b1/console.log
check "the node applies the user_data of the config-2 volume" \
	wait_line "$con" 'openstack: machine config from the openstack/latest/user_data of /dev/vdb \(iso9660\) applied \([0-9]+ bytes\)' 240
check "the console says network_data.json is the platform layer of the network" \
	wait_line "$con" 'openstack: openstack/latest/network_data.json of /dev/vdb: 1 link, the platform layer of the network' 10
export OSCONFIG=$t/gen/osconfig
check "it answers over mutual TLS, never having waited in maintenance mode" vm_configured "$t/b1" 127.0.0.1:50000
v=$(timeout 20 "$osctl" -e 127.0.0.1:50000 get platformmetadata -o yaml 2>&1)
if grep -q 'platform: openstack' <<<"$v" && grep -q 'hostname: drive-node.novalocal' <<<"$v" &&
	grep -q 'instanceId: 5d0c7c2e-9a43-4bd4-8c11-3a5e2a0f6b01' <<<"$v" && grep -q 'zone: zone-a' <<<"$v"; then
	ok "PlatformMetadata: openstack, the drive's host name, UUID and availability zone"
else
	not_ok "PlatformMetadata" "$v"
fi
v=$(wait_until 30 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 get hostname 2>&1 | grep -q drive-node" &&
	timeout 20 "$osctl" -e 127.0.0.1:50000 get hostname 2>&1)
grep -qE 'drive-node +novalocal' <<<"$v" && ok "the drive's host name is the node's (name and domain)" ||
	not_ok "hostname from the drive" "$v"
v=$(wait_until 30 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 get addresses 2>&1 | grep -q 10.0.2.60/24" &&
	timeout 20 "$osctl" -e 127.0.0.1:50000 get addressspecs 2>&1; timeout 20 "$osctl" -e 127.0.0.1:50000 get operatorspecs 2>&1;
	timeout 20 "$osctl" -e 127.0.0.1:50000 get routes 2>&1; timeout 20 "$osctl" -e 127.0.0.1:50000 get resolvers 2>&1)
if grep -qE 'AddressSpec +platform/eth0/10\.0\.2\.60/24 .* platform' <<<"$v" && grep -qE 'ResolverStatus +resolvers +[0-9]+ +10\.0\.2\.3 ' <<<"$v" &&
	grep -qE 'RouteStatus .*10\.0\.2\.2' <<<"$v" && ! grep -q 'default/dhcp4/eth0' <<<"$v"; then
	ok "network_data.json's addresses are on eth0 (platform layer), its route and name server in use, no DHCP on the link"
else
	not_ok "the platform network" "$v"
fi
vm_poweroff "$t/b1" && ok "the node powers off" || not_ok "power off" "$(tail -5 "$con")"
finish
