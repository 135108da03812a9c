#!/bin/sh
# lag_bench.sh BUILD [SECONDS]: change-to-replica lag in steady state.
# Two pools with poolpaird on loopback (sync_interval 0); pool A has 1,000
# users; bench/lag writes settings at A at 100, 1,000 and 5,000 changes a
# second for SECONDS (default 10) each and measures when each commit
# reaches B's replica.  Writes the block between the "lag" markers of
# docs/benchmarks.md, CSV in bench/results/ (lag-RATE.csv: time, lag ms)
# and, if gnuplot is installed, bench/results/lag.png.
set -eu
BUILD=${1:-build}
SECS=${2:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
bench_setup lagbench

bench_pair
"$BUILD/bench-gen" --data "$work/a.data" --pool pool-a.example.test \
    --users 1000 --contacts-per-user 10 --settings-per-user 5 \
    --conferences 10 --content-mb 1 >/dev/null
"$BUILD/poolpaird" -c "$work/a.conf" 2>"$work/a.log" & pids="$!"
"$BUILD/poolpaird" -c "$work/b.conf" 2>"$work/b.log" & pids="$pids $!"
bench_synced "$work/a.conf" 600 0.1
rows=""
for rate in 100 1000 5000; do
	out=$("$BUILD/bench-lag" -a "$work/a.data" -b "$work/b.data" \
	    -p pool-a.example.test -r $rate -s "$SECS" -u 1000 \
	    -o "$res/lag-$rate.csv")
	echo "$out"
	p50=$(echo "$out" | sed 's/.*p50 \([0-9.]*\) ms.*/\1/')
	p99=$(echo "$out" | sed 's/.*p99 \([0-9.]*\) ms.*/\1/')
	max=$(echo "$out" | sed 's/.*max \([-0-9.]*\) ms.*/\1/')
	rows="$rows| $rate changes/s for $SECS s | $p50 ms | $p99 ms | $max ms |
"
done
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot <<GP
set terminal png size 900,420
set output "$res/lag.png"
set title "poolpair: change-to-replica lag (commit at A to import at B), loopback"
set xlabel "seconds into the run"
set ylabel "lag (ms)"
set datafile separator ","
set key top left
plot "$res/lag-100.csv" using 1:2 with points pt 7 ps 0.3 title "100/s", \
     "$res/lag-1000.csv" using 1:2 with points pt 7 ps 0.3 title "1,000/s", \
     "$res/lag-5000.csv" using 1:2 with points pt 7 ps 0.3 title "5,000/s"
GP
	plot="bench/results/lag.png"
else
	plot="(gnuplot not installed: no plot)"
fi
machine=$(machine)
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
frag="$work/frag.md"
{
	echo "<!-- lag:begin (written by bench/lag_bench.sh) -->"
	echo "Run: $(date -u +%Y-%m-%dT%H:%MZ), commit $commit. Machine: $machine. Two poolpaird on loopback, sync_interval 0; writes committed every 2 ms in batches, each change timed from its commit at A to its import at B. Plot: $plot."
	echo
	echo "| load | p50 | p99 | max |"
	echo "| --- | --- | --- | --- |"
	printf '%s' "$rows"
	echo
	echo "Target: p99 at most 200 ms at 1,000 changes/s."
	echo "<!-- lag:end -->"
} >"$frag"
bench_doc lag "Steady state: change-to-replica lag" "$frag"
echo "lag-bench: results written to docs/benchmarks.md and bench/results/lag-*.csv"
