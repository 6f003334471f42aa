#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The system disk image as a cloud or VM user boots it: the image (1 GiB) on a larger
# virtual disk (2 GiB), started by the firmware (SeaBIOS, or OVMF with --uefi) through its
# own GRUB. The first boot grows EPHEMERAL to the disk's end, formats STATE and EPHEMERAL
# and mounts them; a config applied in maintenance mode is kept on STATE, so the second
# boot comes up configured (mutual TLS, no maintenance mode) with the volumes as they were.
# Then the disk, looked at from the host: the GPT grown and valid, the config on STATE,
# containerd's state on EPHEMERAL (it was /var).
#   disk.sh OUTDIR [--uefi] [--qcow2]
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
shift
uefi= qcow=
for a in "$@"; do
	case $a in
	--uefi) uefi=--uefi ;;
	--qcow2) qcow=1 ;;
	esac
done
osctl=$out/bin/osctl
need_netns
t=$(test_dir)
plan 13
fw=SeaBIOS
[[ -n $uefi ]] && fw=OVMF
[[ -f $out/basalt-amd64.raw ]] || { not_ok "the disk image is built (make disk)"; finish; }
if [[ -n $qcow ]]; then
	disk=$t/disk.qcow2
	cp "$out/basalt-amd64.qcow2" "$disk" && qemu-img resize -q "$disk" 2G
else
	disk=$t/disk.raw
	cp --sparse=always "$out/basalt-amd64.raw" "$disk" && truncate -s 2G "$disk"
fi
mkdir -p "$t/boot1" "$t/boot2" "$t/fw"
VM_MEDIA=1 vm_start "$t/boot1" tcg --disk "$disk" ${uefi:+$uefi --state "$t/fw"} --api-port 50000
con=$t/boot1/console.log

check "$fw starts the disk's GRUB, which boots slot A with basalt.boot=disk" \
	wait_line "$con" 'Kernel command line: .*/A/vmlinuz console=tty0 console=ttyS0,115200 basalt.boot=disk' 180
check "first boot: EPHEMERAL grown by 1024 MiB to the end of the 2 GiB disk" \
	wait_line "$con" 'volumes: EPHEMERAL grown by 1024 MiB to the end of /dev/vda' 120
formatted_var() {
	wait_line "$con" 'volumes: EPHEMERAL \(/dev/vda6\) was blank: formatted as xfs' 120 &&
		wait_line "$con" 'volumes: EPHEMERAL \(/dev/vda6\) mounted on /var' 60
}
check "first boot: the blank EPHEMERAL formatted as xfs and mounted on /var" formatted_var
check "first boot: the blank STATE formatted and mounted on /system/state" \
	wait_line "$con" 'volumes: STATE \(/dev/vda5\) mounted on /system/state' 60
if fp=$(basalt_fingerprint "$t/boot1" 180); then
	ok "first boot: no config yet, maintenance mode (the fingerprint on the console)"
else
	not_ok "first boot: maintenance mode" "$(grep -a -E 'volumes|init|machined' "$con" | tail -20)"
	finish
fi
repo=$PWD
cd "$t" || exit 1
"$osctl" gen config demo https://127.0.0.1:6443 -o gen >/dev/null
expect "apply-config --insecure once DHCP gave the node its address" 'applied without a reboot' \
	wait_until 120 timeout 20 "$osctl" apply-config --insecure --cert-fingerprint "$fp" -e 127.0.0.1:50000 -f gen/controlplane.yaml
export OSCONFIG=$t/gen/osconfig
check "the node answers over mutual TLS" \
	wait_until 60 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 version 2>/dev/null | grep -q 'Tag:'"
timeout 30 "$osctl" -e 127.0.0.1:50000 reboot >/dev/null 2>&1
if vm_rebooted "$t/boot1"; then
	ok "osctl reboot: the node shuts down in order and reboots"
else
	not_ok "osctl reboot" "$(tail -20 "$con")"
	finish
fi

cd "$repo" || exit 1
VM_MEDIA=1 vm_start "$t/boot2" tcg --disk "$disk" ${uefi:+$uefi --state "$t/fw"} --api-port 50000
con2=$t/boot2/console.log
if vm_volumes_kept "$t/boot2"; then
	ok "second boot: STATE and EPHEMERAL mounted as they were (cleanly unmounted), nothing formatted or grown again"
else
	not_ok "second boot: the volumes as they were" "$(grep -aE 'volumes|XFS|init\]' "$con2" | tail -20)" "$(tail -5 "$t/boot2/qemu.out")"
fi
if vm_configured "$t/boot2" 127.0.0.1:50000; then
	ok "second boot: the config kept on STATE is in force: mutual TLS, no maintenance mode"
else
	not_ok "second boot: the config kept on STATE is in force" "$(grep -aE 'machined|config' "$con2" | tail -20)"
fi
vm_poweroff "$t/boot2"

# The disk from the host (a raw copy of a qcow2 disk).
cd "$t" || exit 1
raw=$disk
if [[ -n $qcow ]]; then
	raw=$t/disk-flat.raw
	qemu-img convert -O raw "$disk" "$raw"
fi
v=$(sfdisk --verify "$raw" 2>&1; sfdisk -d "$raw" 2>&1)
if grep -q 'No errors detected' <<<"$v" &&
	grep -qE "^$raw""6 : start= +1234944, size= +2957312, .*name=\"EPHEMERAL\"" <<<"$v"; then
	ok "the grown GPT is valid: EPHEMERAL ends at the last whole MiB of the 2 GiB disk"
else
	not_ok "the grown GPT" "$v"
fi
# part N: a read-only loop device over partition N (offsets from the table: the suite's
# /dev has no partition nodes of loop devices).
part() {
	local line start size
	line=$(grep -E "^$raw$1 :" <<<"$v")
	start=$(sed -E 's/.*start= *([0-9]+).*/\1/' <<<"$line")
	size=$(sed -E 's/.*size= *([0-9]+).*/\1/' <<<"$line")
	losetup --show -f -r -o $((start * 512)) --sizelimit $((size * 512)) "$raw"
}
mkdir -p "$t/state" "$t/var"
lstate=$(part 5) && at_exit "losetup -d $lstate"
lvar=$(part 6) && at_exit "losetup -d $lvar"
if [[ -n $lstate && -n $lvar ]] && mount -o ro,norecovery "$lstate" "$t/state" && at_exit "umount '$t/state'" &&
	mount -o ro,norecovery "$lvar" "$t/var" && at_exit "umount '$t/var'"; then
	# The config on STATE is the one applied (its cluster name and CA certificate).
	ca=$(grep -A3 '^  ca:' gen/controlplane.yaml | grep -m1 'crt:' | awk '{print $2}')
	[[ -n $ca ]] && grep -q "name: demo" "$t/state/config.yaml" 2>/dev/null && grep -qF "$ca" "$t/state/config.yaml" &&
		ok "STATE holds the applied config ($(ls "$t/state" | tr '\n' ' '))" ||
		not_ok "STATE holds the applied config" "$(ls -la "$t/state" 2>&1)" "ca: ${ca:0:40}"
	[[ -d $t/var/lib/containerd ]] && ok "EPHEMERAL was /var: containerd's state is on it" ||
		not_ok "containerd's state on EPHEMERAL" "$(ls -la "$t/var" "$t/var/lib" 2>&1)"
else
	not_ok "STATE and EPHEMERAL mount on the host" "$(blkid "$lstate" "$lvar" 2>&1)"
	not_ok "EPHEMERAL was /var"
fi
finish
