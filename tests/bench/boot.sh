#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boot benchmark: one table. Artifact sizes against Talos's published figures (initramfs
# about 64 MiB, rootfs about 55 MB, a SquashFS under 80 MB, raw disk images of at least
# 1246 MiB; no ISO size is published), and the wall time from QEMU's start to the API being
# ready (machined's "API in maintenance mode" line, written once apid serves) for a
# direct kernel boot, the ISO (SeaBIOS), the disk image (SeaBIOS) and a PXE boot through
# `osctl pxe serve`, each against the kernel floor measured in the same run: the same
# QEMU, kernel and flags with a trivial PID 1 that reports its start (image/probeinit.c).
# TCG here; KVM too where it runs a guest.
#   boot.sh OUTDIR      (BENCH_BOOTS: boots of each kind, default 3)
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
boots=${BENCH_BOOTS:-3}
osctl=$out/bin/osctl
t=$(test_dir)
top=$PWD

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# boot_ms KIND ACCEL: one boot, QEMU start to the line that marks it ready, in ms (empty
# when it did not come).
boot_ms() {
	local kind=$1 accel=$2 dir=$t/$1-$RANDOM start ms= pat='API in maintenance mode on' args=() net=()
	mkdir -p "$dir"
	case $kind in
	floor) args=(--kernel "$out/vmlinuz" --initrd "$out/image/probe.xz") pat='\[probe\] init reached' ;;
	kernel) args=(--kernel "$out/vmlinuz" --initrd "$out/initramfs.xz" --api-port 50000) ;;
	iso) args=(--cdrom "$out/basalt-amd64.iso" --api-port 50000) ;;
	disk) cp --sparse=always "$out/basalt-amd64.raw" "$dir/disk.raw" && args=(--disk "$dir/disk.raw" --api-port 50000) ;;
	pxe) args=(--tap tap0 --pxe) net=(ip netns exec "$pxe_ns") ;;
	esac
	start=$(now_ms)
	"${net[@]}" image/run-qemu.sh --accel "$accel" "${args[@]}" --serial "file:$dir/console.log" --no-reboot \
		>"$dir/qemu.out" 2>&1 &
	local q=$!
	wait_line "$dir/console.log" "$pat" 300 >/dev/null && ms=$(($(now_ms) - start))
	proc_kill "$(proc_track $q)"
	wait "$q" 2>/dev/null
	rm -f "$dir/disk.raw"
	echo "$ms"
}

# The provisioning network for the PXE boots: a tap in a namespace of our own, served by
# osctl pxe serve (no config for the machine: it comes up in maintenance mode).
need_netns
pxe_ns=bbench$TEST_ID
netns_new "$pxe_ns" || bail "network namespace"
ip -n "$pxe_ns" tuntap add tap0 mode tap && ip -n "$pxe_ns" addr add 10.79.0.1/24 dev tap0 &&
	ip -n "$pxe_ns" link set tap0 up || bail "the tap device"
mkdir -p "$t/configs"
ip netns exec "$pxe_ns" "$osctl" pxe serve --interface tap0 --assets "$out/pxe" --configs "$t/configs" >"$t/pxe.log" 2>&1 &
at_exit "proc_kill $(proc_track $!) TERM"
wait_line "$t/pxe.log" 'serving .* on tap0' 20 >/dev/null || bail "osctl pxe serve" "$(cat "$t/pxe.log")"

accels=(tcg)
image/kvm-probe.sh "$out/vmlinuz" "$out/image/probe.xz" && accels+=(kvm)
kinds=(floor kernel iso disk pxe)
declare -A med
for a in "${accels[@]}"; do
	for k in "${kinds[@]}"; do
		: >"$t/$k.$a"
		for i in $(seq 1 "$boots"); do
			v=$(boot_ms "$k" "$a")
			[[ -n $v ]] && echo "$v" >>"$t/$k.$a"
		done
		med[$k.$a]=$(median <"$t/$k.$a")
		note "$k ($a): $(tr '\n' ' ' <"$t/$k.$a")ms"
	done
done

sz() { stat -L -c %s "$1"; }
alloc() { echo $(($(stat -L -c %b "$1") * $(stat -L -c %B "$1"))); }
iso=$(sz "$out/basalt-amd64.iso")
initrd=$(sz "$out/initramfs.xz")
sqsh=$(sz "$out/image/rootfs.sqsh")
raw=$(sz "$out/basalt-amd64.raw")
raw_alloc=$(alloc "$out/basalt-amd64.raw")
qcow=$(sz "$out/basalt-amd64.qcow2")
talos_initrd=$((64 * 1048576)) talos_rootfs=55000000 talos_sqsh_max=80000000 talos_raw=$((1246 * 1048576))

echo
echo "| metric | Basalt | reference | Basalt / reference |"
echo "|---|---|---|---|"
echo "| ISO (hybrid, BIOS and UEFI) | $(mib "$iso") MiB | Talos metal ISO: no published size | - |"
echo "| initramfs.xz (holds the rootfs) | $(mib "$initrd") MiB | Talos initramfs: about 64 MiB | $(ratio "$initrd" "$talos_initrd") |"
echo "| rootfs.sqsh | $(mb "$sqsh") MB | Talos rootfs: about 55 MB (its docs: a SquashFS under 80 MB) | $(ratio "$sqsh" "$talos_rootfs") |"
echo "| raw disk image (size / allocated) | $(mib "$raw") / $(mib "$raw_alloc") MiB | Talos raw images: at least 1246 MiB | $(ratio "$raw" "$talos_raw") |"
echo "| qcow2 disk image | $(mib "$qcow") MiB | - | - |"
for a in "${accels[@]}"; do
	f=${med[floor.$a]}
	echo "| kernel floor: QEMU start to a trivial PID 1 ($a, median of $boots) | $f ms | - | 1.00 |"
	for k in kernel iso disk pxe; do
		case $k in
		kernel) what="direct kernel boot" ;;
		iso) what="ISO (SeaBIOS, GRUB)" ;;
		disk) what="disk image (SeaBIOS, GRUB)" ;;
		pxe) what="PXE (SeaBIOS, iPXE over HTTP, DHCP)" ;;
		esac
		echo "| QEMU start to API ready: $what ($a, median of $boots) | ${med[$k.$a]} ms | kernel floor: $f ms | $(ratio "${med[$k.$a]}" "$f") |"
	done
done
cd "$top" || exit 1
