#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Pinned inputs against the real Debian registry (our own apt per suite, image/apt.sh):
# a pinned version Debian no longer serves is replaced, loudly, by the one it serves now
# (checked through the signed index) and recorded as drift; a package gone altogether
# follows its via= meta-package; a pin whose bytes differ is refused; a name nothing
# replaces is refused with how to re-pin; `relock` adopts what the registry serves, and a
# relock with no registry change gives an empty diff.
#   locks.sh OUTDIR
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
t=$(test_dir)
plan 12
zero=$(printf '0%.0s' {1..64})
dl=$t/dl
export APT_ROOT=$t/apt
. image/apt.sh

# fetch LOCK: fetch-debs into the test's cache; output in $t/out, drift in $t/drift.
fetch() { LOCK_DRIFT=$t/drift image/fetch-debs.sh "$1" "$dl" "$t/x" >"$t/out" 2>&1; }

# 1. A pinned version that does not exist (as after Debian moved on).
printf 'libseccomp2 bookworm 0.0-gone-1 %s\n' "$zero" >"$t/drift.lock"
if fetch "$t/drift.lock"; then ok "a build with a vanished pin goes on"; else not_ok "a build with a vanished pin goes on" "$(cat "$t/out")"; fi
apt_update bookworm
cur=$(apt_candidate bookworm libseccomp2)
cursha=$(apt_sha256 bookworm libseccomp2 "$cur")
if grep -q "LOCK DRIFT: libseccomp2 0.0-gone-1 (bookworm) is no longer served by Debian" "$t/out" &&
	grep -q "LOCK DRIFT: using libseccomp2 $cur instead (sha256 $cursha" "$t/out"; then
	ok "the drift is said loudly: package, pinned and used version ($cur)"
else
	not_ok "the drift is said loudly" "$(cat "$t/out")"
fi
if [[ "$(cat "$t/drift" 2>/dev/null)" == "$t/drift.lock libseccomp2 0.0-gone-1 libseccomp2 $cur $cursha" ]]; then
	ok "the drift is recorded in lock-drift"
else
	not_ok "the drift is recorded in lock-drift" "$(cat "$t/drift" 2>&1)"
fi
if [[ "$(cat "$t/x/libseccomp2/.sha256" 2>/dev/null)" == "$cursha" ]] && compgen -G "$t/x/libseccomp2/usr/lib/x86_64-linux-gnu/libseccomp.so.2*" >/dev/null; then
	ok "the served package was checked against the signed index and extracted"
else
	not_ok "the served package was extracted" "$(ls -R "$t/x" 2>&1 | head)"
fi

# 2. relock adopts it; then the build has no drift and the record is cleared.
if o=$(image/relock.sh "$dl" "$t/drift.lock" 2>&1) && grep -q "^+libseccomp2 bookworm $cur $cursha\$" <<<"$o" &&
	[[ "$(cat "$t/drift.lock")" == "libseccomp2 bookworm $cur $cursha" ]]; then
	ok "relock adopts the served version and shows the diff"
else
	not_ok "relock adopts the served version" "$o" "$(cat "$t/drift.lock")"
fi
if fetch "$t/drift.lock" && ! grep -q DRIFT "$t/out" && [[ ! -s $t/drift ]]; then
	ok "after relock the build has no drift and lock-drift is empty"
else
	not_ok "after relock no drift" "$(cat "$t/out")" "$(cat "$t/drift" 2>&1)"
fi

# 3. A package gone altogether (a kernel's old ABI name) follows its meta-package.
printf 'linux-headers-6.1.0-0-amd64 bookworm 6.1.0-0 %s via=linux-headers-amd64\n' "$zero" >"$t/via.lock"
succ=$(apt_first_dep bookworm linux-headers-amd64)
if fetch "$t/via.lock" && grep -q "LOCK DRIFT: using $succ $(apt_candidate bookworm "$succ") instead" "$t/out" &&
	[[ -d $t/x/linux-headers-6.1.0-0-amd64/usr/src/$succ ]]; then
	ok "a package gone altogether is replaced by its via= meta-package's dependency ($succ), under the locked name"
else
	not_ok "a package gone altogether follows via=" "$(cat "$t/out")"
fi

# 4. Refusals: other bytes for a served version; a name nothing replaces; a bad line.
printf 'libseccomp2 bookworm %s %s\n' "$cur" "$zero" >"$t/bad.lock"
rm -rf "$t/x/libseccomp2" "$dl"/libseccomp2_*.deb
if ! fetch "$t/bad.lock" && grep -q "the signed bookworm index gives libseccomp2 $cur sha256 $cursha, pinned $zero; refusing it" "$t/out" &&
	grep -q "make relock" "$t/out" && [[ ! -e $t/x/libseccomp2 ]]; then
	ok "a pin whose sha256 differs from the signed index is refused, named, with how to re-pin"
else
	not_ok "a sha256 pin mismatch is refused" "$(cat "$t/out")"
fi
printf 'basalt-no-such-package bookworm 1.0-1 %s\n' "$zero" >"$t/gone.lock"
if ! fetch "$t/gone.lock" && grep -q "basalt-no-such-package 1.0-1 is not served by Debian bookworm any more, and nothing replaces it" "$t/out" &&
	grep -q "make relock" "$t/out"; then
	ok "a package nothing replaces is refused, named, with how to re-pin"
else
	not_ok "a vanished package is refused" "$(cat "$t/out")"
fi
printf 'libseccomp2 sid %s %s\n' "$cur" "$cursha" >"$t/suite.lock"
printf 'libseccomp2 %s %s\n' "$cur" "$cursha" >"$t/short.lock"
if ! fetch "$t/suite.lock" && grep -q "unknown suite 'sid'" "$t/out" && ! fetch "$t/short.lock" &&
	grep -q "bad line for 'libseccomp2'" "$t/out"; then
	ok "an unknown suite and a malformed line are refused by name"
else
	not_ok "bad lock lines refused" "$(cat "$t/out")"
fi

# 5. The tree's own locks: a relock, then a second relock changes nothing.
mkdir -p "$t/tree"
for f in $(awk '/^LOCKS :=/ { for (i = 3; i <= NF; i++) print $i }' kernel/build.mk); do
	cp --parents "$f" "$t/tree/"
done
(cd "$t/tree" && "$OLDPWD/image/relock.sh" "$dl" */*.lock >"$t/relock1" 2>&1)
if o=$(cd "$t/tree" && "$OLDPWD/image/relock.sh" "$dl" */*.lock 2>&1) && [[ $o == "relock: no change" ]]; then
	ok "a relock with no registry change gives an empty diff ($(ls "$t"/tree/*/*.lock | wc -l) locks, first relock: $(grep -c '^+[a-z]' "$t/relock1") changed pins)"
else
	not_ok "a second relock gives an empty diff" "$o"
fi
if cmp -s <(grep -v '^#' "$t/tree/mk/sysroot.lock" | awk '{print $1}') <(grep -v '^#' mk/sysroot.lock | awk '{print $1}'); then
	ok "relock keeps every lock's packages and comments in order"
else
	not_ok "relock keeps packages in order" "$(diff "$t/tree/mk/sysroot.lock" mk/sysroot.lock)"
fi
finish
