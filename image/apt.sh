# SPDX-License-Identifier: MIT
# Sourced by fetch-debs.sh and relock.sh: apt of our own, one per Debian suite, under
# APT_ROOT (its own sources, lists and cache; the host's apt configuration, state and
# pins never enter). Indexes are checked against the Debian archive keyring, and apt
# checks every .deb it downloads against the signed index.
#   apt_suite SUITE          prints the suite's sources.list lines (bookworm, trixie)
#   apt_q SUITE CMD ARGS...  runs apt-get or apt-cache for SUITE
#   apt_update SUITE         refreshes SUITE's indexes (once per process)
#   apt_candidate SUITE PKG  prints the version the registry serves now (empty if none)
#   apt_sha256 SUITE PKG VER prints the sha256 the signed index gives for PKG VER
#   apt_first_dep SUITE PKG  prints the first package PKG's current version depends on
#   apt_current SUITE PKG [via=META]  prints "PACKAGE VERSION" Debian serves now for PKG, or
#                            for the first dependency of META when PKG is gone (empty: none)
: "${APT_ROOT:?APT_ROOT not set}"
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org}
APT_KEYRING=${APT_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
declare -A apt_updated=()

apt_suite() {
	local k="[signed-by=$APT_KEYRING]"
	case $1 in
	bookworm | trixie)
		echo "deb $k $DEBIAN_MIRROR/debian $1 main"
		echo "deb $k $DEBIAN_MIRROR/debian $1-updates main"
		echo "deb $k $DEBIAN_MIRROR/debian-security $1-security main"
		;;
	*) return 1 ;;
	esac
}

apt_dir() {
	local d=$APT_ROOT/$1
	if [[ ! -f $d/sources.list ]]; then
		apt_suite "$1" >/dev/null || { echo "apt: unknown suite '$1' (known: bookworm, trixie)" >&2; return 1; }
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/parts" "$d/prefs"
		apt_suite "$1" >"$d/sources.list"
	fi
	echo "$d"
}

apt_q() {
	local suite=$1 cmd=$2 d
	shift 2
	d=$(apt_dir "$suite") || return 1
	"$cmd" -o Dir::State="$d" -o Dir::State::Lists="$d/lists" -o Dir::State::status=/dev/null \
		-o Dir::Cache="$d/cache" -o Dir::Etc::SourceList="$d/sources.list" \
		-o Dir::Etc::SourceParts="$d/parts" -o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts="$d/prefs" -o Dir::Etc::Trusted=/dev/null \
		-o Dir::Etc::TrustedParts=/dev/null -o APT::Architecture=amd64 -o APT::Architectures=amd64 \
		-o Acquire::Languages=none -o APT::Get::List-Cleanup=false "$@"
}

# Indexes are shared by every fetch of the suite: one update at a time (flock). apt-get
# exits 0 when a source failed or was not signed; its warnings say so.
apt_update() {
	local suite=$1 d rc
	[[ -n ${apt_updated[$suite]:-} ]] && return 0
	d=$(apt_dir "$suite") || return 1
	{
		flock 9
		apt_q "$suite" apt-get -q update >"$d/update.log" 2>&1
		rc=$?
	} 9>"$d/.lock"
	if ((rc != 0)) || grep -qE '^[WE]: .*(Failed|NO_PUBKEY|not signed|is not valid|invalid)' "$d/update.log"; then
		echo "apt: updating the $suite indexes from $DEBIAN_MIRROR failed:" >&2
		grep -E '^[WE]:' "$d/update.log" >&2
		return 1
	fi
	apt_updated[$suite]=1
}

apt_lists_present() {
	compgen -G "$(apt_dir "$1")/lists/*_Packages" >/dev/null
}

# (apt-cache fails for a name or version it does not know: these print nothing then.)
apt_candidate() {
	{ apt_q "$1" apt-cache policy "$2" 2>/dev/null || true; } |
		awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

apt_sha256() {
	{ apt_q "$1" apt-cache show "$2=$3" 2>/dev/null || true; } | awk '$1 == "SHA256:" { print $2; exit }'
}

apt_first_dep() {
	local ver
	ver=$(apt_candidate "$1" "$2")
	[[ -n $ver ]] || return 0
	{ apt_q "$1" apt-cache show "$2=$ver" 2>/dev/null || true; } |
		awk '$1 == "Depends:" { sub(/^Depends: */, ""); sub(/[ ,(|].*/, ""); print; exit }'
}

apt_current() {
	local suite=$1 name=$2 via=${3:-} ver
	ver=$(apt_candidate "$suite" "$name")
	if [[ -z $ver && $via == via=* ]]; then
		name=$(apt_first_dep "$suite" "${via#via=}")
		[[ -n $name ]] && ver=$(apt_candidate "$suite" "$name")
	fi
	[[ -n $ver ]] && echo "$name $ver"
	return 0
}
