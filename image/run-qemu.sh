#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-qemu.sh {--kernel F --initrd F [--append ARGS] | --cdrom ISO | --disk IMAGE} [--serial file:PATH] [--monitor pipe:PATH]
#             [--pidfile F] [--no-reboot] [--daemonize] [--accel kvm|tcg|auto --probe INITRD]
#             [--api-port PORT [--net-open]] [--extra-nics N] [--tap IFNAME] [--rtc-base DATETIME]
#             [--fw-cfg CONFIG]
# Boots the image in QEMU with a serial console. --accel auto: KVM if image/kvm-probe.sh
# shows it runs a guest (with the --probe initramfs), else TCG. Default: tcg.
# Interactive by default (ctrl-a x quits, ctrl-a c toggles the QEMU monitor).
# --api-port: a user-mode NIC (no root, no bridge) with the guest's port 50000 forwarded to
# 127.0.0.1:PORT, the guest at 10.0.2.15/24 by the kernel's ip= (QEMU's user network). The
# NIC is isolated (restrict=on: the guest reaches nothing but what is forwarded to it)
# unless --net-open. --extra-nics: N more user-mode NICs (eth1..ethN, MACs 52:54:00:00:00:01..),
# each isolated and forwarding nothing: links for bonds, bridges and selectors to work on.
# --tap: one more NIC (MAC 52:54:00:00:01:01) on a tap device the caller made (the tests
# make it in a network namespace of their own). --rtc-base: the guest's clock at boot
# (QEMU's -rtc base=, "2026-01-01T00:00:00"). --fw-cfg: a machine config handed to the
# guest through QEMU's firmware config device (opt/org.basalt/config: the qemu platform).
# --pxe (with --tap): boot over the network from the tap NIC; --nic-rom FILE: its boot ROM
# (QEMU's own by default).
# --cdrom/--disk: boot the medium through the firmware (SeaBIOS; --uefi: OVMF, with a
# fresh copy of its variable store in --state DIR) instead of loading the kernel directly;
# its own GRUB menu gives the kernel's arguments, so --api-port brings no ip= then (the
# node asks QEMU's DHCP server for its address).
set -euo pipefail
kernel= initrd= append= serial=mon:stdio monitor= pidfile= accel=tcg probe= extra=() port= restrict=on nics=0 tap=
cdrom= disk=() uefi= state= pxe= rom=
while [[ $# -gt 0 ]]; do
	case $1 in
	--kernel) kernel=$2; shift ;;
	--initrd) initrd=$2; shift ;;
	--append) append=$2; shift ;;
	--serial) serial=$2; shift ;;
	--monitor) monitor=$2; shift ;;
	--pidfile) pidfile=$2; shift ;;
	--accel) accel=$2; shift ;;
	--probe) probe=$2; shift ;;
	--no-reboot) extra+=(-no-reboot) ;;
	--daemonize) extra+=(-daemonize) ;;
	--api-port) port=$2; shift ;;
	--net-open) restrict=off ;;
	--extra-nics) nics=$2; shift ;;
	--tap) tap=$2; shift ;;
	--rtc-base) extra+=(-rtc "base=$2"); shift ;;
	--fw-cfg) extra+=(-fw_cfg "name=opt/org.basalt/config,file=$2"); shift ;;
	--cdrom) cdrom=$2; shift ;;
	--disk) disk+=("$2"); shift ;;
	--uefi) uefi=1 ;;
	--pxe) pxe=1 ;;
	--nic-rom) rom=$2; shift ;;
	--state) state=$2; shift ;;
	*) echo "run-qemu: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
media=()
if [[ -n $cdrom ]]; then
	media+=(-drive "file=$cdrom,media=cdrom,readonly=on,if=none,id=cd0" -device ide-cd,drive=cd0,bootindex=0)
fi
for ((i = 0; i < ${#disk[@]}; i++)); do
	f=${disk[$i]} fmt=raw
	[[ $f == *.qcow2 ]] && fmt=qcow2
	media+=(-drive "file=$f,format=$fmt,if=none,id=d$i" -device "virtio-blk-pci,drive=d$i,bootindex=$((i + 1))")
done
if [[ -n $uefi ]]; then
	code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
	[[ -f $code ]] || { echo "run-qemu: --uefi needs OVMF ($code; Debian package ovmf)" >&2; exit 2; }
	[[ -n $state ]] || { echo "run-qemu: --uefi needs --state DIR for its variable store" >&2; exit 2; }
	cp "$vars" "$state/OVMF_VARS.fd"
	media+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code"
		-drive "if=pflash,format=raw,unit=1,file=$state/OVMF_VARS.fd")
fi

if [[ "$accel" == auto ]]; then
	accel=tcg
	if [[ -n "$probe" ]] && "$(dirname "$0")/kvm-probe.sh" "$kernel" "$probe"; then
		accel=kvm
	fi
	echo "run-qemu: using $accel" >&2
fi
accel_args=(-accel "$accel")
# Under emulation one vCPU (one host thread), so two guests can run side by side on two
# cores; with KVM two.
cpu=max smp=1
[[ "$accel" == kvm ]] && cpu=host smp=2
[[ -n "$monitor" ]] && extra+=(-monitor "$monitor")
[[ -n "$pidfile" ]] && extra+=(-pidfile "$pidfile")
nic=(-nic none)
if [[ -n "$port" ]]; then
	nic=(-nic "user,model=virtio-net-pci,restrict=$restrict,hostfwd=tcp:127.0.0.1:$port-:50000")
	[[ -n $kernel ]] && append="ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off $append"
fi
for ((i = 1; i <= nics; i++)); do
	nic+=(-nic "user,model=virtio-net-pci,restrict=on,mac=52:54:00:00:00:$(printf %02x "$i")")
done
# A NIC on an existing tap device (made by the caller, in a network namespace of its own).
# --pxe: the firmware boots from it (QEMU's NIC ROM is iPXE, from Debian's ipxe-qemu).
if [[ -n "$tap" && -n $pxe ]]; then
	nic+=(-netdev "tap,id=pxe0,ifname=$tap,script=no,downscript=no"
		-device "virtio-net-pci,netdev=pxe0,mac=52:54:00:00:01:01,bootindex=0${rom:+,romfile=$rom}")
elif [[ -n "$tap" ]]; then
	nic+=(-nic "tap,ifname=$tap,script=no,downscript=no,model=virtio-net-pci,mac=52:54:00:00:01:01")
fi

boot=()
if [[ -n $kernel || -n $initrd ]]; then
	[[ -n "$kernel" && -n "$initrd" ]] || { echo "run-qemu: --kernel and --initrd go together" >&2; exit 2; }
	boot=(-kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 quiet $append")
elif ((${#media[@]} == 0)) && [[ -z $pxe ]]; then
	echo "run-qemu: give --kernel and --initrd, --cdrom, --disk or --tap IF --pxe" >&2
	exit 2
fi

exec qemu-system-x86_64 -machine q35 "${accel_args[@]}" -cpu "$cpu" -m 1024 -smp "$smp" \
	-nodefaults -no-user-config -display none -serial "$serial" "${nic[@]}" \
	"${media[@]}" "${boot[@]}" "${extra[@]}"
