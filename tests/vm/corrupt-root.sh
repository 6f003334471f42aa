#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Stage 1 with a bad root image: a truncated rootfs.sqsh, and none at all. Each must print
# what was looked for and why it failed, then reboot after its delay (QEMU runs with
# -no-reboot, so the reboot ends it) - never hang, never panic.
#   corrupt-root.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
t=$(test_dir)
plan 12
kmoddir=$(realpath "$out/pkg/kernel-modules")
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}
set -e  # building the variants must work before there is anything to boot

size=$(stat -c %s "$out/image/rootfs.sqsh")
head -c $((size / 2)) "$out/image/rootfs.sqsh" >"$t/truncated.sqsh"
head -c 4096 /dev/urandom >"$t/garbage.sqsh"
for v in truncated garbage; do
	image/mkinitramfs.sh "$t/stage-$v" "$t/$v.xz" "$out/bin/init" "$t/$v.sqsh" "$kmoddir" \
		"$out/image/modules-early.paths" "$out/tools/mkcpio"
done
# No root image at all: only the first segment (the root image is the second).
image/mkinitramfs.sh "$t/stage-missing" "$t/unused.xz" "$out/bin/init" "$t/garbage.sqsh" "$kmoddir" \
	"$out/image/modules-early.paths" "$out/tools/mkcpio"
"$out/tools/mkcpio" -t 0 -n /dev/console:600:5:1 "$t/stage-missing" | xz --check=crc32 -T1 >"$t/missing.xz"

set +e

declare -A expect=(
	[truncated]="FATAL: root image is corrupt: /rootfs.sqsh: truncated: superblock says [0-9]+ bytes, file has $((size / 2))"
	[garbage]="FATAL: root image is corrupt: /rootfs.sqsh: bad magic 0x[0-9a-f]+ \\(want 0x73717368\\): not a SquashFS image"
	[missing]="FATAL: root image: /rootfs.sqsh: No such file or directory \\(the initramfs must carry the root image\\)"
)
declare -A pids
for v in truncated garbage missing; do
	image/run-qemu.sh --accel tcg --kernel "$out/vmlinuz" --initrd "$t/$v.xz" --serial "file:$t/$v.log" \
		--no-reboot >/dev/null 2>&1 &
	pids[$v]=$!
	at_exit "proc_kill $(proc_track $!)"
	# Watchers note when the reboot is announced and when QEMU ends (the reboot itself), so
	# the delay between them is measured, whichever machine is looked at first.
	(wait_line "$t/$v.log" 'FATAL: cannot boot; rebooting in 10 s' 150 >/dev/null && date +%s%N >"$t/$v.announced") &
	(timeout 200 tail --pid="${pids[$v]}" -f /dev/null; date +%s%N >"$t/$v.ended") &
done
for v in truncated garbage missing; do
	if wait_line "$t/$v.log" "${expect[$v]}" 120 >/dev/null; then
		ok "$v root image: clear message on the console"
	else
		not_ok "$v root image: clear message on the console" "$(grep -a '\[init\]' "$t/$v.log" | tail -5)"
	fi
	if wait_until 60 test -s "$t/$v.ended" && grep -q 'reboot: Restarting system' "$t/$v.log"; then
		ok "$v root image: the machine rebooted (no hang)"
	else
		not_ok "$v root image: the machine rebooted (no hang)" "$(tail -3 "$t/$v.log")"
	fi
	# The announced 10 s, as waited: from the announcement to the machine's end (a guest
	# under emulation may run slow, so the clock gets some room above, none below).
	if [[ -s $t/$v.announced && -s $t/$v.ended ]]; then
		ms=$((($(cat "$t/$v.ended") - $(cat "$t/$v.announced")) / 1000000))
		if ((ms >= 9500 && ms <= 20000)); then ok "$v root image: rebooted $ms ms after announcing 10 s"; else not_ok "$v root image: the reboot delay is 10 s" "$ms ms"; fi
	else
		not_ok "$v root image: the reboot delay is 10 s" "announced: $(cat "$t/$v.announced" 2>/dev/null), ended: $(cat "$t/$v.ended" 2>/dev/null)"
	fi
	if grep -q 'Kernel panic' "$t/$v.log"; then not_ok "$v root image: no kernel panic"; else ok "$v root image: no kernel panic"; fi
done
finish
