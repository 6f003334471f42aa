#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a command in new network, PID and mount namespaces: loopback up and nothing else, so
# nodes it starts never touch the host's links, and every process it leaves behind dies
# with it (its PID 1). --host-net keeps the host's network (for suites that download).
#   isolate.sh [--host-net] COMMAND...
set -euo pipefail
if [[ ${1:-} == --inside ]]; then
	shift
	if [[ ${1:-} == --host-net ]]; then
		shift
	else
		ip link set lo up
		export TEST_NETNS=1
	fi
	exec "$@"
fi
net=(--net)
[[ ${1:-} == --host-net ]] && net=()
exec unshare "${net[@]}" --pid --mount --fork --kill-child=SIGTERM --mount-proc -- "$0" --inside "$@"
