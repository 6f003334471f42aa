#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# machined under init (container mode, own PID/mount/UTS namespaces): resources from no
# config (maintenance), from a persisted config, after a corrupted save (last good copy),
# and an invalid config refused whole. Resources are read from machined's SIGUSR1 dump.
#   machined.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
initctl=$out/host/bin/initctl
machined=$out/bin/machined
t=$(test_dir)
sock=$t/init.sock
state=$t/state
cgroot=$(test_cgroup machined)
con=$t/console.log
need_netns
valid=(tests/data/config/valid/*)
plan $((31 + ${#valid[@]}))
at_exit "cgroup_remove '$cgroot'"
mkdir -p "$state" "$t/ctrd"
printf '#!/bin/sh\nexec sleep 100000\n' >"$t/fake-containerd"
chmod +x "$t/fake-containerd"

ictl() { "$initctl" -s "$sock" "$@"; }

# dump: the resources machined holds now, as one YAML stream.
dumps=0
dump() {
	local before
	before=$(ictl log machined | grep -c 'resources, on request')
	ictl signal machined USR1 >/dev/null
	wait_until 5 bash -c "[[ \$('$initctl' -s '$sock' log machined | grep -c 'resources, on request') -gt $before ]]" || return 1
	ictl log machined | awk -v n=$((before + 1)) '/resources, on request/ { k++; next } k == n'
}

# resource DUMP TYPE ID: the document for that resource.
resource() {
	awk -v type="$2" -v id="$3" '
		/^---$/ { if (keep) exit; doc = ""; next }
		{ doc = doc $0 "\n" }
		/^  type: / { t = $2 } /^  id: / { if (t == type && $2 == id) keep = 1 }
		END { if (keep) printf "%s", doc }' <<<"$1"
}

unshare --pid --mount --uts --fork --kill-child=SIGKILL --mount-proc "$out/bin/init" --container --debug --socket "$sock" \
	--cgroup-root "$cgroot" -- "$machined" --state-dir "$state" --containerd "$t/fake-containerd" \
	--containerd-config /dev/null --api-listen 127.0.0.1:50000 >"$con" 2>&1 &
ushare=$!
tracked=$(proc_track $ushare)
disown $ushare  # it ends by a signal on purpose (a reboot): no job report from bash
at_exit "proc_kill $tracked"
check "machined and containerd run" wait_line "$con" '\[init\] containerd: running' 10

# --- no config: maintenance ---
check "machined says it waits for a config" wait_until 5 bash -c "'$initctl' -s '$sock' log machined | grep -q 'waiting in maintenance mode'"
d=$(dump) || bail "resource dump"
ms=$(resource "$d" MachineStatus machine)
if grep -q 'stage: maintenance' <<<"$ms" && grep -q 'config: false' <<<"$ms"; then ok "no config: MachineStatus is maintenance"; else not_ok "no config: MachineStatus is maintenance" "$ms"; fi
if grep -q 'state: absent' <<<"$(resource "$d" ConfigStatus config)"; then ok "ConfigStatus says absent"; else not_ok "ConfigStatus says absent"; fi
svc=$(resource "$d" Service containerd)
if grep -q 'state: running' <<<"$svc" && grep -qE 'pid: [0-9]+' <<<"$svc"; then ok "runtime/Service mirrors init (containerd running)"; else not_ok "runtime/Service mirrors init" "$svc"; fi
if grep -q 'owner: ServiceStatusController' <<<"$svc"; then ok "Service resources are owned by their controller"; else not_ok "Service owner"; fi
if grep -q 'version: 0.1.0\|version: "0.1.0"' <<<"$(resource "$d" Version version)"; then ok "Version resource"; else not_ok "Version resource" "$(resource "$d" Version version)"; fi
if grep -q 'healthy: true' <<<"$(resource "$d" ControllerStatus InitSyncController)"; then ok "InitSyncController healthy"; else not_ok "InitSyncController healthy" "$(resource "$d" ControllerStatus InitSyncController)"; fi
[[ -z "$(resource "$d" MachineConfig v1alpha1)" ]] && ok "no MachineConfig resource" || not_ok "no MachineConfig resource"

# --- a config is installed, then machined restarts with it ---
ca=tests/data/config/valid/minimal-worker.yaml  # its machine.ca: a test CA
cat >"$t/config.yaml" <<YAML
version: v1alpha1
machine:
  type: worker
  ca:
    crt: $(sed -n 's/^    crt: //p' "$ca")
    key: $(sed -n 's/^    key: //p' "$ca")
  network:
    hostname: basalt-test-node.example.net
cluster:
  name: demo
  controlPlane:
    endpoint: https://10.0.0.100:6443
YAML
check "install-config persists a valid config" "$machined" install-config "$t/config.yaml" --state-dir "$state"
ictl restart machined >/dev/null
check "restarted machined loads the persisted config" wait_until 10 bash -c "'$initctl' -s '$sock' log machined | grep -q 'machine config loaded from $state'"
d=$(dump) || bail "resource dump"
mc=$(resource "$d" MachineConfig v1alpha1)
if grep -q 'hostname: basalt-test-node.example.net' <<<"$mc"; then ok "MachineConfig resource holds the config"; else not_ok "MachineConfig resource" "$mc"; fi
hs=$(resource "$d" HostnameStatus hostname)
if grep -q 'hostname: basalt-test-node' <<<"$hs" && grep -q 'domainname: example.net' <<<"$hs"; then
	ok "hostname applied from the config (HostnameStatus)"
else
	not_ok "hostname applied from the config" "$hs"
fi
[[ "$(hostname)" != basalt-test-node ]] && ok "the host's own hostname is untouched" || not_ok "host hostname changed"
ms=$(resource "$d" MachineStatus machine)
if grep -q 'config: true' <<<"$ms"; then ok "MachineStatus: config ready"; else not_ok "MachineStatus: config ready" "$ms"; fi
ssc=$(resource "$d" ControllerStatus ServiceSpecController)
if grep -q 'needs kubelet (/usr/bin/kubelet), which this image does not carry yet' <<<"$ssc" && grep -q 'healthy: false' <<<"$ssc"; then
	ok "a missing part is an error visible as a resource"
else
	not_ok "missing kubelet reported in ControllerStatus" "$ssc"
fi

# --- out of space: a save writes the new copy whole before anything moves ---
full=$t/full
mkdir -p "$full"
mount -t tmpfs -o size=64k tmpfs "$full" && at_exit "umount '$full'" || bail "a 64 KiB tmpfs for the out-of-space case"
"$machined" install-config "$t/config.yaml" --state-dir "$full" >/dev/null 2>&1 || bail "install a config on the small tmpfs"
cp "$full/config.yaml" "$t/full.before"
{ cat "$t/config.yaml"; for i in $(seq 1 2000); do echo "# padding line $i: a config too big for the disk"; done; } >"$t/big.yaml"
refuse "out of space: the save fails, saying so" 'No space left on device' "$machined" install-config "$t/big.yaml" --state-dir "$full"
if cmp -s "$t/full.before" "$full/config.yaml" && [[ ! -e $full/config.yaml.prev && -z $(ls -A "$full" | grep -vxE 'config.yaml|identity.yaml') ]]; then
	ok "out of space: the config in force is still the persisted one, and nothing is left behind"
else
	not_ok "out of space leaves the persisted config as it was" "$(ls -la "$full")"
fi

# --- a torn save: the last good copy is used ---
sed 's/example.net/second.example/' "$t/config.yaml" >"$t/config2.yaml"
check "a second config is installed" "$machined" install-config "$t/config2.yaml" --state-dir "$state"
size=$(stat -c %s "$state/config.yaml")
truncate -s $((size - 20)) "$state/config.yaml"
ictl restart machined >/dev/null
check "a torn config is detected and the last good copy used" wait_until 10 bash -c "'$initctl' -s '$sock' log machined | grep -q 'torn write?); using the last good copy config.yaml.prev'"
d=$(dump) || bail "resource dump"
if grep -q 'hostname: basalt-test-node.example.net' <<<"$(resource "$d" MachineConfig v1alpha1)"; then ok "the previous config is in force"; else not_ok "previous config in force"; fi
if grep -q 'using the last good copy' <<<"$(resource "$d" ConfigStatus config)"; then ok "ConfigStatus tells of the fallback"; else not_ok "ConfigStatus tells of the fallback"; fi

# --- an invalid config is refused and nothing changes ---
cp "$state/config.yaml.prev" "$t/prev.before"
printf 'version: v1alpha1\nmachine:\n  type: master\ncluster:\n  name: demo\n' >"$t/bad.yaml"
if "$machined" install-config "$t/bad.yaml" --state-dir "$state" 2>"$t/bad.err"; then
	not_ok "invalid config refused"
else
	if grep -q 'bad.yaml:3:9: /machine/type: "master" is not one of controlplane, worker' "$t/bad.err" &&
		grep -q 'bad.yaml:5:3: /cluster/controlPlane: required: controlPlane.endpoint' "$t/bad.err"; then
		ok "invalid config refused with every error at its line:col"
	else
		not_ok "invalid config errors" "$(cat "$t/bad.err")"
	fi
fi
cmp -s "$t/prev.before" "$state/config.yaml.prev" && ok "persisted state unchanged by the refused config" || not_ok "persisted state changed"

# --- render: every valid config's resources, as JSON a strict parser accepts ---
for f in "${valid[@]}"; do
	if n=$("$machined" render "$f" -o json 2>/dev/null | jq -s 'length' 2>"$t/jq.err") && ((n >= 10)); then
		ok "render $(basename "$f") -o json: $n resources, valid JSON"
	else
		not_ok "render $(basename "$f") -o json is valid JSON" "$(cat "$t/jq.err")"
	fi
done

# --- validate and render, with patches ---
base=tests/data/config/patch/base.yaml
expect "validate: a valid config says so" "^$base: valid\$" "$machined" validate "$base"
refuse "validate --config-patch: an error the patch brings is named at the patch's line:col" \
	'introduces-error.patch.yaml:5:9: /machine/network/nameservers/1: "300.1.1.1" is not an IP address' \
	"$machined" validate "$base" --config-patch tests/data/config/patch/introduces-error.patch.yaml
printf 'machine:\n  network:\n    hostname: patched-host\n' >"$t/host.patch.yaml"
r=$("$machined" render "$base" --config-patch "$t/host.patch.yaml" -o yaml 2>/dev/null)
plain=$("$machined" render "$base" -o yaml 2>/dev/null)
if [[ -n $(resource "$plain" HostnameSpec configuration/hostname) && -z $(resource "$plain" HostnameStatus hostname) ]]; then
	ok "render runs the controllers that only compute (HostnameSpec), not those that touch the machine (HostnameStatus)"
else
	not_ok "render runs only the pure controllers" "$(grep -c . <<<"$plain") lines"
fi
if grep -q 'hostname: patched-host' <<<"$(resource "$r" HostnameSpec configuration/hostname)" && ! grep -q patched-host <<<"$plain"; then
	ok "render --config-patch: the patched hostname is in HostnameSpec"
else
	not_ok "render --config-patch" "$(resource "$r" HostnameSpec configuration/hostname)"
fi

# --- a reboot through init reaches machined before it is stopped ---
ictl power reboot >/dev/null
check "machined hears of the reboot before it is stopped" wait_line "$con" 'machined: \[machined\] init is rebooting the machine' 10
# machined's own output is one ordered stream: the notice must come before its SIGTERM.
m=$(grep -n 'machined: \[machined\] init is rebooting the machine' "$con" | head -1 | cut -d: -f1)
s=$(grep -n 'machined: \[machined\] signal 15: stopping' "$con" | tail -1 | cut -d: -f1)
if [[ -n "$m" && -n "$s" ]] && ((m < s)); then ok "machined learns of the reboot before it is told to stop"; else not_ok "reboot notice order" "notice line $m, SIGTERM line $s"; fi
check "init's namespace ends with the reboot" timeout 20 tail --pid="$ushare" -f /dev/null
finish
