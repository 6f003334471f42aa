#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Walking-skeleton benchmark: one table. References, measured in the same run:
#  - s6 (s6-svscan + s6-supervise from Debian), a small C supervision suite, supervising the
#    same helper binary: resident memory, size on disk, crash-to-restart latency;
#  - the kernel floor: the same kernel, QEMU and flags with a trivial PID 1 that reports
#    its start and powers off (image/probeinit.c), against which Basalt's "all services
#    up" is compared.
#   skeleton.sh OUTDIR     (BENCH_TRIALS, BENCH_BOOTS tune the repetitions)
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
trials=${BENCH_TRIALS:-10}
boots=${BENCH_BOOTS:-3}
helper=$out/host/bin/svchelper
initctl=$out/host/bin/initctl
t=$(test_dir)
cg=$(test_cgroup bench)
at_exit "cgroup_remove '$cg'"

kib() { echo $((($1 + 512) / 1024)); }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }
p90() { sort -n | awk '{ v[NR] = $1 } END { i = int(NR * 0.9 + 0.5); if (i < 1) i = 1; print v[i] + 0 }'; }
rss_kib() { awk '/^VmRSS/ { s += $2 } END { print s + 0 }' "${@/#//proc/}" 2>/dev/null; }
status_files() { for p in "$@"; do echo "/proc/$p/status"; done; }
sum_rss() { awk '/^VmRSS/ { s += $2 } END { print s + 0 }' $(status_files "$@"); }
# gaps FILE: ms between each "exit" and the "start" after it (microsecond resolution)
gaps() { awk '/^exit/ { e = $2 } /^start/ && e { printf "%.3f\n", ($2 - e) / 1e6; e = 0 }' "$1"; }

# --- Basalt's init in container mode: idle RSS, then crash-to-restart latency ---------
sock=$t/init.sock
unshare --pid --mount --fork --mount-proc "$out/bin/init" --container --socket "$sock" \
	--cgroup-root "$cg" -- "$helper" sleep x >"$t/init.log" 2>&1 &
ushare=$!
at_exit "kill -9 $ushare 2>/dev/null; wait $ushare 2>/dev/null"
wait_line "$t/init.log" 'machined: running' 10 >/dev/null
"$initctl" -s "$sock" set --svc "machined -- $helper sleep x" --svc "other -- $helper sleep x" >/dev/null
wait_line "$t/init.log" 'all services up' 10 >/dev/null
initpid=$(ps -o pid= --ppid "$ushare" | tr -d ' ')
sleep 1  # a measurement parameter: one second of idleness before reading RSS
basalt_rss=$(sum_rss "$initpid")

: >"$t/basalt.gaps"
for i in $(seq 1 "$trials"); do
	f=$t/crash-b$i
	"$initctl" -s "$sock" set --svc "machined -- $helper sleep x" --svc "crash$i -- $helper crash-once $f" >/dev/null
	wait_until 10 bash -c "[[ \$(grep -c ^start $f 2>/dev/null) -ge 2 ]]"
	gaps "$f" >>"$t/basalt.gaps"
done
kill -TERM "$initpid"
wait "$ushare" 2>/dev/null

# --- s6: the same two idle services, then the same crash-once helper ------------------
s6_service() {  # s6_service DIR MODE ARG: a service directory running the helper directly
	mkdir -p "$1"
	ln -sf "$helper" "$1/run"
	echo "$2 $3" >"$1/svchelper.args"
}
s6_service "$t/s6idle/a" sleep x
s6_service "$t/s6idle/b" sleep x
s6-svscan "$t/s6idle" >/dev/null 2>&1 &
scan=$!
wait_until 10 bash -c "[[ \$(ps -o pid= --ppid $scan | wc -l) -ge 2 ]] && s6-svstat $t/s6idle/a | grep -q ^up && s6-svstat $t/s6idle/b | grep -q ^up"
sleep 1  # same idle period as above
sups=$(ps -o pid= --ppid "$scan" | tr '\n' ' ')
s6_rss=$(sum_rss "$scan" $sups)
s6-svscanctl -t "$t/s6idle"
wait "$scan" 2>/dev/null

: >"$t/s6.gaps"
for i in $(seq 1 "$trials"); do
	f=$t/crash-s$i
	s6_service "$t/s6crash$i/svc" crash-once "$f"
	s6-svscan "$t/s6crash$i" >/dev/null 2>&1 &
	scan=$!
	wait_until 10 bash -c "[[ \$(grep -c ^start $f 2>/dev/null) -ge 2 ]]"
	gaps "$f" >>"$t/s6.gaps"
	s6-svscanctl -t "$t/s6crash$i"
	wait "$scan" 2>/dev/null
done

# --- boots under QEMU: Basalt to "all services up", and the kernel floor ---------------
boot_once() {  # boot_once INITRD PATTERN ACCEL: prints the ms of uptime the pattern reports
	local con=$t/boot-$RANDOM.log line
	image/run-qemu.sh --accel "$3" --kernel "$out/vmlinuz" --initrd "$1" --serial "file:$con" \
		--no-reboot >/dev/null 2>&1 &
	local q=$!
	line=$(wait_line "$con" "$2" 180)
	kill "$q" 2>/dev/null
	wait "$q" 2>/dev/null
	sed -E 's/.* at ([0-9]+) ms of uptime.*/\1/' <<<"$line"
	grep -oE 'init RSS [0-9]+ KiB' "$con" | grep -oE '[0-9]+' >>"$t/vm.rss"
}
accels=(tcg)
image/kvm-probe.sh "$out/vmlinuz" "$out/image/probe.xz" && accels+=(kvm)
declare -A up floor
for a in "${accels[@]}"; do
	: >"$t/up.$a"
	: >"$t/floor.$a"
	for i in $(seq 1 "$boots"); do
		boot_once "$out/initramfs.xz" 'all services up at [0-9]+ ms' "$a" >>"$t/up.$a"
		boot_once "$out/image/probe.xz" '\[probe\] init reached at [0-9]+ ms' "$a" >>"$t/floor.$a"
	done
	up[$a]=$(median <"$t/up.$a")
	floor[$a]=$(median <"$t/floor.$a")
done
vm_rss=$(median <"$t/vm.rss")

# --- sizes ------------------------------------------------------------------------------
sz() { stat -L -c %s "$1"; }
init_sz=$(sz "$out/image/rootfs/sbin/init")
machined_sz=$(sz "$out/image/rootfs/sbin/machined")
skarnet=$(ldd "$(command -v s6-supervise)" | awk '/skarnet/ { print $3 }')
s6_sz=$(($(sz "$(command -v s6-svscan)") + $(sz "$(command -v s6-supervise)") + $(sz "$skarnet")))
vmlinuz_sz=$(sz "$out/vmlinuz")
initrd_sz=$(sz "$out/initramfs.xz")
sqsh_sz=$(sz "$out/image/rootfs.sqsh")
sqsh_min_sz=$(sz "$out/image/rootfs-min.sqsh")
b_med=$(median <"$t/basalt.gaps")
b_p90=$(p90 <"$t/basalt.gaps")
s_med=$(median <"$t/s6.gaps")
s_p90=$(p90 <"$t/s6.gaps")

echo
echo "| metric | Basalt | reference | Basalt / reference |"
echo "|---|---|---|---|"
echo "| PID 1 resident memory, idle, 2 services (host, container mode) | $basalt_rss KiB | s6-svscan + 2 s6-supervise: $s6_rss KiB | $(ratio "$basalt_rss" "$s6_rss") |"
echo "| PID 1 resident memory at services up (QEMU boot) | $vm_rss KiB | goal 1024 KiB | $(ratio "$vm_rss" 1024) |"
echo "| init static binary (stripped) | $(kib "$init_sz") KiB | s6-svscan + s6-supervise + libskarnet.so: $(kib "$s6_sz") KiB | $(ratio "$init_sz" "$s6_sz") |"
echo "| machined static binary (stripped) | $(kib "$machined_sz") KiB | - | - |"
kver=$(awk '!/^#/ && NF { print $3; exit }' kernel/kernel.lock)
echo "| vmlinuz (Debian $kver) | $(mib "$vmlinuz_sz") MiB | - | - |"
echo "| initramfs.xz (holds rootfs.sqsh) | $(mib "$initrd_sz") MiB | - | - |"
echo "| rootfs.sqsh without containerd/runc/etcd | $(mib "$sqsh_min_sz") MiB | rootfs.sqsh with them: $(mib "$sqsh_sz") MiB | $(ratio "$sqsh_min_sz" "$sqsh_sz") |"
for a in "${accels[@]}"; do
	echo "| kernel uptime at all services up ($a, median of $boots) | ${up[$a]} ms | kernel floor (trivial PID 1): ${floor[$a]} ms | $(ratio "${up[$a]}" "${floor[$a]}") |"
done
echo "| crash to restart, first restart (median / p90 of $trials) | $b_med / $b_p90 ms | s6-supervise: $s_med / $s_p90 ms | $(ratio "$b_med" "$s_med") |"
