#!/bin/sh
# run.sh BUILD full|quick: the store benchmarks.  Generates the standard
# population through the store API with bench-gen (full: 40,000 users x 100
# contacts, 20 settings each, 4,000 conferences, 2 GiB of content of which
# 80% is incompressible; quick: a tenth), measures the chunker, and writes
# the results between the "store" markers of docs/benchmarks.md, with raw
# CSV in bench/results/.
set -eu
BUILD=${1:-build}
MODE=${2:-quick}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$MODE" in
full) U=40000 F=4000 M=2048 C=1024 ;;
quick) U=4000 F=400 M=205 C=512 ;;
*) echo "usage: bench/run.sh BUILD full|quick" >&2; exit 2 ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/pp-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
res="$top/bench/results"
mkdir -p "$res"

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: chunker and primitives"
"$BUILD/bench-chunk" >"$res/chunk.csv"
cat "$res/chunk.csv"

echo "bench: store population ($MODE: $U users)"
csv="$res/store-$MODE.csv"
[ -f "$csv" ] || echo "users,contacts_per_user,settings_per_user,contact_rows,contact_s,contact_rows_per_s,content_mb,content_s,content_mb_per_s,db_bytes,pack_bytes,peak_rss_kib" >"$csv"
out=$("$BUILD/bench-gen" --data "$work/pool" --users $U \
    --contacts-per-user 100 --settings-per-user 20 --conferences $F \
    --content-mb $M --compressible-pct 20 --csv "$csv")
echo "$out"

echo "bench: two uploads at once ($C MiB of 1-8 MiB items, two threads)"
two=$("$BUILD/bench-gen" --data "$work/two" --users 1 --contacts-per-user 0 \
    --settings-per-user 0 --conferences 100 --content-mb $C \
    --compressible-pct 20 --put-threads 2)
echo "$two"
rm -rf "$work/two"

echo "bench: poolpair content put of 40 files of 1-8 MiB (-j 1, then -j 2)"
mkdir "$work/files"
i=0
while [ $i -lt 40 ]; do
	head -c $(( (1 + (i * 5 + 3) % 8) << 20 )) /dev/urandom >"$work/files/deck$i.pptx"
	i=$((i + 1))
done
fbytes=$(cat "$work/files"/*.pptx | wc -c)
cliput() {
	rm -rf "$work/cli"
	"$BUILD/poolpair" init --pool pool-a.example.test --data "$work/cli" >/dev/null
	"$BUILD/poolpair" --data "$work/cli" user add sip:alice@contoso.test --name Alice >/dev/null
	conf=$("$BUILD/poolpair" --data "$work/cli" conf create sip:alice@contoso.test --subject bench)
	sync
	t0=$(date +%s%N)
	"$BUILD/poolpair" --data "$work/cli" content put "$conf" "$work/files"/*.pptx -j "$1" >/dev/null
	t1=$(date +%s%N)
	echo "40 files, $((fbytes >> 20)) MiB in $(( (t1 - t0) / 1000000 )) ms: $(( fbytes * 1000 / (t1 - t0) )) MB/s"
}
cli1=$(cliput 1)
cli2=$(cliput 2)
echo "-j 1: $cli1"
echo "-j 2: $cli2"
rm -rf "$work/cli" "$work/files"

echo "bench: large items (2 x 256 MiB, incompressible)"
big=$("$BUILD/bench-gen" --data "$work/big" --users 1 --contacts-per-user 0 \
    --settings-per-user 0 --conferences 1 --content-mb 512 --item-mb 256 \
    --compressible-pct 0)
echo "$big"
rm -rf "$work/big"

echo "bench: the disk's limit (dd of 256 MiB to a new file, with fdatasync)"
head -c 268435456 /dev/urandom >"$work/rand" 2>/dev/null
limit=$(dd if="$work/rand" of="$work/dd.out" bs=1M conv=fdatasync 2>&1 | tail -n 1 | sed 's/.*, //')
rm -f "$work/rand" "$work/dd.out"
echo "dd: $limit"

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr)"
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
line() { echo "$out" | grep "^$1" | sed "s/^$1 *//"; }
frag="$work/frag.md"
{
	echo "<!-- store:begin (written by bench/run.sh $MODE) -->"
	echo "Run: $(date -u +%Y-%m-%dT%H:%MZ), commit $commit, $MODE population."
	echo "Machine: $machine; load average at the start: $load."
	echo
	echo "| figure | result | target |"
	echo "| --- | --- | --- |"
	echo "| contact rows through the store API (batches of 10,000) | $(line 'contact rows') | >= 200,000 rows/s |"
	echo "| content put, items of 1-8 MiB (80% incompressible), one transaction each | $(line content) | >= 300 MB/s |"
	echo "| content put, two uploads at once (two threads, each its own store handle; items of 1-8 MiB, fresh store) | $(echo "$two" | grep '^content' | sed 's/^content *//') | >= 300 MB/s |"
	echo "| \`poolpair content put\` of 40 files of 1-8 MiB (random), one at a time (-j 1), start-up included | $cli1 | >= 300 MB/s |"
	echo "| the same, two at a time (-j 2, the default) | $cli2 | >= 300 MB/s |"
	echo "| content put, items of 256 MiB (incompressible) | $(echo "$big" | grep '^content' | sed 's/^content *//') | >= 300 MB/s |"
	echo "| the disk: dd of 256 MiB to a new file with fdatasync | $limit | (limit) |"
	echo "| users with 20 settings each | $(line users) | |"
	echo "| store size on disk | $(line 'store size') | |"
	echo "| bench/gen peak RSS (population run) | $(line 'peak RSS') | |"
	echo
	echo "Chunker (20 MiB of random data; edit = 4 KiB rewritten mid-file, insert = 100 bytes inserted):"
	echo
	echo '```'
	cat "$res/chunk.csv"
	echo '```'
	echo "<!-- store:end -->"
} >"$frag"
doc="$top/docs/benchmarks.md"
if grep -q '<!-- store:begin' "$doc" 2>/dev/null; then
	awk -v f="$frag" '/<!-- store:begin/ { while ((getline l < f) > 0) print l; skip = 1; next }
	    /<!-- store:end/ { skip = 0; next } !skip { print }' "$doc" >"$work/doc" && cp "$work/doc" "$doc"
else
	cat "$frag" >>"$doc"
fi
echo "bench: results written to docs/benchmarks.md and $csv"
