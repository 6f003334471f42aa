#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install to disk as a bare-metal user does it: the ISO boots (SeaBIOS, or OVMF with --uefi)
# on a machine whose 2 GiB disk already holds a partition table. A config naming the disk
# without machine.install.wipe is refused (the console and InstallStatus say what is on
# it); with wipe: true the node writes the system disk from the ISO and reboots. Booted
# again from the disk alone (the ISO taken out), it runs installed: STATE holds the config
# (mutual TLS, no maintenance mode), EPHEMERAL is /var, nothing is formatted again. A file
# machine.files writes under /var survives the next reboot and is read back (osctl read);
# osctl reset wipes STATE and EPHEMERAL and the disk boots into maintenance mode again.
#   install.sh OUTDIR [--uefi]
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
shift
uefi=
[[ ${1:-} == --uefi ]] && uefi=--uefi
osctl=$out/bin/osctl
iso=$out/basalt-amd64.iso
need_netns
t=$(test_dir)
plan 23
repo=$PWD
[[ -f $iso ]] || { not_ok "the ISO is built ($iso: make iso)"; finish; }
disk=$t/disk.raw
truncate -s 2G "$disk"
printf 'label: gpt\n,100M,L\n' | sfdisk -q "$disk" >/dev/null
mkdir -p "$t/boot1" "$t/boot2" "$t/fw"
VM_MEDIA=1 vm_start "$t/boot1" tcg --cdrom "$iso" --disk "$disk" ${uefi:+$uefi --state "$t/fw"} --api-port 50000
con=$t/boot1/console.log
if fp=$(basalt_fingerprint "$t/boot1" 240); then
	ok "the ISO boots into maintenance mode beside the disk"
else
	not_ok "the ISO boots into maintenance mode" "$(tail -20 "$con")"
	finish
fi
cd "$t" || exit 1
"$osctl" gen config demo https://127.0.0.1:6443 -o gen >/dev/null
expect "apply-config with machine.install.disk /dev/vda (no wipe)" 'applied without a reboot' \
	wait_until 120 timeout 20 "$osctl" apply-config --insecure --cert-fingerprint "$fp" -e 127.0.0.1:50000 -f gen/controlplane.yaml \
	--config-patch '{"machine":{"install":{"disk":"/dev/vda"}}}'
check "refused: the console says the disk holds a partition table and wipe is not set" \
	wait_line "$con" 'install: /dev/vda holds a partition table \(gpt\): not installing over it without machine.install.wipe: true' 60
export OSCONFIG=$t/gen/osconfig
v=$(wait_until 60 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 get installstatus 2>&1 | grep -q refused" &&
	timeout 20 "$osctl" -e 127.0.0.1:50000 get installstatus 2>&1)
grep -qE 'InstallStatus +install +[0-9]+ +refused +/dev/vda +/dev/vda holds a partition table' <<<"$v" &&
	ok "osctl get installstatus: refused, naming the disk and what it holds" || not_ok "InstallStatus refused" "$v"
v=$(timeout 20 "$osctl" -e 127.0.0.1:50000 get configstatus -o yaml 2>&1)
grep -qE '^  install: "?/dev/vda holds a partition table \(gpt\): not installing over it without machine.install.wipe: true' <<<"$v" &&
	ok "ConfigStatus carries the refusal" || not_ok "ConfigStatus refusal" "$v"
v=$(timeout 20 "$osctl" -e 127.0.0.1:50000 get disks 2>&1)
grep -qE 'block +Disk +vda +[0-9]+ +2\.1 GB +virtio +hdd' <<<"$v" &&
	ok "osctl get disks lists the 2 GiB virtio disk" || not_ok "osctl get disks" "$v"
expect "apply-config again with wipe: true" 'applied without a reboot' \
	timeout 30 "$osctl" -e 127.0.0.1:50000 apply-config -f gen/controlplane.yaml \
	--config-patch '{"machine":{"install":{"disk":"/dev/vda","wipe":true}}}'
check "the node installs onto /dev/vda from the ISO, wiping the old table" \
	wait_line "$con" 'install: installing onto /dev/vda \(.*, wiping what it held\) from /dev/sr0' 60
check "installed, and it reboots into the installed system" \
	wait_line "$con" 'install: Basalt is installed on /dev/vda: rebooting into it' 240
if vm_rebooted "$t/boot1"; then
	ok "the node shuts down in order and reboots"
else
	not_ok "the reboot after the install" "$(grep -a 'install' "$con" | tail -20)"
	finish
fi

# The ISO taken out: the firmware boots the disk.
cd "$repo" || exit 1
VM_MEDIA=1 vm_start "$t/boot2" tcg --disk "$disk" ${uefi:+$uefi --state "$t/fw"} --api-port 50000
con2=$t/boot2/console.log
check "booted from the disk: its GRUB starts slot A with basalt.boot=disk" \
	wait_line "$con2" 'Kernel command line: .*/A/vmlinuz .*basalt.boot=disk' 240
if vm_volumes_kept "$t/boot2"; then
	ok "STATE and EPHEMERAL as the installer made them: mounted, nothing formatted or grown"
else
	not_ok "the installed volumes" "$(grep -aE 'volumes|XFS' "$con2" | tail -20)"
fi
if vm_configured "$t/boot2" 127.0.0.1:50000; then
	ok "the installed node runs the config kept on STATE: mutual TLS, no maintenance mode"
else
	not_ok "the installed node runs its config" "$(grep -aE 'machined|config' "$con2" | tail -20)"
fi
v=$(timeout 20 "$osctl" -e 127.0.0.1:50000 get installstatus 2>&1)
grep -qE 'InstallStatus +install +[0-9]+ +installed +booted from the system disk' <<<"$v" &&
	ok "osctl get installstatus: installed (booted from the system disk)" || not_ok "InstallStatus installed" "$v"

# Persistence: a file written under /var through machine.files, then dropped from the config
# (so no boot writes it again), is still there after a reboot: /var is EPHEMERAL.
cd "$t" || exit 1
expect "machine.files writes /var/basalt/hello on the installed node" 'applied without a reboot' \
	timeout 30 "$osctl" -e 127.0.0.1:50000 apply-config -f gen/controlplane.yaml \
	--config-patch '{"machine":{"install":{"disk":"/dev/vda","wipe":true},"files":[{"path":"/var/basalt/hello","content":"kept across reboots\n","op":"create"}]}}'
v=$(wait_until 30 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 read /var/basalt/hello 2>/dev/null | grep -q kept" &&
	timeout 20 "$osctl" -e 127.0.0.1:50000 read /var/basalt/hello 2>&1)
[[ $v == "kept across reboots" ]] && ok "osctl read /var/basalt/hello: the file machine.files wrote" || not_ok "osctl read" "$v"
expect "the config without machine.files (nothing writes the file again)" 'applied without a reboot' \
	timeout 30 "$osctl" -e 127.0.0.1:50000 apply-config -f gen/controlplane.yaml \
	--config-patch '{"machine":{"install":{"disk":"/dev/vda","wipe":true}}}'
timeout 30 "$osctl" -e 127.0.0.1:50000 reboot >/dev/null 2>&1
if vm_rebooted "$t/boot2"; then
	ok "osctl reboot: the installed node reboots"
else
	not_ok "osctl reboot" "$(tail -20 "$con2")"
	finish
fi
cd "$repo" || exit 1
mkdir -p "$t/boot3"
VM_MEDIA=1 vm_start "$t/boot3" tcg --disk "$disk" ${uefi:+$uefi --state "$t/fw"} --api-port 50000
vm_configured "$t/boot3" 127.0.0.1:50000 || note "the third boot did not come up configured"
v=$(timeout 20 "$osctl" -e 127.0.0.1:50000 read /var/basalt/hello 2>&1)
l=$(timeout 20 "$osctl" -e 127.0.0.1:50000 ls /var/basalt -l 2>&1)
if [[ $v == "kept across reboots" ]] && grep -qE ' -rw-r--r-- +0 +0 +20 .* hello$' <<<"$l" &&
	! grep -aq 'files: /var/basalt/hello' "$t/boot3/console.log"; then
	ok "after the reboot the file is still on /var (EPHEMERAL), read back with osctl read; osctl ls shows it"
else
	not_ok "the file kept across the reboot" "$v" "$l" "$(grep -aE 'volumes|files' "$t/boot3/console.log" | tail)"
fi
v=$(timeout 20 "$osctl" -e 127.0.0.1:50000 get volumes 2>&1; timeout 20 "$osctl" -e 127.0.0.1:50000 get mounts 2>&1)
if grep -qE 'Volume +EPHEMERAL +[0-9]+ +ready +/dev/vda6 +[0-9.]+ GB +/var$' <<<"$v" &&
	grep -qE 'Volume +STATE +[0-9]+ +ready +/dev/vda5 +[0-9.]+ MB +/system/state$' <<<"$v" &&
	grep -qE 'Volume +BOOT +[0-9]+ +located +/dev/vda3 ' <<<"$v" &&
	grep -qE 'MountStatus +/var +[0-9]+ +/dev/vda6 +xfs +false +EPHEMERAL$' <<<"$v"; then
	ok "osctl get volumes|mounts: STATE and EPHEMERAL ready where they are mounted, the other partitions located"
else
	not_ok "osctl get volumes|mounts" "$v"
fi

# Reset: STATE and EPHEMERAL wiped once unmounted; the next boot starts over in maintenance mode.
v=$(timeout 30 "$osctl" -e 127.0.0.1:50000 reset --reboot 2>&1)
grep -q 'reset: STATE (/dev/vda5) is wiped once it is unmounted; EPHEMERAL (/dev/vda6) is wiped once it is unmounted; .*reboots into maintenance mode' <<<"$v" &&
	ok "osctl reset --reboot names the volumes it wipes" || not_ok "osctl reset" "$v"
if wait_line "$t/boot3/console.log" 'reset: /dev/vda6 wiped' 120 && grep -aq 'reset: /dev/vda5 wiped' "$t/boot3/console.log" &&
	vm_rebooted "$t/boot3"; then
	ok "init wipes both after the unmount and reboots"
else
	not_ok "the wipe" "$(grep -aE 'reset|shutdown|unmount' "$t/boot3/console.log" | tail)"
	finish
fi
mkdir -p "$t/boot4"
VM_MEDIA=1 vm_start "$t/boot4" tcg --disk "$disk" ${uefi:+$uefi --state "$t/fw"} --api-port 50000
con4=$t/boot4/console.log
if basalt_fingerprint "$t/boot4" 240 >/dev/null && grep -aq 'volumes: STATE (/dev/vda5) was blank: formatted as xfs' "$con4" &&
	grep -aq 'volumes: EPHEMERAL (/dev/vda6) was blank: formatted as xfs' "$con4"; then
	ok "after the reset the disk boots into maintenance mode, STATE and EPHEMERAL formatted afresh"
else
	not_ok "maintenance after reset" "$(grep -aE 'volumes|maintenance|config' "$con4" | tail)"
fi
vm_poweroff "$t/boot4"
finish
