#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every libFuzzer target (one per tests/fuzz/fuzz_*.c), two checks each:
#  1. every seed in tests/fuzz/corpus/<target> runs clean: the seeds hold every input that
#     ever crashed, so an old crash fails every run, whatever the fuzzer's luck;
#  2. fuzzing from the seeds for SECONDS (a time box, not an input count), with a fixed
#     random seed (FUZZ_SEED, default 1) so the same build explores the same inputs.
# A crash found is kept in OUTDIR/fuzz-crashes/<target>/; the failure says how to keep it.
#   run.sh OUTDIR SECONDS
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1") secs=$2
seed=${FUZZ_SEED:-1}
srcs=(tests/fuzz/fuzz_*.c)
plan $((2 * ${#srcs[@]}))
t=$(test_dir)
for src in "${srcs[@]}"; do
	target=$(basename "$src" .c)
	target=${target#fuzz_}
	bin=$out/fuzz/bin/fuzz_$target
	seeds=tests/fuzz/corpus/$target
	crashes=$out/fuzz-crashes/$target
	mkdir -p "$crashes" "$t/$target"
	if [[ ! -x $bin ]]; then
		not_ok "fuzz $target: seeds" "not built: $bin"
		not_ok "fuzz $target: fuzzing" "not built: $bin"
		continue
	fi
	# Per-target libFuzzer flags and environment (tests/fuzz/fuzz_<target>.flags).
	flags=() envs=()
	if [[ -f tests/fuzz/fuzz_$target.flags ]]; then
		mapfile -t flags < <(grep -E '^-' "tests/fuzz/fuzz_$target.flags")
		mapfile -t envs < <(grep -E '^[A-Z_]+=' "tests/fuzz/fuzz_$target.flags")
	fi
	files=("$seeds"/*)
	if [[ ! -e ${files[0]} ]]; then
		not_ok "fuzz $target: seeds" "no seeds in $seeds"
	elif env "${envs[@]}" "$bin" -timeout=10 -rss_limit_mb=2048 "${flags[@]}" "${files[@]}" >"$t/$target.seeds.log" 2>&1; then
		ok "fuzz $target: all ${#files[@]} seeds run clean"
	else
		not_ok "fuzz $target: a seed fails" "$(grep -E 'Running:|ERROR|SUMMARY' "$t/$target.seeds.log" | tail -4)"
	fi
	log=$out/fuzz-crashes/$target.log
	if env "${envs[@]}" "$bin" -max_total_time="$secs" -seed="$seed" -max_len=65536 -timeout=10 -rss_limit_mb=2048 "${flags[@]}" \
		-artifact_prefix="$crashes/" "$t/$target" "$seeds" >"$log" 2>&1; then
		ok "fuzz $target: ${secs} s, $(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#') inputs, $(grep -oE 'cov: [0-9]+' "$log" | tail -1)"
	else
		a=$(grep -oP '(?<=Test unit written to ).*' "$log" | tail -1)
		not_ok "fuzz $target: found a failing input" "$(grep -E 'ERROR|SUMMARY' "$log" | head -3)" \
			"keep it as a seed once fixed: cp $a $seeds/"
	fi
done
finish
