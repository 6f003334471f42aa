#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# machined core benchmark: one table. References in the same run: a plain array (store
# floor), the loop's own wakeup (latency floor), libfyaml parsing alone (config floor),
# and containerd (a Go daemon, as Talos's machined is) idle beside machined for memory.
#   machined.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
t=$(test_dir)
cg=$(test_cgroup bench)
at_exit "cgroup_remove '$cg'"

"$out/bench/storebench" >"$t/store" || { echo "storebench failed" >&2; exit 1; }
v() { awk -v k="$1" '$1 == k { print $2 }' "$t/store"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# machined idle with the full config, containerd idle beside it.
mkdir -p "$t/state"
"$out/bin/machined" install-config tests/data/config/valid/full.yaml --state-dir "$t/state" >/dev/null
ctrd_cfg=$(containerd_config "$t/ctrd")
unshare --pid --mount --uts --fork --kill-child=SIGKILL --mount-proc "$out/bin/init" --container --socket "$t/init.sock" \
	--cgroup-root "$cg" -- "$out/bin/machined" --state-dir "$t/state" \
	--containerd "$out/pkg/containerd/usr/bin/containerd" --containerd-config "$ctrd_cfg" \
	--api-listen 127.0.0.1:50000 >"$t/con" 2>&1 &
ushare=$!
at_exit "kill -9 $ushare 2>/dev/null; wait $ushare 2>/dev/null"
wait_line "$t/con" 'all services up' 20 >/dev/null
wait_until 10 test -S "$t/ctrd/containerd.sock"
sleep 2  # a measurement parameter: two seconds of idleness before reading memory
initpid=$(ps -o pid= --ppid "$ushare" | tr -d ' ')
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
mpid=$(ps -o pid=,comm= --ppid "$initpid" | awk '$2 == "machined" { print $1 }')
cpid=$(ps -o pid=,comm= --ppid "$initpid" | awk '$2 == "containerd" { print $1 }')
apid=$(ps -o pid=,comm= --ppid "$mpid" | awk '$2 == "apid" { print $1 }')
# machined is its core and its API process together.
m_rss=$(($(rss "$mpid") + $(rss "$apid")))
c_rss=$(rss "$cpid")
nres=$("$out/bin/machined" render tests/data/config/valid/full.yaml 2>/dev/null | grep -c '^---$')
kill -TERM "$initpid"
wait "$ushare" 2>/dev/null

echo
echo "| metric | machined | reference | machined / reference |"
echo "|---|---|---|---|"
echo "| store updates/s, 0 watchers | $(v updates_per_s_0) | plain array replace: $(v floor_updates_per_s) | $(ratio "$(v updates_per_s_0)" "$(v floor_updates_per_s)") |"
echo "| store updates/s, 10 watchers | $(v updates_per_s_10) | 0 watchers: $(v updates_per_s_0) | $(ratio "$(v updates_per_s_10)" "$(v updates_per_s_0)") |"
echo "| store updates/s, 100 watchers | $(v updates_per_s_100) | 0 watchers: $(v updates_per_s_0) | $(ratio "$(v updates_per_s_100)" "$(v updates_per_s_0)") |"
echo "| watch event latency, median | $(v watch_latency_us_median) µs | loop wakeup: $(v loop_wakeup_us_median) µs | $(ratio "$(v watch_latency_us_median)" "$(v loop_wakeup_us_median)") |"
echo "| watch event latency, p99 | $(v watch_latency_us_p99) µs | loop wakeup: $(v loop_wakeup_us_p99) µs | $(ratio "$(v watch_latency_us_p99)" "$(v loop_wakeup_us_p99)") |"
echo "| parse + decode + validate, 2,000-line config | $(v config_2000_lines_ms) ms | libfyaml parse alone: $(v fyaml_parse_2000_lines_ms) ms | $(ratio "$(v config_2000_lines_ms)" "$(v fyaml_parse_2000_lines_ms)") |"
echo "| resident memory, idle, full config ($nres resources), core + apid | $m_rss KiB | containerd idle: $c_rss KiB | $(ratio "$m_rss" "$c_rss") |"
echo "| resident memory goal | $m_rss KiB | 8192 KiB | $(ratio "$m_rss" 8192) |"
