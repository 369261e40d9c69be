#!/bin/bash
# Benchmarks mxdnsd against NSD, Knot DNS, rbldnsd and a zero-work UDP
# responder with dnsperf, on loopback. See tests/bench/README.md.
#
#   tests/bench/run.sh [--short] [--big] [--huge] [--rounds N] [--duration S]
#                      [--build DIR] [--work DIR] [--no-2w] [--no-tcp] [--nice N]
#                      [--baseline MXDNSD]
#
# Not part of the test run: it takes minutes and its numbers depend on the
# machine. Every server is stopped on exit, whatever the exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$SRC/build-bench
WORK=${TMPDIR:-/tmp}/mxdns-bench
ROUNDS=3
DURATION=10
LAT_DURATION=5
SHORT=0
BIG=1
HUGE=0
TWO=1
TCP=1
PY=/usr/bin/python3
NICE=0
BASELINE=

while [ $# -gt 0 ]; do
	case "$1" in
	--short) SHORT=1; BIG=0; ROUNDS=1; DURATION=3; LAT_DURATION=2 ;;
	--big) BIG=1 ;;
	--no-big) BIG=0 ;;
	--huge) HUGE=1 ;;
	--rounds) ROUNDS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--build) BUILD=$2; shift ;;
	--work) WORK=$2; shift ;;
	--no-2w) TWO=0 ;;
	--no-tcp) TCP=0 ;;
	--nice) NICE=$2; shift ;;
	--baseline) BASELINE=$2; shift ;;
	-h|--help) sed -n '2,10p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

for t in dnsperf nsd knotd rbldnsd taskset cc; do
	command -v $t >/dev/null || { echo "run.sh: $t is not installed" >&2; exit 1; }
done
MXDNSD=$BUILD/mxdnsd
MXDNS=$BUILD/mxdns
[ -x "$MXDNSD" ] || { echo "run.sh: no $MXDNSD (build with -DCMAKE_BUILD_TYPE=Release)" >&2; exit 1; }
if [ "$(nproc)" -lt 2 ]; then
	echo "run.sh: needs 2 CPUs (server on CPU 1, dnsperf on CPU 0)" >&2
	exit 1
fi

mkdir -p "$WORK/pids"
chmod 755 "$WORK"

# Whatever happens, no server outlives the script: bench.py records each
# server's pid (a session leader) in $WORK/pids.
cleanup() {
	local f pid
	for f in "$WORK"/pids/*; do
		[ -e "$f" ] || continue
		pid=$(basename "$f")
		kill -TERM -- "-$pid" 2>/dev/null || true
		sleep 0.2
		kill -KILL -- "-$pid" 2>/dev/null || true
		rm -f "$f"
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cc -O2 -Wall -Wextra -pthread -o "$WORK/zerowork" "$HERE/zerowork.c"

# Data sets are generated once per size and kept (deterministic seed).
gen() { # kind size dir label
	local kind=$1 size=$2 dir=$3 label=$4
	if [ ! -f "$dir/label" ]; then
		echo "generating $label ..." >&2
		rm -rf "$dir"
		if [ "$kind" = mail ]; then
			timeout 600 $PY "$HERE/gen_data.py" mail --records "$size" --out "$dir" >&2
		else
			timeout 900 $PY "$HERE/gen_data.py" dnsbl --entries "$size" --out "$dir" >&2
		fi
		echo "$label" >"$dir/label"
	fi
	chmod -R a+rX "$dir"
}

ARGS=()
gen mail 17000 "$WORK/mail-17k" "mail 17k RRs"; ARGS+=(--mail "$WORK/mail-17k")
if [ $BIG = 1 ]; then
	gen mail 1000000 "$WORK/mail-1m" "mail 1M RRs"; ARGS+=(--mail "$WORK/mail-1m")
fi
gen dnsbl 100000 "$WORK/bl-100k" "DNSBL 100k"; ARGS+=(--dnsbl "$WORK/bl-100k")
if [ $BIG = 1 ]; then
	gen dnsbl 1000000 "$WORK/bl-1m" "DNSBL 1M"; ARGS+=(--dnsbl "$WORK/bl-1m")
fi
if [ $HUGE = 1 ]; then
	gen dnsbl 10000000 "$WORK/bl-10m" "DNSBL 10M"; ARGS+=(--dnsbl "$WORK/bl-10m")
fi

# mxdnsd serves the DNSBL sets once `mxdns bl import` works.
if [ -x "$MXDNS" ] && "$MXDNS" bl --help 2>&1 | grep -q import; then
	# The marker names the schema the database was imported with: an
	# upgrade in place adds what a schema adds (schema 3: the filters) but
	# leaves old entries as they were (schema 4 shares the reason texts,
	# half the size; schema 5 shrinks the values by a third again), so a
	# database from an older schema is imported again.
	schema="schema $(sed -n 's/^#define BLSTORE_SCHEMA \([0-9]*\).*/\1/p' "$SRC/zones/blstore.h")"
	for i in "${!ARGS[@]}"; do
		[ "${ARGS[$i]}" = --dnsbl ] || continue
		d=${ARGS[$((i + 1))]}
		if [ "$(cat "$d/mxdns.ok" 2>/dev/null)" != "$schema" ]; then
			rm -rf "$d/mxdns.mdb" "$d/mxdns.mdb-lock"
			# --force: the 10M list's /24s cover 60M addresses, over
			# the import's safety budget (16M), which is there to
			# catch a feed gone wrong, not a synthetic list.
			timeout 900 "$MXDNS" bl import "$d/list4.ip4set" --format ip4set --db "$d/mxdns.mdb" --list bench --force >&2
			timeout 900 "$MXDNS" bl import "$d/list6.ip6trie" --format ip6trie --db "$d/mxdns.mdb" --list bench --force >&2
			echo "$schema" > "$d/mxdns.ok"
		fi
	done
	ARGS+=(--mxdns-bl)
else
	echo "note: mxdns bl import is not available; mxdnsd is left out of the DNSBL runs" >&2
fi

[ $TWO = 1 ] && ARGS+=(--two-workers)
[ $TCP = 0 ] && ARGS+=(--no-tcp)
[ -n "$BASELINE" ] && ARGS+=(--baseline "$BASELINE")

STAMP=$(date +%Y%m%d-%H%M%S)
$PY "$HERE/bench.py" --work "$WORK" --mxdnsd "$MXDNSD" --zerowork "$WORK/zerowork" \
	--rounds "$ROUNDS" --duration "$DURATION" --lat-duration "$LAT_DURATION" --nice "$NICE" \
	--json "$WORK/results-$STAMP.json" "${ARGS[@]}" | tee "$WORK/table-$STAMP.md"
echo "samples: $WORK/results-$STAMP.json  table: $WORK/table-$STAMP.md" >&2
