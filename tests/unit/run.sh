#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every cmocka unit test binary with TAP output. Each binary's results are passed
# through; the suite's plan (printed last) is the sum of the binaries' own plans, so a
# binary that dies part-way leaves its missing results counted, and one that dies before
# its plan counts as one failure.
#   run.sh OUTDIR
set -uo pipefail
out=$1
total=0 rc=0
for src in tests/unit/test_*.c; do
	name=$(basename "$src" .c)
	bin=$out/host/tests/unit/$name
	if [[ ! -x $bin ]]; then
		echo "not ok - $name: not built ($bin)"
		total=$((total + 1)) rc=1
		continue
	fi
	o=$(CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$bin" 2>&1)
	st=$?
	n=$(grep -m1 -oE '^1\.\.[0-9]+' <<<"$o" | cut -c4-)
	grep -vE '^1\.\.[0-9]+' <<<"$o"
	if [[ -z $n ]]; then
		echo "not ok - $name: exited with status $st before its plan"
		total=$((total + 1)) rc=1
		continue
	fi
	total=$((total + n))
	ran=$(grep -cE '^(not )?ok( |$)' <<<"$o")
	if ((st != 0 || ran != n)); then
		echo "# $name: exit status $st, $ran of $n results"
		rc=1
	fi
done
echo "1..$total"
exit $rc
