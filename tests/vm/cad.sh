#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Ctrl-Alt-Del under QEMU: the kernel hands it to init as SIGINT (init disabled the
# immediate reboot), and init reboots in order. QEMU runs with -no-reboot, so it exits.
#   cad.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
out=$1
t=$(test_dir)
plan 5
con=$t/console.log
vm_start "$t" tcg

if ! wait_line "$con" 'all services up at' 180 >/dev/null; then
	not_ok "image booted" "$(tail -5 "$con")"
	finish
fi
echo "sendkey ctrl-alt-delete" >"$t/mon.in"
check "ctrl-alt-del reaches init as SIGINT and asks for a reboot" wait_line "$con" 'reboot requested by SIGINT \(ctrl-alt-del\): stopping services' 20
check "services stopped before the reboot" wait_line "$con" 'all services stopped in [0-9]+ ms' 30
check "init reboots after the shutdown" wait_line "$con" 'shutdown complete in [0-9]+ ms, rebooting' 30
check "the kernel restarts the machine" wait_line "$con" 'reboot: Restarting system' 30
if timeout 30 tail --pid=$qemu -f /dev/null; then ok "QEMU exited on the reboot"; else not_ok "QEMU exited on the reboot"; fi
finish
