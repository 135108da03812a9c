#!/bin/sh
# pkg_bench.sh BUILD [CONTENT_MB] [USERS]: package export and import
# throughput and peak memory.  Two pools of one pair (CA and identities made
# with poolpair pki); pool A holds CONTENT_MB (default 1024) of
# incompressible content in 8 MiB items and USERS (default 4,000) users with
# 100 contacts and 20 settings each; A exports each module to a file
# (snapshot), B imports it.  Times and peak RSS come from /usr/bin/time.
# Writes the block between the "packages" markers of docs/benchmarks.md and
# CSV in bench/results/packages.csv.
set -eu
BUILD=${1:-build}
MB=${2:-1024}
USERS=${3:-4000}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
bench_setup pkgbench
bench_pair

echo "pkg-bench: pool A: $USERS users x 100 contacts, $MB MiB of content"
"$BUILD/bench-gen" --data "$work/a.data" --pool pool-a.example.test \
    --users "$USERS" --contacts-per-user 100 --settings-per-user 20 \
    --conferences $((USERS / 10)) --content-mb "$MB" --item-mb 8 \
    --compressible-pct 0 >/dev/null

# run NAME CMD...: time CMD; sets secs and rss_mib.
run() {
	name=$1; shift
	sync
	/usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/$name.out"
	secs=$(cut -d' ' -f1 "$work/time")
	rss_mib=$(awk '{printf "%.1f", $2 / 1024}' "$work/time")
}
rate() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }'; }

run export_ud "$P" -c "$work/a.conf" export --module userdata --full \
    -o "$work/ud.ppkg" --json
eus=$secs eurss=$rss_mib
records=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$work/export_ud.out")
ubytes=$(stat -c %s "$work/ud.ppkg")
run export_cc "$P" -c "$work/a.conf" export --module confcontent --full \
    -o "$work/cc.ppkg" --json
ecs=$secs erss=$rss_mib
pbytes=$(stat -c %s "$work/cc.ppkg")
# The pipeline without the file: export to /dev/null.
run export_null "$P" -c "$work/a.conf" export --module confcontent --full \
    -o /dev/null --json
ncs=$secs
# The machine's limit: writing a new file of that size durably (export
# and import both sync what they write before they report success).
sync
lim=$(dd if="$work/cc.ppkg" of="$work/dd.out" bs=1M conv=fdatasync 2>&1 | tail -n 1 | sed 's/.*, //')
rm -f "$work/dd.out"
# Content needs its conferences: userdata goes in first.
run import_ud "$P" -c "$work/b.conf" import "$work/ud.ppkg" --json
ius=$secs iurss=$rss_mib
# (The userdata import's WAL is checkpointed first, so the content import
# is measured alone.)
sqlite3 "$work/b.data/pool.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
run import_cc "$P" -c "$work/b.conf" import "$work/cc.ppkg" --json
ics=$secs irss=$rss_mib
mbytes=$((MB * 1048576))
emb=$(rate $((mbytes / 1000000)) "$ecs")
imb=$(rate $((mbytes / 1000000)) "$ics")
nmb=$(rate $((mbytes / 1000000)) "$ncs")
erec=$(rate "$records" "$eus")
irec=$(rate "$records" "$ius")
echo "confcontent: export ${ecs}s ($emb MB/s, peak RSS $erss MiB; to /dev/null $nmb MB/s), import ${ics}s ($imb MB/s, peak RSS $irss MiB), package $pbytes bytes; new-file write limit $lim"
echo "userdata: $records records, export ${eus}s ($erec records/s, $eurss MiB), import ${ius}s ($irec records/s, $iurss MiB), package $ubytes bytes"

csv="$res/packages.csv"
[ -f "$csv" ] || echo "date,content_mb,export_null_mb_s,dd_limit,export_s,export_mb_s,export_rss_mib,import_s,import_mb_s,import_rss_mib,package_bytes,records,ud_export_s,ud_export_rec_s,ud_import_s,ud_import_rec_s,ud_package_bytes" >"$csv"
echo "$(date -u +%Y-%m-%dT%H:%MZ),$MB,$nmb,$lim,$ecs,$emb,$erss,$ics,$imb,$irss,$pbytes,$records,$eus,$erec,$ius,$irec,$ubytes" >>"$csv"

machine=$(machine)
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
frag="$work/frag.md"
{
	echo "<!-- packages:begin (written by bench/pkg_bench.sh) -->"
	echo "Run: $(date -u +%Y-%m-%dT%H:%MZ), commit $commit. Machine: $machine."
	echo
	echo "| figure | result | target |"
	echo "| --- | --- | --- |"
	echo "| export of $MB MiB of incompressible content (one snapshot package) | ${ecs} s, $emb MB/s | >= 300 MB/s |"
	echo "| the same export to /dev/null (the pipeline without the file) | ${ncs} s, $nmb MB/s | |"
	echo "| import of that package | ${ics} s, $imb MB/s | >= 300 MB/s |"
	echo "| the machine: dd of the package to a new file, with fdatasync | $lim | (limit) |"
	echo "| peak RSS, export / import | $erss MiB / $irss MiB | <= 64 MiB |"
	echo "| package size / content | $pbytes / $mbytes bytes | |"
	echo "| export of userdata ($records records) | ${eus} s, $erec records/s | |"
	echo "| import of userdata | ${ius} s, $irec records/s | |"
	echo "| peak RSS, userdata export / import | $eurss MiB / $iurss MiB | <= 64 MiB |"
	echo "<!-- packages:end -->"
} >"$frag"
bench_doc packages "Packages: export and import" "$frag"
echo "pkg-bench: results written to docs/benchmarks.md and $csv"
