#!/bin/sh
# 09-compact: reclaiming the space of deleted content.
# Proves: compact leaves a mostly-live pack alone; once a pack is at least
# half dead it moves the live chunks to a new pack, frees the rest, and every
# item still reads back byte for byte; with no content left no pack remains
# and new content can be put again; stray pack files are removed; compact
# writes no journal record; and a content get running while compact rewrites
# the packs it reads still returns the item (readers are not broken by
# compaction).
. "$(dirname "$0")/lib.sh"

alice_pool "$TESTDIR/s" pool1.contoso.test
cd "$TESTDIR"
head -c 3000000 /dev/urandom >a.bin
head -c 1000000 /dev/urandom >b.bin
pp content put "$C" a.bin >/dev/null
pp content put "$C" b.bin >/dev/null
packbytes() { json_eval "$(succeeds pp info --json)" 'd["pack_bytes"]'; }
packs() { (cd "$D/chunks" && ls); }

# Nothing deleted: nothing to do.
before=$(packbytes)
[ "$before" -gt 4000000 ] || fail "4 MB of content in $before pack bytes"
j=$(succeeds pp compact --json)
assert_eq "1 0 0 0" "$(json_eval "$j" '"%d %d %d %d" % (d["packs"], d["packs_rewritten"], d["chunks_moved"], d["bytes_freed"])')" \
    "compact with nothing deleted"
assert_eq "$before" "$(packbytes)" "pack bytes after a compact with nothing to do"
journal_before=$(succeeds pp journal)

# Three quarters dead: rewritten, the live quarter moved.
nb=$(json_eval "$(succeeds pp content list "$C" --json)" '[c["chunks"] for c in d if c["name"] == "b.bin"][0]')
old=$(packs)
succeeds pp content del "$C" a.bin >/dev/null
j=$(succeeds pp compact --json)
assert_eq "1 1 $nb" "$(json_eval "$j" '"%d %d %d" % (d["packs"], d["packs_rewritten"], d["chunks_moved"])')" \
    "compact of a pack three quarters dead"
freed=$(json_eval "$j" 'd["bytes_freed"]')
after=$(packbytes)
assert_eq "$before" "$((after + freed))" "pack bytes before = after + freed"
[ "$after" -ge 1000000 ] && [ "$after" -lt 1100000 ] || fail "pack bytes after compact: $after"
! packs | grep -q -x -F "$old" || fail "compact left the old pack $old"
pp content get "$C" b.bin -o got.bin
cmp b.bin got.bin || fail "b.bin changed by compaction"
# compact is not a change of the pool's data: no journal record (the
# content del above made one).
assert_eq "$(printf '%s\n' "$journal_before" | wc -l)" "$(($(succeeds pp journal | wc -l) - 1))" \
    "journal records made by compact"

# Nothing left: no pack; new content can be put and read.
succeeds pp content del "$C" b.bin >/dev/null
succeeds pp compact >/dev/null
assert_eq "" "$(packs)" "pack files with no content"
assert_eq 0 "$(packbytes)" "pack bytes with no content"
pp content put "$C" b.bin >/dev/null
pp content get "$C" b.bin -o got.bin
cmp b.bin got.bin || fail "b.bin put after everything was compacted away"

# A stray pack file (left by a crash) is removed; other files are not.
head -c 5000 /dev/urandom >"$D/chunks/pack-000099"
: >"$D/chunks/notes"
j=$(succeeds pp compact --json)
[ ! -e "$D/chunks/pack-000099" ] || fail "compact left a stray pack"
[ -e "$D/chunks/notes" ] || fail "compact removed a file that is not a pack"
[ "$(json_eval "$j" 'd["bytes_freed"]')" -ge 5000 ] || fail "stray pack not counted as freed: $j"
rm "$D/chunks/notes"
pp content get "$C" b.bin -o got.bin
cmp b.bin got.bin || fail "b.bin after the stray pack was removed"

# A reader during compaction.  y.bin = x.bin + 500 kB, so its chunks lie
# in two packs: x's in the first (x.bin, over 1 MiB, got a pack of its
# own), which is made full (a sparse extension to 256 MiB, the size at
# which a new pack is started, as a long-lived store would have), and the
# new ones in the second, shared with z.bin (small items share a pack).  A
# content get of y.bin, blocked on a full pipe while still in the first
# pack, runs while compact rewrites both packs; it must still return y.bin.
D=$TESTDIR/r
newpool "$D" pool2.contoso.test
pp user add "$A" --name Alice >/dev/null
C=$(pp conf create "$A")
head -c 2000000 /dev/urandom >x.bin
{ cat x.bin; head -c 500000 /dev/urandom; } >y.bin
head -c 1000000 /dev/urandom >z.bin
pp content put "$C" x.bin >/dev/null
truncate -s 268435456 "$D/chunks/pack-000001"
pp content put "$C" y.bin >/dev/null
pp content put "$C" z.bin >/dev/null
pp content del "$C" z.bin >/dev/null
pp content del "$C" x.bin >/dev/null
assert_eq "pack-000001 pack-000002" "$(packs | tr '\n' ' ' | sed 's/ $//')" \
    "packs holding y.bin"
rm -f getrc
{ rc=0; "$POOLPAIR" --data "$D" content get "$C" y.bin 2>get.err || rc=$?; echo $rc >getrc; } |
    { sleep 2; cat >y.out; } &
reader=$!
sleep 1
[ ! -e getrc ] || fail "the reader finished before compact ran (exit $(cat getrc))"
j=$(succeeds pp compact --json)
assert_eq 2 "$(json_eval "$j" 'd["packs_rewritten"]')" "packs rewritten under the reader"
wait $reader
no_sanitizer_report get.err "content get during compact"
assert_eq 0 "$(cat getrc)" "exit of a content get during compact (stderr: $(cat get.err))"
cmp y.bin y.out || fail "content get during compact returned other bytes"
echo "09-compact: ok"
