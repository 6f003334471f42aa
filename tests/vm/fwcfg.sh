#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The qemu platform: the qcow2 disk image booted with its machine config handed over by
# QEMU's firmware config device (-fw_cfg name=opt/org.basalt/config). The node takes it at
# its first boot, never going into maintenance mode, and answers over mutual TLS with the
# client certificate of the same `osctl gen config`; runtime/PlatformMetadata says qemu.
# A config in fw_cfg that does not validate is said on the console, naming the problem,
# and the node waits in maintenance mode.
#   fwcfg.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
need_netns
t=$(test_dir)
plan 7
[[ -f $out/basalt-amd64.qcow2 ]] || { not_ok "the disk image is built (make disk)"; finish; }
repo=$PWD
cd "$t" || exit 1
"$osctl" gen config fw https://127.0.0.1:6443 -o gen >/dev/null
sed 's/^  type: controlplane/  type: wroker/' gen/controlplane.yaml >bad.yaml
cp "$out/basalt-amd64.qcow2" good.qcow2 && cp "$out/basalt-amd64.qcow2" bad.qcow2
cd "$repo" || exit 1
mkdir -p "$t/good" "$t/bad"
VM_MEDIA=1 vm_start "$t/good" tcg --disk "$t/good.qcow2" --fw-cfg "$t/gen/controlplane.yaml" --api-port 50000
con=$t/good/console.log
check "the node applies the config from fw_cfg" \
	wait_line "$con" 'qemu: machine config from fw_cfg opt/org.basalt/config applied \([0-9]+ bytes\)' 240
export OSCONFIG=$t/gen/osconfig
check "it answers over mutual TLS with the generated client certificate" \
	wait_until 120 bash -c "timeout 20 '$osctl' -e 127.0.0.1:50000 version 2>/dev/null | grep -q 'Tag:'"
! grep -aq 'maintenance mode on' "$con" && ok "it never went into maintenance mode" ||
	not_ok "maintenance mode on the way" "$(grep -a maintenance "$con")"
v=$(timeout 20 "$osctl" -e 127.0.0.1:50000 get platformmetadata 2>&1)
grep -qE 'runtime +PlatformMetadata +platform +[0-9]+ +qemu' <<<"$v" && ok "osctl get platformmetadata: qemu" ||
	not_ok "PlatformMetadata" "$v"
v=$(timeout 20 "$osctl" -e 127.0.0.1:50000 get configstatus 2>&1)
grep -qE 'ConfigStatus +config +[0-9]+ +loaded +platform' <<<"$v" && ok "ConfigStatus: loaded, from the platform" ||
	not_ok "ConfigStatus" "$v"
vm_poweroff "$t/good"

VM_MEDIA=1 vm_start "$t/bad" tcg --disk "$t/bad.qcow2" --fw-cfg "$t/bad.yaml" --api-port 50000
con=$t/bad/console.log
check "a config in fw_cfg that does not validate is said, naming the problem" \
	wait_line "$con" 'qemu: the machine config in fw_cfg \(opt/org.basalt/config, [0-9]+ bytes\) does not validate: .*/machine/type: "wroker" is not one of' 240
check "and the node waits in maintenance mode" wait_line "$con" 'API in maintenance mode on' 60
vm_poweroff "$t/bad"
finish
