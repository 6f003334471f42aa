#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cluster benchmark: one table. The wall time of `osctl cluster create` until every node is
# healthy, for Docker (1 control plane + 2 workers, the image imported from rootfs.sqsh in
# that time) and QEMU (1 + 1, TCG here), each next to a single node started by hand in the
# same run without the provisioner (docker run of the same image with its config in
# USERDATA; QEMU booting an overlay of the same disk image with its config through fw_cfg),
# timed to the same point: its API answering over mutual TLS with MachineStatus running and
# its services up. Then the host memory each running node takes (Docker: the resident
# memory of every process in its container; QEMU: its QEMU process's) against Talos's
# documented minimums (2 GiB for a control plane, 1 GiB for a worker).
#   cluster.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
dk=$out/peers/docker/root
t=$(test_dir)
export HOME=$t/home OSCONFIG=$t/home/.osctl/config
mkdir -p "$HOME"
cd "$t" || exit 1

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
fail() { echo "bench-cluster: $*" >&2; exit 1; }
# rss_kib PID...: the resident memory of those processes, summed.
rss_kib() { local p s=0 v; for p in "$@"; do v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null); s=$((s + ${v:-0})); done; echo $s; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }
# up OSCONFIG PORT: the node on 127.0.0.1:PORT runs with its services up (what create waits for).
up() {
	local y
	y=$("$osctl" --osconfig "$1" -e "127.0.0.1:$2" get machinestatus -o yaml 2>/dev/null)
	grep -q 'stage: running' <<<"$y" && grep -q 'services: true' <<<"$y"
}

[[ -x $dk/usr/sbin/dockerd && -f $out/image/rootfs.sqsh && -f $out/basalt-amd64.qcow2 ]] ||
	fail "needs the Docker peers, make image and make disk"
dockerd_start "$dk" "$t" || fail "dockerd did not answer: $(tail -5 "$t/dockerd.log")"

# --- Docker: the cluster, then one node by hand beside it ---
start=$(now_ms)
"$osctl" cluster create --provisioner docker --name bd --workers 2 >docker-create.log 2>&1 ||
	fail "docker cluster create: $(tail -20 docker-create.log)"
docker_ms=$(($(now_ms) - start))
"$osctl" health >/dev/null || fail "the docker cluster is not healthy"
docker_cp=$(rss_kib $(docker top bd-controlplane-1 -eo pid | tail -n +2))
docker_w=$(rss_kib $(docker top bd-worker-1 -eo pid | tail -n +2))
img=$(cat "$HOME/.osctl/clusters/bd/image")
caps=()
for c in $(docker inspect -f '{{join .HostConfig.CapAdd " "}}' bd-worker-1); do caps+=(--cap-add "$c"); done
"$osctl" gen config ref https://10.5.0.2:6443 -o ref >/dev/null || fail "gen config"
echo "USERDATA=$(base64 -w0 ref/controlplane.yaml)" >ref.env
chmod 600 ref.env
start=$(now_ms)
docker run --detach --name bd-ref --network basalt-bd --ip 10.5.0.9 --publish 127.0.0.1::50000 --env-file ref.env \
	--read-only --tmpfs /run --tmpfs /tmp --tmpfs /system --cap-drop ALL "${caps[@]}" --mount type=volume,dst=/var --mount type=volume,dst=/system/state "$img" >/dev/null ||
	fail "docker run of one node"
port=$(docker port bd-ref 50000/tcp | head -1)
port=${port##*:}
wait_until 120 up "$t/ref/osconfig" "$port" || fail "the node started by hand did not come up"
docker_one_ms=$(($(now_ms) - start))
docker rm --force --volumes bd-ref >/dev/null
# A second cluster while the first keeps the image: create without the import.
start=$(now_ms)
"$osctl" cluster create --provisioner docker --name bw --cidr 10.6.0.0/24 --workers 2 >docker-warm.log 2>&1 ||
	fail "the second docker cluster: $(tail -20 docker-warm.log)"
docker_warm_ms=$(($(now_ms) - start))
grep -q 'is in the engine already' docker-warm.log || fail "the second cluster imported the image again"
"$osctl" cluster destroy --name bw >/dev/null || fail "docker cluster destroy"
"$osctl" cluster destroy --name bd >/dev/null || fail "docker cluster destroy"

# --- QEMU: one node by hand, then the cluster ---
mkdir -p one
python3 - ref/controlplane.yaml >one/config.yaml <<'EOF' || fail "the single node's config"
import sys
text = open(sys.argv[1]).read()
i = text.index("\nmachine:\n") + len("\nmachine:\n")
print(text[:i] + '  network:\n    hostname: one\n    interfaces:\n      - deviceSelector:\n          hardwareAddr: "52:54:00:12:34:56"\n        dhcp: true\n' + text[i:], end="")
EOF
qemu-img create -q -f qcow2 -F qcow2 -b "$out/basalt-amd64.qcow2" one/disk.qcow2 6G || fail "qemu-img"
qport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start=$(now_ms)
qemu-system-x86_64 -machine q35 -accel tcg -m 1024 -smp 1 -display none -monitor none -serial "file:$t/one/console.log" \
	-no-reboot -daemonize -pidfile "$t/one/qemu.pid" -drive "file=$t/one/disk.qcow2,format=qcow2,if=virtio" \
	-netdev "user,id=u,restrict=on,hostfwd=tcp:127.0.0.1:$qport-:50000" -device virtio-net-pci,netdev=u,mac=52:54:00:12:34:56 \
	-fw_cfg "name=opt/org.basalt/config,file=$t/one/config.yaml" || fail "QEMU"
qpid=$(proc_track "$(cat one/qemu.pid)")
at_exit "proc_kill '$qpid'"
wait_until 600 up "$t/ref/osconfig" "$qport" || fail "the QEMU node booted by hand did not come up: $(tail -5 one/console.log)"
qemu_one_ms=$(($(now_ms) - start))
proc_kill "$qpid"
start=$(now_ms)
"$osctl" cluster create --name bq --workers 1 >qemu-create.log 2>&1 || fail "qemu cluster create: $(tail -20 qemu-create.log)"
qemu_ms=$(($(now_ms) - start))
at_exit "'$osctl' cluster destroy --name bq >/dev/null 2>&1"
qemu_cp=$(rss_kib "$(cat "$HOME/.osctl/clusters/bq/bq-controlplane-1/qemu.pid")")
qemu_w=$(rss_kib "$(cat "$HOME/.osctl/clusters/bq/bq-worker-1/qemu.pid")")
"$osctl" cluster destroy --name bq >/dev/null || fail "qemu cluster destroy"

echo
echo "| metric | Basalt | reference | Basalt / reference |"
echo "|---|---|---|---|"
echo "| Docker, 1 control plane + 2 workers: cluster create to all healthy (image import included) | $(secs "$docker_ms") | one control plane started by hand (docker run): $(secs "$docker_one_ms") | $(ratio "$docker_ms" "$docker_one_ms") |"
echo "| ... a second cluster, the image already in the engine | $(secs "$docker_warm_ms") | one control plane started by hand (docker run): $(secs "$docker_one_ms") | $(ratio "$docker_warm_ms" "$docker_one_ms") |"
echo "| QEMU (tcg), 1 control plane + 1 worker: cluster create to all healthy | $(secs "$qemu_ms") | one control plane booted by hand from the same disk image: $(secs "$qemu_one_ms") | $(ratio "$qemu_ms" "$qemu_one_ms") |"
echo "| host memory, Docker control plane (RSS of its container's processes) | $(mib "$docker_cp") | Talos minimum for a control plane: 2048 MiB (a documented figure, not measured) | $(ratio "$docker_cp" $((2048 * 1024))) |"
echo "| host memory, Docker worker | $(mib "$docker_w") | Talos minimum for a worker: 1024 MiB (documented) | $(ratio "$docker_w" $((1024 * 1024))) |"
echo "| host memory, QEMU control plane (RSS of its QEMU, 2048 MiB guest) | $(mib "$qemu_cp") | Talos minimum for a control plane: 2048 MiB (documented) | $(ratio "$qemu_cp" $((2048 * 1024))) |"
echo "| host memory, QEMU worker (RSS of its QEMU, 1024 MiB guest) | $(mib "$qemu_w") | Talos minimum for a worker: 1024 MiB (documented) | $(ratio "$qemu_w" $((1024 * 1024))) |"
