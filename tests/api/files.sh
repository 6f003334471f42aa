#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What a node keeps, seen and written through the API: machine.files (create, overwrite,
# append; each kept declarative: applied again, nothing changes) and osctl read / ls of
# files under /var, /proc and /sys, with every way out of those trees refused: "..", paths
# outside them, symlinks (absolute and relative) and mounts leading out, /proc's magic
# links, kernel memory; the roles (List os:operator, Read os:admin); and Reset, after
# which the node starts again in maintenance mode. One node on loopback whose /var is a
# directory of the test's.
#   files.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
osctl=$out/bin/osctl
t=$(test_dir)
A=127.0.0.1:50000
plan 47
var=$t/a/var
mkdir -p "$var" "$t/outside"
echo "secret outside /var" >"$t/outside/secret"
# A procfs mounted under /var (as a workload could bind one) is not /proc: not served.
mkdir -p "$var/p" && mount -t proc proc "$var/p" && at_exit "umount -l '$var/p'"
NODE_ARGS="--var-dir $var" basalt_node "$out" "$t/a" "$A"
cd "$t" || exit 1
fp=$(basalt_fingerprint a) || bail "the node starts" "$(tail -5 a/console.log)"
"$osctl" gen config demo https://127.0.0.1:6443 -o gen >/dev/null

# Files the config names: the node makes their directories; a create over an existing file
# leaves it; a planted symlink is never followed.
mkdir -p "$var/kept"
echo "made by a workload" >"$var/kept/old.conf"
ln -s "$t/outside" "$var/link-out"
cat >files.yaml <<'EOF'
machine:
  files:
    - path: /var/etc/app/app.conf
      content: "port: 8080\n"
      permissions: 0o640
      op: create
    - path: /var/kept/old.conf
      content: "from the config\n"
      op: create
    - path: /var/etc/app/motd
      content: "first\n"
      op: overwrite
    - path: /var/log/app.log
      content: "line from the config\n"
      op: append
    - path: /var/link-out/planted
      content: "must not land outside\n"
      op: create
    - path: /var/log/fifo
      content: "never blocks\n"
      op: append
    - path: /var/log/hardlink
      content: "must not reach the other name\n"
      op: append
EOF
refuse "a machine.files path with .. is refused at apply, naming the field" \
	'/machine/files/0/path: /var/../etc/x: ".." is refused' \
	"$osctl" apply-config --insecure --cert-fingerprint "$fp" -e "$A" -f gen/controlplane.yaml \
	--config-patch '{"machine":{"files":[{"path":"/var/../etc/x","content":"x"}]}}'
mkdir -p "$var/log" && printf 'old line\n' >"$var/log/app.log"
mkfifo "$var/log/fifo" && ln "$var/kept/old.conf" "$var/log/hardlink"
expect "apply-config with machine.files" 'applied without a reboot' \
	"$osctl" apply-config --insecure --cert-fingerprint "$fp" -e "$A" -f gen/controlplane.yaml --config-patch @files.yaml
export OSCONFIG=$t/gen/osconfig
check "the node serves mutual TLS" wait_line a/console.log 'API serving mutual TLS' 20
check "create: the file is written with its permissions, its directories made" \
	wait_until 10 bash -c "[[ \$(cat '$var/etc/app/app.conf' 2>/dev/null) == 'port: 8080' && \$(stat -c %a '$var/etc/app/app.conf') == 640 ]]"
[[ $(cat "$var/kept/old.conf") == "made by a workload" ]] && ok "create over an existing file leaves it as it is" ||
	not_ok "create left the existing file" "$(cat "$var/kept/old.conf")"
[[ $(cat "$var/log/app.log") == $'old line\nline from the config' ]] && ok "append: the content added at the end" ||
	not_ok "append" "$(cat -A "$var/log/app.log")"
[[ ! -e $t/outside/planted ]] && ok "a symlink planted under /var is not followed: nothing written outside" ||
	not_ok "written through the planted symlink" "$(ls -la "$t/outside")"
v=$(timeout 20 "$osctl" -e "$A" get files 2>&1)
if grep -qE 'FileStatus +/var/etc/app/app.conf +[0-9]+ +create +(written|unchanged) +11' <<<"$v" &&
	grep -qE 'FileStatus +/var/kept/old.conf +[0-9]+ +create +exists' <<<"$v" &&
	grep -qE 'FileStatus +/var/link-out/planted +[0-9]+ +create +failed .*symlink' <<<"$v"; then
	ok "osctl get files: written, exists, and the refused one failed saying why"
else
	not_ok "osctl get files" "$v"
fi
v=$(timeout 20 "$osctl" -e "$A" get files 2>&1)
grep -qE 'FileStatus +/var/log/fifo +[0-9]+ +append +failed .*not a regular file' <<<"$v" &&
	grep -qE 'FileStatus +/var/log/hardlink +[0-9]+ +append +failed .*not a regular file with one link' <<<"$v" &&
	[[ $(cat "$var/kept/old.conf") == "made by a workload" ]] &&
	ok "append to a FIFO or a hard link to another file: refused, without blocking or writing" ||
	not_ok "append to a FIFO or hard link" "$v" "$(grep -a files: a/console.log)"
grep -q 'files: /var/link-out/planted: its directory: a part of the path is a symlink' a/console.log &&
	ok "the console names the file that could not be written and why" || not_ok "console" "$(grep files: a/console.log)"
# The same files applied again (another change beside them): nothing written twice.
sed 's/port: 8080/port: 9090/; s/first/second/' files.yaml >files2.yaml
expect "apply-config again (overwrite content changed)" 'applied without a reboot' \
	timeout 20 "$osctl" -e "$A" apply-config -f gen/controlplane.yaml --config-patch @files2.yaml
check "overwrite: the file replaced with the new content" \
	wait_until 10 bash -c "[[ \$(cat '$var/etc/app/motd' 2>/dev/null) == second ]]"
[[ $(cat "$var/etc/app/app.conf") == "port: 8080" ]] && ok "create is not redone on a new config: the file stays" ||
	not_ok "create redone" "$(cat "$var/etc/app/app.conf")"
[[ $(grep -c 'line from the config' "$var/log/app.log") == 1 ]] && ok "append applied again does not add the content twice" ||
	not_ok "append twice" "$(cat "$var/log/app.log")"

# --- osctl read ---
v=$(timeout 20 "$osctl" -e "$A" read /var/etc/app/app.conf 2>&1)
[[ $v == "port: 8080" ]] && ok "osctl read: a file under /var" || not_ok "osctl read /var" "$v"
head -c 3000000 /dev/urandom >"$var/big.bin"
timeout 60 "$osctl" -e "$A" read /var/big.bin >big.out 2>big.err
[[ $(sha256sum <big.out) == "$(sha256sum <"$var/big.bin")" ]] && ok "osctl read: a 3 MB file arrives whole, byte for byte" ||
	not_ok "big read" "$(stat -c %s big.out)" "$(cat big.err)"
v=$(timeout 20 "$osctl" -e "$A" read /proc/self/status 2>&1)
grep -q '^Name:' <<<"$v" && ok "osctl read: a file of /proc (size 0, read to its end)" || not_ok "read /proc" "$v"
v=$(timeout 20 "$osctl" -e "$A" read /sys/class/net/lo/mtu 2>&1)
[[ $v =~ ^[0-9]+$ ]] && ok "osctl read: /sys through its own relative symlinks (class/net/lo -> ../../devices/...)" ||
	not_ok "read /sys via symlink" "$v"
ln -s ../etc/app/app.conf "$var/kept/inside-link"
v=$(timeout 20 "$osctl" -e "$A" read /var/kept/inside-link 2>&1)
[[ $v == "port: 8080" ]] && ok "a symlink that stays inside /var is followed" || not_ok "inside symlink" "$v"
ln -s "$t/outside/secret" "$var/abs-out"
ln -s ../../outside/secret "$var/rel-out"
for p in /var/abs-out /var/rel-out /var/link-out/secret; do
	v=$(timeout 20 "$osctl" -e "$A" read "$p" 2>&1)
	if [[ $? -ne 0 ]] && grep -q 'PERMISSION_DENIED.*leads out of /var' <<<"$v" && ! grep -q 'secret outside' <<<"$v"; then
		ok "read $p (a symlink out of /var): refused"
	else
		not_ok "read $p refused" "$v"
	fi
done
v=$(timeout 20 "$osctl" -e "$A" read /var/../etc/passwd 2>&1)
[[ $? -ne 0 ]] && grep -q 'INVALID_ARGUMENT.*"\.\." is refused' <<<"$v" && ok "read with ..: refused" || not_ok "read .." "$v"
v=$(timeout 20 "$osctl" -e "$A" read /etc/passwd 2>&1)
[[ $? -ne 0 ]] && grep -q 'INVALID_ARGUMENT.*only files under /var, /proc and /sys' <<<"$v" && ok "read outside the three trees: refused" ||
	not_ok "read /etc" "$v"
v=$(timeout 20 "$osctl" -e "$A" read /proc/self/root/etc/passwd 2>&1)
[[ $? -ne 0 ]] && grep -q 'PERMISSION_DENIED.*link of /proc' <<<"$v" && ! grep -q 'root:' <<<"$v" &&
	ok "read through /proc/self/root (a magic link): refused" || not_ok "magic link" "$v"
v=$(timeout 20 "$osctl" -e "$A" read /var/p/version 2>&1)
[[ $? -ne 0 ]] && grep -q 'PERMISSION_DENIED.*a procfs mounted under /var is not served' <<<"$v" &&
	ok "read through a procfs mounted under /var: refused" || not_ok "procfs under /var" "$v"
v=$(timeout 20 "$osctl" -e "$A" read /proc/kcore 2>&1)
[[ $? -ne 0 ]] && grep -q 'PERMISSION_DENIED.*kernel memory' <<<"$v" && ok "read /proc/kcore: refused" || not_ok "kcore" "$v"
v=$(timeout 20 "$osctl" -e "$A" read /proc/1/mem 2>&1)
[[ $? -ne 0 ]] && grep -q "PERMISSION_DENIED.*a process's memory" <<<"$v" && ok "read /proc/1/mem: refused" || not_ok "mem" "$v"
v=$(timeout 20 "$osctl" -e "$A" read /var/etc 2>&1)
[[ $? -ne 0 ]] && grep -q 'INVALID_ARGUMENT.*a directory' <<<"$v" && ok "read of a directory: an error that says so" || not_ok "read dir" "$v"
mkfifo "$var/fifo"
v=$(timeout 20 "$osctl" -e "$A" read /var/fifo 2>&1); rc=$?
[[ $rc -ne 0 && $rc -ne 124 ]] && grep -q 'not a regular file' <<<"$v" && ok "read of a FIFO: refused at once, never waits" || not_ok "fifo" "exit $rc" "$v"
v=$(timeout 20 "$osctl" -e "$A" read /var/nosuch 2>&1)
[[ $? -ne 0 ]] && grep -q 'NOT_FOUND' <<<"$v" && ok "read of a missing file: NOT_FOUND" || not_ok "missing" "$v"

# --- osctl ls ---
v=$(timeout 20 "$osctl" -e "$A" ls /var 2>&1)
if grep -qE "^$A +\. *$" <<<"$v" && grep -qE "^$A +kept$" <<<"$v" && grep -qE "^$A +abs-out -> $t/outside/secret$" <<<"$v" &&
	! grep -q 'app.conf' <<<"$v"; then
	ok "ls /var: the root and its entries, symlinks with their targets, no recursion"
else
	not_ok "ls /var" "$v"
fi
v=$(timeout 20 "$osctl" -e "$A" ls /var -r -l 2>&1)
if grep -qE "^$A +-rw-r----- +0 +0 +11 +[0-9-]+ [0-9:]+ +etc/app/app.conf$" <<<"$v" && grep -qE "^$A +l[rwx-]{9} .* link-out -> $t/outside$" <<<"$v" &&
	! grep -q 'link-out/' <<<"$v"; then
	ok "ls -r -l: recursive with mode, owner, size and time; a symlinked directory is not entered"
else
	not_ok "ls -r -l" "$v"
fi
v=$(timeout 20 "$osctl" -e "$A" ls /var -r 2>&1)
grep -qE "^$A +p$" <<<"$v" && ! grep -q ' p/' <<<"$v" && ok "ls -r lists a mount below the root but does not enter it" ||
	not_ok "ls -r across a mount" "$(grep -E ' p(/|$)' <<<"$v" | head -5)"
v=$(timeout 20 "$osctl" -e "$A" ls /var -d 2 -t f 2>&1)
if grep -qE "^$A +big.bin$" <<<"$v" && grep -qE "^$A +kept/old.conf$" <<<"$v" && ! grep -qE ' (kept|etc|etc/app)$' <<<"$v" &&
	! grep -q 'app.conf' <<<"$v"; then
	ok "ls -d 2 -t f: two levels, regular files only"
else
	not_ok "ls -d 2 -t f" "$v"
fi
v=$(timeout 20 "$osctl" -e "$A" ls /sys/class/net 2>&1)
grep -qE "^$A +lo -> \.\./\.\./devices/virtual/net/lo$" <<<"$v" && ok "ls /sys/class/net: its symlinks listed, not followed" || not_ok "ls /sys" "$v"
v=$(timeout 20 "$osctl" -e "$A" ls /var/link-out 2>&1)
[[ $? -ne 0 ]] && grep -q 'PERMISSION_DENIED.*leads out of /var' <<<"$v" && ok "ls of a symlink out of /var: refused" || not_ok "ls out" "$v"

# --- roles: List needs os:operator, Read os:admin ---
grep -oP '(?<=crt: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.crt
grep -oP '(?<=key: ).*' gen/secrets.yaml | head -1 | base64 -d >ca.key
for role in reader operator; do
	"$osctl" gen key --name $role >/dev/null
	"$osctl" gen crt --ca ca --key $role.key --name $role --role os:$role >/dev/null
	"$osctl" --osconfig roles.cfg config add $role --ca ca.crt --crt $role.crt --key $role.key
done
as() { local r=$1; shift; timeout 20 "$osctl" --osconfig roles.cfg --context "$r" -e "$A" "$@"; }
v=$(as reader ls /var 2>&1)
[[ $? -ne 0 ]] && grep -q 'PERMISSION_DENIED' <<<"$v" && ok "ls as os:reader: PERMISSION_DENIED" || not_ok "ls reader" "$v"
v=$(as operator ls /var 2>&1)
grep -qE "^$A +kept$" <<<"$v" && ok "ls as os:operator: allowed" || not_ok "ls operator" "$v"
v=$(as operator read /var/etc/app/app.conf 2>&1)
[[ $? -ne 0 ]] && grep -q 'PERMISSION_DENIED' <<<"$v" && ! grep -q 8080 <<<"$v" &&
	ok "read as os:operator: PERMISSION_DENIED (files under /var may hold secrets)" || not_ok "read operator" "$v"

# --- reset: the configs and the identity go, the node comes back in maintenance mode ---
v=$(as operator reset --reboot 2>&1)
[[ $? -ne 0 ]] && grep -q 'PERMISSION_DENIED' <<<"$v" && [[ -s a/state/config.yaml ]] &&
	ok "reset as os:operator: PERMISSION_DENIED, the config stays" || not_ok "reset operator" "$v"
refuse "reset --wipe with an unknown volume is refused before anything is sent" 'expected STATE, EPHEMERAL' \
	"$osctl" -e "$A" reset --wipe STATE,BOOT
v=$(timeout 20 "$osctl" -e "$A" reset --reboot 2>&1)
if grep -q "^$A: reset: STATE is not on a disk: its configs are removed; EPHEMERAL is not on a disk: in a container /var is not the node's own: not wiped; services stop in order .*, then the node reboots into maintenance mode" <<<"$v"; then
	ok "osctl reset --reboot: what happens to each volume, then the reboot"
else
	not_ok "osctl reset" "$v"
fi
[[ $(node_exit a 60) == reboot ]] && ok "the node reboots" || not_ok "reset reboot" "$(tail -5 a/console.log)"
if [[ ! -e a/state/config.yaml && ! -e a/state/config.yaml.prev && ! -e a/state/identity.yaml && -s $var/etc/app/app.conf ]]; then
	ok "the configs and the node identity are gone from the state directory; /var (not the node's own here) is kept"
else
	not_ok "state after reset" "$(ls -la a/state "$var/etc/app")"
fi
NODE_ARGS="--var-dir $var" basalt_node "$out" "$t/a" "$A"
fp2=$(basalt_fingerprint a 20)
[[ -n $fp2 && $fp2 != "$fp" ]] && ok "started again: maintenance mode, with a new certificate" ||
	not_ok "maintenance after reset" "$(tail -8 a/console.log)"
# --- a watch that falls behind: ABORTED, told to watch again (its client stops reading
# while 3,000 files change, more than the 1,024 events a watch holds) ---
for c in x yy; do
	{
		printf 'machine:\n  files:\n'
		for i in $(seq 3000); do printf '    - path: /var/many/f%d\n      content: "%s"\n      op: overwrite\n' "$i" "$c"; done
	} >"many-$c.yaml"
done
timeout 30 "$osctl" -e "$A" apply-config --insecure --cert-fingerprint "$fp2" -f gen/controlplane.yaml \
	--config-patch @many-x.yaml >/dev/null 2>&1
wait_until 30 test -s "$var/many/f3000"
(
	timeout 60 "$osctl" -e "$A" get files -w 2>watch.err
	echo $? >watch.rc
) | {
	sleep 10
	cat >/dev/null
} &
w=$!
sleep 2
timeout 30 "$osctl" -e "$A" apply-config -f gen/controlplane.yaml --config-patch @many-yy.yaml >apply-many.log 2>&1
wait "$w"
if [[ $(cat watch.rc 2>/dev/null) == 1 ]] && grep -q 'ABORTED' watch.err && grep -q 'fell behind and events were lost' watch.err &&
	[[ $(cat "$var/many/f3000") == yy ]]; then
	ok "a watch whose client stops reading while 3,000 files change ends ABORTED: fell behind, watch again"
else
	not_ok "watch overflow" "rc $(cat watch.rc 2>&1)" "$(tail -3 watch.err)" "$(cat apply-many.log)"
fi
finish
