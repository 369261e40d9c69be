#!/bin/bash
# Where mxdnsd spends its time per query, counted rather than timed:
# mxdnsd (one worker) runs under valgrind's callgrind, dnsperf sends a fixed
# number of queries of the mail mix once (-n 1), and callgrind_annotate
# prints the instructions per function; divided by the number of answers,
# that is the user-space cost per query, the same on a busy or an idle
# machine. Kernel time (the socket calls) is not counted: see the sys µs
# column of run.sh for that, and `perf record` for a sampled profile.
#
#   tests/bench/profile.sh [--build DIR] [--work DIR] [--queries N] [--data DIR] [--all]
#
# Build DIR with -g for line numbers, e.g.
#   cmake -S . -B build-bench-prof -DCMAKE_BUILD_TYPE=Release \
#         "-DCMAKE_C_FLAGS=-g -fno-omit-frame-pointer"
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$SRC/build-bench-prof
[ -x "$BUILD/mxdnsd" ] || BUILD=$SRC/build-bench
WORK=${TMPDIR:-/tmp}/mxdns-bench
N=50000
DATA=
# Only the query path by default (start-up is the zone load, a different
# question); --all counts everything.
COLLECT=(--toggle-collect=on_udp_readable)
while [ $# -gt 0 ]; do
	case "$1" in
	--build) BUILD=$2; shift ;;
	--work) WORK=$2; shift ;;
	--queries) N=$2; shift ;;
	--data) DATA=$2; shift ;;
	--all) COLLECT=() ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "profile.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
DATA=${DATA:-$WORK/mail-17k}
for t in valgrind callgrind_annotate dnsperf; do
	command -v $t >/dev/null || { echo "profile.sh: $t is not installed" >&2; exit 1; }
done
if [ ! -f "$DATA/zones.txt" ]; then
	/usr/bin/python3 "$HERE/gen_data.py" mail --records 17000 --out "$DATA" >&2
fi

OUT=$WORK/callgrind
mkdir -p "$OUT"
head -n "$N" "$DATA/queries.txt" >"$OUT/queries.txt"
ZONES=()
while read -r name file; do ZONES+=(--zone "$name:$file"); done <"$DATA/zones.txt"
PORT=$((20000 + RANDOM % 30000))

PID=
cleanup() { [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null || true; }
trap cleanup EXIT

rm -f "$OUT"/callgrind.out.*
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.%p" "${COLLECT[@]}" \
	"$BUILD/mxdnsd" --listen "127.0.0.1@$PORT" --workers 1 --log-level warning "${ZONES[@]}" \
	2>"$OUT/valgrind.log" &
PID=$!
# Wait (bounded) for the zone to load under valgrind.
read -r pname ptype <"$DATA/probe.txt"
for _ in $(seq 1 600); do
	dig +time=1 +tries=1 +short -p "$PORT" @127.0.0.1 "$pname" "$ptype" 2>/dev/null | grep -q . && break
	sleep 0.5
done
timeout 600 dnsperf -s 127.0.0.1 -p "$PORT" -d "$OUT/queries.txt" -n 1 -q 20 -t 10 -e \
	>"$OUT/dnsperf.txt" 2>&1
kill -TERM "$PID"
timeout 120 tail --pid="$PID" -f /dev/null || true
PID=
DONE=$(awk '/Queries completed/ {print $3}' "$OUT/dnsperf.txt")
FILE=$(ls "$OUT"/callgrind.out.* | head -1)
echo "answers: $DONE (of $N sent); callgrind data: $FILE"
callgrind_annotate --inclusive=yes --threshold=100 "$FILE" >"$OUT/inclusive.txt" 2>/dev/null
callgrind_annotate --threshold=100 "$FILE" >"$OUT/self.txt" 2>/dev/null
per() { # Ir of a function (inclusive) divided by the answers
	awk -v f=":$1 " -v g="$1" -v n="$DONE" 'index($0, f) { gsub(",", "", $1); printf "%-28s %10.0f Ir/answer\n", g, $1 / n; exit }' "$OUT/inclusive.txt"
}
echo "--- per answer (inclusive instruction counts) ---"
for f in on_udp_readable answer_build zone_find zone_node_rrset query_parse recvmmsg sendmmsg; do
	per "$f" || true
done
echo "--- self cost per answer, top functions ---"
grep -E '^ *[0-9,]+ ' "$OUT/self.txt" | head -25 |
	awk -v n="$DONE" '{ c = $1; gsub(",", "", c); r = index($0, ")") ? substr($0, index($0, ")") + 1) : $0
		printf "%8.1f Ir/answer %s\n", c / n, r }'
echo "--- hottest source lines per answer ---"
callgrind_annotate --auto=yes --include="$SRC" "$FILE" >"$OUT/lines.txt" 2>/dev/null
awk -v n="$DONE" '/-- Auto-annotated source:/ { f = $4; next }
	f && /^ *[0-9,]+ / && !/=>/ && !/events annotated/ {
		c = $1; gsub(",", "", c)
		if (c / n >= 5) printf "%8.1f Ir/answer  %s  %s\n", c / n, f, substr($0, index($0, ")") + 1)
	}' "$OUT/lines.txt" | sort -rn | head -25
