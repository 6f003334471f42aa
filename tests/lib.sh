# SPDX-License-Identifier: MIT
# Shared helpers for Basalt's shell tests: TAP output with a plan, waiting with deadlines,
# cleanup. Every suite declares its plan first (`plan N`); every check prints "ok - ..." or
# "not ok - ..."; tests/run.sh checks the count against the plan and the exit status.

T_FAILS=0
T_RAN=0
T_PLAN=
T_CLEANUPS=()

# plan N: the number of checks this suite runs; printed as TAP's "1..N".
plan() {
	T_PLAN=$1
	echo "1..$1"
}
ok() {
	T_RAN=$((T_RAN + 1))
	echo "ok - $*"
}
not_ok() {
	T_RAN=$((T_RAN + 1))
	echo "not ok - $1"
	shift
	for line in "$@"; do echo "#   $line"; done
	T_FAILS=$((T_FAILS + 1))
}
note() { echo "# $*"; }
# skip_all REASON: the whole suite cannot run here (TAP "1..0 # SKIP").
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# check DESCRIPTION COMMAND...: ok if the command succeeds; its output is shown when not.
check() {
	local desc=$1 o
	shift
	if o=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "command failed: $*" "$(tail -5 <<<"$o")"; fi
}
# expect DESCRIPTION PATTERN COMMAND...: ok if the command succeeds and its output (stdout
# and stderr) matches the extended regex PATTERN.
expect() {
	local desc=$1 re=$2 o rc
	shift 2
	o=$("$@" 2>&1)
	rc=$?
	if ((rc == 0)) && grep -qE -- "$re" <<<"$o"; then ok "$desc"; else not_ok "$desc" "exit $rc, wanted /$re/ from: $*" "$(tail -5 <<<"$o")"; fi
}
# refuse DESCRIPTION PATTERN COMMAND...: ok if the command fails and says PATTERN.
refuse() {
	local desc=$1 re=$2 o rc
	shift 2
	o=$("$@" 2>&1)
	rc=$?
	if ((rc != 0)) && grep -qE -- "$re" <<<"$o"; then ok "$desc"; else not_ok "$desc" "exit $rc, wanted a failure saying /$re/ from: $*" "$(tail -5 <<<"$o")"; fi
}
# tap_through FILE: shows the checks another program printed into FILE and counts them as
# this suite's own.
tap_through() {
	cat "$1"
	T_RAN=$((T_RAN + $(grep -cE '^(not )?ok( |$)' "$1")))
	T_FAILS=$((T_FAILS + $(grep -cE '^not ok( |$)' "$1")))
}
# bail DESCRIPTION [DETAIL...]: a setup step failed; the rest cannot run. The missing
# checks are counted against the plan by the runner.
bail() {
	not_ok "$@"
	finish
}

# Runs the registered cleanups in reverse order (also on error and interrupt).
at_exit() { T_CLEANUPS+=("$*"); }
run_cleanups() {
	local i
	for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${T_CLEANUPS[$i]}" || true; done
	T_CLEANUPS=()
}
trap run_cleanups EXIT
trap 'exit 130' INT TERM

# This suite's own temporary directory: the runner's, or (run alone) a new one removed at
# exit, made here in the suite's own shell so its cleanup is registered there.
if [[ -z ${TEST_TMPDIR:-} ]]; then
	TEST_TMPDIR=$(mktemp -d /tmp/basalt-test.XXXXXX)
	at_exit "rm -rf '$TEST_TMPDIR'"
fi
# test_dir: prints that directory.
test_dir() { mkdir -p "$TEST_TMPDIR" && realpath "$TEST_TMPDIR"; }

# A process is named by its PID and its start time (field 22 of /proc/PID/stat), so a
# cleanup never signals a process that merely reused the PID.
pid_start() { awk '{ print $22 }' "/proc/$1/stat" 2>/dev/null; }
# proc_track PID: prints "PID:START" for a process just started.
proc_track() { echo "$1:$(pid_start "$1")"; }
# proc_kill PID:START [SIGNAL]: signals the process only if it is still that process.
proc_kill() {
	local pid=${1%%:*} start=${1#*:}
	[[ -n $start && $(pid_start "$pid") == "$start" ]] && kill -"${2:-KILL}" "$pid" 2>/dev/null
	return 0
}

# wait_line FILE REGEX SECONDS: waits until a line of FILE matches (extended regex),
# prints it, and succeeds; fails at the deadline. Follows the file as it grows.
wait_line() {
	local file=$1 re=$2 secs=$3 fd pid rc
	touch "$file"
	exec {fd}< <(exec timeout "$secs" tail -n +1 -F "$file" 2>/dev/null)
	pid=$!
	grep -a -m1 -E -- "$re" <&"$fd"
	rc=$?
	exec {fd}<&-
	kill "$pid" 2>/dev/null
	return $rc
}

# wait_until SECONDS COMMAND...: re-runs COMMAND until it succeeds or the deadline passes.
# For conditions with no event to wait on; polls every 20 ms. Each attempt of a program
# (not a shell function) is itself cut off at the deadline, so none can block past it.
wait_until() {
	local secs=$1 deadline left
	shift
	deadline=$(($(date +%s%N) + secs * 1000000000))
	while :; do
		left=$(((deadline - $(date +%s%N)) / 1000000))
		((left > 0)) || return 1
		if declare -F "$1" >/dev/null; then
			"$@" && return 0
		else
			timeout "$((left / 1000)).$((left % 1000 / 100 + 1))" "$@" && return 0
		fi
		sleep 0.02
	done
}

# dockerd_start DKROOT DIR: Debian's dockerd (the binaries under DKROOT, tests/build.mk's
# peers) with its socket and data root in DIR, its exec root in a short folder of its own
# (containerd's socket path must fit 108 bytes), and --iptables=false: the firewall is never
# touched. DOCKER_HOST and PATH (its client first) are set for the caller; it is stopped at
# exit. Fails when it does not answer within 60 s.
dockerd_start() {
	local dk=$1 dir=$2 ex pid
	ex=$(mktemp -d /tmp/dkx.XXXXXX)
	at_exit "rm -rf '$ex'"
	export PATH=$dk/usr/bin:$dk/usr/sbin:$PATH DOCKER_HOST=unix://$dir/docker.sock
	dockerd -H "$DOCKER_HOST" --data-root "$dir/docker" --exec-root "$ex" --pidfile "$dir/dockerd.pid" \
		--iptables=false --ip6tables=false --ip-masq=false --bridge=none >"$dir/dockerd.log" 2>&1 &
	pid=$(proc_track $!)
	at_exit "proc_kill '$pid' TERM; wait; true"
	wait_until 60 docker version >/dev/null 2>&1
}

# need_netns: nodes run only inside a network namespace of the test's own (tests/run.sh or
# tests/isolate.sh make one), never in the host's.
need_netns() {
	[[ -n ${TEST_NETNS:-} ]] ||
		bail "run through tests/run.sh or tests/isolate.sh: nodes never run in the host's network namespace"
}

# test_cgroup NAME: a cgroup root name for a node, below the runner's test-owned parent
# (or, run alone, one of its own at the top).
test_cgroup() {
	if [[ -n ${TEST_CGROUP_PARENT:-} ]]; then
		echo "$TEST_CGROUP_PARENT/${TEST_NAME:-suite}-$1"
	else
		echo "basalt-test-$$-$1"
	fi
}

# containerd_config DIR: writes DIR/containerd.toml for a containerd whose root, state and
# socket (DIR/containerd.sock) all live in DIR, and prints its path.
containerd_config() {
	local dir=$1
	mkdir -p "$dir"
	cat >"$dir/containerd.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
TOML
	echo "$dir/containerd.toml"
}

# basalt_node OUTDIR DIR LISTEN [CONTAINERD]: a node on this host: init (container mode)
# and machined in new PID/mount/UTS namespaces, its API on LISTEN (ADDR:PORT), state and
# console.log in DIR, and as containerd a do-nothing script (or the CONTAINERD given). Its
# process is DIR/pid (PID:START, see proc_kill); its cleanup is registered.
basalt_node() {
	local out=$1 dir=$2 listen=$3 pid cg wrap=()
	need_netns
	# NODE_NETNS=NAME: the node runs in that network namespace (netns_new); NODE_ARGS: more
	# arguments for its machined.
	[[ -n ${NODE_NETNS:-} ]] && wrap=(ip netns exec "$NODE_NETNS")
	cg=$(test_cgroup "$(basename "$dir")")
	mkdir -p "$dir/state"
	rm -f "$dir/exit" "$dir/pid"
	if [[ -n ${4:-} ]]; then
		cp "$4" "$dir/fake-containerd"
	else
		printf '#!/bin/sh\nexec sleep 100000\n' >"$dir/fake-containerd"
	fi
	chmod +x "$dir/fake-containerd"
	# A subshell waits for the node and keeps its exit status in DIR/exit (see node_exit).
	(
		# shellcheck disable=SC2086
		"${wrap[@]}" unshare --pid --mount --uts --fork --kill-child=SIGKILL --mount-proc "$out/bin/init" --container \
			--debug --socket "$dir/init.sock" --cgroup-root "$cg" -- "$out/bin/machined" \
			--state-dir "$dir/state" --containerd "$dir/fake-containerd" --containerd-config /dev/null \
			--api-listen "$listen" ${NODE_ARGS:-} >"$dir/console.log" 2>&1 &
		proc_track $! >"$dir/pid"
		wait $! 2>/dev/null
		echo $? >"$dir/exit"
	) &
	wait_until 5 test -s "$dir/pid"
	pid=$(cat "$dir/pid")
	at_exit "proc_kill $pid; cgroup_remove '$cg'"
}

# Names that are global to the machine (network namespaces, wireguard interfaces) end in
# TEST_ID: the runner's host PID, so that two runs on one machine (a CI clone next to a
# developer's) never meet. A suite's own $$ cannot serve: in its PID namespace it is 1.
TEST_ID=${TEST_RUN_ID:-$$}

# netns_new NAME: a network namespace named NAME with its loopback up, deleted at exit (with
# every link in it). Names are global to the machine: callers end them in $TEST_ID.
netns_new() {
	if [[ -e /run/netns/$1 ]]; then
		echo "network namespace $1 exists already (another run's, or one left behind)" >&2
		return 1
	fi
	ip netns add "$1" && ip -n "$1" link set lo up && at_exit "ip netns del '$1' 2>/dev/null"
}

# node_pid DIR: the PID of a node's unshare process.
node_pid() { local p; p=$(cat "$1/pid") && echo "${p%%:*}"; }

# node_exit DIR SECONDS: waits for a node to end (its init called reboot(2) or exited) and
# prints how: "reboot" (the kernel ends a PID namespace's init with SIGHUP for a restart),
# "poweroff" (SIGINT), "exit N", or "running" at the deadline.
node_exit() {
	wait_until "$2" test -s "$1/exit" || { echo running; return 1; }
	case $(cat "$1/exit") in
	129) echo reboot ;;
	130) echo poweroff ;;
	*) echo "exit $(cat "$1/exit")" ;;
	esac
}

# cgroup_remove NAME: removes a cgroup and everything below it, in every hierarchy (v1 and
# v2), deepest first. Processes just killed may take a moment to leave their cgroups, so it
# tries for up to 5 s; fails if any is left then.
cgroup_gone() {
	local d left=0
	for d in /sys/fs/cgroup/"$1" /sys/fs/cgroup/*/"$1"; do
		[[ -d $d ]] || continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		[[ -d $d ]] && left=1
	done
	return $left
}
cgroup_remove() { wait_until 5 cgroup_gone "$1"; }

# vm_start DIR ACCEL [run-qemu.sh options...]: boots the image in QEMU with its console in
# DIR/console.log and its monitor on the pipes DIR/mon.in (write commands there) and
# DIR/mon.out (kept drained, so QEMU never blocks writing to it), stopped when the test
# ends; QEMU's PID is left in $qemu. The image is $out's (run from the tree's top).
# With VM_NETNS set, QEMU runs in that network namespace (its forwarded ports listen there).
vm_start() {
	local dir=$1 accel=$2 drain
	shift 2
	mkfifo "$dir/mon.in" "$dir/mon.out"
	cat "$dir/mon.out" >/dev/null &
	drain=$!
	at_exit "kill $drain 2>/dev/null"
	local direct=(--kernel "$out/vmlinuz" --initrd "$out/initramfs.xz")
	# VM_MEDIA=1: the firmware boots the --cdrom or --disk given (its GRUB loads the kernel).
	[[ -n ${VM_MEDIA:-} ]] && direct=()
	${VM_NETNS:+ip netns exec "$VM_NETNS"} image/run-qemu.sh --accel "$accel" "${direct[@]}" \
		--serial "file:$dir/console.log" --monitor "pipe:$dir/mon" --no-reboot "$@" >"$dir/qemu.out" 2>&1 &
	qemu=$!
	at_exit "proc_kill $(proc_track $qemu); wait $qemu 2>/dev/null"
}

# basalt_fingerprint DIR [SECONDS]: the maintenance certificate fingerprint the node's console
# shows (waiting up to SECONDS, 15 by default).
basalt_fingerprint() {
	grep -oE '[0-9a-f]{64}' <<<"$(wait_line "$1/console.log" 'maintenance mode on .*--cert-fingerprint' "${2:-15}")"
}

# vm_rebooted DIR: the node in DIR shuts down in order and asks for a reboot (QEMU, started
# with --no-reboot, then exits and is reaped).
vm_rebooted() {
	wait_line "$1/console.log" 'shutdown complete in [0-9]+ ms, rebooting' 120 || return 1
	wait "$qemu" 2>/dev/null
	return 0
}

# vm_volumes_kept DIR: a boot from the system disk mounted STATE and EPHEMERAL as an earlier
# boot left them: nothing formatted, grown or recovered.
vm_volumes_kept() {
	local con=$1/console.log
	wait_line "$con" 'volumes: STATE \(/dev/vda5\) mounted on /system/state' 240 &&
		grep -aq 'volumes: EPHEMERAL (/dev/vda6) mounted on /var' "$con" &&
		! grep -aqE 'formatted|grown|Starting recovery' "$con"
}

# vm_configured DIR ENDPOINT: the node answers over mutual TLS (the client config in
# $OSCONFIG) and never went into maintenance mode on this boot.
vm_configured() {
	wait_until 180 bash -c "timeout 20 '$osctl' -e '$2' version 2>/dev/null | grep -q 'Tag:'" &&
		! grep -aq 'maintenance mode on' "$1/console.log"
}

# vm_poweroff DIR: an ACPI power-off through the monitor; QEMU is stopped if the node does
# not power down within a minute.
vm_poweroff() {
	echo system_powerdown >"$1/mon.in"
	if ! wait_line "$1/console.log" 'reboot: Power down' 60; then
		note "the node did not power off: stopping QEMU"
		proc_kill "$(proc_track "$qemu")"
	fi
	wait "$qemu" 2>/dev/null
}

# Ends with a status telling the runner whether anything failed, or ran other than planned.
finish() {
	if [[ -n $T_PLAN ]] && ((T_RAN != T_PLAN)); then
		note "planned $T_PLAN checks, ran $T_RAN"
		exit 1
	fi
	exit $((T_FAILS > 0))
}
