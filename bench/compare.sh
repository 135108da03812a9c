#!/bin/sh
# compare.sh BUILD quick|full: poolpair against what an operator would do
# without it: sqlite3 .backup of the store plus rsync -a over ssh (sshd on
# loopback, default ciphers) of the snapshot and the pack files, on the
# same data, on the same machine, in one run.  Measures the full initial
# sync and an incremental change (1% of the users change one contact, 50
# presentations change one slide), then the lag at 1,000 changes a second
# on the same pools against rsync's shortest workable interval (one run
# over the pool): time and bytes on the wire (TCP payload,
# both ways: TCP_INFO of poolpaird's link; rsync --stats); the CPU each
# full sync takes (the whole machine's, and each daemon's); the peak RSS
# of every process (the daemons'; sqlite3's, rsync's, ssh's and sshd's in
# one more full copy, watched and not timed); the
# content pipeline on its own (B catching up on new content after being
# down); and the machine's limits.  The full initial sync is measured
# TRIALS times (default 3), rsync and poolpair taking turns; the best of
# each counts.  Writes the block between the "compare" markers of
# docs/benchmarks.md and CSV in bench/results/compare-MODE.csv.
set -eu
BUILD=${1:-build}
MODE=${2:-quick}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$MODE" in
full) U=40000 F=4000 M=2048 CM=1024 ;;
quick) U=4000 F=400 M=205 CM=256 ;;
*) echo "usage: bench/compare.sh BUILD full|quick" >&2; exit 2 ;;
esac
. "$top/bench/lib.sh"
bench_setup compare
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# busy_s: the CPU seconds the whole machine has spent busy since boot (user,
# nice, system, interrupts; not idle, I/O wait or steal), every process and
# the kernel's own work (write-back, the loopback network) included.
busy_s() { awk -v t="$(getconf CLK_TCK)" '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8) / t; exit }' /proc/stat; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "compare: population ($MODE): $U users x 100 contacts, $M MiB of content"
bench_pair
PS=$(port)
"$BUILD/bench-gen" --data "$work/a.data" --pool pool-a.example.test \
    --users $U --contacts-per-user 100 --settings-per-user 20 --conferences $F \
    --content-mb $M --compressible-pct 20 >/dev/null
du_a=$(du -sb "$work/a.data" | cut -f1)

# sshd on loopback, keys of its own; rsync over it.
mkdir -p /run/sshd "$work/ssh" "$work/dst"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/host"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/user"
cp "$work/ssh/user.pub" "$work/ssh/authorized_keys"
cat >"$work/ssh/sshd_config" <<CFG
Port $PS
ListenAddress 127.0.0.1
HostKey $work/ssh/host
AuthorizedKeysFile $work/ssh/authorized_keys
PidFile $work/ssh/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin yes
CFG
/usr/sbin/sshd -f "$work/ssh/sshd_config" -D -e 2>"$work/ssh/log" & pids="$!"
sleep 0.5
SSH="ssh -p $PS -i $work/ssh/user -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"

# rsync_run NAME: sqlite3 .backup, then rsync -a of the snapshot and the
# packs; sets r_s, r_bytes, r_rss (MiB), r_cpu (the machine's busy CPU
# seconds over the run: sqlite3, rsync, ssh and sshd, and the kernel for
# them), and r_sync_s: the sync(1) after
# it that makes the copy durable (rsync does not fsync; poolpair's import
# commits durably).  Each timed run starts on a quiet disk: sync first,
# so that no run pays for the write-back of what the one before wrote.
rsync_run() {
	sync
	t0=$(ms) c0=$(busy_s)
	mkdir -p "$work/snap"
	/usr/bin/time -f "%M" -o "$work/t.sql" sqlite3 "$work/a.data/pool.db" ".backup '$work/snap/pool.db'"
	/usr/bin/time -f "%M" -o "$work/t.rs" rsync -a --stats -e "$SSH" \
	    "$work/snap/pool.db" "$work/a.data/chunks" "$work/a.data/storage.key" \
	    "root@127.0.0.1:$work/dst/" >"$work/rsync.$1.out"
	t1=$(ms)
	r_cpu=$(sub "$c0" "$(busy_s)")
	r_s=$(secs "$t0" "$t1")
	sync
	r_sync_s=$(secs "$t1" "$(ms)")
	sent=$(sed -n 's/^Total bytes sent: \([0-9,]*\).*/\1/p' "$work/rsync.$1.out" | tr -d ,)
	recv=$(sed -n 's/^Total bytes received: \([0-9,]*\).*/\1/p' "$work/rsync.$1.out" | tr -d ,)
	r_bytes=$((sent + recv))
	r_rss=$(awk '{ if ($1 > m) m = $1 } END { printf "%.1f", m / 1024 }' "$work/t.sql" "$work/t.rs")
}

# hwm_watch OUT: until killed, every 0.2 s, the peak RSS (VmHWM, KiB) of
# every running sqlite3, rsync, ssh and sshd (the bench's sshd and its
# sessions) as lines "name KiB" appended to OUT.
hwm_watch() {
	while :; do
		for p in $(pgrep -x 'sqlite3|rsync|ssh|sshd'); do
			cat "/proc/$p/status" 2>/dev/null
		done | awk '/^Name:/ { n = $2 } /^VmHWM:/ { print n, $2 }' >>"$1"
		sleep 0.2
	done
}

# hwm_of NAME: the largest peak RSS hwm_watch saw of NAME's processes, MiB.
hwm_of() {
	awk -v n="$1" '$1 == n && $2 > m { m = $2 } END { printf "%.1f", m / 1024 }' "$work/hwm"
}

# pp_bytes: TCP payload both ways on A's link to B, now.
pp_bytes() {
	"$P" -c "$work/a.conf" status --json | jget 'd["links"]["out"]["bytes_sent"] + d["links"]["out"]["bytes_received"]'
}

# pp_start NAME LOG: start poolpaird with NAME's config, logging to LOG;
# its pid in dpid (stopped by pp_run and at exit).
pp_start() {
	"$BUILD/poolpaird" -c "$work/$1.conf" 2>"$2" & dpid=$!
	dpids="$dpids $dpid"
	pids="$pids $dpid"
}

# pp_run: a first sync of a fresh pool B from A (both daemons started
# anew, B's store made empty); sets pf_s, pf_b, pf_cpu (the machine's
# busy CPU seconds over the sync) and pf_cpu_a, pf_cpu_b (each daemon's).
# B is up and listening first (as sshd is for rsync), then the clock
# starts with A: its link to B comes up at once, not after a refused
# first try.
pp_run() {
	for p in $dpids; do kill "$p" 2>/dev/null || true; done
	for p in $dpids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work/b.data"
	"$P" init --pool pool-b.example.test --data "$work/b.data" \
	    --config-master pool-a.example.test >/dev/null
	dpids=""
	pp_start b "$work/b.log"
	bpid=$dpid
	n=0
	until "$P" -c "$work/b.conf" status >/dev/null 2>&1; do
		n=$((n + 1)); [ $n -lt 100 ] || { echo "pool B did not start"; exit 1; }
		sleep 0.1
	done
	sync
	cb0=$(cpu_s "$bpid")
	t0=$(ms) c0=$(busy_s)
	pp_start a "$work/a.log"
	apid=$dpid
	bench_synced "$work/a.conf" 60000 0.02
	pf_cpu=$(sub "$c0" "$(busy_s)")
	pf_s=$(secs "$t0" "$(ms)")
	pf_cpu_a=$(cpu_s "$apid")
	pf_cpu_b=$(sub "$cb0" "$(cpu_s "$bpid")")
	pf_b=$(pp_bytes)
}

# The machine's speed swings from minute to minute (docs/benchmarks.md):
# each first sync runs TRIALS times, the two taking turns, into an empty
# destination each time; the best of each counts, and every trial goes
# to the CSV.
TRIALS=${TRIALS:-3}
rf_s="" pf_s_best="" rf_all="" pf_all="" rf_cpu_all="" pf_cpu_all="" dpids=""
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
t=1
while [ $t -le "$TRIALS" ]; do
	echo "compare: full initial sync, trial $t: sqlite3 .backup + rsync -a over ssh"
	rm -rf "$work/dst" "$work/snap"
	mkdir -p "$work/dst"
	rsync_run full
	echo "  $r_s s, $r_bytes bytes, $r_cpu CPU-s (then $r_sync_s s for sync to make it durable)"
	if [ "$(best "$rf_s" "$r_s")" = "$r_s" ]; then
		rf_s=$r_s rf_b=$r_bytes rf_rss=$r_rss rf_sync=$r_sync_s
		rf_cpu=$r_cpu
	fi
	rf_cpu_all="$rf_cpu_all${rf_cpu_all:+ }$r_cpu"
	rf_all="$rf_all${rf_all:+ }$r_s"
	echo "compare: full initial sync, trial $t: poolpaird"
	pp_run
	echo "  $pf_s s, $pf_b bytes, $pf_cpu CPU-s (daemons: A $pf_cpu_a, B $pf_cpu_b)"
	if [ "$(best "$pf_s_best" "$pf_s")" = "$pf_s" ]; then
		pf_s_best=$pf_s pf_b_best=$pf_b pf_cpu_best=$pf_cpu
		pf_cpu_a_best=$pf_cpu_a pf_cpu_b_best=$pf_cpu_b
	fi
	pf_cpu_all="$pf_cpu_all${pf_cpu_all:+ }$pf_cpu"
	pf_all="$pf_all${pf_all:+ }$pf_s"
	t=$((t + 1))
done
pf_s=$pf_s_best pf_b=$pf_b_best pf_cpu=$pf_cpu_best
echo "  best of $TRIALS: rsync $rf_s s ($rf_all), poolpair $pf_s s ($pf_all)"

# The peak RSS of every process of the rsync pipeline: one more full copy,
# not timed, watched (the three processes of rsync, the sender and, under
# sshd, the receiver and generator, count as rsync; the ssh client as ssh;
# sshd's listener and session processes as sshd).
echo "compare: full copy again, for the rsync pipeline's peak RSS"
rm -rf "$work/dst" "$work/snap" "$work/hwm"
mkdir -p "$work/dst"
hwm_watch "$work/hwm" & wpid=$!
pids="$pids $wpid"
rsync_run rss
kill "$wpid"; wait "$wpid" 2>/dev/null || true
rss_sql=$(awk '{ printf "%.1f", $1 / 1024 }' "$work/t.sql")
rss_rs=$(hwm_of rsync) rss_ssh=$(hwm_of ssh) rss_sshd=$(hwm_of sshd)
echo "  peak RSS: sqlite3 $rss_sql, rsync $rss_rs, ssh $rss_ssh, sshd $rss_sshd MiB"

# The rsync deployment's previous run: the destination as the store stands
# now (poolpaird's first syncs pruned its journal since the last trial's
# copy; an rsync deployment would have copied that already).
rsync_run base

echo "compare: incremental: 1% of users change one contact, 50 presentations one slide"
nu=$((U / 100))
i=0
while [ $i -lt $nu ]; do
	printf 'sip:user%06d@contoso.test\n' $((i * 100))
	i=$((i + 1))
done >"$work/users.txt"
"$P" --data "$work/a.data" content list --json | python3 -c '
import json, sys
items = [c for c in json.load(sys.stdin) if c["size"] > 1000000][:50]
for c in items: print(c["conf"], c["name"], c["kind"])' >"$work/items.txt"
b0=$(pp_bytes)
t0=$(ms)
while read -r u; do
	"$P" --data "$work/a.data" contact add "$u" sip:new.colleague@fabrikam.test \
	    --relationship colleague >/dev/null
done <"$work/users.txt"
while read -r conf name kind; do
	"$P" --data "$work/a.data" content get "$conf" "$name" -o "$work/item" >/dev/null
	size=$(stat -c %s "$work/item")
	head -c 4096 /dev/urandom | dd of="$work/item" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	"$P" --data "$work/a.data" content put "$conf" "$work/item" --name "$name" --kind "$kind" >/dev/null
done <"$work/items.txt"
tw=$(ms)
"$P" -c "$work/a.conf" sync --wait --timeout 600 >/dev/null
pi_s=$(secs "$tw" "$(ms)")
pi_b=$(( $(pp_bytes) - b0 ))
echo "  poolpaird: $pi_s s after the last change, $pi_b bytes (changes took $(secs "$t0" "$tw") s to make)"
rsync_run inc
ri_s=$r_s ri_b=$r_bytes
echo "  rsync: $ri_s s, $ri_b bytes"
# The content of the full sync, from the daemons' logs (the last trial's):
# A's send of the confcontent snapshot (export and transfer), then B's
# apply after END.
c_bytes=$(sed -n 's/.*sent confcontent snapshot: .* \([0-9]*\) bytes in \([0-9]*\) ms.*/\1/p' "$work/a.log" | tail -n 1)
c_send=$(sed -n 's/.*sent confcontent snapshot: .* bytes in \([0-9]*\) ms.*/\1/p' "$work/a.log" | tail -n 1)
c_apply=$(sed -n 's/.*imported confcontent .*applied in \([0-9]*\) ms.*/\1/p' "$work/b.log" | head -n 1)
c_mbs=$(awk -v b="${c_bytes:-0}" -v s="${c_send:-0}" -v a="${c_apply:-0}" 'BEGIN { printf "%.0f", (s + a > 0 ? b / 1e6 / ((s + a) / 1000) : 0) }')
echo "  content in the full sync: ${c_bytes:-?} bytes, sent in ${c_send:-?} ms, applied ${c_apply:-?} ms after: $c_mbs MB/s"
rss_a=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' /proc/$apid/status)
rss_b=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' /proc/$bpid/status)

# Steady state on the same pools: settings changed at A at 1,000 a second
# for LAG_SECS, each timed from its commit at A to its import at B
# (bench/lag, as bench/lag_bench.sh runs it on a small pool).  The rsync
# deployment's lag is at least its shortest workable interval: one run
# over the pool, the incremental run above.
LS=${LAG_SECS:-5}
echo "compare: steady state: 1000 changes/s for $LS s"
lag_out=$("$BUILD/bench-lag" -a "$work/a.data" -b "$work/b.data" \
    -p pool-a.example.test -r 1000 -s "$LS" -u "$U" -o "$work/lag.csv")
echo "  $lag_out"
lag_p99=$(echo "$lag_out" | sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p')

# Content on its own: B is stopped while CM MiB of new items (1 to 8 MiB,
# incompressible) are put at A, then started on a quiet disk; catching up
# is one package of content (export, TLS, spool, import), nothing else on
# the cores.  Timed from B's start until A has B's ACK.
echo "compare: content catch-up: B down while $CM MiB of new content is put at A"
kill "$bpid"
wait "$bpid" 2>/dev/null || true
cuconf=$("$P" --data "$work/a.data" conf create sip:user000000@contoso.test --subject catch-up)
left=$((CM << 20)) i=0
while [ $left -gt 0 ]; do
	sz=$(( (1 + (i * 5 + 3) % 8) << 20 ))
	[ $sz -le $left ] || sz=$left
	head -c $sz /dev/urandom >"$work/cu.pptx"
	"$P" --data "$work/a.data" content put "$cuconf" "$work/cu.pptx" \
	    --name "catch-up$i.pptx" --kind presentation >/dev/null
	left=$((left - sz)) i=$((i + 1))
done
rm -f "$work/cu.pptx"
sync
cpu_a0=$(cpu_s "$apid")
t0=$(ms)
pp_start b "$work/b2.log"
bpid=$dpid
bench_synced "$work/a.conf" 600 0.05
cu_s=$(secs "$t0" "$(ms)")
# The CPU both daemons spent on it (A's since B's start, B's in all):
# unlike MB/s, not raised or lowered by how busy the cores were.
cu_cpu_a=$(awk -v a="$cpu_a0" -v b="$(cpu_s "$apid")" 'BEGIN { printf "%.2f", b - a }')
cu_cpu_b=$(cpu_s "$bpid")
cu_mbs=$(awk -v m="$CM" -v s="$cu_s" 'BEGIN { printf "%.0f", m * 1.048576 / s }')
cu_nsb=$(awk -v m="$CM" -v a="$cu_cpu_a" -v b="$cu_cpu_b" 'BEGIN { printf "%.1f", (a + b) * 1e9 / (m * 1048576) }')
echo "  $CM MiB ($i items) caught up in $cu_s s: $cu_mbs MB/s; CPU A $cu_cpu_a s, B $cu_cpu_b s: $cu_nsb ns a byte"

echo "compare: the machine's limits"
head -c 268435456 /dev/urandom >"$work/rand"
# On a quiet disk: the phases before leave gigabytes to write back, and
# a dd that shares the disk with that measured 186-237 MB/s (full) on a
# disk that writes 500-1,300 MB/s.
sync
dd_lim=$(dd if="$work/rand" of="$work/dd.out" bs=1M conv=fdatasync 2>&1 | tail -n 1 | sed 's/.*, //')
mbs() { awk '{ v = $1; if ($2 ~ /^GB/) v *= 1000; if ($2 ~ /^kB/) v /= 1000; printf "%.0f", v }'; }
dd_mbs=$(echo "$dd_lim" | mbs)
rm -f "$work/dd.out"
aes=$(openssl speed -evp aes-256-gcm -bytes 16384 -seconds 1 2>/dev/null | tail -n 1 | awk '{ printf "%.0f MB/s", $2 / 1000 }')
sha=$(openssl speed -evp sha256 -bytes 16384 -seconds 1 2>/dev/null | tail -n 1 | awk '{ printf "%.0f MB/s", $2 / 1000 }')
zst=$(zstd -b1 -B16K "$work/rand" 2>&1 | tr '\r' '\n' | grep 'MB/s' | tail -n 1 | grep -o '[0-9.]* MB/s' | head -n 1)
# The pipeline bound: each byte of content is opened from A's store,
# sealed into the package, encrypted and decrypted by TLS, opened from the
# package and sealed into B's store (6 AES-GCM passes), its SHA-256 checked
# once (against its chunk id), on the machine's cores; and written once at
# B with fdatasync.  The bound is the slower of that CPU work and the disk.
cpu_mbs=$(echo "$aes $sha" | awk -v n="$(nproc)" '{ printf "%.0f", n / (6 / $1 + 1 / $3) }')
# The same passes as CPU time per byte (all cores' work, summed).
cpu_nsb=$(echo "$aes $sha" | awk '{ printf "%.1f", 1000 * (6 / $1 + 1 / $3) }')
bound=$(awk -v c="$cpu_mbs" -v d="$dd_mbs" 'BEGIN { printf "%.0f", (c < d ? c : d) }')
echo "  pipeline bound: $bound MB/s (CPU $cpu_mbs MB/s, disk $dd_mbs MB/s); content: $cu_mbs MB/s on its own, $c_mbs MB/s in the full sync"
rm -f "$work/rand"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }'; }
# util CPU TIME: CPU seconds as a share of all the cores' seconds in TIME.
util() { awk -v c="$1" -v t="$2" -v n="$(nproc)" 'BEGIN { printf "%.0f%%", (t > 0 ? 100 * c / (n * t) : 0) }'; }
csv="$res/compare-$MODE.csv"
hdr0="date,mode,store_bytes,rsync_full_s,rsync_full_bytes,pp_full_s,pp_full_bytes,rsync_inc_s,rsync_inc_bytes,pp_inc_s,pp_inc_bytes,rss_poolpaird_a,rss_poolpaird_b,rss_rsync,content_mbs,bound_mbs,disk_mbs,cpu_mbs,rsync_full_sync_s,rsync_full_trials,pp_full_trials,catchup_mib,catchup_s,catchup_mbs"
hdr1="$hdr0,catchup_cpu_a_s,catchup_cpu_b_s,catchup_ns_per_byte,bound_ns_per_byte"
hdr2="$hdr1,rsync_full_cpu_s,pp_full_cpu_s,pp_full_cpu_a_s,pp_full_cpu_b_s"
hdr3="$hdr2,rss_sqlite3,rss_rsync_all,rss_ssh,rss_sshd"
hdr="$hdr3,pp_lag_p99_ms_1000"
# Rows of before the CPU, per-process RSS and lag columns get them empty;
# a file with other columns is kept aside, not appended to.
case "$(head -n 1 "$csv" 2>/dev/null)" in
"$hdr0") sed -e "1s/.*/$hdr/" -e '2,$s/$/,,,,,,,,,,,,,/' "$csv" >"$csv.new" && mv "$csv.new" "$csv" ;;
"$hdr1") sed -e "1s/.*/$hdr/" -e '2,$s/$/,,,,,,,,,/' "$csv" >"$csv.new" && mv "$csv.new" "$csv" ;;
"$hdr2") sed -e "1s/.*/$hdr/" -e '2,$s/$/,,,,,/' "$csv" >"$csv.new" && mv "$csv.new" "$csv" ;;
"$hdr3") sed -e "1s/.*/$hdr/" -e '2,$s/$/,/' "$csv" >"$csv.new" && mv "$csv.new" "$csv" ;;
esac
[ -f "$csv" ] && [ "$(head -n 1 "$csv")" != "$hdr" ] && mv "$csv" "$csv.$(date -u +%Y%m%d%H%M).old"
[ -f "$csv" ] || echo "$hdr" >"$csv"
echo "$(date -u +%Y-%m-%dT%H:%MZ),$MODE,$du_a,$rf_s,$rf_b,$pf_s,$pf_b,$ri_s,$ri_b,$pi_s,$pi_b,$rss_a,$rss_b,$rf_rss,$c_mbs,$bound,$dd_mbs,$cpu_mbs,$rf_sync,$rf_all,$pf_all,$CM,$cu_s,$cu_mbs,$cu_cpu_a,$cu_cpu_b,$cu_nsb,$cpu_nsb,$rf_cpu,$pf_cpu,$pf_cpu_a_best,$pf_cpu_b_best,$rss_sql,$rss_rs,$rss_ssh,$rss_sshd,$lag_p99" >>"$csv"
machine=$(machine)
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
frag="$work/frag.md"
{
	echo "<!-- compare:begin (written by bench/compare.sh $MODE) -->"
	echo "Run: $(date -u +%Y-%m-%dT%H:%MZ), commit $commit, $MODE population ($U users x 100 contacts, 20 settings, $F conferences, $M MiB of content, 80% incompressible; $du_a bytes of store). Machine: $machine."
	echo
	echo "| figure | poolpair | rsync+ssh | limit | ratio |"
	echo "| --- | --- | --- | --- | --- |"
	echo "| full initial sync, time (best of $TRIALS: poolpair $pf_all s, rsync $rf_all s) | $pf_s s | $rf_s s | | $(ratio "$rf_s" "$pf_s") as fast (target: 1.5x) |"
	echo "| the same, until the copy is durable | $pf_s s (commits are synced) | $(awk -v a="$rf_s" -v b="$rf_sync" 'BEGIN { printf "%.2f", a + b }') s (rsync, then sync) | | $(ratio "$(awk -v a="$rf_s" -v b="$rf_sync" 'BEGIN { print a + b }')" "$pf_s") as fast |"
	echo "| full initial sync, CPU: the machine's busy core-seconds, the kernel's work included (trials: poolpair $pf_cpu_all, rsync $rf_cpu_all; the best poolpair trial's daemons A $pf_cpu_a_best s, B $pf_cpu_b_best s) | $pf_cpu s ($(util "$pf_cpu" "$pf_s") of the cores' time) | $rf_cpu s ($(util "$rf_cpu" "$rf_s")) | $(nproc) cores | $(ratio "$pf_cpu" "$rf_cpu") rsync's CPU |"
	echo "| full initial sync, bytes on the wire | $pf_b | $rf_b | | $(ratio "$rf_b" "$pf_b") fewer |"
	echo "| incremental (1% users, 50 slides), time | $pi_s s | $ri_s s | | $(ratio "$ri_s" "$pi_s") less |"
	echo "| incremental, bytes on the wire | $pi_b | $ri_b | | $(ratio "$ri_b" "$pi_b") fewer |"
	echo "| steady state at 1,000 changes/s ($LS s, these pools): poolpair's change-to-replica lag p99; rsync's shortest workable interval (one run over the pool: the incremental run) | $lag_p99 ms | $ri_s s | 200 ms (target, p99) | $(ratio "$(awk -v s="$ri_s" 'BEGIN { print s * 1000 }')" "$lag_p99") less |"
	echo "| peak RSS of every process (rsync: the largest of its three processes at both ends; sshd: its listener and sessions) | poolpaird A $rss_a, B $rss_b MiB | sqlite3 $rss_sql, rsync $rss_rs, ssh $rss_ssh, sshd $rss_sshd MiB | | |"
	echo "| content throughput on its own (catch-up of $CM MiB) | $cu_mbs MB/s | | $bound MB/s pipeline bound | $(ratio "$bound" "$cu_mbs") of the bound (target: within 2x) |"
	echo "| the same catch-up: CPU of both daemons per byte (A $cu_cpu_a s, B $cu_cpu_b s) | $cu_nsb ns | | $cpu_nsb ns (the bound's cipher and hash passes) | $(ratio "$cu_nsb" "$cpu_nsb") of the bound's CPU |"
	echo "| content throughput in the full sync (beside the userdata import) | $c_mbs MB/s | | $bound MB/s | $(ratio "$bound" "$c_mbs") of the bound |"
	echo "| disk write with fdatasync (256 MiB) | | | $dd_lim | |"
	echo "| AES-256-GCM, SHA-256, zstd -1 (16 KiB) | | | $aes, $sha, $zst | |"
	echo "<!-- compare:end -->"
} >"$frag"
bench_doc compare "Side by side: poolpair against sqlite3 .backup + rsync over ssh" "$frag"
echo "compare: results written to docs/benchmarks.md and $csv"
