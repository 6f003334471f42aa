#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs test suites and counts their TAP lines. Ends with "N passed, N failed".
#   run.sh OUTDIR SUITE...
# suites: layout unit link fuzz init machined api interop abuse image repro vm vm-kvm vm-cad vm-corrupt
set -uo pipefail
out=$1
shift
passed=0 failed=0
logdir=$out/test-logs
mkdir -p "$logdir"

# run_tap NAME COMMAND...: runs it, shows its output, counts ok/not ok. A program that
# fails without reporting a failing check counts as one failure itself.
run_tap() {
	local name=$1 log=$logdir/$1.log rc p f
	shift
	echo "=== $name"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -cE '^ok( |$)' "$log")
	f=$(grep -cE '^not ok( |$)' "$log")
	if ((rc != 0 && f == 0)); then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

unit() {
	local t
	for t in "$out"/host/tests/unit/test_*; do
		[[ -x "$t" && "$t" != *.[od] ]] || continue
		run_tap "unit-$(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
	done
}

for suite in "$@"; do
	case $suite in
	unit) unit ;;
	link) run_tap link "$out/bin/linkcheck" ;;
	layout) run_tap layout tests/layout.sh ;;
	fuzz) run_tap fuzz tests/fuzz/run.sh "$out" "${FUZZ_RUNS:-20000}" ;;
	init) run_tap init tests/init/supervisor.sh "$out" ;;
	machined) run_tap machined tests/init/machined.sh "$out" ;;
	api) run_tap api tests/api/api.sh "$out" ;;
	interop) run_tap interop tests/interop/interop.sh "$out" ;;
	abuse) run_tap abuse tests/abuse/abuse.sh "$out" ;;
	image) run_tap image tests/image/contents.sh "$out" ;;
	vm) run_tap vm tests/vm/boot.sh "$out" ;;
	vm-kvm)
		if image/kvm-probe.sh "$out/vmlinuz" "$out/image/probe.xz"; then
			run_tap vm-kvm tests/vm/boot.sh "$out" --accel kvm
		else
			echo "# vm-kvm skipped: KVM cannot run a guest on this machine"
		fi ;;
	vm-cad) run_tap vm-cad tests/vm/cad.sh "$out" ;;
	vm-corrupt) run_tap vm-corrupt tests/vm/corrupt-root.sh "$out" ;;
	repro) run_tap repro tests/image/repro.sh "$out" ;;
	*) echo "run.sh: unknown suite $suite" >&2; failed=$((failed + 1)) ;;
	esac
done
echo "$passed passed, $failed failed"
((failed == 0))
