#!/usr/bin/env bash
# Installs the system programs batchtrack's make targets need, when missing.
#
#   scripts/deps.sh postgres redis chromium wrk node haproxy pgbouncer
#
# Only the named groups are checked. As root on Debian/Ubuntu the missing
# ones are installed with apt-get; otherwise the script exits 1 naming the
# command to run. Silent when everything is already there.
#
# Installing Debian's postgresql package may also create and start a system
# cluster on port 5432; batchtrack ignores it and runs its own cluster.
set -euo pipefail

usage() {
	echo "usage: $0 {postgres|redis|chromium|wrk|node|haproxy|pgbouncer}..." >&2
	exit 2
}

# Detection uses shell builtins only, so it answers the same under any PATH.
has() { command -v "$1" >/dev/null 2>&1; }

present() {
	case "$1" in
	postgres)
		local d
		for d in /usr/lib/postgresql/*/bin /usr/pgsql-*/bin; do
			[[ -x "$d/initdb" && -x "$d/postgres" ]] && return 0
		done
		has initdb && has postgres
		;;
	redis) has redis-server ;;
	chromium)
		# The names chromedp looks for.
		[[ -x /usr/bin/chromium ]] || has chromium || has chromium-browser ||
			has google-chrome || has google-chrome-stable || has headless-shell
		;;
	wrk) has wrk ;;
	node) has node && has npm ;;
	haproxy) has haproxy || [[ -x /usr/sbin/haproxy ]] ;;
	pgbouncer) has pgbouncer || [[ -x /usr/sbin/pgbouncer ]] ;;
	*) return 2 ;;
	esac
}

packages() {
	case "$1" in
	postgres) echo postgresql ;; # the server; pulls postgresql-<version>
	redis) echo redis-server ;;
	chromium) echo chromium ;;
	wrk) echo wrk ;;
	node) echo nodejs npm ;;
	haproxy) echo haproxy ;;
	pgbouncer) echo pgbouncer ;;
	esac
}

[[ $# -gt 0 ]] || usage

missing_groups=()
missing_packages=()
for group in "$@"; do
	case "$group" in
	postgres | redis | chromium | wrk | node | haproxy | pgbouncer) ;;
	*)
		echo "deps: unknown group '$group'" >&2
		usage
		;;
	esac
	if ! present "$group"; then
		missing_groups+=("$group")
		# shellcheck disable=SC2207 # package names have no spaces
		missing_packages+=($(packages "$group"))
	fi
done

[[ ${#missing_groups[@]} -eq 0 ]] && exit 0

install_cmd="apt-get install -y --no-install-recommends ${missing_packages[*]}"
if [[ $EUID -ne 0 ]]; then
	echo "deps: ${missing_groups[*]} not installed; run: sudo apt-get update && sudo $install_cmd" >&2
	exit 1
fi
if ! has apt-get; then
	echo "deps: ${missing_groups[*]} not installed and there is no apt-get here; install the packages ${missing_packages[*]} with your system's package manager" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp "${TMPDIR:-/tmp}/batchtrack-deps.XXXXXX")
trap 'rm -f "$log"' EXIT
fail() {
	echo "deps: $1 failed; its output ends with:" >&2
	tail -n 20 "$log" >&2
	exit 1
}

echo "deps: installing ${missing_packages[*]} (for ${missing_groups[*]})"
apt-get update -qq >"$log" 2>&1 || fail "apt-get update"
apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >>"$log" 2>&1 ||
	fail "apt-get install ${missing_packages[*]}"
for pkg in "${missing_packages[@]}"; do
	echo "deps: installed $pkg"
done

for group in "${missing_groups[@]}"; do
	present "$group" || {
		echo "deps: installed $(packages "$group") but $group is still not found" >&2
		exit 1
	}
done
