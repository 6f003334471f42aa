#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kvm-probe.sh VMLINUZ PROBE_INITRD: succeeds if QEMU with KVM boots the kernel to the probe
# init within the deadline. /dev/kvm can exist and open while guests never run (nested
# virtualisation without support): only a real boot tells.
set -uo pipefail
kernel=$1 probe=$2
[[ -w /dev/kvm ]] || exit 1
log=$(mktemp /tmp/basalt-kvm.XXXXXX)
trap 'rm -f "$log"' EXIT
timeout 10 qemu-system-x86_64 -machine q35 -accel kvm -cpu host -m 256 -nodefaults \
	-no-user-config -display none -serial "file:$log" -nic none -no-reboot \
	-kernel "$kernel" -initrd "$probe" -append "console=ttyS0 quiet" >/dev/null 2>&1
grep -q '\[probe\] init reached' "$log"
