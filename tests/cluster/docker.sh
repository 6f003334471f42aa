#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# osctl cluster create with the Docker provisioner against a real engine: Debian's
# docker.io daemon started here, in the suite's own namespace, with its own socket, data
# root and exec root and --iptables=false (the host's firewall is never touched), and
# Debian's docker client. Without an engine: a clear error, nothing made. Then 1 control
# plane + 2 workers from the release's rootfs.sqsh (docker import), each configured by the
# container platform (USERDATA through an env file, never on a command line), a worker-only
# config patch, osctl health, a worker reached through the control plane, services on
# every node, no --privileged, and the refusals (a name in use, an overlapping CIDR, too
# little memory) with nothing half-made; destroy leaves no container, network, volume,
# image, state or context.
#   docker.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
dk=$out/peers/docker/root
t=$(test_dir)
plan 28
[[ -x $dk/usr/sbin/dockerd ]] || bail "dockerd is there (tests/build.mk's peers)"
[[ -f $out/image/rootfs.sqsh ]] || bail "the root filesystem is built (make image)"
export PATH=$dk/usr/bin:$PATH
export HOME=$t/home OSCONFIG=$t/home/.osctl/config
mkdir -p "$HOME"
cd "$t" || exit 1
st=$HOME/.osctl/clusters/basalt

# No engine: said, naming where it looked; nothing made.
export DOCKER_HOST=unix://$t/no-engine.sock
refuse "no Docker engine: a clear error naming DOCKER_HOST" "no Docker engine answers at unix://$t/no-engine.sock" \
	"$osctl" cluster create --provisioner docker
[[ ! -e $st && ! -e $OSCONFIG ]] && ok "and nothing is made without an engine" || not_ok "made without an engine" "$(ls -R "$HOME")"

# The engine, in this suite's namespace.
dockerd_start "$dk" "$t" || bail "dockerd answers" "$(tail -20 "$t/dockerd.log")"
# A docker client that logs how it is called (for the check that no config is on a command line).
mkdir -p "$t/wrap"
printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>%s/docker-calls.log\nexec %s/usr/bin/docker "$@"\n' "$t" "$dk" >"$t/wrap/docker"
chmod +x "$t/wrap/docker"
printf 'machine:\n  files:\n    - path: /var/etc/role\n      content: "a worker\\n"\n      op: create\n' >worker-patch.yaml
if PATH=$t/wrap:$PATH timeout 300 "$osctl" cluster create --provisioner docker --workers 2 --config-patch-worker @worker-patch.yaml \
	--wait-timeout 180 >create.log 2>&1; then
	ok "cluster create --provisioner docker: 1 control plane and 2 workers up ($(grep -c 'running, its services up' create.log) running)"
else
	not_ok "cluster create --provisioner docker" "$(tail -30 create.log)" "$(tail -20 "$t/dockerd.log")"
	finish
fi
grep -qE '^basalt-controlplane-1 +controlplane +10\.5\.0\.2 +127\.0\.0\.1:[0-9]+$' create.log &&
	grep -qE '^basalt-worker-2 +worker +10\.5\.0\.4 +127\.0\.0\.1:[0-9]+$' create.log &&
	ok "the final table names each node, its role, address and API endpoint" || not_ok "the table" "$(cat create.log)"
grep -qE '^[0-9:]{8} basalt: image basalt:[0-9a-f]{12} imported from .*/rootfs\.sqsh$' create.log &&
	ok "the root filesystem imported as an image (docker import, no registry)" || not_ok "the import" "$(cat create.log)"
expect "osctl health: every node healthy (API, stage, services, clock)" \
	'10\.5\.0\.4 +yes +ok +running +2/2 running +the host.s clock' "$osctl" health
h=$("$osctl" health 2>&1)
[[ $(grep -cE '^10\.5\.0\.[234] +yes ' <<<"$h") == 3 ]] && ok "and it has a row for each of the three" || not_ok "health rows" "$h"
expect "a worker's addresses, forwarded through the control plane" \
	'^10\.5\.0\.4 +network +AddressStatus +eth0/10\.5\.0\.4/24' "$osctl" -n 10.5.0.4 get addresses
s=$("$osctl" services 2>&1)
[[ $(grep -cE '^10\.5\.0\.[234] +(machined|containerd) +running ' <<<"$s") == 6 ]] &&
	ok "osctl services: machined and containerd running on every node" || not_ok "services" "$s"
expect "each node took its config from the container platform (USERDATA)" \
	'container: machine config from USERDATA applied' "$osctl" -n 10.5.0.3 logs machined
expect "the platform is container" '10\.5\.0\.3 +runtime +PlatformMetadata +platform +[0-9]+ +container' \
	"$osctl" -n 10.5.0.3 get platformmetadata
expect "--config-patch-worker reaches the workers" '^a worker$' "$osctl" -n 10.5.0.4 read /var/etc/role
refuse "and not the control plane" 'no such file|not found|NOT_FOUND' "$osctl" -n 10.5.0.2 read /var/etc/role
c=$("$osctl" -n 10.5.0.3 get apicertificate api -o yaml 2>&1)
grep -q 'certificateSigners: \[10\.5\.0\.2\]\|certificateSigners:$' "$st/basalt-worker-1/config.yaml" &&
	grep -q 'state: issued' <<<"$c" && grep -q 'issuer: 10\.5\.0\.2:50001' <<<"$c" &&
	ok "a worker's config names the control plane as its certificate signer, and its certificate came from there" ||
	not_ok "worker certificate signer" "$(grep -A2 certificateSigners "$st/basalt-worker-1/config.yaml")" "$c"
secret=$(sed -n 's/^USERDATA=\(.\{48\}\).*/\1/p' "$st/basalt-worker-1/env")
grep -q -- '--env-file' docker-calls.log && ! grep -q 'USERDATA' docker-calls.log && [[ -n $secret ]] &&
	! grep -qF "$secret" docker-calls.log && [[ $(stat -c %a "$st/basalt-worker-1/env") == 600 ]] &&
	[[ $(stat -c %a "$st/basalt-worker-1/config.yaml") == 600 && $(stat -c %a "$st") == 700 ]] &&
	ok "the config (the cluster's secrets) goes through an env file (0600), on no command line" ||
	not_ok "USERDATA on a command line" "$(grep -c USERDATA docker-calls.log) calls"
i=$(docker inspect -f '{{.HostConfig.Privileged}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.CapAdd}}' basalt-worker-1 2>&1)
[[ $i == "false true [ALL] ["* && $i != *SYS_MODULE* && $i != *SYS_TIME* ]] &&
	ok "not --privileged: a read-only root and a listed set of capabilities (no SYS_MODULE, no SYS_TIME)" || not_ok "container settings" "$i"
expect "cluster show: all three running" 'basalt-worker-2 +worker +10\.5\.0\.4 +127\.0\.0\.1:[0-9]+ +running' \
	"$osctl" cluster show
refuse "a name in use is refused" 'a cluster named basalt exists' "$osctl" cluster create --provisioner docker
refuse "a CIDR overlapping the cluster's network is refused with the engine's reason" 'overlaps' \
	"$osctl" cluster create --provisioner docker --name other --cidr 10.5.0.0/25 --workers 0
[[ ! -e $HOME/.osctl/clusters/other && -z $(docker ps -aq --filter label=basalt.cluster=other) ]] &&
	! docker network inspect basalt-other >/dev/null 2>&1 &&
	ok "and nothing of it is left (no state, container or network)" || not_ok "half-made" "$(docker network ls)"
refuse "too little memory is refused" 'too little' "$osctl" cluster create --provisioner docker --name small --memory 128
docker network create basalt-taken >/dev/null
refuse "a network of the cluster's name that is not its own is refused" 'has a network named basalt-taken' \
	"$osctl" cluster create --provisioner docker --name taken --workers 0
docker network inspect basalt-taken >/dev/null 2>&1 && docker network rm basalt-taken >/dev/null &&
	ok "and that network is left as it was" || not_ok "the foreign network was removed"
# A node restarted keeps its API port (the context stays right).
docker restart basalt-worker-1 >/dev/null 2>&1
if wait_until 60 "$osctl" health >/dev/null 2>&1; then
	ok "a node whose container restarts is healthy again on the same API port"
else
	not_ok "after a restart" "$("$osctl" health 2>&1)" "$(docker port basalt-worker-1 2>&1)"
fi
# A node that stops is seen by health.
docker stop basalt-worker-2 >/dev/null 2>&1
refuse "osctl health: a stopped node is not healthy (exit status 1)" '2 of 3 nodes healthy' "$osctl" health
expect "cluster destroy" 'basalt: destroyed' "$osctl" cluster destroy
left="$(docker ps -aq)$(docker volume ls -q)$(docker images -q)$(docker network ls -q --filter label=basalt.cluster=basalt)"
docker version >/dev/null 2>&1 && [[ -z $left ]] && ok "destroy leaves no container, volume, image or network" || not_ok "destroy left" "$left"
[[ ! -e $st ]] && ! grep -q 'basalt' "$OSCONFIG" && ok "and no state and no context" || not_ok "left" "$(ls "$st" 2>&1) $(cat "$OSCONFIG")"
finish
