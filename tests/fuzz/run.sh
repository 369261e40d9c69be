#!/bin/bash
# run.sh: runs every libFuzzer target of a fuzz build for a bounded time and
# fails on any crash, sanitizer report, leak or timeout.
#
#   tests/fuzz/run.sh [-s SECONDS] [-j JOBS] [-m] BUILD_DIR [TARGET...]
#
# BUILD_DIR was configured with `CC=clang cmake -DMXDNS_FUZZ=ON`; the targets
# are rebuilt first if the sources changed. TARGET names (answer, zone, ...)
# limit the run; default: every fuzz_* binary.
# -s  seconds per target (default 60)      -j  targets run at once (default 1)
# -m  merge what each run found into tests/fuzz/corpus/NAME (-merge=1, so only
#     inputs that add coverage are kept): the documented longer run is
#         tests/fuzz/run.sh -s 3600 -j "$(nproc)" -m build-fuzz
#
# Each target starts from a copy of its seed corpus in a temporary directory,
# so the repository is not touched unless -m is given. A failing input is
# kept in BUILD_DIR/fuzz-artifacts/NAME/; to make it a regression test, copy
# it into tests/fuzz/regress/NAME/ (see tests/fuzz/README.md).
# Prints one line per target and "N passed, N failed"; exits 1 on a failure.
set -u

SECONDS_PER=60
JOBS=1
MERGE=0
while getopts "s:j:m" opt; do
	case $opt in
	s) SECONDS_PER=$OPTARG ;;
	j) JOBS=$OPTARG ;;
	m) MERGE=1 ;;
	*) sed -n '2,20p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 1 ]; then
	sed -n '2,20p' "$0" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd) || exit 2
shift
HERE=$(cd "$(dirname "$0")" && pwd)

targets=()
if [ $# -gt 0 ]; then
	for t in "$@"; do targets+=("${t#fuzz_}"); done
else
	for src in "$HERE"/fuzz_*.c; do
		t=$(basename "$src" .c)
		targets+=("${t#fuzz_}")
	done
fi

WORK=$(mktemp -d /tmp/mxdns-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ARTIFACTS="$BUILD/fuzz-artifacts"

# A binary older than the sources would fuzz old code and report its old
# bugs: bring the targets up to date first (a no-op when they are).
if ! cmake --build "$BUILD" --target "${targets[@]/#/fuzz_}" >"$WORK/build.log" 2>&1; then
	tail -20 "$WORK/build.log" >&2
	echo "run.sh: building the fuzz targets in $BUILD failed" >&2
	exit 1
fi

# halt_on_error: UBSan reports are failures, not warnings. Leaks are on by
# default with ASan; libFuzzer checks them per input.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:handle_abort=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"

# Runs one target; writes "PASS ..." or "FAIL ..." into $WORK/NAME.result.
run_one() {
	local name=$1 bin="$BUILD/fuzz_$1" dir="$WORK/$1"
	local res="$WORK/$1.result" log="$WORK/$1.log"
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz_$name: $bin not built" >"$res"
		return
	fi
	mkdir -p "$dir/corpus" "$ARTIFACTS/$name"
	local seeds=()
	[ -d "$HERE/corpus/$name" ] && seeds+=("$HERE/corpus/$name")
	[ -d "$HERE/regress/$name" ] && seeds+=("$HERE/regress/$name")
	local opts=(-max_total_time="$SECONDS_PER" -timeout=10 -rss_limit_mb=2048
		-print_final_stats=1 -artifact_prefix="$ARTIFACTS/$name/")
	[ -f "$HERE/$name.dict" ] && opts+=(-dict="$HERE/$name.dict")
	# A fixed seed (MXDNS_FUZZ_SEED) makes a bounded run repeat the same
	# mutations, so what fails CI can be replayed; unset, libFuzzer picks.
	[ -n "${MXDNS_FUZZ_SEED:-}" ] && opts+=(-seed="$MXDNS_FUZZ_SEED")
	local start=$(date +%s)
	"$bin" "${opts[@]}" "$dir/corpus" "${seeds[@]}" >"$log" 2>&1
	local rc=$? secs=$(($(date +%s) - start))
	local runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -eq 0 ] && ! grep -q -e "runtime error:" -e "ERROR: " "$log"; then
		echo "PASS fuzz_$name: ${runs:-?} runs in ${secs}s" >"$res"
		if [ $MERGE -eq 1 ]; then
			mkdir -p "$HERE/corpus/$name"
			"$bin" -merge=1 "$HERE/corpus/$name" "$dir/corpus" >>"$log" 2>&1
		fi
	else
		local why=$(grep -m1 -e "runtime error:" -e "ERROR: " -e "fuzz invariant" \
			-e "^fuzz_[a-z]*: " "$log")
		local input=$(sed -n "s/.*Test unit written to //p" "$log" | tail -1)
		cp "$log" "$ARTIFACTS/$name/last.log"
		{
			echo "FAIL fuzz_$name (rc $rc after ${secs}s): ${why:-see log}"
			echo "     input: ${input:-none}; log: $ARTIFACTS/$name/last.log"
			grep -E "^ +#[0-9]+ .* in " "$log" | grep -v -e "fuzzer::" -e "libc" \
				-e "_start" -e "__sanitizer" -e " in main " | head -6 |
				sed -e "s/ (BuildId.*//" -e "s/^/    /"
		} >"$res"
	fi
}

running=0
for t in "${targets[@]}"; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_one "$t" &
	running=$((running + 1))
done
wait

pass=0
fail=0
for t in "${targets[@]}"; do
	cat "$WORK/$t.result"
	if grep -q "^PASS" "$WORK/$t.result"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
