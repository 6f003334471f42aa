#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Time on a machine: the guest boots with its clock an hour behind and a second NIC on a
# tap device in a network namespace this test made, where chronyd serves NTP. Given
# machine.time.servers over the API, the node steps its clock (a real machine's, unlike a
# container's) and reports it in TimeStatus, read over mutual TLS.
#   time.sh OUTDIR [--accel tcg|kvm]
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
accel=${2:-tcg}
[[ "$accel" == --accel ]] && accel=$3
osctl=$out/bin/osctl
chronyd=$out/peers/chronyd
need_netns
[[ -x $chronyd ]] || bail "chronyd is there ($chronyd: make $chronyd)"
t=$(test_dir)
plan 4
ns=bvt$TEST_ID
netns_new "$ns" || bail "network namespace"
ip -n "$ns" tuntap add tap0 mode tap && ip -n "$ns" addr add 10.79.0.1/24 dev tap0 && ip -n "$ns" link set tap0 up ||
	bail "the tap device"
cat >"$t/chrony.conf" <<CONF
local stratum 8
allow all
bindaddress 10.79.0.1
cmdport 0
pidfile $t/chronyd.pid
CONF
ip netns exec "$ns" "$chronyd" -f "$t/chrony.conf" -d -x -u root >"$t/chronyd.log" 2>&1 &
c=$(proc_track $!)
at_exit "proc_kill $c TERM"
wait_until 10 bash -c "ip netns exec '$ns' ss -ulnH | grep -q '10.79.0.1:123 '" || bail "chronyd serves NTP" "$(cat "$t/chronyd.log")"

con=$t/console.log
behind=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%S)
VM_NETNS=$ns vm_start "$t" "$accel" --api-port 50000 --tap tap0 --rtc-base "$behind"
fp=$(basalt_fingerprint "$t" 180) || bail "the node boots to maintenance mode" "$(tail -20 "$con")"
cd "$t" || exit 1
o() { ip netns exec "$ns" timeout 20 "$osctl" -e 127.0.0.1:50000 "$@"; }
"$osctl" gen config vmtime https://127.0.0.1:6443 -o gen >/dev/null
cat >time.yaml <<'YAML'
machine:
  time:
    servers: [10.79.0.1]
  network:
    interfaces:
      - deviceSelector:
          hardwareAddr: "52:54:00:00:01:01"
        addresses: [10.79.0.2/24]
YAML
expect "the node, an hour behind, takes a config naming chronyd as its time server" 'applied without a reboot' \
	o apply-config --insecure --cert-fingerprint "$fp" -f gen/controlplane.yaml --config-patch @time.yaml
export OSCONFIG=$t/gen/osconfig
v=
wait_until 60 bash -c "$(declare -f o); osctl='$osctl' ns='$ns'; o version >/dev/null 2>&1" &&
	v=$(o get timestatus time -o yaml 2>&1)
grep -q 'synced: true' <<<"$v" && grep -q 'adjusted: true' <<<"$v" && grep -q 'server: 10.79.0.1$' <<<"$v" &&
	ok "after the step, mutual TLS works and TimeStatus says synced with 10.79.0.1, the clock adjusted" ||
	not_ok "TimeStatus over mutual TLS" "${v:-no mutual TLS answer in 60 s}" "$(tail -5 "$con")"
off=$(awk '/offsetNs:/ { gsub(/"/, "", $2); print $2 }' <<<"$v")
# The status was made on the old clock and updated on the stepped one: an hour apart.
made=$(date -d "$(awk '/created:/ { print $2 }' <<<"$v")" +%s 2>/dev/null)
upd=$(date -d "$(awk '/updated:/ { print $2 }' <<<"$v")" +%s 2>/dev/null)
[[ -n $off && -n $made && -n $upd ]] && ((off > 3500000000000 && off < 3700000000000 && upd - made > 3500)) &&
	ok "the first answer's offset is the hour (${off} ns), and the node's clock was stepped by it (its status made at $made, updated at $upd)" ||
	not_ok "the step" "$v"
echo system_powerdown >"$t/mon.in"
check "the node powers off" wait_line "$con" 'reboot: Power down' 60
finish
