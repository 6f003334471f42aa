#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The runner cannot be lied to: fake suites that stop early, print more than planned, exit
# non-zero after only "ok" lines, print no plan, or hang, each fail with the reason named;
# a skipped suite and a clean one pass; the last line adds it all up.
#   runner.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(test_dir)
plan 9
mk() { printf '#!/bin/sh\n%s\n' "$2" >"$t/$1" && chmod +x "$t/$1"; }
mk clean 'echo 1..2; echo ok - a; echo ok - b'
mk early 'echo 1..3; echo ok - a; exit 1'
mk extra 'echo 1..1; echo ok - a; echo ok - b'
mk status 'echo 1..1; echo ok - a; exit 3'
mk noplan 'echo ok - a'
mk hang 'echo 1..1; exec sleep 1000'
mk skip 'echo "1..0 # SKIP no widget here"'
cat >"$t/defs" <<DEFS
for n in clean early extra status noplan skip; do def "f-\$n" 30 - "$t/\$n"; done
def f-hang 2 - "$t/hang"
DEFS
RUN_DEFS=$t/defs tests/run.sh -j 3 "$t/out" f-clean f-early f-extra f-status f-noplan f-hang f-skip >"$t/run.log" 2>&1
rc=$?
row() { grep -E "^$1 " "$t/run.log"; }
expect_row() { if row "$1" | grep -qE -- "$2"; then ok "$3"; else not_ok "$3" "$(row "$1")"; fi; }
expect_row f-clean ' 2 +2 +0 +[0-9.]+ +ok$' "a clean suite passes"
expect_row f-early ' 3 +1 +2 +[0-9.]+ +2 of 3 missing$' "a suite that stops early fails with the missing count"
expect_row f-extra ' 1 +2 +1 +[0-9.]+ +1 more than the 1 planned$' "more results than planned fail"
expect_row f-status ' 1 +1 +1 +[0-9.]+ +exit status 3$' "a non-zero exit fails the suite though every line said ok"
expect_row f-noplan ' \? +1 +1 +[0-9.]+ +no plan$' "a suite without a plan fails"
expect_row f-hang ' 1 +0 +1 +[0-9.]+ +TIMEOUT after 2 s$' "a hung suite is cut off at its timeout"
expect_row f-skip ' 0 +0 +0 +[0-9.]+ +skipped: no widget here$' "a skipped suite says why"
grep -q "^7 passed, 6 failed$" "$t/run.log" && ok "the last line adds it up" || not_ok "the last line adds it up" "$(tail -3 "$t/run.log")"
((rc != 0)) && ok "the runner's exit status says it failed" || not_ok "the runner's exit status"
finish
