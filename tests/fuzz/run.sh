#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target for a bounded number of inputs, from the seeds in
# tests/fuzz/corpus/<target> (new finds go to OUTDIR/fuzz-corpus, never into the tree).
#   run.sh OUTDIR RUNS
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$1 runs=$2
for bin in "$out"/fuzz/bin/fuzz_*; do
	name=$(basename "$bin")
	target=${name#fuzz_}
	work=$out/fuzz-corpus/$target
	mkdir -p "$work"
	log=$out/fuzz-corpus/$target.log
	if "$bin" -runs="$runs" -max_len=65536 -timeout=10 "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
		ok "fuzz $target: $runs inputs, $(grep -oE 'cov: [0-9]+' "$log" | tail -1)"
	else
		not_ok "fuzz $target" "$(grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5)"
	fi
done
finish
