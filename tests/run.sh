#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs test suites, JOBS at a time (default 2), each under its timeout, in namespaces of
# its own (tests/isolate.sh), with its own temporary directory and log. A suite passes only
# when it printed exactly its TAP plan's number of results, none "not ok", and exited 0.
# Ends with a table (suite, checks, passed, failed, seconds) and "N passed, N failed".
#   run.sh [-j JOBS] OUTDIR SUITE...
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${TEST_JOBS:-2}
if [[ ${1:-} == -j ]]; then
	jobs=$2
	shift 2
fi
out=$(realpath "$1")
shift
logdir=$out/test-logs
# Suites' temporary directories live under /tmp, not the checkout: a checkout may sit where
# other users cannot reach (a tree under /root), and unix socket paths must stay short.
tmproot=$(mktemp -d /tmp/basalt-tests.XXXXXX)
chmod 755 "$tmproot"
mkdir -p "$logdir"
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

# The suites: NAME TIMEOUT-SECONDS FLAGS COMMAND... (FLAGS: "-", or "net" for a suite
# that needs the host's network, e.g. to download). OUTDIR must not contain spaces.
declare -A S_SECS S_FLAGS S_CMD
def() {
	S_SECS[$1]=$2
	S_FLAGS[$1]=$3
	S_CMD[$1]="${*:4}"
}
def layout 120 - tests/layout.sh "$out"
def unit 600 - tests/unit/run.sh "$out"
def link 60 - "$out/bin/linkcheck"
def fuzz 3600 - tests/fuzz/run.sh "$out" "$FUZZ_SECONDS"
def init 300 - tests/init/supervisor.sh "$out"
def machined 300 - tests/init/machined.sh "$out"
def api 900 - tests/api/api.sh "$out"
def files 300 - tests/api/files.sh "$out"
def interop 300 - tests/interop/interop.sh "$out"
def abuse 600 - tests/abuse/abuse.sh "$out"
def image 300 - tests/image/contents.sh "$out"
def inputs 120 - tests/image/inputs.sh "$out"
def locks 900 net tests/image/locks.sh "$out"
def repro 3600 net tests/image/repro.sh "$out"
def vm 600 - tests/vm/boot.sh "$out"
def vm-kvm 600 - tests/vm/boot.sh "$out" --accel kvm
def vm-cad 600 - tests/vm/cad.sh "$out"
def vm-corrupt 900 - tests/vm/corrupt-root.sh "$out"
def vm-net 600 - tests/vm/net.sh "$out"
def vm-links 600 - tests/vm/links.sh "$out"
def vm-time 600 - tests/vm/time.sh "$out"
def vm-iso 600 - tests/vm/iso.sh "$out"
def vm-iso-uefi 900 - tests/vm/iso.sh "$out" --uefi
def vm-iso-usb 600 - tests/vm/iso.sh "$out" --usb
def vm-iso-usb-uefi 900 - tests/vm/iso.sh "$out" --usb --uefi
def vm-disk 900 - tests/vm/disk.sh "$out"
def vm-disk-uefi 1200 - tests/vm/disk.sh "$out" --uefi
def vm-disk-qcow2 900 - tests/vm/disk.sh "$out" --qcow2
def vm-install 900 - tests/vm/install.sh "$out"
def vm-install-uefi 1200 - tests/vm/install.sh "$out" --uefi
def vm-fwcfg 900 - tests/vm/fwcfg.sh "$out"
def vm-nocloud 900 - tests/vm/nocloud.sh "$out"
def vm-configdrive 900 - tests/vm/configdrive.sh "$out"
def vm-pxe 600 - tests/vm/pxe.sh "$out"
def vm-pxe-uefi 900 - tests/vm/pxe.sh "$out" --uefi
def vm-pxe-install 1200 - tests/vm/pxeinstall.sh "$out"
def net-dhcp 600 - tests/netns/dhcp.sh "$out"
def net-time 300 - tests/netns/ntp.sh "$out"
def net-try 300 - tests/netns/try.sh "$out"
def api-renew 300 - tests/api/renew.sh "$out"
def net-bridge 300 - tests/netns/bridge.sh "$out"
def net-wg 120 - tests/netns/wg.sh "$out"
def net-wg-config 180 - tests/netns/wgconfig.sh "$out"
def discovery 300 - tests/discovery/registry.sh "$out"
def platform 300 - tests/platform/metal.sh "$out"
def platform-qemu 120 - tests/platform/qemu.sh "$out"
def platform-aws 180 - tests/platform/aws.sh "$out"
def cluster-docker 600 - tests/cluster/docker.sh "$out"
def cluster-qemu 1200 - tests/cluster/qemu.sh "$out"
def runner 120 - tests/runner.sh "$out"
def fresh 7200 net tests/fresh.sh "$out"
def idle 600 - tests/abuse/idle.sh "$out"
# More definitions (tests/runner.sh's fake suites).
[[ -n ${RUN_DEFS:-} ]] && . "$RUN_DEFS"

# The test-owned parent of every cgroup the suites' nodes make, in every hierarchy.
cgparent=basalt-test-$$
# The run's name in names global to the machine (tests/lib.sh: TEST_ID).
export TEST_RUN_ID=$$
export TEST_CGROUP_PARENT=$cgparent
for d in /sys/fs/cgroup /sys/fs/cgroup/*/; do
	[[ -d $d && ( -e $d/cgroup.procs ) ]] || continue
	mkdir -p "$d/$cgparent" 2>/dev/null || continue
	# cgroup v2: let the nodes below the parent use the controllers too.
	[[ -e $d/cgroup.subtree_control ]] &&
		for c in cpu memory pids io; do echo "+$c" >"$d/$cgparent/cgroup.subtree_control" 2>/dev/null; done
done

# run_suite NAME INSTANCE: runs one suite to completion and writes LOG.result:
# "planned passed failed seconds status".
run_suite() {
	local name=$1 inst=$2 log=$logdir/$2.log tmp=$tmproot/$2 start rc iso=()
	local planned pl p f missing status secs failed
	rm -rf "$tmp" && mkdir -p "$tmp"
	[[ ${S_FLAGS[$name]} == net ]] && iso=(--host-net)
	start=$(date +%s%N)
	# shellcheck disable=SC2086
	TEST_TMPDIR=$tmp TEST_NAME=$inst timeout -k 20 "${S_SECS[$name]}" \
		tests/isolate.sh "${iso[@]}" ${S_CMD[$name]} >"$log" 2>&1 </dev/null &
	tpid=$!
	# Interrupted, pass it on: timeout signals the suite's whole process group (the suite
	# runs its cleanups) and still kills it 20 s later.
	trap 'kill -TERM $tpid 2>/dev/null' TERM INT
	wait $tpid
	rc=$?
	while kill -0 $tpid 2>/dev/null; do
		wait $tpid
		rc=$?
	done
	secs=$((($(date +%s%N) - start) / 100000000))
	secs=$((secs / 10)).$((secs % 10))
	p=$(grep -cE '^ok( |$)' "$log")
	f=$(grep -cE '^not ok( |$)' "$log")
	pl=$(grep -cE '^1\.\.[0-9]+' "$log")
	planned=$(grep -m1 -oE '^1\.\.[0-9]+' "$log" | cut -c4-)
	failed=$f status=
	if ((rc == 124 || rc == 137)); then
		status="TIMEOUT after ${S_SECS[$name]} s"
	elif ((pl == 0)); then
		status="no plan"
	elif ((pl > 1)); then
		status="$pl plans"
	elif ((p + f < planned)); then
		missing=$((planned - p - f))
		status="$missing of $planned missing"
		failed=$((failed + missing))
	elif ((p + f > planned)); then
		status="$((p + f - planned)) more than the $planned planned"
	elif ((rc != 0 && f == 0)); then
		status="exit status $rc"
	fi
	# A suite-level failure with no failing check of its own still counts once.
	[[ -n $status ]] && ((failed == f)) && failed=$((failed + 1))
	if grep -qE '^1\.\.0 # SKIP' "$log" && [[ -z $status ]]; then status="skipped: $(grep -m1 -oP '(?<=^1\.\.0 # SKIP ).*' "$log")"; fi
	[[ -z $status ]] && ((f > 0)) && status="$f failed"
	echo "${planned:-?} $p $failed $secs ${status:-ok}" >"$log.result"
	rm -rf "$tmp"
}

# report INSTANCE: shows a finished suite's log (the tail of it when it timed out).
report() {
	local inst=$1 log=$logdir/$1.log r
	read -r -a r <"$log.result"
	echo "=== $inst (${r[3]} s): ${r[*]:4}"
	if [[ ${r[4]} == TIMEOUT ]]; then
		echo "# $inst timed out; the last lines of its log ($log):"
		tail -n 30 "$log" | sed 's/^/#   /'
	else
		cat "$log"
	fi
}

# The queue: instances get unique names (vm, vm.2, ...) so their logs never collide.
declare -A seen=()
queue=() names=()
for s in "$@"; do
	if [[ -z ${S_CMD[$s]:-} ]]; then
		echo "run.sh: unknown suite $s (known: ${!S_CMD[*]})" >&2
		exit 2
	fi
	seen[$s]=$((${seen[$s]:-0} + 1))
	inst=$s
	((seen[$s] > 1)) && inst=$s.${seen[$s]}
	queue+=("$s $inst")
	names+=("$inst")
done

declare -A running=()
remove_cgparent() {
	local d
	for d in /sys/fs/cgroup/"$cgparent" /sys/fs/cgroup/*/"$cgparent"; do
		[[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}
# Interrupted: no new suite starts, every running one is stopped (and cleans up), then
# the runner goes.
stopping=
trap 'stopping=1' INT TERM
t0=$(date +%s)
next=0
while ((next < ${#queue[@]} || ${#running[@]} > 0)); do
	if [[ -n $stopping ]]; then
		for p in "${!running[@]}"; do kill -TERM "$p" 2>/dev/null; done
		while ((${#running[@]} > 0)); do
			wait -n -p done_pid
			[[ -n ${done_pid:-} ]] && unset "running[$done_pid]"
		done
		remove_cgparent
		rm -rf "$tmproot"
		echo "run.sh: interrupted" >&2
		exit 130
	fi
	while ((next < ${#queue[@]} && ${#running[@]} < jobs)); do
		read -r name inst <<<"${queue[$next]}"
		run_suite "$name" "$inst" &
		running[$!]=$inst
		next=$((next + 1))
	done
	done_pid=
	wait -n -p done_pid
	[[ -n ${done_pid:-} && -n ${running[$done_pid]:-} ]] || continue
	report "${running[$done_pid]}"
	unset "running[$done_pid]"
done

# Every cgroup the nodes made must be gone with them.
leftover=$(for d in /sys/fs/cgroup/"$cgparent" /sys/fs/cgroup/*/"$cgparent"; do
	[[ -d $d ]] && find "$d" -mindepth 1 -type d; done)
remove_cgparent

passed=0 failed=0
printf '\n%-14s %7s %7s %7s %8s  %s\n' suite checks passed failed seconds status
for inst in "${names[@]}"; do
	read -r -a r <"$logdir/$inst.log.result"
	printf '%-14s %7s %7s %7s %8s  %s\n' "$inst" "${r[0]}" "${r[1]}" "${r[2]}" "${r[3]}" "${r[*]:4}"
	passed=$((passed + r[1]))
	failed=$((failed + r[2]))
done
if [[ -n $leftover ]]; then
	echo "not ok - cgroups left behind by the suites: $leftover"
	failed=$((failed + 1))
fi
rmdir "$tmproot" 2>/dev/null
echo "wall time $(($(date +%s) - t0)) s, $jobs at a time; logs in $logdir"
echo "$passed passed, $failed failed"
((failed == 0))
