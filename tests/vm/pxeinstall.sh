#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install to disk from a PXE boot, as a provisioning network does it: `osctl pxe serve`
# in a network namespace of this test's own (as tests/vm/pxe.sh), and a machine with a
# blank disk whose config (configs/<its MAC>.yaml) names machine.install.disk. Booted
# over the network, the node has no boot medium: it fetches the medium's files (kernel,
# initramfs, the disk's GRUB) from the server's /install/ (basalt.install.source= in the
# iPXE script), writes the system disk and reboots; booted again from the disk alone (on
# an isolated user-mode NIC), it runs installed: STATE holds the config, so it answers
# over mutual TLS without a server.
#   pxeinstall.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
need_netns
t=$(test_dir)
plan 8
[[ -f $out/pxe/disk/core.img ]] || bail "the PXE assets are built ($out/pxe: make pxe)"
top=$PWD
cd "$t" || exit 1
ns=bpi$TEST_ID
netns_new "$ns" || bail "network namespace"
ip -n "$ns" tuntap add tap0 mode tap && ip -n "$ns" addr add 10.79.0.1/24 dev tap0 && ip -n "$ns" link set tap0 up ||
	bail "the tap device"
"$osctl" gen config pxi https://10.79.0.1:6443 -o gen >/dev/null
mkdir configs && awk '{print} /^machine:$/ {print "  install:\n    disk: /dev/vda"}' gen/controlplane.yaml \
	>configs/52:54:00:00:01:01.yaml
disk=$t/disk.raw
truncate -s 2G "$disk"
ip netns exec "$ns" "$osctl" pxe serve --interface tap0 --assets "$out/pxe" --configs "$t/configs" >pxe.log 2>&1 &
at_exit "proc_kill $(proc_track $!) TERM"
check "osctl pxe serve serves" wait_line pxe.log 'serving .* on tap0 \(10\.79\.0\.1/24\): HTTP on port 8080, full DHCP, TFTP' 10
mkdir -p b1 b2
con=$t/b1/console.log
cd "$top" && VM_MEDIA=1 VM_NETNS=$ns vm_start "$t/b1" tcg --tap tap0 --pxe --disk "$disk"
cd "$t" || exit 1
check "the node boots over the network and applies the config for its MAC" \
	wait_line "$con" 'metal: machine config from http://10\.79\.0\.1:8080/configs/52:54:00:00:01:01\.yaml applied' 300
check "no boot medium: it installs onto /dev/vda from the server's /install/" \
	wait_line "$con" 'install: installing onto /dev/vda \(.*, blank\) from http://10\.79\.0\.1:8080/install/' 120
fetched_all() {
	local f
	for f in vmlinuz initramfs.xz disk/grub.cfg disk/core.img disk/boot.img disk/BOOTX64.EFI; do
		grep -q "install: sending /install/boot/$f " pxe.log || return 1
	done
}
check "it fetched the kernel, the initramfs and the disk's GRUB from osctl pxe serve" wait_until 120 fetched_all
check "installed, and it reboots into the installed system" \
	wait_line "$con" 'install: Basalt is installed on /dev/vda: rebooting into it' 300
vm_rebooted "$t/b1" && ok "the node shuts down in order and reboots" ||
	not_ok "the reboot after the install" "$(grep -a 'install' "$con" | tail -20)"
cd "$top" || exit 1
VM_MEDIA=1 vm_start "$t/b2" tcg --disk "$disk" --api-port 50000
check "booted from the disk: its GRUB starts slot A with basalt.boot=disk" \
	wait_line "$t/b2/console.log" 'Kernel command line: .*/A/vmlinuz .*basalt.boot=disk' 240
export OSCONFIG=$t/gen/osconfig
vm_configured "$t/b2" 127.0.0.1:50000 && ok "installed: the config on STATE is in force (mutual TLS, no server needed)" ||
	not_ok "the installed node" "$(grep -aE 'config|maintenance|volumes' "$t/b2/console.log" | tail)"
vm_poweroff "$t/b2"
finish
