#!/bin/bash
# setup.sh: the two-command set-up of README's Quick start, on Debian 12 as root.
#
#   bash .ci/setup.sh run    install what is missing, build build/, and run
#                            build/mxdnsd in the foreground on its embedded
#                            default (127.0.0.1@5300, zones/examples/)
#   bash .ci/setup.sh test   install what is missing (with the test peers),
#                            build build/ and build-asan/ (ASan+UBSan) and run
#                            ctest in both; exits non-zero if either fails
#
# apt is skipped entirely when every package is present, so a second run
# costs only the build. Environment overrides (for developers sharing a
# tree): BUILD_DIR (default build), ASAN_BUILD_DIR (default build-asan),
# JOBS (default: the number of CPUs).
set -euo pipefail

usage() {
	echo "usage: bash .ci/setup.sh run|test" >&2
	exit 2
}
[ $# -eq 1 ] || usage
mode=$1
case "$mode" in run | test) ;; *) usage ;; esac

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-build}
asan=${ASAN_BUILD_DIR:-build-asan}
case "$build" in /*) ;; *) build=$src/$build ;; esac
case "$asan" in /*) ;; *) asan=$src/$asan ;; esac
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

build_pkgs=(libldns-dev libuv1-dev liblmdb-dev libssl-dev check libyaml-dev
	pkg-config cmake gcc make knot-dnsutils bind9-dnsutils)
# The peers the tests compare against and the clients they query with.
test_pkgs=(nsd knot knot-dnssecutils ldnsutils rbldnsd lmdb-utils dnsperf
	opendkim-tools python3-spf python3-dkim python3-dnspython python3-yaml
	unbound openssl clang libclang-rt-14-dev)
# Daemons some of those packages start on install; they must not hold port 53
# or anything else the tests use.
services=(nsd knot unbound rbldnsd opendkim)

log() { echo "setup: $*" >&2; }

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

have_systemd() {
	[ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

stop_services() {
	local s
	for s in "${services[@]}"; do
		if have_systemd; then
			systemctl disable --now "$s" >/dev/null 2>&1 || true
		elif [ -x "/etc/init.d/$s" ]; then
			"/etc/init.d/$s" stop >/dev/null 2>&1 || true
			command -v update-rc.d >/dev/null 2>&1 &&
				update-rc.d "$s" disable >/dev/null 2>&1 || true
		fi
	done
}

install_missing() {
	local want=("${build_pkgs[@]}") missing=() p policy_rc=
	[ "$mode" = test ] && want+=("${test_pkgs[@]}")
	for p in "${want[@]}"; do
		installed "$p" || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "all packages present"
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		log "missing packages: ${missing[*]}; run as root to install them"
		exit 1
	fi
	log "installing: ${missing[*]}"
	# policy-rc.d 101 = "action not allowed": keeps maintainer scripts from
	# starting the daemons at all, with or without systemd. Only ours to
	# remove if we created it.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy_rc=1
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
	if [ -n "$policy_rc" ]; then
		rm -f /usr/sbin/policy-rc.d
		trap - EXIT
	fi
	stop_services
}

build_tree() { # DIR TARGETS [CMAKE ARGS...]; TARGETS "" = everything
	local dir=$1 targets=$2
	shift 2
	log "building $dir"
	cmake -S "$src" -B "$dir" "$@" >/dev/null
	# shellcheck disable=SC2086 # targets are words
	cmake --build "$dir" -j "$jobs" ${targets:+--target $targets}
}

install_missing

if [ "$mode" = run ]; then
	# The daemon and the tool only: the tests are built by the test mode.
	build_tree "$build" "mxdnsd mxdns"
	echo
	echo "mxdnsd serves zones/examples/ on 127.0.0.1 port 5300 (UDP and TCP). Try:"
	echo "  dig @127.0.0.1 -p 5300 example.com MX"
	echo "Ctrl-C stops it."
	echo
	exec "$build/mxdnsd"
fi

build_tree "$build" ""
build_tree "$asan" "" -DMXDNS_SANITIZE=ON

status=0
log "ctest in $build"
(cd "$build" && ctest --output-on-failure --timeout 900 -j "$jobs") || status=1
log "ctest in $asan (ASan+UBSan)"
# The fuzz targets are ASan+UBSan builds of their own: run them once.
(cd "$asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --output-on-failure --timeout 900 -j "$jobs" -E '^integration/fuzz$') || status=1
if [ $status -ne 0 ]; then
	log "FAILED"
else
	log "all tests passed in $build and $asan"
fi
exit $status
