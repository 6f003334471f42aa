#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two nodes on a bridge, as a small rack would have them. Three network namespaces made
# here: one holding the bridge (this side, 10.78.0.1) and one per node (init in container
# mode, machined, its own state), each node's eth0 a veth into the bridge. The control
# plane (10.78.0.2) and the worker (10.78.0.3) get their static addresses and a route from
# their configs; the worker then asks the control plane across the bridge for its API
# certificate; both answer over mutual TLS from the bridge's side, and the control plane
# forwards a call to the worker. A config change converges (an address added, the route
# removed), and an address deleted by hand is put back.
#   bridge.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
need_netns
t=$(test_dir)
plan 8
cd "$t" || exit 1
br=bbr$TEST_ID a=bna$TEST_ID b=bnb$TEST_ID
netns_new "$br" && netns_new "$a" && netns_new "$b" || bail "network namespaces"
ip -n "$br" link add br0 type bridge && ip -n "$br" addr add 10.78.0.1/24 dev br0 && ip -n "$br" link set br0 up ||
	bail "the bridge"
for n in a b; do
	ip link add eth0 netns "${!n}" type veth peer name "v$n" netns "$br" && ip -n "$br" link set "v$n" master br0 &&
		ip -n "$br" link set "v$n" up || bail "the veth of node $n"
done
"$osctl" gen config rack https://10.78.0.2:6443 -o gen >/dev/null
# config ROLE HOSTNAME ADDRESS: the role's config with its name, address and a route.
config() {
	sed "s|^machine:\$|machine:\n  network:\n    hostname: $2\n    interfaces:\n      - interface: eth0\n        addresses: [$3/24]\n        routes:\n          - network: 10.99.0.0/16\n            gateway: 10.78.0.1|" "gen/$1.yaml"
}
config controlplane rack-cp 10.78.0.2 >cp.yaml
config worker rack-w 10.78.0.3 >w.yaml
for n in a b; do
	NODE_NETNS=${!n} basalt_node "$out" "$t/$n" 0.0.0.0:50000
	fp=$(basalt_fingerprint "$t/$n") || bail "node $n starts" "$(tail -5 "$t/$n/console.log")"
	f=$([[ $n == a ]] && echo cp.yaml || echo w.yaml)
	ip netns exec "${!n}" timeout 20 "$osctl" apply-config --insecure --cert-fingerprint "$fp" -e 127.0.0.1:50000 \
		-f "$f" >"apply-$n.out" 2>&1 || bail "node $n takes its config" "$(cat "apply-$n.out")"
done
export OSCONFIG=$t/gen/osconfig
o() { ip netns exec "$br" timeout 20 "$osctl" "$@"; }
answers() { o -e "$1" version 2>/dev/null | grep -q "Hostname: *$2"; }
wait_until 30 answers 10.78.0.2 rack-cp && wait_until 60 answers 10.78.0.3 rack-w &&
	ok "both answer over mutual TLS across the bridge at their configured addresses" ||
	not_ok "both nodes over the bridge" "$(o -e 10.78.0.3 version 2>&1 | tail -3)" "$(tail -5 "$t/b/console.log")"
v=$(o -e 10.78.0.3 get apicertificate api -o yaml 2>&1)
grep -q '10.78.0.2' <<<"$v" && grep -qiE 'issued|state: *issued' <<<"$v" &&
	ok "the worker holds a certificate the control plane signed across the bridge" || not_ok "the worker's certificate" "$v"
expect "the control plane forwards a call to the worker over the bridge" \
	'^10\.78\.0\.3 +network +HostnameStatus +hostname +[0-9]+ +rack-w' o -e 10.78.0.2 -n 10.78.0.3 get hostname
ip -n "$a" route show 10.99.0.0/16 | grep -q 'via 10.78.0.1 dev eth0' && ip -n "$b" route show 10.99.0.0/16 | grep -q 'via 10.78.0.1' &&
	ok "each node's route from its config is in its kernel" || not_ok "the routes" "$(ip -n "$a" route)"
# A change converges: an address added, the route taken away.
o -e 10.78.0.2 patch mc --patch '[{"op":"add","path":"/machine/network/interfaces/0/addresses/-","value":"10.78.0.12/24"},{"op":"remove","path":"/machine/network/interfaces/0/routes"}]' >patch.out 2>&1
in_a() { ip -n "$a" -4 -o addr show dev eth0 | grep -q ' 10.78.0.12/24'; }
no_route() { ! ip -n "$a" route show 10.99.0.0/16 | grep -q .; }
wait_until 20 in_a && wait_until 20 no_route && wait_until 30 answers 10.78.0.12 rack-cp &&
	ok "a config change converges: 10.78.0.12 added (the API answers there over mutual TLS), the route removed" ||
	not_ok "converge" "$(cat patch.out)" "$(ip -n "$a" addr show dev eth0)" "$(ip -n "$a" route)"
# A route with a source and an MTU through a gateway outside every prefix of the link (as
# clouds hand out a /32 with its gateway beside it): added on-link; then its MTU changed.
o -e 10.78.0.2 patch mc --patch '[{"op":"add","path":"/machine/network/interfaces/0/routes","value":[{"network":"10.98.0.0/16","gateway":"10.77.0.1","source":"10.78.0.12","mtu":1400}]}]' >patch2.out 2>&1
onlink() {
	local r
	r=$(ip -n "$a" route show 10.98.0.0/16)
	grep -qE '^10\.98\.0\.0/16 via 10\.77\.0\.1 dev eth0 .*src 10\.78\.0\.12 ' <<<"$r" && grep -qw onlink <<<"$r" &&
		grep -qE " mtu $1( |\$)" <<<"$r"
}
rs_onlink() { o -e 10.78.0.2 get routes -o yaml 2>&1 | grep -A12 'destination: 10.98.0.0/16' | grep -q 'onLink: true'; }
wait_until 20 onlink 1400 && rs_onlink &&
	ok "a route through a gateway off the link's prefixes goes in on-link, with its source and MTU (RouteStatus says onLink)" ||
	not_ok "on-link route" "$(cat patch2.out)" "$(ip -n "$a" route)" "$(grep -i 'route' "$t/a/console.log" | tail -3)"
o -e 10.78.0.2 patch mc --patch '[{"op":"replace","path":"/machine/network/interfaces/0/routes/0/mtu","value":1300}]' >patch3.out 2>&1
wait_until 20 onlink 1300 && [[ $(ip -n "$a" route show 10.98.0.0/16 | wc -l) == 1 ]] &&
	ok "its MTU changed in the config: the one route now has MTU 1300" ||
	not_ok "route MTU change" "$(cat patch3.out)" "$(ip -n "$a" route)"
# An address deleted behind machined's back is put back.
ip -n "$b" addr del 10.78.0.3/24 dev eth0
back() { ip -n "$b" -4 -o addr show dev eth0 | grep -q ' 10.78.0.3/24'; }
wait_until 10 back && wait_until 20 answers 10.78.0.3 rack-w &&
	ok "an address deleted by hand is put back (the worker answers there again)" ||
	not_ok "restore" "$(ip -n "$b" addr show dev eth0)"
finish
