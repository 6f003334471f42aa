#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A PXE boot as a provisioning network runs one: in a network namespace this test made,
# `osctl pxe serve` on a tap device (full DHCP, as no other server answers there; TFTP;
# HTTP), and a QEMU guest whose only NIC is that tap, booted by its firmware from the
# network (SeaBIOS, or OVMF with --uefi; the NIC's ROM is iPXE). iPXE fetches the script,
# kernel and initramfs over HTTP; the node gets its address by DHCP and its config from
# configs/<its MAC>.yaml, and answers over mutual TLS with that config's CA.
#   pxe.sh OUTDIR [--uefi]
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
uefi=
[[ ${2:-} == --uefi ]] && uefi=--uefi
osctl=$out/bin/osctl
need_netns
t=$(test_dir)
plan 9
[[ -f $out/pxe/initramfs.xz ]] || bail "the PXE assets are built ($out/pxe: make pxe)"
top=$PWD
# The NIC's boot ROM: QEMU's own (Debian 12's ipxe-qemu) with SeaBIOS; under UEFI, iPXE
# 1.21 from image/boot.lock, as the 2019 one boots no kernel there.
rom=()
if [[ -n $uefi ]]; then
	VM_NIC_ROM=${VM_NIC_ROM:-$out/pkg-boot/ipxe-qemu/usr/share/qemu/efi-virtio.rom}
	[[ -f $VM_NIC_ROM ]] || bail "the NIC boot ROM is there ($VM_NIC_ROM: make image)"
	rom=(--nic-rom "$VM_NIC_ROM")
fi
cd "$t" || exit 1
ns=bpx$TEST_ID${uefi:+u}
netns_new "$ns" || bail "network namespace"
ip -n "$ns" tuntap add tap0 mode tap && ip -n "$ns" addr add 10.78.0.1/24 dev tap0 && ip -n "$ns" link set tap0 up ||
	bail "the tap device"
"$osctl" gen config pxe https://10.78.0.1:6443 -o gen >/dev/null
mkdir configs && cp gen/controlplane.yaml configs/52:54:00:00:01:01.yaml
ip netns exec "$ns" "$osctl" pxe serve --interface tap0 --assets "$out/pxe" --configs "$t/configs" >pxe.log 2>&1 &
at_exit "proc_kill $(proc_track $!) TERM"
check "osctl pxe serve: no other DHCP server on the link, so full DHCP" \
	wait_line pxe.log 'no other DHCP server answered on tap0 within 3 s: full DHCP' 10
check "osctl pxe serve: dnsmasq and HTTP serve" wait_line pxe.log 'serving .* on tap0 \(10\.78\.0\.1/24\): HTTP on port 8080, full DHCP, TFTP' 10
if command -v curl >/dev/null; then
	ip netns exec "$ns" curl -s -o tftp.kpxe tftp://10.78.0.1/undionly.kpxe
	cmp -s tftp.kpxe "$out/pxe/undionly.kpxe" && ok "TFTP serves iPXE for firmware that is not iPXE (undionly.kpxe)" ||
		not_ok "TFTP serves undionly.kpxe" "$(ls -la tftp.kpxe 2>&1)"
else
	not_ok "TFTP serves iPXE (curl is not installed: hack/deps.sh installs it)"
fi

con=$t/console.log
cd "$top" && VM_MEDIA=1 VM_NETNS=$ns vm_start "$t" tcg --tap tap0 --pxe ${uefi:+$uefi --state "$t"} "${rom[@]}"
cd "$t" || exit 1
wait_line pxe.log '10\.78\.0\.[0-9]+: iPXE script' 120 >/dev/null ||
	bail "the firmware's iPXE gets the script's URL by DHCP and fetches it" "$(grep -av '^\[ ' "$t/console.log" | tail -15)"
ok "the firmware's iPXE gets the script's URL by DHCP and fetches it"
sent_both() { wait_line pxe.log 'sent /initramfs.xz' 180 && grep -q 'sent /vmlinuz' pxe.log; }
check "iPXE fetches the kernel and the initramfs over HTTP" sent_both
check "the node fetches the config for its MAC" wait_line pxe.log '10\.78\.0\.[0-9]+ \(52:54:00:00:01:01\): machine config .*/configs/52:54:00:00:01:01\.yaml' 180
check "the node applies it (console)" wait_line "$con" 'metal: machine config from http://10\.78\.0\.1:8080/configs/52:54:00:00:01:01\.yaml applied' 60
ipaddr=$(grep -oE 'DHCPACK\(tap0\) 10\.78\.0\.[0-9]+ 52:54:00:00:01:01' pxe.log | tail -1 | awk '{print $2}')
export OSCONFIG=$t/gen/osconfig
check "the node answers over mutual TLS at its DHCP address (${ipaddr:-none}) with the config's CA" \
	wait_until 60 bash -c "ip netns exec '$ns' timeout 20 '$osctl' -e '$ipaddr:50000' get machineconfig -o yaml | grep -q 'type: controlplane'"
echo system_powerdown >"$t/mon.in"
check "the node powers off" wait_line "$con" 'reboot: Power down' 60
finish
