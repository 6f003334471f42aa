#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ISO as a user boots it: the firmware (SeaBIOS, or OVMF with --uefi) starts GRUB from
# the CD, GRUB's menu (on the serial line too) boots the default entry, and the node,
# given no ip=, asks DHCP for its address (QEMU's own DHCP server on an isolated
# user-mode NIC whose port 50000 is forwarded here). Then as README.md shows: the
# fingerprint on the console, a config applied in maintenance mode, mutual TLS after.
#   iso.sh OUTDIR [--uefi] [--usb]   (--usb: the ISO as a disk, booted through its MBR/GPT)
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
shift
uefi= usb=
for a in "$@"; do
	case $a in
	--uefi) uefi=--uefi ;;
	--usb) usb=1 ;;
	esac
done
osctl=$out/bin/osctl
iso=$out/basalt-amd64.iso
need_netns
t=$(test_dir)
plan 9
con=$t/console.log
fw=SeaBIOS
[[ -n $uefi ]] && fw=OVMF
[[ -f $iso ]] || { not_ok "the ISO is built ($iso: make iso)"; finish; }
medium=(--cdrom "$iso")
if [[ -n $usb ]]; then
	cp "$iso" "$t/usb.img"
	medium=(--disk "$t/usb.img")
fi
VM_MEDIA=1 vm_start "$t" tcg "${medium[@]}" ${uefi:+$uefi --state "$t"} --api-port 50000

check "$fw starts GRUB from the ISO, its menu on the serial line" wait_line "$con" 'GNU GRUB +version 2\.12' 120
menu() { wait_line "$con" 'Basalt [0-9.]+, maintenance \(ignore the installed config\)' 60 && grep -aq '\*Basalt [0-9.]* ' "$con"; }
check "the menu has the normal and the maintenance entries" menu
check "GRUB boots the kernel with the menu's arguments" wait_line "$con" 'Kernel command line: .*/boot/vmlinuz console=tty0 console=ttyS0,115200' 120
if fp=$(basalt_fingerprint "$t" 180); then
	ok "maintenance mode: the fingerprint is on the console"
else
	not_ok "maintenance mode: the fingerprint is on the console" "$(grep -a -E 'init|machined' "$con" | tail -20)"
	finish
fi
cd "$t" || exit 1
"$osctl" gen config demo https://127.0.0.1:6443 -o gen >/dev/null
# The node has no address until DHCP gives one; the forwarded port reaches it then.
expect "apply-config --insecure once DHCP gave the node its address" 'applied without a reboot' \
	wait_until 120 timeout 20 "$osctl" apply-config --insecure --cert-fingerprint "$fp" -e 127.0.0.1:50000 -f gen/controlplane.yaml
export OSCONFIG=$t/gen/osconfig
check "the node answers over mutual TLS with the config's CA" \
	wait_until 60 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 version 2>/dev/null | grep -q 'Tag:'"
v=$(timeout 30 "$osctl" -e 127.0.0.1:50000 get addressspecs 2>&1)
grep -qE 'dhcp4/eth0/10\.0\.2\.15/24 +[0-9]+ +10\.0\.2\.15/24 +eth0 +dhcp4$' <<<"$v" &&
	ok "with no ip= and no config for eth0, the default layer's DHCP gave it 10.0.2.15/24" || not_ok "DHCP by default" "$v"
v=$(timeout 30 "$osctl" -e 127.0.0.1:50000 get operatorspecs 2>&1)
grep -qE 'OperatorSpec +default/dhcp4/eth0 +[0-9]+ +dhcp4 +eth0 +default$' <<<"$v" &&
	timeout 30 "$osctl" -e 127.0.0.1:50000 get operators | grep -qE 'OperatorStatus +dhcp4/eth0 +[0-9]+ +bound +10\.0\.2\.15/24' &&
	ok "the DHCP operator is the default layer's, bound (osctl get operatorspecs, operators)" || not_ok "default DHCP operator" "$v"
echo system_powerdown >"$t/mon.in"
check "the node powers off" wait_line "$con" 'reboot: Power down' 60
finish
