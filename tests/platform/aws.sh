#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The aws platform: a node whose DMI data names EC2 (a copy of sysfs) and that has no
# persisted config asks the EC2 instance metadata service at 169.254.169.254, served here
# by a server of the test's own (imds.js) on an address of the test's own network
# namespace: not up at first (refused, retried), then IMDSv2 (a token PUT with its TTL,
# the token on every GET; a token that runs out is asked for again), a 503 for the first
# user-data. The user-data is applied; PlatformMetadata names the instance's id, type,
# host name, region and zone, NodeAddress external its public IPv4; after a reboot (the
# config kept) the metadata is asked for again and the user-data not. A service that
# refuses every token is asked with backoff, not hammered; an IMDSv1 service (no token
# PUT) is asked without a token. A node whose DMI data does not name EC2 never asks.
#   aws.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
here=$(realpath "$(dirname "$0")")
t=$(test_dir)
plan 15
cd "$t" || exit 1
A=127.0.0.1:50000 B=127.0.0.2:50000
# The metadata service's address, in this suite's own network namespace (tests/isolate.sh).
ip addr add 169.254.169.254/32 dev lo || bail "169.254.169.254 on this namespace's loopback"
"$osctl" gen config aws https://127.0.0.1:6443 -o gen >/dev/null
mkdir -p sys/class/dmi/id sys/class/net qsys/class/dmi/id qsys/class/net
echo "Amazon EC2" >sys/class/dmi/id/sys_vendor
echo "ec2e1916-9099-7caf-fd21-012345abcdef" >sys/class/dmi/id/product_uuid
echo "QEMU" >qsys/class/dmi/id/sys_vendor
echo "console=ttyS0" >cmdline
NODE_ARGS="--cmdline $t/cmdline --sysfs $t/sys" basalt_node "$out" "$t/n" "$A"
check "no metadata service yet: the console says the token PUT was refused and is retried" \
	wait_line n/console.log 'aws: http://169\.254\.169\.254/latest/api/token: connect: Connection refused; trying again' 10
node "$here/imds.js" gen/controlplane.yaml server.log 4 &
srv=$(proc_track $!)
at_exit "proc_kill $srv"
check "a 503 for the user-data is said and retried" \
	wait_line n/console.log 'aws: http://169\.254\.169\.254/latest/user-data: HTTP status 503; trying again' 40
check "the user-data is applied as the machine config" \
	wait_line n/console.log 'aws: machine config from the user-data of i-0abc1234def567890 applied \([0-9]+ bytes, [0-9]+ requests to IMDS\)' 40
grep -q '^PUT /latest/api/token ttl=21600$' server.log && ! grep -q 'no-ttl' server.log &&
	ok "IMDSv2: the token PUT names its TTL (21600 s)" || not_ok "token PUT" "$(cat server.log)"
puts=$(grep -c '^PUT ' server.log)
[[ $puts -ge 2 ]] && grep -q ' 401$' server.log &&
	[[ $(awk '$1 == "GET" && $3 == "401" {print NR}' server.log | head -1) -lt $(awk '$1 == "PUT" {print NR}' server.log | tail -1) ]] &&
	ok "a token that ran out (401) is asked for again ($puts token PUTs)" || not_ok "a new token after a 401" "$(cat server.log)"
export OSCONFIG=$t/gen/osconfig
v=$(wait_until 20 bash -c "'$osctl' -e '$A' get platformmetadata -o yaml 2>/dev/null | grep -q instanceType" &&
	"$osctl" -e "$A" get platformmetadata -o yaml 2>&1)
if grep -q 'platform: aws' <<<"$v" && grep -q 'instanceId: i-0abc1234def567890' <<<"$v" && grep -q 'instanceType: t3.small' <<<"$v" &&
	grep -q 'hostname: ip-10-0-0-5.eu-west-1.compute.internal' <<<"$v" && grep -q 'region: eu-west-1' <<<"$v" &&
	grep -q 'zone: eu-west-1b' <<<"$v" && grep -q -- '- 203.0.113.7' <<<"$v"; then
	ok "over mutual TLS, PlatformMetadata: aws, the instance's id, type, host name, region, zone and public address"
else
	not_ok "PlatformMetadata" "$v"
fi
expect "NodeAddress external: the public IPv4 (on no link of the node)" 'NodeAddress +external +[0-9]+ +203\.0\.113\.7$' \
	"$osctl" -e "$A" get nodeaddresses
check "the API certificate names the public IPv4" wait_until 10 bash -c "'$osctl' -e '$A' get apicertificate api -o yaml | grep -q -- '- 203.0.113.7\$'"
expect "the host name is the platform layer's" 'HostnameSpec +platform/platform +[0-9]+ +ip-10-0-0-5' "$osctl" -e "$A" get hostnamespecs
"$osctl" -e "$A" reboot >/dev/null 2>&1
node_exit n 15 >/dev/null
: >server.log
NODE_ARGS="--cmdline $t/cmdline --sysfs $t/sys" basalt_node "$out" "$t/n" "$A"
v=$(wait_until 20 bash -c "'$osctl' -e '$A' get platformmetadata -o yaml 2>/dev/null | grep -q instanceType" &&
	"$osctl" -e "$A" get platformmetadata -o yaml 2>&1)
grep -q 'instanceId: i-0abc1234def567890' <<<"$v" && grep -q '^GET /latest/meta-data/instance-id token$' server.log &&
	! grep -q 'user-data' server.log && ok "booted again with the config kept: the metadata asked again, the user-data not" ||
	not_ok "the second boot" "$v $(cat server.log)"
"$osctl" -e "$A" shutdown >/dev/null 2>&1
node_exit n 15 >/dev/null
# Every token refused (good for 0 requests): a 401 with a new token is retried with backoff.
proc_kill "$srv"
: >server.log
node "$here/imds.js" gen/controlplane.yaml server.log 0 &
srv=$(proc_track $!)
at_exit "proc_kill $srv"
rm -rf n/state
NODE_ARGS="--cmdline $t/cmdline --sysfs $t/sys" basalt_node "$out" "$t/n" "$A"
check "a token refused at once is said" \
	wait_line n/console.log 'aws: http://169\.254\.169\.254/latest/api/token: /latest/meta-data/instance-id answered 401 with a token just given; trying again' 10
sleep 4
puts=$(grep -c '^PUT ' server.log)
[[ $puts -ge 2 && $puts -le 6 ]] && ok "a service that refuses every token is asked with backoff ($puts token PUTs in about 5 s)" ||
	not_ok "backoff on 401s" "$puts PUTs: $(head -20 server.log)"
u=$(node_pid n) && kill -TERM "$(awk '{print $1}' /proc/$u/task/$u/children)"  # (init's SIGTERM: a power-off)
node_exit n 15 >/dev/null
# IMDSv1: the token PUT answered 405, the rest asked without a token.
proc_kill "$srv"
: >server.log
node "$here/imds.js" gen/controlplane.yaml server.log v1 &
srv=$(proc_track $!)
at_exit "proc_kill $srv"
rm -rf n/state
NODE_ARGS="--cmdline $t/cmdline --sysfs $t/sys" basalt_node "$out" "$t/n" "$A"
if wait_line n/console.log 'aws: machine config from the user-data of i-0abc1234def567890 applied \([0-9]+ bytes, [0-9]+ requests to IMDS, IMDSv1\)' 20 >/dev/null &&
	grep -q 'IMDS answers the token PUT with 405: asked without a token (IMDSv1)' n/console.log && ! grep -q ' token$' server.log; then
	ok "IMDSv1 (the token PUT answered 405): asked without a token, the user-data applied"
else
	not_ok "IMDSv1" "$(grep aws: n/console.log; cat server.log)"
fi
"$osctl" -e "$A" shutdown >/dev/null 2>&1
node_exit n 15 >/dev/null
# A machine whose DMI data does not name EC2 never asks the metadata service.
: >server.log
NODE_ARGS="--cmdline $t/cmdline --sysfs $t/qsys" basalt_node "$out" "$t/q" "$B"
check "a machine that is not EC2: maintenance mode" wait_line q/console.log 'API in maintenance mode' 10
sleep 3
[[ ! -s server.log ]] && ! grep -q 'aws:' q/console.log && ok "a machine that is not EC2 never asks 169.254.169.254" ||
	not_ok "not EC2, yet asked" "$(cat server.log; grep aws: q/console.log)"
finish
