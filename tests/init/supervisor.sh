#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# init as PID 1 of a new PID namespace (container mode), on the host, under
#   unshare --pid --mount --fork --mount-proc
# with the real machined and the pinned containerd. Everything is observed through init's
# control socket, its console output, and /proc.
#   supervisor.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$(realpath "$1")
initctl=$out/host/bin/initctl
helper=$out/host/bin/svchelper
containerd=$out/pkg/containerd/usr/bin/containerd

t=$(test_dir)
sock=$t/init.sock
cgroot=$(test_cgroup init)
con=$t/console.log
need_netns
plan 41
at_exit "cgroup_remove '$cgroot'"

ctrd_cfg=$(containerd_config "$t/ctrd")

ictl() { "$initctl" -s "$sock" "$@"; }
# field ID COLUMN: a column of `initctl list` for one service (2 state, 3 pid, 4 restarts, 5 exit)
field() { ictl list | awk -v id="$1" -v c="$2" '$1 == id { print $c }'; }
state_is() { [[ "$(field "$1" 2)" == "$2" ]]; }

unshare --pid --mount --uts --fork --kill-child=SIGKILL --mount-proc "$out/bin/init" --container --socket "$sock" \
	--cgroup-root "$cgroot" -- "$out/bin/machined" --containerd "$containerd" \
	--containerd-config "$ctrd_cfg" --api-listen 127.0.0.1:50000 >"$con" 2>&1 &
ushare=$!
tracked=$(proc_track $ushare)
at_exit "proc_kill $tracked; wait $ushare 2>/dev/null"

check "init supervises in container mode" wait_line "$con" 'stage 2: supervising as pid 1 \(container mode\)' 10
check "machined is running" wait_line "$con" '\[init\] machined: running' 10
check "containerd is running (sent by machined)" wait_line "$con" '\[init\] containerd: running' 10
check "all services up reported" wait_line "$con" 'all services up at' 10
initpid=$(ps -o pid= --ppid "$ushare" | tr -d ' ')
note "init is host pid $initpid"
check "containerd serves its socket" wait_until 10 test -S "$t/ctrd/containerd.sock"

# Each service sits in its own cgroup.
mpid_host=$(ps -o pid=,comm= --ppid "$initpid" | awk '$2 == "machined" { print $1 }')
if grep -q "/$cgroot/machined\$" "/proc/$mpid_host/cgroup"; then
	ok "machined runs in its own cgroup"
else
	not_ok "machined runs in its own cgroup" "$(cat /proc/$mpid_host/cgroup)"
fi

# Logs through the control socket.
check "machined's log is readable through the socket" wait_until 5 bash -c "'$initctl' -s '$sock' log machined | grep -q 'service set accepted by init'"
check "containerd's log is readable through the socket" wait_until 10 bash -c "'$initctl' -s '$sock' log containerd | grep -q 'containerd successfully booted'"

# Killing machined gets it restarted; containerd is left alone.
ctrd_pid=$(field containerd 3)
kill -9 "$mpid_host"
check "killed machined is restarted" wait_until 5 bash -c "[[ \$('$initctl' -s '$sock' list | awk '\$1==\"machined\"{print \$2, \$4}') == 'running 1' ]]"
if [[ "$(field containerd 3)" == "$ctrd_pid" ]]; then ok "containerd kept running across machined's restart"; else not_ok "containerd kept running across machined's restart"; fi
check "restarted machined re-sent its set" wait_until 5 bash -c "[[ \$('$initctl' -s '$sock' log machined | grep -c 'service set accepted by init') -ge 2 ]]"
if grep -q 'machined: killed by signal 9, restarting in 0 ms' "$con"; then ok "first restart is immediate"; else not_ok "first restart is immediate" "$(grep machined: "$con" | tail -3)"; fi

# A crash-looping service backs off as specified: 0, 100, 200, 400, 400 ms.
machined_svc="machined -- $out/bin/machined --containerd $containerd --containerd-config $ctrd_cfg"
ctrd_svc="containerd ring=262144 -- $containerd --config $ctrd_cfg"
ictl set --svc "$machined_svc" --svc "$ctrd_svc" --svc "crash backoff=100:400 -- $helper crash $t/crash" >/dev/null
check "crash-looping service restarted 5 times" wait_until 10 bash -c "[[ \$(grep -c ^start $t/crash 2>/dev/null) -ge 6 ]]"
gaps=$(awk '/^exit/ { e = $2 } /^start/ && e { printf "%d ", ($2 - e) / 1000000 }' "$t/crash")
note "crash restart delays (ms): $gaps"
read -r -a g <<<"$gaps"
want=(0 100 200 400 400)
bad=
for k in 0 1 2 3 4; do
	((g[k] >= want[k] && g[k] <= want[k] + 80)) || bad+=" restart $((k + 1)): ${g[k]} ms, want ${want[k]}"
done
if [[ -z "$bad" ]]; then ok "backoff schedule 0/100/200/400/400 ms"; else not_ok "backoff schedule" "$bad"; fi
if [[ "$(field crash 5)" == 1 ]]; then ok "last exit status recorded"; else not_ok "last exit status recorded" "$(ictl list)"; fi

# An orphaned grandchild is adopted and reaped by init.
ictl set --svc "$machined_svc" --svc "$ctrd_svc" --svc "orphan -- $helper orphan $t/orphan" >/dev/null
check "crash service removed from the set" wait_until 5 bash -c "! '$initctl' -s '$sock' list | grep -q ^crash"
check "orphan grandchild exited" wait_until 5 grep -qs orphan-exit "$t/orphan"
check "init reaped the orphan (no zombies left)" wait_until 3 bash -c "[[ \$(ps -o stat= --ppid $initpid | grep -c '^Z') == 0 ]]"

# Logs: a bounded ring, tail, and follow.
talker_svc="talker ring=4096 -- $helper talk 2000"
ictl set --svc "$machined_svc" --svc "$ctrd_svc" --svc "$talker_svc" >/dev/null
check "talker is running" wait_until 5 state_is talker running
check "talker's log holds its latest lines" wait_until 5 bash -c "'$initctl' -s '$sock' log talker | grep -q '^tick '"
log=$(ictl log talker)
first=$(sed -n 2p <<<"$log")
if grep -qE '^\[\.\.\. [0-9]+ bytes lost \.\.\.\]$' <<<"$(head -1 <<<"$log")" && ! grep -q '^line 1$' <<<"$log" &&
	[[ "$first" =~ ^(line|tick)\ [0-9]+$ ]] && ((${#log} <= 4096 + 64)); then
	ok "log ring wraps: overwritten output reported, read starts on a whole line"
else
	not_ok "log ring wraps" "$(head -3 <<<"$log")"
fi
tail=$(ictl log talker --tail 30)
if ((${#tail} <= 31)) && [[ "$(head -1 <<<"$tail")" =~ ^(line|tick)\ [0-9]+$ ]]; then ok "log --tail returns only whole lines at the end"; else not_ok "log --tail" "$tail"; fi
timeout 1 "$initctl" -s "$sock" log talker -f --tail 1 >"$t/follow" 2>&1
if (($(grep -c '^tick' "$t/follow") >= 5)); then ok "log follow streams new output"; else not_ok "log follow streams new output" "$(cat "$t/follow")"; fi

# init refuses non-root peers: first the socket's mode (0600), then, should the mode be
# loosened, its own SO_PEERCRED check.
if "$initctl" -s "$sock" -u 65534 list 2>"$t/denied"; then
	not_ok "non-root peer refused by the socket's mode"
elif grep -q "connect to init at $sock: Permission denied" "$t/denied"; then
	ok "non-root peer refused by the socket's mode"
else
	not_ok "non-root peer refused by the socket's mode" "$(cat "$t/denied")"
fi
chmod 0755 "$t"
chmod 0666 "$sock"
if "$initctl" -s "$sock" -u 65534 list 2>"$t/denied"; then
	not_ok "non-root peer refused by init's credential check"
elif grep -q 'permission denied: the control socket is root only (peer uid 65534)' "$t/denied"; then
	ok "non-root peer refused by init's credential check, with a clear error"
else
	not_ok "non-root peer refused by init's credential check" "$(cat "$t/denied")"
fi
chmod 0600 "$sock"
chmod 0700 "$t"


# Stopping a service kills its whole cgroup: a child of it that ignores SIGTERM goes too.
talker_svc="talker ring=4096 -- $helper talk 2000"
ictl set --svc "$machined_svc" --svc "$ctrd_svc" --svc "$talker_svc" --svc "family stop=3000 -- $helper family $t/family" >/dev/null
if wait_until 5 pgrep -fx "svchelper sleep $t/family.child" >/dev/null; then
	child=$(pgrep -fx "svchelper sleep $t/family.child")
	ictl set --svc "$machined_svc" --svc "$ctrd_svc" --svc "$talker_svc" >/dev/null
	if wait_until 5 bash -c "! pgrep -fx 'svchelper sleep $t/family.child' >/dev/null"; then
		ok "stopping a service kills its whole cgroup (its child ignoring SIGTERM too)"
	else
		not_ok "stopping a service kills its whole cgroup" "child $child still there: $(ps -o pid,stat,args -p "$child")"
	fi
else
	not_ok "stopping a service kills its whole cgroup" "the service's child never started"
fi

# Restart and signal through the socket.
tpid=$(field talker 3)
ictl restart talker >/dev/null
check "restart gives talker a new pid" wait_until 5 bash -c "p=\$('$initctl' -s '$sock' list | awk '\$1==\"talker\" && \$2==\"running\" {print \$3}'); [[ -n \$p && \$p != $tpid ]]"

# Ordered shutdown on SIGTERM: dependents first, a SIGTERM-ignoring service is killed.
: >"$t/stops"
ictl set --svc "$machined_svc" --svc "$ctrd_svc" \
	--svc "base stop=2000 -- $helper stop base $t/stops" \
	--svc "app dep=base stop=2000 -- $helper stop app $t/stops" \
	--svc "stubborn stop=500 -- $helper ignore-term $t/stubborn" \
	--svc "escapee -- $helper escape $t/escapee" >/dev/null
check "dependent services are running" wait_until 5 state_is app running
check "stubborn service is ready" wait_until 5 grep -q ready "$t/stubborn"
# A process that left its service's cgroup and ignores SIGTERM (as a container's shim
# leaves containerd's): once its service stops it is init's, and shutdown's last sweep
# must kill it.
check "a process that left its service's cgroup runs" wait_until 5 pgrep -fx "svchelper sleep $t/escapee.escaped"
intruder=$(pgrep -fx "svchelper sleep $t/escapee.escaped")
t0=$(date +%s%N)
kill -TERM "$initpid"
if timeout 20 tail --pid="$ushare" -f /dev/null; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	ok "init stopped everything and its namespace ended ($ms ms)"
	# 500 ms for the stubborn service, 3 s for the stray process, then SIGKILL.
	if ((ms >= 3500 && ms < 8000)); then ok "shutdown within bounds (SIGKILL after the 500 ms and 3 s graces)"; else not_ok "shutdown within bounds" "$ms ms"; fi
else
	not_ok "init stopped everything and its namespace ended" "$(tail -20 "$con")"
fi
order=$(awk '{ print $1 }' "$t/stops" | tr '\n' ' ')
if [[ "$order" == "app base " ]]; then ok "dependent stopped before its dependency"; else not_ok "dependent stopped before its dependency" "order: $order"; fi
check "SIGTERM-ignoring service was killed after its timeout" grep -q 'stubborn: did not stop within 500 ms, sending SIGKILL' "$con"
a=$(grep -n '\[init\] containerd: stopped' "$con" | cut -d: -f1)
m=$(grep -n '\[init\] machined: stopped' "$con" | cut -d: -f1)
if [[ -n "$a" && -n "$m" ]] && ((a < m)); then ok "machined stopped last"; else not_ok "machined stopped last"; fi
check "shutdown completed" grep -q 'shutdown complete in' "$con"
check "shutdown swept the rest: SIGTERM, then SIGKILL" grep -q 'sending SIGKILL to remaining processes' "$con"
[[ -n $intruder ]] && ! kill -0 "$intruder" 2>/dev/null && ok "the process that left its cgroup is gone" || not_ok "the stray process is gone" "$(ps -o pid,stat,args -p "$intruder")"
if ps -o pid= -p "$initpid" >/dev/null; then not_ok "no process left behind"; else ok "no process left behind"; fi
# SIGPWR powers off: a second init, its namespace ends the way reboot(2) with power-off
# ends a PID namespace (its PID 1 killed by SIGINT).
(
	unshare --pid --mount --uts --fork --kill-child=SIGKILL --mount-proc "$out/bin/init" --container \
		--socket "$t/pwr.sock" --cgroup-root "$(test_cgroup pwr)" -- "$helper" sleep x >"$t/pwr.log" 2>&1 &
	proc_track $! >"$t/pwr.pid"
	wait $! 2>/dev/null
	echo $? >"$t/pwr.exit"
) &
at_exit "proc_kill \$(cat $t/pwr.pid); cgroup_remove '$(test_cgroup pwr)'"
if wait_line "$t/pwr.log" 'supervising as pid 1' 10 >/dev/null; then
	p=$(cat "$t/pwr.pid")
	kill -PWR "$(ps -o pid= --ppid "${p%%:*}" | tr -d ' ')"
	check "SIGPWR asks for a power-off" wait_line "$t/pwr.log" 'poweroff requested by SIGPWR' 10
	wait_until 10 test -s "$t/pwr.exit"
	[[ $(cat "$t/pwr.exit" 2>/dev/null) == 130 ]] && ok "SIGPWR: init powered off (its namespace ended by reboot(2) power-off)" ||
		not_ok "SIGPWR powers off" "exit $(cat "$t/pwr.exit" 2>/dev/null)" "$(tail -3 "$t/pwr.log")"
else
	not_ok "SIGPWR asks for a power-off" "second init did not start: $(tail -3 "$t/pwr.log")"
	not_ok "SIGPWR powers off"
fi
finish
