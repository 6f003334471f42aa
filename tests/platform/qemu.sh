#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The qemu platform on this host, over a copy of sysfs: the DMI vendor QEMU selects it; the
# firmware config device shows up only after machined has started (its module still
# loading), and the config in it is then taken; runtime/PlatformMetadata names the
# platform and the DMI UUID. A device without the entry means maintenance mode, said.
#   qemu.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
t=$(test_dir)
plan 5
cd "$t" || exit 1
A=127.0.0.1:50000
"$osctl" gen config q https://127.0.0.1:6443 -o gen >/dev/null
mkdir -p sys/class/dmi/id sys/class/net
echo QEMU >sys/class/dmi/id/sys_vendor
echo "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0" >sys/class/dmi/id/product_uuid
echo "console=ttyS0" >cmdline
NODE_ARGS="--cmdline $t/cmdline --sysfs $t/sys" basalt_node "$out" "$t/n" "$A"
sleep 2
# The device appears whole, as the kernel's does: made aside and renamed into place (a
# directory seen before its entry is in it would be a device without the entry).
entry=sys/firmware/qemu_fw_cfg/by_name/opt/org.basalt/config
mkdir -p "staged/${entry#sys/firmware/}" && cp gen/controlplane.yaml "staged/${entry#sys/firmware/}/raw" &&
	mkdir -p sys/firmware && mv staged/qemu_fw_cfg sys/firmware/
check "the device shows up late; the config in it is applied" \
	wait_line n/console.log 'qemu: machine config from fw_cfg opt/org.basalt/config applied \([0-9]+ bytes\)' 30
export OSCONFIG=$t/gen/osconfig
check "the node serves mutual TLS with the config's CA" \
	wait_until 20 bash -c "timeout 10 '$osctl' -e '$A' version 2>/dev/null | grep -q Tag:"
v=$(timeout 10 "$osctl" -e "$A" get platformmetadata 2>&1)
grep -qE "PlatformMetadata +platform +[0-9]+ +qemu +0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" <<<"$v" &&
	ok "PlatformMetadata: qemu, the DMI UUID as the instance id" || not_ok "PlatformMetadata" "$v"
timeout 10 "$osctl" -e "$A" reboot >/dev/null 2>&1
node_exit n 15 >/dev/null
rm -rf n/state "$entry" staged
NODE_ARGS="--cmdline $t/cmdline --sysfs $t/sys" basalt_node "$out" "$t/n" "$A"
check "a device without the entry: said, and maintenance mode" \
	wait_line n/console.log 'qemu: no machine config in the firmware config device .*: maintenance mode' 30
check "the API waits in maintenance mode" wait_line n/console.log 'API in maintenance mode' 10
finish
