#!/bin/sh
# fuzz.sh DIR NAME SECONDS: run the libFuzzer binary DIR/NAME (built by
# `make fuzz`) for SECONDS on the committed seeds tests/fuzz/corpus/NAME;
# new inputs go to DIR/corpus/NAME (kept between runs, never committed), a
# crash, leak or timeout to DIR/crashes/NAME/ and the exit status is 1.
# The figures of the run are in DIR/NAME.log.  The harness's own stdout and
# stderr are closed (-close_fd_mask=3: the daemon's log lines would fill the
# log); libFuzzer's output, sanitizer reports and broken properties (as a
# SUMMARY line) still reach it.
set -u
dir=$1 name=$2 secs=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
seeds="$top/tests/fuzz/corpus/$name"
maxlen=65536
mkdir -p "$dir/corpus/$name" "$dir/crashes/$name"
echo "  FUZZ $name ${secs}s (log: $dir/$name.log)"
ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
"$dir/$name" -max_total_time="$secs" -max_len="$maxlen" -rss_limit_mb=512 \
    -timeout=20 -close_fd_mask=3 -print_final_stats=1 -artifact_prefix="$dir/crashes/$name/" \
    "$dir/corpus/$name" "$seeds" >"$dir/$name.log" 2>&1
rc=$?
stats='number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb'
grep -E "^#[0-9]+.*DONE|^stat::($stats)" "$dir/$name.log" | sed 's/^/    /'
if [ $rc -ne 0 ]; then
	echo "FAIL fuzz $name (exit $rc): crasher in $dir/crashes/$name/"
	grep -E 'ERROR|SUMMARY|broken property|runtime error' "$dir/$name.log" |
	    head -n 5 | sed 's/^/    /'
	exit 1
fi
