#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# osctl cluster create with the rootless QEMU provisioner, as a user runs it (no root
# needed: nothing here is privileged but the suite's own namespace): 1 control plane and
# 1 worker on overlays of the release disk image, sharing the segment of `osctl cluster
# switch`; both reachable over mutual TLS through their forwarded loopback ports; the
# control plane forwards a call to the worker over the segment; show lists them; destroy
# leaves no process, no state and no context. Bad input (a name in use, an overlapping
# or malformed CIDR, too little memory, a missing image) is refused by name with nothing
# half-made.
#   qemu.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
t=$(test_dir)
plan 26
[[ -f $out/basalt-amd64.qcow2 ]] || bail "the disk image is built (make disk)"
export HOME=$t/home OSCONFIG=$t/home/.osctl/config
mkdir -p "$HOME"
cd "$t" || exit 1
st=$HOME/.osctl/clusters/demo
if timeout 900 "$osctl" cluster create --name demo --workers 1 --memory 1024 >create.log 2>&1; then
	ok "cluster create: 1 control plane and 1 worker up ($(grep -c 'running, its services up' create.log) nodes running)"
else
	not_ok "cluster create" "$(tail -30 create.log)"
	finish
fi
grep -qE '^demo-controlplane-1 +controlplane +10\.5\.0\.2 +127\.0\.0\.1:[0-9]+$' create.log &&
	grep -qE '^demo-worker-1 +worker +10\.5\.0\.3 +127\.0\.0\.1:[0-9]+$' create.log &&
	ok "the final table names each node, its role, segment address and API endpoint" || not_ok "the table" "$(cat create.log)"
# --accel auto (the default): a test guest run under KVM decides, and the choice is said.
accel=$(sed -n 's/^[0-9:]\{8\} demo: KVM .*: QEMU \(kvm\|tcg\)$/\1/p' create.log)
grep -qE '^[0-9:]{8} demo-worker-1: booting \(worker, 10\.5\.0\.3, API on 127\.0\.0\.1:[0-9]+, QEMU '"${accel:-none}"'\)$' create.log &&
	ok "progress: one line per node and stage, with the accelerator picked (${accel:-none})" || not_ok "progress lines" "$(cat create.log)"
if [[ -w /dev/kvm ]]; then
	# This kind of host: /dev/kvm opens, yet KVM only emulates (no nested virtualisation); a
	# kernel stops in its decompressor under it, so TCG must be picked, and why said.
	if grep -qE '^[0-9:]{8} demo: KVM cannot run a guest here \(KVM only emulates: .*\): QEMU tcg$' create.log; then
		ok "KVM that cannot really run a guest is found out by the test guest: TCG, and why"
	elif grep -qE '^[0-9:]{8} demo: KVM runs guests here: QEMU kvm$' create.log; then
		ok "KVM runs the test guest here: QEMU kvm"
	else
		not_ok "the accelerator" "$(head -3 create.log)"
	fi
else
	grep -qE '^[0-9:]{8} demo: KVM cannot run a guest here \(/dev/kvm: .*\): QEMU tcg$' create.log &&
		ok "no usable /dev/kvm: TCG, and why" || not_ok "the accelerator" "$(head -3 create.log)"
fi
p0=$(awk '$1 == "demo-controlplane-1" {print $4}' "$st/nodes.txt")
p1=$(awk '$1 == "demo-worker-1" {print $4}' "$st/nodes.txt")
expect "the control plane answers over mutual TLS on its forwarded loopback port" 'Hostname: +demo-controlplane-1' \
	"$osctl" --osconfig "$st/gen/osconfig" -e "127.0.0.1:$p0" version
expect "the worker answers over mutual TLS on its own" 'Hostname: +demo-worker-1' \
	"$osctl" --osconfig "$st/gen/osconfig" -e "127.0.0.1:$p1" version
expect "over the segment: the control plane forwards a call to the worker (10.5.0.3)" \
	'10\.5\.0\.3 +network +HostnameStatus +hostname +[0-9]+ +demo-worker-1' "$osctl" -e "127.0.0.1:$p0" -n 10.5.0.3 get hostname
v=$("$osctl" version 2>&1)
grep -q 'Hostname: *demo-controlplane-1' <<<"$v" && grep -q 'Hostname: *demo-worker-1' <<<"$v" &&
	ok "the merged context (current) targets every node" || not_ok "the context" "$v"
expect "the worker has its segment address (AddressStatus)" '10\.5\.0\.3/24' "$osctl" -n 10.5.0.3 get addresses
expect "cluster show: both nodes running" 'demo-worker-1 +worker +10\.5\.0\.3 +127\.0\.0\.1:[0-9]+ +running' "$osctl" cluster show --name demo
refuse "a name in use is refused" 'a cluster named demo exists' "$osctl" cluster create --name demo
pids=$(cat "$st"/*/qemu.pid "$st/switch.pid")
expect "cluster destroy" 'demo: destroyed' "$osctl" cluster destroy --name demo
gone=1
for p in $pids; do [[ -d /proc/$p ]] && gone=0; done
[[ $gone == 1 && ! -e $st ]] && ! grep -q 'demo' "$OSCONFIG" &&
	ok "destroy leaves no process (QEMU, switch), no state and no context" || not_ok "destroy left" "$pids $(ls "$st" 2>&1) $(cat "$OSCONFIG")"
# Bad input: refused by name, nothing half-made.
refuse "a CIDR overlapping QEMU's user network is refused" 'overlaps 10\.0\.2\.0/24' "$osctl" cluster create --name bad --cidr 10.0.2.0/24
refuse "a CIDR that is none is refused" 'not an IPv4 network' "$osctl" cluster create --name bad --cidr 10.5.0.0
refuse "a CIDR of loopback addresses is refused" 'within 127\.0\.0\.0/8, loopback' "$osctl" cluster create --name bad --cidr 127.1.0.0/24
"$osctl" gen config mine https://10.9.0.2:6443 -o "$t/mine" >/dev/null && "$osctl" config merge "$t/mine/osconfig" >/dev/null
refuse "a name the client config has a context of is refused (never overwritten)" 'already has a context named mine' \
	"$osctl" cluster create --name mine
refuse "destroy of a cluster that does not exist" 'no cluster named mine' "$osctl" cluster destroy --name mine
"$osctl" config contexts 2>&1 | grep -qw mine && ok "and it leaves the user's context of that name" ||
	not_ok "destroy removed an unrelated context" "$("$osctl" config contexts 2>&1)"
refuse "too little memory is refused" 'too little: a node needs at least 512 MiB' "$osctl" cluster create --name bad --memory 256
refuse "a missing disk image is refused, naming it" 'the disk image /nonexistent.qcow2: No such file' \
	"$osctl" cluster create --name bad --image /nonexistent.qcow2
# A node that does not come up in time: said with the end of its console, all of it removed.
v=$(timeout 120 "$osctl" cluster create --name slow --workers 0 --wait-timeout 1 2>&1)
if [[ $? -ne 0 ]] && grep -q 'slow-controlplane-1: its API did not answer within 1 s' <<<"$v" &&
	grep -q "the last lines of slow-controlplane-1's console" <<<"$v"; then
	ok "a node not up within --wait-timeout: said, with the end of its console"
else
	not_ok "a node that does not come up" "$v"
fi
[[ ! -e $HOME/.osctl/clusters/slow ]] && ! pgrep -f "$HOME/.osctl/clusters/slow" >/dev/null &&
	ok "and what was made of it is removed (no process, no state)" || not_ok "slow cluster left" "$(pgrep -af slow)"
mkdir -p "$t/src/basalt" && echo keep >"$t/src/basalt/file"
refuse "destroy refuses a folder that is no cluster's (no nodes.txt)" 'holds no nodes.txt' "$osctl" cluster destroy --state "$t/src"
[[ -f $t/src/basalt/file ]] && ok "and leaves it as it was" || not_ok "destroy removed a folder it did not make"
[[ ! -e $HOME/.osctl/clusters/bad ]] && ok "nothing of the refused clusters is left" || not_ok "half-made" "$(ls -R "$HOME/.osctl/clusters")"
finish
