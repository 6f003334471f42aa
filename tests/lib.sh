# SPDX-License-Identifier: MIT
# Shared helpers for Basalt's shell tests: TAP output, waiting with deadlines, cleanup.
# Every check prints "ok - ..." or "not ok - ..."; tests/run.sh counts them.

T_FAILS=0
T_CLEANUPS=()

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $1"
	shift
	for line in "$@"; do echo "#   $line"; done
	T_FAILS=$((T_FAILS + 1))
}
note() { echo "# $*"; }

# check DESCRIPTION COMMAND...: ok if the command succeeds.
check() {
	local desc=$1
	shift
	if "$@" >/dev/null; then ok "$desc"; else not_ok "$desc" "command failed: $*"; fi
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

# wait_line FILE REGEX SECONDS: waits until a line of FILE matches (extended regex),
# prints it, and succeeds; fails at the deadline. Follows the file as it grows.
wait_line() {
	local file=$1 re=$2 secs=$3 fd pid rc
	touch "$file"
	exec {fd}< <(exec timeout "$secs" tail -n +1 -F "$file" 2>/dev/null)
	pid=$!
	grep -m1 -E -- "$re" <&"$fd"
	rc=$?
	exec {fd}<&-
	kill "$pid" 2>/dev/null
	return $rc
}

# wait_until SECONDS COMMAND...: re-runs COMMAND until it succeeds or the deadline passes.
# For conditions with no event to wait on; polls every 20 ms.
wait_until() {
	local secs=$1 deadline
	shift
	deadline=$(($(date +%s%N) + secs * 1000000000))
	until "$@"; do
		(($(date +%s%N) < deadline)) || return 1
		sleep 0.02
	done
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
# cleanup is registered.
basalt_node() {
	local out=$1 dir=$2 listen=$3 pid cg
	cg=basalt-node-$$-$(basename "$dir")
	mkdir -p "$dir/state"
	if [[ -n ${4:-} ]]; then
		cp "$4" "$dir/fake-containerd"
	else
		printf '#!/bin/sh\nexec sleep 100000\n' >"$dir/fake-containerd"
	fi
	chmod +x "$dir/fake-containerd"
	unshare --pid --mount --uts --fork --kill-child=SIGKILL --mount-proc "$out/bin/init" --container --debug \
		--socket "$dir/init.sock" --cgroup-root "$cg" -- "$out/bin/machined" --state-dir "$dir/state" \
		--containerd "$dir/fake-containerd" --containerd-config /dev/null --api-listen "$listen" \
		>"$dir/console.log" 2>&1 &
	pid=$!
	disown $pid
	echo $pid >"$dir/pid"
	at_exit "kill -9 $pid 2>/dev/null; for d in /sys/fs/cgroup/*/$cg; do [ -d \$d ] && rmdir \$d/* \$d 2>/dev/null; done"
}

# basalt_fingerprint DIR: the maintenance certificate fingerprint the node's console shows.
basalt_fingerprint() {
	grep -oE '[0-9a-f]{64}' <<<"$(wait_line "$1/console.log" 'maintenance mode on .*--cert-fingerprint' 15)"
}

# Ends with a status telling the runner whether anything failed.
finish() { exit $((T_FAILS > 0)); }
