#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-qemu.sh --kernel F --initrd F [--append ARGS] [--serial file:PATH] [--monitor pipe:PATH]
#             [--pidfile F] [--no-reboot] [--daemonize] [--accel kvm|tcg|auto --probe INITRD]
#             [--api-port PORT [--net-open]] [--extra-nics N] [--tap IFNAME] [--rtc-base DATETIME]
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
# (QEMU's -rtc base=, "2026-01-01T00:00:00").
set -euo pipefail
kernel= initrd= append= serial=mon:stdio monitor= pidfile= accel=tcg probe= extra=() port= restrict=on nics=0 tap=
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
	*) echo "run-qemu: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[[ -n "$kernel" && -n "$initrd" ]] || { echo "run-qemu: --kernel and --initrd are required" >&2; exit 2; }

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
	append="ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off $append"
fi
for ((i = 1; i <= nics; i++)); do
	nic+=(-nic "user,model=virtio-net-pci,restrict=on,mac=52:54:00:00:00:$(printf %02x "$i")")
done
# A NIC on an existing tap device (made by the caller, in a network namespace of its own).
[[ -n "$tap" ]] && nic+=(-nic "tap,ifname=$tap,script=no,downscript=no,model=virtio-net-pci,mac=52:54:00:00:01:01")

exec qemu-system-x86_64 -machine q35 "${accel_args[@]}" -cpu "$cpu" -m 1024 -smp "$smp" \
	-nodefaults -no-user-config -display none -serial "$serial" "${nic[@]}" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 quiet $append" "${extra[@]}"
