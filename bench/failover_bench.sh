#!/bin/sh
# failover_bench.sh BUILD [USERS] [CHANGED]: failover and failback times.
# Two pools with poolpaird on loopback; pool A holds USERS (default 40,000)
# users with 10 contacts and 5 settings each, replicated to B.  Measures
# 'poolpair failover pool-a' at B (A answers: it goes read-only, ships
# everything, B takes the users) and, after CHANGED (default 4,000, 10%)
# users were changed at B, 'poolpair failback pool-a' (B ships everything
# back and hands the users over).  Writes the block between the "failover"
# markers of docs/benchmarks.md and CSV in bench/results/failover.csv.
set -eu
BUILD=${1:-build}
USERS=${2:-40000}
CHANGED=${3:-4000}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
bench_setup fobench

bench_pair
echo "failover-bench: pool A: $USERS users x 10 contacts, 5 settings each"
"$BUILD/bench-gen" --data "$work/a.data" --pool pool-a.example.test \
    --users "$USERS" --contacts-per-user 10 --settings-per-user 5 \
    --conferences $((USERS / 10)) --content-mb 64 >/dev/null
"$BUILD/poolpaird" -c "$work/a.conf" 2>"$work/a.log" & apid=$!
"$BUILD/poolpaird" -c "$work/b.conf" 2>"$work/b.log" & bpid=$!
pids="$apid $bpid"
t0=$(ms)
bench_synced "$work/a.conf" 600 0.1
init_s=$(secs "$t0" "$(ms)")
echo "initial sync (snapshots through poolpaird): ${init_s} s"

t0=$(ms)
"$P" -c "$work/b.conf" failover pool-a.example.test
fo_s=$(secs "$t0" "$(ms)")
until "$P" -c "$work/a.conf" owners | grep -q 'owner pool-b'; do sleep 0.05; done
fenced_s=$(secs "$t0" "$(ms)")
echo "failover: ${fo_s} s (A fenced after ${fenced_s} s)"

# The harder case for failback: A is down while B changes its users, so
# all of it must travel when failback starts (with A up, B streams the
# changes as they happen and failback has almost nothing left to ship).
kill "$apid"; wait "$apid" 2>/dev/null || true
echo "changing $CHANGED users at B during the failover, with A down"
i=0
while [ $i -lt "$CHANGED" ]; do
	printf 'sip:user%06d@contoso.test\n' $((i * (USERS / CHANGED)))
	i=$((i + 1))
done | xargs -P 2 -I U "$P" -c "$work/b.conf" setting set U presence.note "moved to B" >/dev/null
"$BUILD/poolpaird" -c "$work/a.conf" 2>>"$work/a.log" & apid=$!
pids="$apid $bpid"
t0=$(ms)
"$P" -c "$work/b.conf" failback pool-a.example.test --timeout 600
fb_s=$(secs "$t0" "$(ms)")
echo "failback: ${fb_s} s"
"$P" -c "$work/a.conf" setting get sip:user000000@contoso.test presence.note
"$P" -c "$work/a.conf" verify | tail -n 3

csv="$res/failover.csv"
[ -f "$csv" ] || echo "date,users,changed,initial_sync_s,failover_s,fenced_s,failback_s" >"$csv"
echo "$(date -u +%Y-%m-%dT%H:%MZ),$USERS,$CHANGED,$init_s,$fo_s,$fenced_s,$fb_s" >>"$csv"
machine=$(machine)
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
frag="$work/frag.md"
{
	echo "<!-- failover:begin (written by bench/failover_bench.sh) -->"
	echo "Run: $(date -u +%Y-%m-%dT%H:%MZ), commit $commit. Machine: $machine."
	echo "Pool A: $USERS users, 10 contacts and 5 settings each, $((USERS / 10)) conferences, 64 MiB of content; both poolpaird on loopback."
	echo
	echo "| figure | result | target |"
	echo "| --- | --- | --- |"
	echo "| failover of $USERS users, A answering (read-only, flush, hand over): until B owns them | ${fo_s} s | <= 5 s |"
	echo "| ... until A is fenced | ${fenced_s} s | |"
	echo "| failback of $USERS users, $CHANGED of them changed at B while A was down (all shipped during the failback; A's daemon just restarted) | ${fb_s} s | <= 30 s (20,000 users, 10% changed) |"
	echo "| initial sync of that population (snapshots) | ${init_s} s | |"
	echo "<!-- failover:end -->"
} >"$frag"
bench_doc failover "Failover and failback" "$frag"
echo "failover-bench: results written to docs/benchmarks.md and $csv"
