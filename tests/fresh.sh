#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's promise on a machine that has nothing: a Debian 12 minbase (debootstrap),
# made here, gets git and make and nothing else, then a clone of this tree runs the
# README's test command (make test, which installs the rest through apt) inside it. Prints
# the wall time of each step; the checks are TAP, the inner run's table is shown.
#   fresh.sh OUTDIR [TARGET]    (TARGET: the make goal inside, default test)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
out=$(realpath "$1")
goal=${2:-test}
plan 4
[[ $(id -u) == 0 ]] || bail "run as root (debootstrap and chroot)"
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
	bail "debootstrap installed"
root=$(mktemp -d /var/tmp/basalt-fresh.XXXXXX)
chmod 755 "$root"  # a root directory as any system has it (mktemp's is 0700)
mounts=()
cleanup_root() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null; done
	rm -rf --one-file-system "$root"
}
at_exit cleanup_root
mnt() { mount "$@" && mounts+=("${*: -1}"); }
step() { local t0=$SECONDS; "$@"; local rc=$?; note "$(printf '%-40s %5d s' "$1" $((SECONDS - t0)))"; return $rc; }

mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
if step debootstrap --variant=minbase bookworm "$root" "${mirror:-http://deb.debian.org/debian}" >"$out/fresh-debootstrap.log" 2>&1; then
	ok "a Debian 12 minbase made with debootstrap ($(du -sh "$root" | cut -f1))"
else
	bail "debootstrap" "$(tail -5 "$out/fresh-debootstrap.log")"
fi
# The same package sources as this host (the pins include security and point updates).
# The root a mount point of its own, so unshare --mount inside can make it private.
mnt --bind "$root" "$root"
rm -f "$root/etc/apt/sources.list"
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || cp /etc/apt/sources.list "$root/etc/apt/"
mnt -t proc proc "$root/proc"
mnt --rbind /sys "$root/sys"
mnt --rbind /dev "$root/dev"
mnt -t tmpfs tmpfs "$root/tmp"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# What this site's machines trust comes along (a proxy's CA for the registries, and npm's
# and Node's setting to use the system store), as it would on any fresh machine here.
mkdir -p "$root/usr/local/share/ca-certificates" "$root/usr/etc"
cp /usr/local/share/ca-certificates/* "$root/usr/local/share/ca-certificates/" 2>/dev/null
for f in /usr/etc/npmrc /etc/npmrc; do [[ -f $f ]] && cp "$f" "$root$f"; done
inroot() { chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	LANG=C.UTF-8 ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS} "$@"; }
if ! inroot sh -c 'command -v git || command -v make' >/dev/null; then
	ok "the minbase has neither git nor make"
else
	not_ok "the minbase has neither git nor make"
fi
step inroot sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git make ca-certificates && update-ca-certificates' \
	>"$out/fresh-apt.log" 2>&1 || bail "git and make installed in the minbase" "$(tail -5 "$out/fresh-apt.log")"
git clone -q "$(git rev-parse --show-toplevel)" "$root/root/basalt" || bail "a clone of this tree"
if step inroot sh -c "cd /root/basalt && make $goal" >"$out/fresh-test.log" 2>&1; then
	ok "make $goal passes in the minbase (git and make were all it had)"
else
	not_ok "make $goal passes in the minbase" "$(tail -15 "$out/fresh-test.log")"
fi
rm -rf "$out/fresh-test-logs" && cp -r "$root/root/basalt/_out/test-logs" "$out/fresh-test-logs" 2>/dev/null
sed -n '/^suite  /,$p' "$out/fresh-test.log" | sed 's/^/# /'
if grep -q '^deps: installing' "$out/fresh-test.log"; then ok "the build installed its own packages through apt"; else not_ok "the build installed its own packages" "$(grep -m3 deps "$out/fresh-test.log")"; fi
finish
