#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The nocloud platform: the qcow2 disk image booted beside a NoCloud seed (a vfat disk
# labelled cidata, as cloud-localds makes it) holding user-data (the machine config of
# `osctl gen config`), meta-data (instance id, host name) and a network-config. The node
# takes the config at its first boot (no maintenance mode) and answers over mutual TLS;
# PlatformMetadata says nocloud with the seed's instance id and host name, which is the
# node's name (the platform layer); the network-config (version 2: the NIC by its MAC, two
# static addresses, a gateway, a name server) is the platform layer of the network specs,
# and no DHCP runs on the link it names. After a reboot (the config now kept on STATE) the
# metadata is still read from the seed.
#   nocloud.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
need_netns
t=$(test_dir)
plan 9
[[ -f $out/basalt-amd64.qcow2 ]] || { not_ok "the disk image is built (make disk)"; finish; }
repo=$PWD
cd "$t" || exit 1
"$osctl" gen config nc https://127.0.0.1:6443 -o gen >/dev/null
printf 'instance-id: iid-basalt-01\nlocal-hostname: seeded-node\n' >meta-data
# QEMU's first NIC has the MAC 52:54:00:12:34:56; its user network forwards to 10.0.2.15.
cat >network-config <<'EOF'
version: 2
ethernets:
  first:
    match:
      macaddress: "52:54:00:12:34:56"
    addresses: [10.0.2.15/24, 10.0.2.50/24]
    gateway4: 10.0.2.2
    nameservers:
      addresses: [10.0.2.3]
      search: [seed.example]
EOF
cp gen/controlplane.yaml user-data
truncate -s 4M seed.img && mkfs.vfat -n cidata seed.img >/dev/null &&
	mcopy -i seed.img user-data meta-data network-config :: || bail "the NoCloud seed (mkfs.vfat, mcopy)"
cp "$out/basalt-amd64.qcow2" node.qcow2
cd "$repo" || exit 1
mkdir -p "$t/b1" "$t/b2"
VM_MEDIA=1 vm_start "$t/b1" tcg --disk "$t/node.qcow2" --disk "$t/seed.img" --api-port 50000
con=$t/b1/console.log
check "the node applies the user-data of the cidata volume" \
	wait_line "$con" 'nocloud: machine config from the user-data of /dev/vdb \(vfat\) applied \([0-9]+ bytes\)' 240
check "the console says the network-config is the platform layer of the network" \
	wait_line "$con" 'nocloud: network-config of /dev/vdb: 1 link, the platform layer of the network' 10
export OSCONFIG=$t/gen/osconfig
check "it answers over mutual TLS, never having waited in maintenance mode" vm_configured "$t/b1" 127.0.0.1:50000
v=$(timeout 20 "$osctl" -e 127.0.0.1:50000 get platformmetadata 2>&1)
grep -qE 'PlatformMetadata +platform +[0-9]+ +nocloud +seeded-node +iid-basalt-01' <<<"$v" &&
	ok "PlatformMetadata: nocloud, the seed's host name and instance id" || not_ok "PlatformMetadata" "$v"
v=$(wait_until 30 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 get hostname 2>&1 | grep -q seeded-node" &&
	timeout 20 "$osctl" -e 127.0.0.1:50000 get hostnamespecs 2>&1)
grep -qE 'HostnameSpec +platform/platform +[0-9]+ +seeded-node +platform' <<<"$v" &&
	ok "the seed's host name is the node's, from the platform layer" || not_ok "hostname from the seed" "$v"
v=$(wait_until 30 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 get addresses 2>&1 | grep -q 10.0.2.50/24" &&
	timeout 20 "$osctl" -e 127.0.0.1:50000 get addressspecs 2>&1; timeout 20 "$osctl" -e 127.0.0.1:50000 get operatorspecs 2>&1;
	timeout 20 "$osctl" -e 127.0.0.1:50000 get resolvers 2>&1)
if grep -qE 'AddressSpec +platform/eth0/10\.0\.2\.50/24 .* platform' <<<"$v" && grep -qE 'ResolverStatus +resolvers +[0-9]+ +10\.0\.2\.3 +seed\.example +platform' <<<"$v" &&
	! grep -q 'default/dhcp4/eth0' <<<"$v"; then
	ok "the network-config's addresses are on eth0 (platform layer), its name server in use, no DHCP on the link it names"
else
	not_ok "the platform network" "$v"
fi
timeout 30 "$osctl" -e 127.0.0.1:50000 reboot >/dev/null 2>&1
vm_rebooted "$t/b1" && ok "the node reboots" || not_ok "reboot" "$(tail -5 "$con")"
cd "$repo" || exit 1
VM_MEDIA=1 vm_start "$t/b2" tcg --disk "$t/node.qcow2" --disk "$t/seed.img" --api-port 50000
vm_configured "$t/b2" 127.0.0.1:50000 && ! grep -aq 'nocloud: machine config' "$t/b2/console.log" &&
	ok "booted again: the config kept on STATE is in force, the seed's is not applied again" ||
	not_ok "the second boot" "$(grep -aE 'nocloud|config|maintenance' "$t/b2/console.log" | tail)"
v=$(timeout 20 "$osctl" -e 127.0.0.1:50000 get platformmetadata 2>&1)
grep -qE 'PlatformMetadata +platform +[0-9]+ +nocloud +seeded-node +iid-basalt-01' <<<"$v" &&
	ok "PlatformMetadata still read from the seed" || not_ok "PlatformMetadata after the reboot" "$v"
vm_poweroff "$t/b2"
finish
