#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# WireGuard through netctl's userspace backend against a daemon we did not write:
# wireguard-go from Debian in two network namespaces made here, joined by a veth
# (10.79.0.1 and .2), each device with a name of this run's own (their UAPI sockets share
# /var/run/wireguard). netctl configures both; wg(8) from wireguard-tools reads what they
# hold; a ping passes through the tunnel; then a peer added, re-pointed and removed costs
# one operation each and leaves the working peer's session alone.
#   wg.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
netctl=$out/bin/netctl
need_netns
command -v wireguard-go >/dev/null && command -v wg >/dev/null && command -v ping >/dev/null ||
	bail "wireguard-go, wg and ping are installed (hack/deps.sh: wireguard-go wireguard-tools iputils-ping)"
t=$(test_dir)
plan 8
cd "$t" || exit 1
a=bwa$TEST_ID b=bwb$TEST_ID
wa=bwga$TEST_ID wb=bwgb$TEST_ID
netns_new "$a" && netns_new "$b" || bail "network namespaces"
ip link add eth0 netns "$a" type veth peer name eth0 netns "$b" && ip -n "$a" addr add 10.79.0.1/24 dev eth0 &&
	ip -n "$b" addr add 10.79.0.2/24 dev eth0 && ip -n "$a" link set eth0 up && ip -n "$b" link set eth0 up ||
	bail "the veth between the two"
for n in a b; do
	ns=${!n} dev=w$n
	ip netns exec "$ns" wireguard-go -f "${!dev}" >"wg-$n.log" 2>&1 &
	p=$(proc_track $!)
	at_exit "proc_kill $p TERM"
	(umask 077 && wg genkey >"$n.key") && wg pubkey <"$n.key" >"$n.pub" || bail "keys"
done
sock_up() { [[ -S /var/run/wireguard/$1.sock ]]; }
wait_until 10 sock_up "$wa" && wait_until 10 sock_up "$wb" || bail "wireguard-go starts" "$(tail -3 wg-a.log)"
# set NS DEV ARGS...: netctl wg set in NS; its output (the operations line) in set.out.
set_wg() {
	local ns=$1 dev=$2
	shift 2
	ip netns exec "$ns" timeout 10 "$netctl" wg set "$dev" "$@" >set.out 2>&1
}
one_op() { grep -qx 'operations: sets=1 gets=0 messages=1' set.out; }
set_wg "$a" "$wa" private-key a.key listen-port 51820 peer "$(cat b.pub)" endpoint 10.79.0.2:51821 \
	allowed-ips 10.80.0.2/32,fd80::2/128 && one_op && a1=$(cat set.out) &&
	set_wg "$b" "$wb" private-key b.key listen-port 51821 peer "$(cat a.pub)" endpoint 10.79.0.1:51820 \
		allowed-ips 10.80.0.1/32 persistent-keepalive 25 && one_op &&
	ok "netctl configures both devices, one set each" || not_ok "netctl wg set" "${a1:-}" "$(cat set.out)"
v=$(ip netns exec "$a" wg show "$wa" dump 2>&1)
grep -qP "^\\Q$(cat b.pub)\\E\t\(none\)\t10\.79\.0\.2:51821\t(10\.80\.0\.2/32,fd80::2/128|fd80::2/128,10\.80\.0\.2/32)\t" <<<"$v" &&
	grep -qP "^\\Q$(cat a.key)\\E\t\\Q$(cat a.pub)\\E\t51820\t" <<<"$v" &&
	ok "wg(8) reads back what netctl set: key, port, the peer's endpoint and allowed IPs" || not_ok "wg show dump" "$v"
for n in a b; do
	ip -n "${!n}" link set "$(eval echo \$w$n)" up
done
ip -n "$a" addr add 10.80.0.1/24 dev "$wa" && ip -n "$b" addr add 10.80.0.2/24 dev "$wb" || bail "tunnel addresses"
pings() { ip netns exec "$a" ping -c1 -W1 10.80.0.2 >/dev/null 2>&1; }
wait_until 20 pings && ok "a ping passes through the tunnel (10.80.0.1 to 10.80.0.2)" ||
	not_ok "ping through the tunnel" "$(ip netns exec "$a" wg show "$wa" 2>&1)" "$(tail -3 wg-a.log)"
v=$(ip netns exec "$a" timeout 10 "$netctl" wg show "$wa" 2>&1)
grep -q "peer: $(cat b.pub)" <<<"$v" && grep -qE 'latest handshake: [0-9]+ s ago' <<<"$v" &&
	grep -qE 'transfer: [1-9][0-9]* B received, [1-9][0-9]* B sent' <<<"$v" && grep -q "public key: $(cat a.pub)" <<<"$v" &&
	grep -qx 'operations: sets=0 gets=1 messages=1' <<<"$v" &&
	ok "netctl wg show reads the handshake and traffic from the daemon in one get" || not_ok "netctl wg show" "$v"
rx() { ip netns exec "$a" wg show "$wa" transfer | awk -v k="$(cat b.pub)" '$1 == k { print $2 }'; }
hs() { ip netns exec "$a" wg show "$wa" latest-handshakes | awk -v k="$(cat b.pub)" '$1 == k { print $2 }'; }
rx0=$(rx) hs0=$(hs)
# b's session on a is kept: a rewrite of the device would drop the peer, its handshake and counters.
kept() {
	local h
	h=$(hs)
	[[ -n $h && $h != 0 ]] && ((h >= hs0 && $(rx) >= rx0))
}
# A third peer joins a: one set naming it; b's session on a is kept (no rewrite of the device).
c=$(wg genkey | wg pubkey)
set_wg "$a" "$wa" peer "$c" endpoint 10.79.0.3:51820 allowed-ips 10.80.0.3/32 && one_op && kept &&
	[[ $(ip netns exec "$a" wg show "$wa" peers | wc -l) == 2 ]] && pings &&
	ok "a peer added: one set naming it; the other peer's handshake and counters kept, pings still pass" ||
	not_ok "add a peer" "$(cat set.out)" "$(ip netns exec "$a" wg show "$wa" 2>&1)"
set_wg "$a" "$wa" peer "$c" update-only endpoint 10.79.0.4:51822 && one_op &&
	ip netns exec "$a" wg show "$wa" endpoints | grep -qP "^\Q$c\E\t10\.79\.0\.4:51822$" && kept &&
	ok "a peer re-pointed: one set; its new endpoint shown, the other peer untouched" ||
	not_ok "re-point a peer" "$(cat set.out)" "$(ip netns exec "$a" wg show "$wa" endpoints 2>&1)"
set_wg "$a" "$wa" peer "$c" remove && one_op && kept && [[ $(ip netns exec "$a" wg show "$wa" peers) == "$(cat b.pub)" ]] &&
	pings &&
	ok "a peer removed: one set; only the working peer is left and pings pass" ||
	not_ok "remove a peer" "$(cat set.out)" "$(ip netns exec "$a" wg show "$wa" peers 2>&1)"
# No daemon behind a name, or a word netctl does not know: refused, saying where and why.
v=$(timeout 10 "$netctl" wg set "bwgx$TEST_ID" peer "$c" remove 2>&1)
w=$(timeout 10 "$netctl" wg set "$wa" peer "$c" endpoint 10.79.0.9 2>&1)
[[ $v == *"/var/run/wireguard/bwgx$TEST_ID.sock"*"userspace daemon"* && $w == *'"endpoint 10.79.0.9" is not understood'* ]] &&
	ok "a device with no daemon and an endpoint without a port are refused, named" || not_ok "refusals" "$v" "$w"
finish
