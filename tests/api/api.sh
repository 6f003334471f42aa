#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The machine API end to end on loopback: two nodes (init in container mode + machined,
# each in its own namespaces, listening on 127.0.0.1 and 127.0.0.2), driven by osctl.
# Maintenance mode, gen config → apply → get → watch → logs → services, every RPC × every
# role, rejected client certificates, --mode try rolling back, forwarding to a second node
# and to a dead one, reboot and shutdown acknowledged then carried out.
#   api.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
machined=$out/bin/machined
t=$(test_dir)
A=127.0.0.1:50000
B=127.0.0.2:50000
C=127.0.0.3:50000
D=127.0.0.4:50000
E=127.0.0.5:50000
plan 237
basalt_node "$out" "$t/a" "$A"
basalt_node "$out" "$t/b" "$B"
basalt_node "$out" "$t/c" "$C"
basalt_node "$out" "$t/d" "$D"
basalt_node "$out" "$t/e" "$E"
cd "$t" || exit 1

# --- maintenance mode ---
fp=$(basalt_fingerprint a)
[[ -n $fp ]] && ok "maintenance: the console names the certificate fingerprint" || not_ok "maintenance fingerprint on the console" "$(cat a/console.log)"
fpb=$(basalt_fingerprint b)
fpc=$(basalt_fingerprint c)
v=$("$osctl" version --insecure -e "$A" --cert-fingerprint "$fp" 2>&1)
grep -q 'Maintenance: yes' <<<"$v" && ok "maintenance: Version over TLS with the pinned fingerprint" || not_ok "maintenance Version" "$v"
bad=$(sed 's/^./0/' <<<"$fp"); [[ $bad == "$fp" ]] && bad=$(sed 's/^./1/' <<<"$fp")
v=$("$osctl" version --insecure -e "$A" --cert-fingerprint "$bad" 2>&1)
if [[ $? -ne 0 ]] && grep -q 'fingerprint' <<<"$v"; then ok "maintenance: a wrong fingerprint is refused"; else not_ok "wrong fingerprint refused" "$v"; fi
check "gen config writes secrets, configs and a client config" "$osctl" gen config demo https://127.0.0.1:6443 -o gen
export OSCONFIG=$t/gen/osconfig
v=$("$osctl" -e "$A" services 2>&1)
if [[ $? -ne 0 ]] && grep -q 'server certificate' <<<"$v"; then ok "maintenance: a client verifying against the CA refuses the self-signed certificate, saying why"; else not_ok "maintenance CA check" "$v"; fi

# Only Version and ApplyConfiguration are served.
for c in services "get ms" "logs machined" reboot; do
	o=$("$osctl" --insecure --cert-fingerprint "$fp" -e "$A" $c 2>&1)
	if [[ $? -ne 0 ]] && grep -q 'FAILED_PRECONDITION.*maintenance' <<<"$o"; then ok "maintenance: osctl $c refused"; else not_ok "maintenance refuses $c" "$o"; fi
done

# A connection made in maintenance mode (no client certificate) is closed once the node
# has its config: it was made under TLS settings that no longer hold.
(sleep 120 | openssl s_client -connect "$A" >maint-conn.out 2>&1) &
wait_line maint-conn.out '^CONNECTED' 10 >/dev/null && wait_line maint-conn.out 'Cipher is' 10 >/dev/null ||
	bail "a TLS connection to the node in maintenance mode" "$(cat maint-conn.out)"
# Each node its own hostname, so a forwarded reply names the node that gave it.
for n in a b c; do
	# Node a is the control plane (the endpoint gen config names); b and c are workers that
	# hold the CA key, so they sign their own certificates.
	ty=worker; [[ $n == a ]] && ty=controlplane
	sed "s/^  type: controlplane/  type: $ty/; s/^  certSANs: \[\]/  certSANs: []\n  features:\n    localForwarding: true\n  network:\n    hostname: node-$n/" \
		gen/controlplane.yaml >worker-$n.yaml
done
refuse "apply-config --insecure without --cert-fingerprint is refused before anything is sent" \
	'cert-fingerprint SHA256.*skip-node-verification' "$osctl" apply-config --insecure -e "$A" -f worker-a.yaml
refuse "--cert-fingerprint without --insecure is an error, not ignored" 'goes with --insecure' \
	"$osctl" -e "$A" --cert-fingerprint "$fp" version
expect "apply-config --insecure in maintenance mode" 'applied without a reboot' \
	"$osctl" apply-config --insecure -e "$A" --cert-fingerprint "$fp" -f worker-a.yaml
expect "node b takes its config" 'applied without a reboot' \
	"$osctl" apply-config --insecure -e "$B" --cert-fingerprint "$fpb" -f worker-b.yaml
check "node a serves mutual TLS after its config" wait_line a/console.log 'API serving mutual TLS' 10
# (The node drops it a second after the switch; the bound is generous for a loaded machine.)
if wait_line maint-conn.out 'unexpected eof while reading' 30 >/dev/null; then ok "the connection made in maintenance mode is closed by the node after the switch"; else not_ok "the maintenance-mode connection is closed after the switch" "$(tail -3 maint-conn.out)" "node a's console:" "$(grep -E 'apid|TLS|maintenance' a/console.log | tail -8)"; fi
wait_line b/console.log 'API serving mutual TLS' 10 >/dev/null

# --- the split: apid is a separate, unprivileged, sandboxed process ---
u=$(node_pid a)
ainit=$(awk '{print $1}' /proc/$u/task/$u/children)
mpid=; apid=
for c in $(cat /proc/$ainit/task/*/children); do [[ $(cat /proc/$c/comm 2>/dev/null) == machined ]] && mpid=$c; done
for c in $(cat /proc/$mpid/task/*/children 2>/dev/null); do [[ $(cat /proc/$c/comm 2>/dev/null) == apid ]] && apid=$c; done
st=$(grep -E '^(Uid|CapEff|CapPrm|NoNewPrivs|Seccomp):' /proc/$apid/status 2>/dev/null)
if grep -qP '^Uid:\s+65534\s+65534\s+65534' <<<"$st" && grep -qP '^CapEff:\s+0+$' <<<"$st" && grep -qP '^CapPrm:\s+0+$' <<<"$st" &&
	grep -qP '^NoNewPrivs:\s+1' <<<"$st" && grep -qP '^Seccomp:\s+2' <<<"$st"; then
	ok "apid (the network side) runs as uid 65534 without capabilities, under seccomp"
else
	not_ok "apid confinement" "$st"
fi
fds=$(for f in /proc/$apid/fd/*; do readlink "$f"; done)
if ! grep -vE '^(socket:|pipe:|anon_inode:|/dev/null$)' <<<"$fds" | grep -q .; then
	ok "apid holds sockets, pipes and its loop's descriptors only (no file of machined's)"
else
	not_ok "apid's descriptors" "$fds"
fi
if [[ $(readlink /proc/$apid/ns/mnt) != "$(readlink /proc/$mpid/ns/mnt)" && -d /proc/$apid/root/ && -z $(ls -A /proc/$apid/root/) ]]; then
	ok "apid sees an empty root in a mount namespace of its own"
else
	not_ok "apid's empty root" "$(readlink /proc/$apid/ns/mnt /proc/$mpid/ns/mnt)" "$(ls -A /proc/$apid/root/ | head -5)"
fi
kill -9 "$apid"
check "killed, apid is started again by machined" wait_line a/console.log 'apid started again' 10
check "the API answers again after apid's restart" wait_until 10 "$osctl" -e "$A" version
[[ $(cat /proc/$mpid/comm 2>/dev/null) == machined ]] && ok "machined's core lived through apid's death" || not_ok "core survived apid"
# A malformed message from apid: written into apid's end of its link to the core from
# outside (pidfd_getfd), it makes the core kill that apid and start another.
apid_of() { local c; for c in $(cat /proc/$mpid/task/*/children 2>/dev/null); do [[ $(cat /proc/$c/comm 2>/dev/null) == apid ]] && echo "$c"; done; }
wait_until 10 bash -c "[[ -n \$(cat /proc/$mpid/task/*/children) ]]"
apid=$(apid_of)
link=
for f in /proc/$apid/fd/*; do
	ino=$(readlink "$f" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
	[[ -n $ino ]] && awk -v i="$ino" '$5 == "0005" && $7 == i { f = 1 } END { exit !f }' /proc/net/unix && link=${f##*/}
done
if [[ -n $link ]] && "$out/host/bin/abuse" inject "$apid" "$link"; then
	if wait_line a/console.log "API: apid \(pid [0-9]+\) sent a malformed message: a datagram of 4 bytes is shorter than the header" 10 >/dev/null &&
		wait_until 10 bash -c "[[ -n \$(cat /proc/$mpid/task/*/children) && ! -e /proc/$apid/comm ]]"; then
		ok "a malformed message from apid: the core kills it, saying so"
	else
		not_ok "a malformed message from apid kills it" "$(grep 'API:' a/console.log | tail -3)"
	fi
else
	not_ok "a malformed message from apid kills it" "could not write into apid's link (fd ${link:-none})"
fi
check "a new apid serves the API" wait_until 10 "$osctl" -e "$A" version
[[ $(cat /proc/$mpid/comm 2>/dev/null) == machined ]] && ok "the core lived through apid's malformed message" || not_ok "core survived the malformed message"
# Well-formed requests that apid's table would never hand over: the core checks each against
# the same table, refuses it and kills that apid (a Reboot never happens).
link_of() {
	local f ino
	for f in /proc/$1/fd/*; do
		ino=$(readlink "$f" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
		[[ -n $ino ]] && awk -v i="$ino" '$5 == "0005" && $7 == i { f = 1 } END { exit !f }' /proc/net/unix && echo "${f##*/}"
	done
}
for forged in "reader-reboot:Reboot:the caller's role is below the method's" \
	"maint-reboot:Reboot:not served in maintenance mode" "trustd-version:Version:an API method on the signing port"; do
	IFS=: read -r kind method why <<<"$forged"
	# (each death in a row doubles the wait before the next apid: 1, 2, 4, 8, 16 s)
	wait_until 40 bash -c "[[ -n \$(cat /proc/$mpid/task/*/children) ]]"
	wait_until 40 "$osctl" -e "$A" version >/dev/null
	apid=$(apid_of) link=$(link_of "$apid" | head -1)
	if [[ -n $link ]] && "$out/host/bin/abuse" inject "$apid" "$link" "$kind" &&
		wait_line a/console.log "apid handed over a $method call its table forbids" 10 >/dev/null &&
		grep -qF "$method call its table forbids ($why): killing it" a/console.log &&
		wait_until 10 bash -c "[[ ! -e /proc/$apid/comm ]]" && wait_until 40 "$osctl" -e "$A" version >/dev/null &&
		[[ $(cat /proc/$mpid/comm 2>/dev/null) == machined ]] && ! grep -q 'reboot requested' a/console.log; then
		ok "a forged $kind request from apid: the core refuses it by its table and kills that apid; the API is back"
	else
		not_ok "forged $kind" "link ${link:-none}" "$(grep 'API:' a/console.log | tail -3)"
	fi
done

# --- maintenance mode ends when a config is in force, not when apid hears of it ---
# Node d: 1,000 ApplyConfiguration calls without identity (two dry runs to each apply),
# pipelined over 8 connections with 4 configs, each with its own CA and token.
mkdir -p race
for i in 0 1 2 3; do
	"$osctl" gen config "race$i" https://127.0.0.1:6443 -o "race/gen-$i" >/dev/null 2>&1 || bail "gen config race$i"
	cp "race/gen-$i/controlplane.yaml" "race/config-$i.yaml"
	{ grep -oP '(?<=^    key: ).*' "race/config-$i.yaml"; grep -oP '(?<=^  token: ).*' "race/config-$i.yaml"; } >"race/secrets-$i"
done
[[ $(cat race/secrets-* | sort -u | wc -l) -eq 8 ]] || bail "race: four configs with a CA key and token each" "$(cat race/secrets-*)"
wait_line d/console.log 'API in maintenance mode' 10 >/dev/null || bail "node d in maintenance mode" "$(cat d/console.log)"
"$out/host/bin/abuse" maintrace 1000 "$D" race 4 >race/out 2>&1
tap_through race/out
won=0 winner=
for i in 0 1 2 3; do "$osctl" --osconfig "race/gen-$i/osconfig" -e "$D" version >/dev/null 2>&1 && won=$((won + 1)) winner=$i; done
check "the node leaves maintenance mode after the race" wait_line d/console.log 'API serving mutual TLS' 20
[[ $won -eq 1 ]] && ok "after the race, exactly one of the four configs' clients is served over mutual TLS" || not_ok "one config won" "$won clients served"
refuse "after the race, a client without identity gets no further than the handshake" 'TLS handshake: .*refused this client' \
	"$osctl" version --insecure -e "$D"

# --- a worker without the CA key: its certificate comes from the control plane (node a) ---
if grep -q '^    key:' gen/worker.yaml || ! grep -q '^    key:' gen/controlplane.yaml; then
	not_ok "gen config: worker.yaml holds no private key, controlplane.yaml the OS CA key" "$(grep -c 'key:' gen/*.yaml)"
else
	ok "gen config: worker.yaml holds no private key, controlplane.yaml the OS CA key"
fi
# Two signers: nothing answers on the first (port 50009), the control plane on the second.
sed "s/^  certSANs: \[\]/  certSANs: []\n  network:\n    hostname: node-e/; s|^    endpoint: https://127.0.0.1:6443\$|&\n    certificateSigners: [\"127.0.0.1:50009\", 127.0.0.1]|" \
	gen/worker.yaml >worker-e.yaml
expect "a worker without the CA key takes its config in maintenance mode" 'applied' \
	"$osctl" apply-config --insecure -e "$E" --cert-fingerprint "$(basalt_fingerprint e)" -f worker-e.yaml
check "the worker gets its API certificate from the control-plane node" \
	wait_line e/console.log "API serving mutual TLS on 127.0.0.5:50000 .*from 127.0.0.1:50001" 30
expect "the worker answers osctl over mutual TLS" 'Hostname: *node-e' "$osctl" -e "$E" version
if grep -q 'API certificate from 127.0.0.1:50009: ' e/console.log && grep -q 'API certificate: asking 127.0.0.1:50001' e/console.log; then
	ok "certificateSigners are tried in turn: the first one failing, the second asked"
else
	not_ok "certificateSigners in turn" "$(grep 'API certificate' e/console.log | head -5)"
fi
v=$("$osctl" -e "$E" get apicertificate api -o yaml 2>&1)
grep -q 'state: issued' <<<"$v" && grep -q 'issuer: 127.0.0.1:50001' <<<"$v" && ok "ApiCertificate says issued, and by whom" || not_ok "worker ApiCertificate" "$v"
if wait_line a/console.log 'certificate issued to 127.0.0.1 \(node-e' 15 >/dev/null; then ok "the control-plane node logs what it signed"; else not_ok "the control-plane node logs what it signed" "$(grep 'certificate' a/console.log | tail -3)"; fi
refuse "the worker forwards nothing (it has no os:impersonator certificate)" 'FAILED_PRECONDITION.*forwards nothing' \
	"$osctl" -e "$E" -n 127.0.0.1 version
grep -oP '(?<=crt: ).*' gen/secrets.yaml | base64 -d >ca.crt
"$out/host/bin/abuse" csr 127.0.0.1:50001 ca.crt "$(grep -oP '(?<=^  token: ).*' gen/worker.yaml)" NODE-A. >csr.out 2>&1
tap_through csr.out

# --- the configured node ---
v=$("$osctl" -e "$A" version 2>&1)
if grep -q 'Tag:' <<<"$v" && grep -q 'Hostname: *node-a' <<<"$v" && ! grep -q Maintenance <<<"$v"; then ok "version over mutual TLS"; else not_ok "version over mTLS" "$v"; fi
refuse "a client without a certificate gets no further than the handshake" 'TLS handshake: .*refused this client' \
	"$osctl" version --insecure -e "$A"
v=$("$osctl" -e "$A" get services 2>&1)
if head -1 <<<"$v" | grep -qE '^NODE +NAMESPACE +TYPE +ID +VERSION +STATE +HEALTHY +RESTARTS$' &&
	grep -qE "^$A +runtime +Service +containerd +[0-9]+ +(down|waiting|running|stopping|backoff|finished) +(true|false) +[0-9]+$" <<<"$v"; then
	ok "get services: an aligned table with headers and the type's columns (state, healthy, restarts)"
else not_ok "get services table" "$v"; fi
v=$("$osctl" -e "$A" get ms -o json 2>&1)
[[ $(jq -r .spec.stage <<<"$v" 2>/dev/null) == running ]] && ok "get -o json: MachineStatus running (valid JSON)" || not_ok "get -o json" "$v"
v=$("$osctl" -e "$A" get mc -o yaml 2>&1)
grep -q '    type: controlplane' <<<"$v" && ok "get machineconfig -o yaml (admin)" || not_ok "get mc -o yaml" "$v"
v=$("$osctl" -e "$A" get links 2>&1)
w=$("$osctl" -e "$A" get linkstatus 2>&1)
if [[ $v == "$w" ]] && head -1 <<<"$v" | grep -qE '^NODE +NAMESPACE +TYPE +ID +VERSION +TYPE +KIND +HW ADDR +OPER STATE$'; then ok "type aliases resolve (links is LinkStatus)"; else not_ok "get links" "$v" "$w"; fi
v=$("$osctl" -e "$A" get nosuchtype 2>&1)
if [[ $? -ne 0 ]] && grep -q 'unknown resource type nosuchtype' <<<"$v"; then ok "an unknown type is a clear error"; else not_ok "unknown type error" "$v"; fi
v=$("$osctl" -e "$A" get ms nosuchid 2>&1)
if [[ $? -ne 0 ]] && grep -q 'NOT_FOUND' <<<"$v"; then ok "get of a missing id: NOT_FOUND, non-zero exit"; else not_ok "missing id" "$v"; fi

# watch + service restart
"$osctl" -e "$A" get services -w >"$t/watch.out" 2>&1 &
wpid=$!
at_exit "kill $wpid 2>/dev/null"
wait_line "$t/watch.out" 'created +.*containerd' 10 >/dev/null && ok "watch: initial listing" || not_ok "watch listing" "$(cat "$t/watch.out")"
"$osctl" -e "$A" logs machined -f --tail 1 >"$t/follow.out" 2>&1 &
fpid=$!
at_exit "kill $fpid 2>/dev/null"
wait_until 5 test -s "$t/follow.out" || not_ok "logs -f started"
f0=$(wc -l <"$t/follow.out")
v=$("$osctl" -e "$A" service containerd restart 2>&1)
grep -q 'containerd: restarting' <<<"$v" && ok "service containerd restart" || not_ok "service restart" "$v"
wait_line "$t/watch.out" 'updated +.*containerd' 10 >/dev/null && ok "watch: the restart arrives as an update" || not_ok "watch update" "$(cat "$t/watch.out")"
check "the restarted containerd runs again" wait_until 10 bash -c "'$osctl' -e '$A' services | grep -qE 'containerd +running +OK +[0-9]+ +[1-9]'"
v=$("$osctl" -e "$A" service containerd stop 2>&1)
check "service stop: containerd shows stopped" wait_until 10 bash -c "'$osctl' -e '$A' services | grep -qE 'containerd +stopped'"
check "service start: containerd runs again" "$osctl" -e "$A" service containerd start
wait_until 10 bash -c "'$osctl' -e '$A' services | grep -qE 'containerd +running'" && ok "containerd running after start" || not_ok "containerd running after start" "$("$osctl" -e "$A" services 2>&1)"
if wait_until 5 bash -c "tail -n +$((f0 + 1)) '$t/follow.out' | grep -q 'sent .* services to init'"; then
	ok "logs -f: new lines arrive as they are written"
else
	not_ok "logs -f" "$(cat "$t/follow.out")"
fi
kill $fpid 2>/dev/null
v=$("$osctl" -e "$A" logs machined --tail 3 2>&1)
[[ $(wc -l <<<"$v") -eq 3 ]] && ok "logs --tail 3: three lines" || not_ok "logs --tail 3" "$v"
v=$("$osctl" -e "$A" logs nosuch 2>&1)
if [[ $? -ne 0 ]] && grep -q 'NOT_FOUND' <<<"$v"; then ok "logs of an unknown service: NOT_FOUND"; else not_ok "logs unknown" "$v"; fi
v=$("$osctl" -e "$A" service machined stop 2>&1)
if [[ $? -ne 0 ]] && grep -q 'cannot be stopped' <<<"$v"; then ok "machined refuses to stop itself through the API"; else not_ok "stop machined refused" "$v"; fi
v=$("$osctl" -e "$A" dmesg 2>&1 | head -3)
grep -qE '^\[ *[0-9]+\.[0-9]{6}\] ' <<<"$v" && ok "dmesg: kernel messages with timestamps" || not_ok "dmesg" "$v"

# --- every RPC x every role ---
grep -oP '(?<=crt: ).*' gen/secrets.yaml | base64 -d >ca.crt
grep -oP '(?<=key: ).*' gen/secrets.yaml | base64 -d >ca.key
for role in reader operator admin; do
	"$osctl" gen key --name $role >/dev/null
	"$osctl" gen crt --ca ca --key $role.key --name $role --role os:$role >/dev/null
	"$osctl" --osconfig roles.cfg config add $role --ca ca.crt --crt $role.crt --key $role.key
done
# as ROLE ARGS...: osctl with that role's certificate against node a.
as() { local r=$1; shift; "$osctl" --osconfig roles.cfg --context "$r" -e "$A" "$@"; }
declare -A need=(
	[Version]=reader [ServiceList]=reader [Logs]=reader [Dmesg]=reader [Get]=reader [List]=reader
	[Watch]=reader [ServiceStart]=operator [ServiceStop]=operator [ServiceRestart]=operator
	[ApplyConfiguration]=admin [GetSecret]=admin [WatchSecret]=admin [Reboot]=operator [Shutdown]=operator
	[Read]=admin [FileList]=operator [Reset]=admin)
rank() { case $1 in reader) echo 1 ;; operator) echo 2 ;; admin) echo 3 ;; esac; }
rpc() {
	local role=$1 m=$2
	case $m in
	Version) as "$role" version ;;
	ServiceList) as "$role" services ;;
	Logs) as "$role" logs machined --tail 1 ;;
	Dmesg) as "$role" dmesg ;;
	Get) as "$role" get ms machine ;;
	List) as "$role" get ms ;;
	# A watch runs until cancelled: allowed means its first event arrives.
	Watch) timeout 5 "$osctl" --osconfig roles.cfg --context "$role" -e "$A" get ms -w ;;
	ServiceStart) as "$role" service containerd start ;;
	ServiceStop) as "$role" service containerd stop && as "$role" service containerd start ;;
	ServiceRestart) as "$role" service containerd restart ;;
	ApplyConfiguration) as "$role" apply-config -f worker-a.yaml --dry-run ;;
	GetSecret) as "$role" get mc -o yaml ;;
	WatchSecret) timeout 5 "$osctl" --osconfig roles.cfg --context "$role" -e "$A" get mc -w ;;
	Reboot) as "$role" reboot ;;
	Shutdown) as "$role" shutdown ;;
	Read) as "$role" read /proc/version ;;
	FileList) as "$role" ls /proc ;;
	Reset) as "$role" reset ;;
	esac
}
# What an allowed call answers.
declare -A reply=(
	[Version]='Hostname: *node-a' [ServiceList]="^$A +containerd " [Logs]='^\[machined\]'
	[Dmesg]='^\[ *[0-9]+\.[0-9]{6}\] ' [Get]="^$A +runtime +MachineStatus +machine "
	[List]="^$A +runtime +MachineStatus +machine " [Watch]="^created +$A +runtime +MachineStatus +machine "
	[ServiceStart]='containerd: (starting|already started)' [ServiceStop]='containerd: (starting|already started)'
	[ServiceRestart]='containerd: restarting' [ApplyConfiguration]='dry run: nothing changed'
	[GetSecret]='^    type: controlplane' [WatchSecret]="^created +$A +config +MachineConfig +v1alpha1 "
	[Read]='^Linux version ' [FileList]="^$A +version\$")
for m in Version ServiceList Logs Dmesg Get List Watch ServiceStart ServiceStop ServiceRestart ApplyConfiguration GetSecret WatchSecret Read FileList Reset Reboot Shutdown; do
	for role in reader operator admin; do
		allowed=$(($(rank $role) >= $(rank ${need[$m]})))
		# Reboot and Shutdown are carried out for real at the end, Reset by tests/api/files.sh;
		# here only refusals.
		if [[ $allowed == 1 && ($m == Reboot || $m == Shutdown || $m == Reset) ]]; then continue; fi
		o=$(rpc $role $m 2>&1); rc=$?
		# A watch ends by our timeout (124) once its events are in.
		[[ $m == Watch* && $rc -eq 124 ]] && rc=0
		if [[ $allowed == 1 ]]; then
			if [[ $rc -eq 0 ]] && grep -qE -- "${reply[$m]}" <<<"$o"; then ok "RBAC: $m as os:$role allowed"; else not_ok "RBAC: $m as os:$role allowed" "exit $rc, wanted /${reply[$m]}/" "$o"; fi
		else
			if [[ $rc -ne 0 ]] && grep -q 'PERMISSION_DENIED' <<<"$o"; then ok "RBAC: $m as os:$role PERMISSION_DENIED"; else not_ok "RBAC: $m as os:$role denied" "$o"; fi
		fi
	done
done

# --- TLS 1.3 resumption: osctl keeps the ticket beside its client config ---
rm -rf sessions
o=$(OSCTL_DEBUG=tls as reader version 2>&1)
if grep -q 'Hostname:' <<<"$o" && grep -q '1 full handshake(s), 0 resumed, [1-9]' <<<"$o"; then ok "resumption: a first command makes a full handshake and receives a ticket"; else not_ok "first handshake" "$o"; fi
f=(sessions/*)
if [[ ${#f[@]} -eq 1 && $(stat -c %a "${f[0]}") == 600 && $(stat -c %a sessions) == 700 ]]; then ok "resumption: the ticket is kept in a 0600 file in a 0700 folder"; else not_ok "session file" "$(ls -la sessions)"; fi
o=$(OSCTL_DEBUG=tls as reader version 2>&1)
if grep -q 'Hostname:' <<<"$o" && grep -q '0 full handshake(s), 1 resumed' <<<"$o"; then ok "resumption: the next command resumes (no full handshake)"; else not_ok "resumed" "$o"; fi
o=$(OSCTL_DEBUG=tls as reader service containerd restart 2>&1); rc=$?
if [[ $rc -ne 0 ]] && grep -q 'PERMISSION_DENIED' <<<"$o" && grep -q '1 resumed' <<<"$o"; then ok "resumption: a resumed reader is still only a reader"; else not_ok "resumed reader" "exit $rc" "$o"; fi
as admin version >/dev/null 2>&1
o=$(OSCTL_DEBUG=tls as admin get mc -o yaml 2>&1)
if grep -q '^    type: controlplane' <<<"$o" && grep -q '0 full handshake(s), 1 resumed' <<<"$o"; then ok "resumption: a resumed admin reads the machine config"; else not_ok "resumed admin" "$o"; fi
head -c 300 /dev/urandom >"${f[0]}"
o=$(OSCTL_DEBUG=tls as reader version 2>&1)
if grep -q 'Hostname:' <<<"$o" && grep -q '1 full handshake(s), 0 resumed' <<<"$o"; then ok "resumption: a damaged session file means a full handshake, not an error"; else not_ok "damaged session" "$o"; fi

# --- client certificates that must be refused ---
"$osctl" gen key --name old >/dev/null
"$osctl" gen crt --ca ca --key old.key --name old --role os:admin --hours 1 --backdate 72 >/dev/null
"$osctl" gen ca --organization os:admin >/dev/null  # self-signed, naming the admin role
mkdir -p other && (cd other && "$osctl" gen ca --organization other >/dev/null && "$osctl" gen key --name x >/dev/null &&
	"$osctl" gen crt --ca other --key x.key --name x --role os:admin >/dev/null)
"$osctl" --osconfig bad.cfg config add expired --ca ca.crt --crt old.crt --key old.key
"$osctl" --osconfig bad.cfg config add selfsigned --ca ca.crt --crt os:admin.crt --key os:admin.key
"$osctl" --osconfig bad.cfg config add wrongca --ca ca.crt --crt other/x.crt --key other/x.key
for c in expired selfsigned wrongca; do
	o=$("$osctl" --osconfig bad.cfg --context $c -e "$A" version 2>&1)
	if [[ $? -ne 0 ]] && grep -q 'refused this client' <<<"$o"; then ok "a $c client certificate is refused at the handshake"; else not_ok "$c certificate refused" "$o"; fi
done

# --- secrets: a dump and everything a reader can see hold none ---
grep -oP '(?<=^    key: ).*' worker-a.yaml >secrets-a
grep -oP '(?<=^  token: ).*' worker-a.yaml >>secrets-a
[[ $(wc -l <secrets-a) -eq 2 ]] || bail "node a's config has a CA key and a token" "$(cat secrets-a)"
kill -USR1 "$mpid"
dumped() { as reader logs machined 2>/dev/null | grep -q 'key: (redacted)'; }
check "SIGUSR1: machined dumps its resources, MachineConfig's secrets redacted" wait_until 10 dumped
{
	as reader logs machined
	for ty in $(as reader get rd 2>/dev/null | awk 'NR > 1 && $NF == "os:reader" {print $2}'); do as reader get "$ty" -o yaml; done
	cat a/console.log
} >reader-view 2>&1
grep -q 'kind: \|type: ' reader-view && [[ $(wc -l <reader-view) -gt 50 ]] || bail "a reader's view of node a" "$(head -5 reader-view)"
if grep -qFf secrets-a reader-view; then not_ok "no key or token in the dump, the logs and the resources a reader sees" "$(grep -oFf secrets-a reader-view | head -2 | cut -c1-40)"; else ok "no key or token in the dump, the logs and the resources a reader sees"; fi
# A config whose CA key is a PEM block that does not parse: the error names the field, never
# the value (neither its base64 nor what it decodes to).
k=$(printf -- '-----BEGIN EC PRIVATE KEY-----\nc2VjcmV0LW1hcmtlci03NzMx\n-----END EC PRIVATE KEY-----\n' | base64 -w0)
sed "s|^    key: .*|    key: $k|" worker-a.yaml >badkey.yaml
v=$("$osctl" -e "$A" apply-config -f badkey.yaml --dry-run 2>&1)
if grep -q 'machine/ca/key' <<<"$v" && ! grep -qF -e "$k" -e c2VjcmV0LW1hcmtlci03NzMx -e secret-marker <<<"$v" &&
	! grep -qF -e c2VjcmV0LW1hcmtlci03NzMx a/console.log; then
	ok "an apply with a CA key that does not parse: refused naming machine.ca.key, the value in neither the reply nor the log"
else
	not_ok "a bad key's error" "$v"
fi

# --- streams: capped per client certificate and per node, the rest of the API unharmed ---
abuse=$out/host/bin/abuse
"$abuse" follow 200 both 6 "$A" ca.crt reader.crt reader.key >follow-reader.out 2>&1 &
fpid=$!
at_exit "proc_kill $(proc_track $fpid)"
wait_line follow-reader.out '^# holding' 60 >/dev/null || bail "200 logs -f and 200 dmesg -f from a reader" "$(tail -3 follow-reader.out)"
expect "while a reader holds 400 following streams: an apply succeeds" 'applied' "$osctl" -e "$A" apply-config -f worker-a.yaml
expect "... and machined's link to init works (a service restart)" 'containerd: restarting' as operator service containerd restart
expect "... and another client reads a log" 'resources, on request' as admin logs machined
wait "$fpid"
tap_through follow-reader.out
grep -q '^# result open=16 exhausted=384 other=0$' follow-reader.out && ok "one client certificate: 16 streams served at once, the other 384 refused" || not_ok "per-client stream cap" "$(grep result follow-reader.out)"
fpids=()
for r in reader operator admin; do "$abuse" follow 16 logs 4 "$A" ca.crt $r.crt $r.key >follow-$r.out 2>&1 & fpids+=($!); done
wait "${fpids[@]}"
for r in reader operator admin; do tap_through follow-$r.out; done
opened=$(($(cat follow-{reader,operator,admin}.out | grep -oP '(?<=^# result open=)[0-9]+' | paste -sd+)))
[[ $opened -eq 32 ]] && ok "three clients asking for 48 log streams: the node serves 32 (each takes one of init's connections)" || not_ok "per-node log stream cap" "$opened open" "$(grep result follow-*.out)"
# Nine clients asking for 16 dmesg streams each (144, each within its own cap of 16): the
# node serves at most 128 at once (streams the suite holds open elsewhere count too).
fpids=()
for i in 1 2 3 4 5 6 7 8 9; do
	"$osctl" gen key --name cap$i >/dev/null && "$osctl" gen crt --ca ca --key cap$i.key --name cap$i --role os:reader >/dev/null
	"$abuse" follow 16 dmesg 6 "$A" ca.crt cap$i.crt cap$i.key >follow-cap$i.out 2>&1 &
	fpids+=($!)
done
wait "${fpids[@]}"
sum() { grep -ohP "(?<=^# result ).*" follow-cap*.out | grep -oP "(?<=$1=)[0-9]+" | awk '{ s += $1 } END { print s + 0 }'; }
o=$(sum open)
if ((o <= 128 && o >= 120 && o + $(sum exhausted) == 144 && $(sum other) == 0)); then
	ok "nine clients asking for 144 dmesg streams: the node serves $o (its cap is 128 at once) and refuses the rest RESOURCE_EXHAUSTED"
else
	not_ok "per-node stream cap" "open $(sum open), refused $(sum exhausted), other $(sum other)" "$(grep -h '^not ok\|result' follow-cap*.out | head -4)"
fi

# --- try: applied, then rolled back unless confirmed ---
sed 's/hostname: node-a/hostname: trial-host/' worker-a.yaml >try.yaml
v=$("$osctl" -e "$A" apply-config -f try.yaml --mode try --timeout 3s 2>&1)
grep -q 'applied for a try' <<<"$v" && ok "apply-config --mode try" || not_ok "mode try" "$v"
check "try: the new hostname is in force" wait_until 5 bash -c "'$osctl' -e '$A' version | grep -q 'Hostname: *trial-host'"
# mc_without PATTERN [NODE]: the node's config was read, and PATTERN is not in it.
mc_without() { local c; c=$("$osctl" -e "${2:-$A}" get mc -o yaml 2>&1) && grep -qE '    type: (worker|controlplane)' <<<"$c" && ! grep -q "$1" <<<"$c"; }
check "try: the previous config returns after the timeout" wait_until 10 mc_without trial-host
expect "try: the previous hostname is back" 'Hostname: *node-a' "$osctl" -e "$A" version
grep -q 'try: not confirmed before its deadline' a/console.log && ok "try: the rollback is logged" || not_ok "try rollback logged" "$(tail -5 a/console.log)"
v=$("$osctl" -e "$A" apply-config -f try.yaml --dry-run 2>&1)
grep -q '^+    hostname: trial-host' <<<"$v" && ok "dry-run shows the diff" || not_ok "dry-run diff" "$v"
"$osctl" -e "$A" apply-config -f try.yaml --mode try --timeout 3s >/dev/null 2>&1
v=$("$osctl" -e "$A" apply-config -f try.yaml --mode no-reboot 2>&1)
sleep 4  # a test parameter: past the 3 s try timeout, which must no longer fire
v=$("$osctl" -e "$A" version 2>&1)
grep -q 'Hostname: *trial-host' <<<"$v" && ok "try confirmed by a second apply stays in force" || not_ok "try confirmed" "$v"
v=$("$osctl" -e "$A" patch mc --patch '[{"op":"replace","path":"/machine/network/hostname","value":"patched"}]' 2>&1)
check "patch: a JSON patch applied to the node's config" wait_until 5 bash -c "'$osctl' -e '$A' version | grep -q 'Hostname: *patched'"
v=$("$osctl" -e "$A" get apicertificate api -o yaml 2>&1)
grep -q -- '- patched' <<<"$v" && ok "the API certificate is renewed for the new hostname" || not_ok "certificate follows the hostname" "$v"
printf '#!/bin/sh\nsed -i "s/hostname: patched/hostname: edited/" "$1"\n' >ed1 && chmod +x ed1
printf '#!/bin/sh\nsed -i "s/hostname: edited/hostnme: x/" "$1"\n' >ed2 && chmod +x ed2
EDITOR=$t/ed1 "$osctl" -e "$A" edit machineconfig >/dev/null 2>&1
check "edit: the edited config is validated and applied" wait_until 5 bash -c "'$osctl' -e '$A' version | grep -q 'Hostname: *edited'"
v=$(EDITOR=$t/ed2 "$osctl" -e "$A" edit machineconfig 2>&1)
if [[ $? -ne 0 ]] && grep -q 'unknown field' <<<"$v" && grep -q 'was not applied' <<<"$v"; then ok "edit: an invalid edit is refused before sending"; else not_ok "edit invalid" "$v"; fi
"$osctl" -e "$A" patch mc --patch '{"machine":{"certSANs":["10.9.8.7","api.example.net"]}}' >/dev/null 2>&1
check "certSANs changes renew the API certificate" wait_until 5 bash -c "'$osctl' -e '$A' get apicertificate api -o yaml | grep -q -- '- 10.9.8.7'"
# Links and addresses are the kernel's, read over rtnetlink and followed through its events
# (a change made behind machined's back shows up); the certificate names the addresses.
v=$("$osctl" -e "$A" get links 2>&1)
grep -qE "^$A +network +LinkStatus +lo +[0-9]+ +loopback +00:00:00:00:00:00 +(unknown|up)$" <<<"$v" &&
	ok "get links: the kernel's loopback link with its type, address and state" || not_ok "get links" "$v"
# Container mode (these nodes): the host or the engine owns the network, so no layer asks
# for anything: not even the loopback's default, whatever the kernel command line says.
v=$("$osctl" -e "$A" get linkspecs 2>&1)
[[ $? -eq 0 && $(wc -l <<<"$v") -eq 1 ]] && head -1 <<<"$v" | grep -q '^NODE ' &&
	ok "a node in container mode wants nothing of the network (no link, address or route specs)" || not_ok "container mode network specs" "$v"
ip addr add 10.77.0.1/32 dev lo
if wait_until 10 bash -c "'$osctl' -e '$A' get addresses | grep -qE '^$A +network +AddressStatus +lo/10.77.0.1/32 +[0-9]+ +10.77.0.1/32 +lo +global$'" &&
	wait_until 10 bash -c "'$osctl' -e '$A' get apicertificate api -o yaml | grep -q -- '- 10.77.0.1$'"; then
	ok "an address added behind machined's back becomes an AddressStatus and a name of the API certificate"
else
	not_ok "address followed" "$("$osctl" -e "$A" get addresses 2>&1)" "$("$osctl" -e "$A" get apicertificate api -o yaml 2>&1 | grep -- '- ')"
fi
ip addr del 10.77.0.1/32 dev lo
check "a removed address leaves AddressStatus" wait_until 10 bash -c "! '$osctl' -e '$A' get addresses | grep -q 10.77.0.1"
printf 'version: v1alpha1\nmachine:\n  typo: 1\n' >bad.yaml
v=$("$osctl" -e "$A" apply-config -f bad.yaml 2>&1)
if [[ $? -ne 0 ]] && grep -q 'bad.yaml:3:3: /machine/typo' <<<"$v"; then ok "an invalid config is refused with file:line:col"; else not_ok "invalid config error" "$v"; fi

# --- osctl's own pieces ---
refuse "osctl cluster refuses a provisioner it does not have, naming those it has" '--provisioner lxc: expected qemu or docker' \
	"$osctl" cluster create --provisioner lxc
refuse "osctl cluster refuses an unknown option (never a silent default)" 'cluster: unknown option --worker$' \
	"$osctl" cluster create --worker 2
refuse "and an option without its value" 'cluster: --name needs a value' "$osctl" cluster create --name
refuse "and an argument too many" 'cluster: unexpected argument extra' "$osctl" cluster create extra
check "completion bash is valid bash" bash -n <("$osctl" completion bash)
"$osctl" completion zsh | grep -q '^compdef _osctl osctl' && ok "completion zsh" || not_ok "completion zsh"
"$osctl" --osconfig merged.cfg config merge roles.cfg >/dev/null && "$osctl" --osconfig merged.cfg config merge roles.cfg >/dev/null
v=$("$osctl" --osconfig merged.cfg config contexts 2>&1)
grep -q 'reader-1' <<<"$v" && [[ $(grep -c 'operator' <<<"$v") -eq 2 ]] && ok "config merge: contexts added, clashing names renamed" || not_ok "config merge" "$v"
"$osctl" --osconfig merged.cfg config context operator-1 && "$osctl" --osconfig merged.cfg config endpoint "$A" && "$osctl" --osconfig merged.cfg config node "$B"
v=$("$osctl" --osconfig merged.cfg config info 2>&1)
if grep -q 'Current context: *operator-1' <<<"$v" && grep -q "Endpoints: *$A" <<<"$v" && grep -q 'Roles: *os:operator' <<<"$v"; then ok "config context/endpoint/node/info"; else not_ok "config info" "$v"; fi
v=$("$osctl" --osconfig merged.cfg services 2>&1)
grep -qE "^$B +containerd" <<<"$v" && ok "a context's endpoint and nodes are used" || not_ok "context endpoint/nodes" "$v"
v=$("$osctl" --osconfig merged.cfg --context nosuch services 2>&1)
if [[ $? -ne 0 ]] && grep -q 'no context nosuch' <<<"$v"; then ok "an unknown context is a clear error"; else not_ok "unknown context" "$v"; fi
v=$("$osctl" -e 127.0.0.1:1 services 2>&1)
if [[ $? -ne 0 ]] && grep -q 'Connection refused' <<<"$v" && grep -q 'is the node up' <<<"$v"; then ok "connection refused is named, with a hint"; else not_ok "connection refused message" "$v"; fi
v=$("$osctl" validate -c gen/controlplane.yaml 2>&1)
grep -q 'is valid' <<<"$v" && ok "validate -c" || not_ok "validate" "$v"
v=$("$osctl" -e 127.0.0.1:1 version --client 2>&1)
[[ $? -eq 0 ]] && grep -q '^Client:' <<<"$v" && ! grep -q 'NODE:' <<<"$v" && ok "version --client asks no node" || not_ok "version --client" "$v"
v=$("$osctl" -e "$A" get rd 2>&1)
if grep -qE '^runtime +Service +services,service,svc +os:reader$' <<<"$v" && grep -qE '^config +MachineConfig +machineconfig,mc,config +os:admin$' <<<"$v"; then
	ok "get rd: every type with its aliases and the role it needs"
else
	not_ok "get rd" "$v"
fi
expect "get -l '!key': a selector every service matches" "^$A +runtime +Service +containerd " "$osctl" -e "$A" get services -l '!nosuch'
v=$("$osctl" -e "$A" get services -l nosuch 2>&1)
[[ $? -eq 0 && $(wc -l <<<"$v") -eq 1 ]] && head -1 <<<"$v" | grep -q '^NODE ' && ok "get -l key: a selector no service matches gives an empty table" || not_ok "get -l nosuch" "$v"
refuse "get -l with a malformed selector is a clear error" 'INVALID_ARGUMENT.*selector' "$osctl" -e "$A" get services -l 'a in (b'
expect "get --namespace runtime" "^$A +runtime +MachineStatus +machine " "$osctl" -e "$A" get ms --namespace runtime
refuse "get --namespace network: MachineStatus is not there" 'NOT_FOUND: MachineStatus is in namespace runtime, not network' "$osctl" -e "$A" get ms machine --namespace network
refuse "an unknown type is NOT_FOUND, naming the types there are" 'NOT_FOUND: unknown resource type nosuchtype; the types are .*MachineStatus' "$osctl" -e "$A" get nosuchtype -w
# Made-up kinds on read paths: a watch must not make the store keep one (200 watches,
# 1 MiB names each (as no command line can carry them: abuse kinds), are refused and
# machined's memory stays where it was).
rss_a() { awk '/VmRSS/ {print $2}' /proc/$mpid/status; }
u=$(node_pid a); ainit=$(awk '{print $1}' /proc/$u/task/$u/children)
mpid=; for c in $(cat /proc/$ainit/task/*/children); do [[ $(cat /proc/$c/comm 2>/dev/null) == machined ]] && mpid=$c; done
# Five first: the buffers that carry a 2 MiB request grow once to its size and stay.
bad=0
"$out/host/bin/abuse" kinds 5 1048576 "$A" ca.crt reader.crt reader.key >kinds0.out 2>&1 || bad=1
r0=$(rss_a)
"$out/host/bin/abuse" kinds 200 1048576 "$A" ca.crt reader.crt reader.key >kinds.out 2>&1 || bad=1
o=$(cat kinds.out)
grep -q '^ok - kinds: 200 of 200' kinds.out || bad=1
r1=$(rss_a)
if ((bad == 0 && r1 - r0 < 1024)); then ok "200 watches on made-up 1 MiB types and namespaces: refused, machined's RSS flat after the first five (${r0} -> ${r1} KiB): $(sed -n 's/.*none served (\(.*\))$/\1/p' kinds.out | head -c 120)"; else not_ok "made-up kinds" "$bad not refused as expected; RSS ${r0} -> ${r1} KiB" "$o"; fi
long=$(head -c 102400 /dev/zero | tr '\0' x)
refuse "a watch of an id longer than any resource's is INVALID_ARGUMENT (a watch keeps its id)" \
	'INVALID_ARGUMENT: an id of 102400 characters: at most 253' timeout 5 "$osctl" -e "$A" get services "$long" -w
printf 'contexts: {}\n' >nocontext.cfg
expect "config add to a client config with no current context makes the new one current" 'Current context: *reader' \
	bash -c "'$osctl' --osconfig nocontext.cfg config add reader --ca ca.crt --crt reader.crt --key reader.key && '$osctl' --osconfig nocontext.cfg config info"
mkdir -p home/.osctl && cp gen/osconfig home/.osctl/config
expect "with neither --osconfig nor OSCONFIG, osctl reads ~/.osctl/config" 'Hostname: *edited' env -u OSCONFIG HOME="$t/home" "$osctl" -e "$A" version
"$osctl" -e "$A" dmesg -f --tail >dmesg.out 2>&1 &
at_exit "proc_kill $(proc_track $!)"
marker="basalt-api-test-$RANDOM$RANDOM"
wait_until 5 test -e dmesg.out && sleep 0.5  # a test parameter: the follow under way before the write
echo "$marker" >/dev/kmsg
check "dmesg -f: a new kernel message arrives" wait_line dmesg.out "^\[ *[0-9]+\.[0-9]{6}\] $marker\$" 10

# --- forwarding ---
v=$("$osctl" -e "$A" -n "$B" get hostname -o yaml 2>&1)
if grep -q "^node: $B" <<<"$v" && grep -q 'hostname: node-b' <<<"$v"; then ok "forwarding: node b answers through node a (its hostname is node-b)"; else not_ok "forwarding to b" "$v"; fi
v=$("$osctl" -e "$A" -n "$A,$B" version 2>&1)
if [[ $(grep -c 'NODE:' <<<"$v") -eq 2 ]] && grep -q 'Hostname: *edited' <<<"$v" && grep -q 'Hostname: *node-b' <<<"$v"; then ok "forwarding: one reply per node, each from that node"; else not_ok "two nodes" "$v"; fi
v=$("$osctl" -e "$A" -n "$B,127.0.0.3:1" services 2>&1); rc=$?
if [[ $rc -ne 0 ]] && grep -qE "^$B +containerd" <<<"$v" && grep -q 'node 127.0.0.3:1: UNAVAILABLE' <<<"$v"; then ok "forwarding: a dead node is a per-node error, the others answer"; else not_ok "dead node" "$v"; fi
o=$(timeout 3 "$osctl" -e "$A" -n "$B" get hostnamespec -w -o yaml 2>&1)
if grep -q "^node: $B" <<<"$o" && grep -q 'event: created' <<<"$o" && grep -q 'hostname: node-b' <<<"$o"; then ok "forwarding: a watch streams from node b"; else not_ok "forwarded watch" "$o"; fi
v=$("$osctl" -e "$A" -n "$B" version 2>&1)
grep -q "NODE: *$B" <<<"$v" && grep -q 'Hostname: *node-b' <<<"$v" && ok "forwarding: the kept connection to b serves again after a cancelled stream" || not_ok "forward after cancel" "$v"
o=$(as reader -n "$B" service containerd restart 2>&1)
if [[ $? -ne 0 ]] && grep -q 'PERMISSION_DENIED' <<<"$o"; then ok "forwarding keeps the caller's role (reader cannot restart on b)"; else not_ok "forwarded role" "$o"; fi
expect "forwarding: a reader may list b's services" "^$B +containerd " as reader -n "$B" services
refuse "forwarding: osctl refuses more than 32 nodes, not cutting the list" '-n names more than 32 addresses' \
	"$osctl" -e "$A" -n "$(seq -s, -f '10.255.0.%g' 1 33)" version
refuse "forwarding: a node without machine.features.localForwarding refuses loopback targets" \
	'INVALID_ARGUMENT.*127.0.0.1 is a loopback or link-local address.*localForwarding' \
	"$osctl" --osconfig "race/gen-$winner/osconfig" -e "$D" -n 127.0.0.1 version
refuse "... and link-local ones" 'INVALID_ARGUMENT.*fe80::1.*is a loopback or link-local' \
	"$osctl" --osconfig "race/gen-$winner/osconfig" -e "$D" -n 'fe80::1' version
# 64 new connections at once (to addresses this namespace has no route to): past the
# bucket of 40, the rest are refused per node, saying why.
"$osctl" -e "$A" -n "$(seq -s, -f '10.255.1.%g' 1 32)" version >burst1.out 2>&1 &
bp=$!
"$osctl" -e "$A" -n "$(seq -s, -f '10.255.2.%g' 1 32)" version >burst2.out 2>&1
wait "$bp"
# 24 when both arrive at once; fewer by 20 for each second between them (the refill).
n=$(cat burst1.out burst2.out | grep -c 'new connections to other nodes per second')
((n >= 10 && n <= 24)) && ok "forwarding: new connections to other nodes are rate-limited ($n of 64 refused)" || not_ok "outbound connection rate limit" "$n refused" "$(tail -3 burst2.out)"

# --- apply modes, on node c: refusal, staged, reboot, auto with a reboot; and stages ---
expect "node c takes its config" 'applied without a reboot' \
	"$osctl" apply-config --insecure -e "$C" --cert-fingerprint "$fpc" -f worker-c.yaml
wait_line c/console.log 'API serving mutual TLS' 10 >/dev/null
"$osctl" -e "$C" get ms -w -o yaml >ms-c.out 2>&1 &
at_exit "proc_kill $(proc_track $!)"
sed 's/^  network:$/  install:\n    disk: \/dev\/vdb\n  network:/' worker-c.yaml >install-c.yaml
refuse "apply --mode no-reboot refuses a change that needs a reboot, saying why" 'FAILED_PRECONDITION.*needs a reboot \(.*install' \
	"$osctl" -e "$C" apply-config -f install-c.yaml --mode no-reboot
check "the refused config is not in force" mc_without /dev/vdb "$C"
sed 's/hostname: node-c/hostname: staged-c/' worker-c.yaml >staged-c.yaml
expect "apply --mode staged: kept for the next boot" 'staged: the config takes effect at the next boot' \
	"$osctl" -e "$C" apply-config -f staged-c.yaml --mode staged
expect "staged: the config in force is unchanged" 'Hostname: *node-c' "$osctl" -e "$C" version
expect "reboot node c" 'rebooting' "$osctl" -e "$C" reboot
how=$(node_exit c 15)
[[ $how == reboot ]] && ok "node c reboots" || not_ok "node c reboots" "$how"
check "MachineStatus went from running to rebooting (watched)" grep -q 'stage: rebooting' ms-c.out
# boot_c: node c's next boot, from its persisted state.
boot_c() { basalt_node "$out" "$t/c" "$C" && wait_line c/console.log 'API serving mutual TLS' 10 >/dev/null; }
# (not through check: its command substitution would wait on the node's output)
boot_c && ok "node c boots again from its persisted config" || not_ok "node c boots again" "$(tail -5 c/console.log)"
check "staged: the staged config is in force after the reboot" wait_until 10 bash -c "'$osctl' -e '$C' version | grep -q 'Hostname: *staged-c'"
sed 's/hostname: node-c/hostname: reboot-c/' worker-c.yaml >reboot-c.yaml
expect "apply --mode reboot: applied, then a reboot" 'applied; rebooting' "$osctl" -e "$C" apply-config -f reboot-c.yaml --mode reboot
how=$(node_exit c 15)
[[ $how == reboot ]] && ok "apply --mode reboot: node c reboots" || not_ok "apply --mode reboot reboots" "$how"
boot_c
check "apply --mode reboot: the config is in force after the reboot" wait_until 10 bash -c "'$osctl' -e '$C' version | grep -q 'Hostname: *reboot-c'"
expect "apply --mode auto with a change that needs a reboot: applied, rebooting, saying why" 'applied; rebooting because .*install' \
	"$osctl" -e "$C" apply-config -f install-c.yaml
how=$(node_exit c 15)
[[ $how == reboot ]] && ok "apply --mode auto: node c reboots for the install change" || not_ok "auto reboots" "$how"
boot_c
expect "auto: the install change is in force after the reboot" 'disk: /dev/vdb' "$osctl" -e "$C" get mc -o yaml

# --- persistence: a try survives neither its deadline nor a restart; bad copies fall back ---
# machined_of DIR: the PID of a node's machined.
machined_of() {
	local u i c
	u=$(node_pid "$1") && i=$(awk '{print $1}' /proc/$u/task/$u/children)
	for c in $(cat /proc/$i/task/*/children 2>/dev/null); do [[ $(cat /proc/$c/comm 2>/dev/null) == machined ]] && echo "$c"; done
}
# state_put FILE TEXT-FILE: writes a persisted copy as machined does (checksum header, text).
state_put() { { printf '# basalt-config sha256=%s len=%s\n' "$(sha256sum <"$2" | cut -c1-64)" "$(stat -c %s "$2")"; cat "$2"; } >"$1"; }
hostname_is() { "$osctl" -e "$C" version 2>/dev/null | grep -q "Hostname: *$1\$"; }
sed 's/hostname: node-c/hostname: try-c/' install-c.yaml >try-c.yaml
expect "try, then a reboot: applied for a try" 'applied for a try' "$osctl" -e "$C" apply-config -f try-c.yaml --mode try --timeout 12s
cmp -s <(tail -n +2 c/state/config.yaml) install-c.yaml && ok "try: the committed config stays the persisted one" || not_ok "try keeps the committed config persisted" "$(head -c 300 c/state/config.yaml)"
"$osctl" -e "$C" reboot >/dev/null 2>&1
[[ $(node_exit c 15) == reboot ]] && boot_c
check "try: resumed after the reboot, before its deadline" wait_line c/console.log 'try: resumed after a restart' 10
check "try: after the reboot, the tried config is in force until its deadline" wait_until 5 hostname_is try-c
check "try: at the deadline the committed config returns, after a reboot too" wait_until 20 hostname_is node-c
expect "try, then machined killed: applied for a try" 'applied for a try' "$osctl" -e "$C" apply-config -f try-c.yaml --mode try --timeout 6s
kill -KILL "$(machined_of c)"
check "try: machined, started again, resumes the try" wait_line c/console.log 'try: resumed after a restart.*' 15
check "try: at the deadline the committed config returns, after a restart of machined too" wait_until 20 hostname_is node-c
sed 's/hostname: node-c/hostname: staged2-c/' install-c.yaml >staged2-c.yaml
expect "staged, then a try: the staged config is kept" 'staged' "$osctl" -e "$C" apply-config -f staged2-c.yaml --mode staged
expect "staged, then a try: the try is applied" 'applied for a try' "$osctl" -e "$C" apply-config -f try-c.yaml --mode try --timeout 3s
check "staged, then a try: the try rolls back to the config in force" wait_until 15 hostname_is node-c
grep -q 'hostname: staged2-c' c/state/config.yaml && ok "staged, then a try: the rollback keeps the staged config for the next boot" || not_ok "rollback keeps staged" "$(grep hostname c/state/config.yaml)"
"$osctl" -e "$C" reboot >/dev/null 2>&1
[[ $(node_exit c 15) == reboot ]] && boot_c
check "staged, then a try: after the reboot the staged config is in force" wait_until 10 hostname_is staged2-c
# A persisted config that no longer validates: the last good copy is used, saying so.
"$osctl" -e "$C" reboot >/dev/null 2>&1
node_exit c 15 >/dev/null
printf 'version: v1alpha1\nmachine:\n  type: worker\ncluster:\n  name: demo\n' >nocert.yaml
state_put c/state/config.yaml nocert.yaml
boot_c
check "an invalid persisted config: the console says so, and the last good copy is used" grep -q 'config.yaml does not validate.*using the last good copy config.yaml.prev' c/console.log
check "an invalid persisted config: the last good copy is in force" wait_until 10 hostname_is node-c
# Both copies unusable: the node keeps the CA it had, never unauthenticated maintenance.
"$osctl" -e "$C" reboot >/dev/null 2>&1
node_exit c 15 >/dev/null
state_put c/state/config.yaml nocert.yaml
state_put c/state/config.yaml.prev nocert.yaml
boot_c
check "no usable persisted config: the console says the API keeps the last CA" grep -q 'keeps serving mutual TLS with the CA of the last config in force' c/console.log
refuse "no usable persisted config: no maintenance mode (a client without identity is refused)" 'TLS handshake: .*refused this client' \
	"$osctl" version --insecure -e "$C"
expect "no usable persisted config: an admin of the last CA applies a config over mutual TLS" 'applied' \
	"$osctl" -e "$C" apply-config -f install-c.yaml
check "no usable persisted config: the applied config is in force" wait_until 10 hostname_is node-c
# The boot menu's maintenance entry: nothing persisted is used; a normal boot uses it again.
"$osctl" -e "$C" reboot >/dev/null 2>&1
node_exit c 15 >/dev/null
echo "console=ttyS0 basalt.maintenance=1" >maint.cmdline
NODE_ARGS="--cmdline $t/maint.cmdline" basalt_node "$out" "$t/c" "$C"
check "basalt.maintenance=1: the console says the persisted config and identity are not used" \
	wait_line c/console.log 'maintenance boot \(basalt.maintenance=1\): the config and identity in .* are not used' 10
# (the console line comes before apid listens: wait for the port, not for a fixed time)
check "basalt.maintenance=1: maintenance mode (a client without identity is served)" \
	wait_until 10 bash -c "'$osctl' version --insecure -e '$C' 2>/dev/null | grep -q 'Maintenance: yes'"
"$osctl" version --insecure -e "$C" | grep -q 'node-c' && not_ok "basalt.maintenance=1: the persisted config is not in force" ||
	ok "basalt.maintenance=1: the persisted config is not in force"
# (no role can ask for a shutdown in maintenance mode: init's SIGTERM, as a power-off)
u=$(node_pid c) && kill -TERM "$(awk '{print $1}' /proc/$u/task/$u/children)"
node_exit c 15 >/dev/null
boot_c && ok "a normal boot after the maintenance boot: the persisted config is in force again" ||
	not_ok "a normal boot after the maintenance boot" "$(tail -5 c/console.log)"

# --- reboot and shutdown: acknowledged, then done ---
"$osctl" -e "$B" get ms -w -o yaml >ms-b.out 2>&1 &
at_exit "proc_kill $(proc_track $!)"
wait_until 5 grep -q 'stage: running' ms-b.out
expect "shutdown acknowledged" 'shutting down' "$osctl" -e "$B" shutdown
check "node b's init completes its shutdown" wait_line b/console.log 'shutdown complete in [0-9]+ ms, powering off' 15
how=$(node_exit b 15)
[[ $how == poweroff ]] && ok "node b powers off (reboot(2) with power-off ends its PID namespace)" || not_ok "node b powers off" "$how" "$(tail -3 b/console.log)"
check "MachineStatus went to shutting-down (watched)" grep -q 'stage: shutting-down' ms-b.out
expect "reboot acknowledged (operator)" 'rebooting' as operator reboot
check "node a's init completes its shutdown" wait_line a/console.log 'shutdown complete in [0-9]+ ms, rebooting' 15
how=$(node_exit a 15)
[[ $how == reboot ]] && ok "node a reboots (reboot(2) with restart ends its PID namespace)" || not_ok "node a reboots" "$how" "$(tail -3 a/console.log)"
finish
