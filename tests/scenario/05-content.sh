#!/bin/sh
# 05-content: conference content.
# Proves: a 5 MB item round-trips byte for byte (to a file and to stdout);
# re-putting it with a few bytes changed stores only a few new chunks; two
# conferences share chunks, and deleting one item keeps the other whole;
# list and --json report kind, MIME and the SHA-256 of the bytes; several
# files in one put, each its own item, checked before any is stored, the
# ones stored before a failing one left whole; del;
# bad input is refused with the store unchanged; a failed "get -o" leaves no
# file; a tampered chunk is detected; content is not stored in plaintext.
. "$(dirname "$0")/lib.sh"

D=$TESTDIR/s
newpool "$D" pool1.contoso.test
A=sip:alice@contoso.test
pp user add "$A" --name Alice >/dev/null
C=$(pp conf create "$A" --subject Review)
C2=$(pp conf create "$A" --subject Rerun)
cd "$TESTDIR"

# ~5 MB of random bytes.
head -c 5000000 /dev/urandom >deck.pptx
out=$(succeeds pp content put "$C" deck.pptx --kind presentation)
total=$(printf '%s' "$out" | sed -n 's/.* \([0-9]*\) chunks (\([0-9]*\) new)$/\1/p')
new=$(printf '%s' "$out" | sed -n 's/.* \([0-9]*\) chunks (\([0-9]*\) new)$/\2/p')
assert_contains "$out" "deck.pptx: 5000000 bytes" "content put output"
[ -n "$total" ] && [ "$total" -gt 100 ] || fail "5 MB in $total chunks (expected > 100): $out"
assert_eq "$total" "$new" "new chunks of a first put"

# get -o: identical bytes; get to stdout: identical too.
succeeds pp content get "$C" deck.pptx -o got.pptx >/dev/null
cmp deck.pptx got.pptx || fail "content get -o returned other bytes"
assert_eq 600 "$(stat -c %a got.pptx)" "mode of the file written by get -o"
exits 0 pp content get "$C" deck.pptx
cmp deck.pptx "$TESTDIR/.out" || fail "content get to stdout returned other bytes"
# get -o overwrites an existing file.
printf 'old' >got2.pptx
pp content get "$C" deck.pptx --output got2.pptx
cmp deck.pptx got2.pptx || fail "content get --output did not replace the file"

# Change 8 bytes in the middle and put again: only a few chunks are new.
printf 'CHANGED!' | dd of=deck.pptx bs=1 seek=2500000 conv=notrunc 2>/dev/null
out=$(succeeds pp content put "$C" deck.pptx --kind presentation)
total2=$(printf '%s' "$out" | sed -n 's/.* \([0-9]*\) chunks (\([0-9]*\) new)$/\1/p')
new2=$(printf '%s' "$out" | sed -n 's/.* \([0-9]*\) chunks (\([0-9]*\) new)$/\2/p')
[ -n "$new2" ] && [ "$new2" -ge 1 ] && [ "$new2" -le 4 ] ||
    fail "re-put after an 8-byte change stored $new2 new chunks (expected 1..4): $out"
[ "$total2" -gt 100 ] || fail "re-put has $total2 chunks"
pp content get "$C" deck.pptx -o got.pptx
cmp deck.pptx got.pptx || fail "content get after re-put returned other bytes"

# The same bytes in another conference: no new chunks; deleting the first
# item leaves the second whole.
out=$(succeeds pp content put "$C2" deck.pptx --name copy.bin)
assert_contains "$out" "(0 new)" "put of bytes already held"
cp deck.pptx deck2.pptx
succeeds pp content del "$C" deck.pptx >/dev/null
pp content get "$C2" copy.bin -o copy.bin
cmp deck2.pptx copy.bin || fail "shared chunks lost when the other item was deleted"
succeeds pp content put "$C" deck.pptx --kind presentation >/dev/null

# list, text and JSON.
sum=$(sha256sum deck.pptx | cut -d ' ' -f 1)
line=$(succeeds pp content list "$C")
assert_eq "$C deck.pptx presentation 5000000 application/vnd.openxmlformats-officedocument.presentationml.presentation" \
    "$(printf '%s' "$line" | cut -f 1-5 | tr '\t' ' ')" "content list"
j=$(succeeds pp content list "$C" --json)
assert_eq "$sum" "$(json_eval "$j" 'd[0]["sha256"]')" "sha256 in content list --json"
assert_eq "1 deck.pptx presentation 5000000 $total2" \
    "$(json_eval "$j" '"%d %s %s %d %d" % (len(d), d[0]["name"], d[0]["kind"], d[0]["size"], d[0]["chunks"])')" \
    "content list --json"
assert_eq "copy.bin deck.pptx" \
    "$(json_eval "$(succeeds pp content list --json)" '" ".join(sorted(c["name"] for c in d))')" \
    "content list of all conferences"
# --mime, --name, standard input.
printf 'hello\n' | succeeds pp content put "$C" - --name note --mime text/plain --kind handout >/dev/null
assert_eq "handout text/plain 6" \
    "$(json_eval "$(succeeds pp content list "$C" --json)" '" ".join(str(x) for c in d if c["name"] == "note" for x in (c["kind"], c["mime"], c["size"]))')" \
    "an item put from standard input"
assert_eq hello "$(succeeds pp content get "$C" note)" "content of the stdin item"
refused 2 "name" pp content put "$C" -
printf '' >empty.txt
succeeds pp content put "$C" empty.txt >/dev/null
assert_eq 0 "$(succeeds pp content get "$C" empty.txt | wc -c)" "an empty item"

# Several files in one put: each an item of its own, reported in the
# order given, stored two at a time (-j sets how many).
mkdir many sub
for i in 1 2 3 4 5; do head -c $((i * 700000)) /dev/urandom >"many/h$i.pdf"; done
out=$(succeeds pp content put "$C2" many/h1.pdf many/h2.pdf many/h3.pdf \
    many/h4.pdf many/h5.pdf --kind handout)
assert_eq "h1.pdf h2.pdf h3.pdf h4.pdf h5.pdf" \
    "$(printf '%s\n' "$out" | cut -d: -f1 | tr '\n' ' ' | sed 's/ $//')" \
    "the lines of a put of five files"
for i in 1 2 3 4 5; do
	pp content get "$C2" "h$i.pdf" -o got.pdf
	cmp "many/h$i.pdf" got.pdf || fail "h$i.pdf of a five-file put returned other bytes"
done
assert_eq "5 handout application/pdf" \
    "$(json_eval "$(succeeds pp content list "$C2" --json)" '"%d %s" % (len([c for c in d if c["name"].startswith("h")]), " ".join(sorted(set("%s %s" % (c["kind"], c["mime"]) for c in d if c["name"].startswith("h")))))')" \
    "kind and MIME of a five-file put"
# One job: a put queue, each file committed while the next is read.
for i in 1 2 3 4; do head -c $((i * 900000)) /dev/urandom >"many/q$i.bin"; done
cp many/q4.bin many/q5.bin
out=$(succeeds pp content put "$C2" many/q1.bin many/q2.bin many/q3.bin \
    many/q4.bin many/q5.bin -j 1)
assert_eq "q1.bin q2.bin q3.bin q4.bin q5.bin" \
    "$(printf '%s\n' "$out" | cut -d: -f1 | tr '\n' ' ' | sed 's/ $//')" \
    "the lines of a put of five files with -j 1"
assert_contains "$(printf '%s\n' "$out" | tail -n 1)" "(0 new)" \
    "a copy of the file before it, put right after it"
for i in 1 2 3 4 5; do
	pp content get "$C2" "q$i.bin" -o got.bin
	cmp "many/q$i.bin" got.bin || fail "q$i.bin put with -j 1 reads back different"
done
out=$(succeeds pp content put "$C2" many/h1.pdf many/h2.pdf many/h3.pdf -j 8 --kind handout)
assert_eq 3 "$(printf '%s\n' "$out" | grep -c '(0 new)$')" "a re-put of three files with -j 8"
# Checked before anything is stored: names, the files, the options.
cp many/h1.pdf sub/h1.pdf
head -c 300000 /dev/urandom >fresh.pdf
refused 1 "would both be item 'h1.pdf'" pp content put "$C2" fresh.pdf sub/h1.pdf many/h1.pdf
refused 1 "cannot open" pp content put "$C2" fresh.pdf "$TESTDIR/does-not-exist.pdf"
refused 2 "one FILE" pp content put "$C2" fresh.pdf many/h1.pdf --name x.pdf
refused 2 "only FILE" pp content put "$C2" fresh.pdf -
refused 2 "jobs" pp content put "$C2" fresh.pdf -j 0
refused 2 "jobs" pp content put "$C2" fresh.pdf --jobs 9
refused 1 "MIME" pp content put "$C2" fresh.pdf many/h1.pdf --mime text
refused 2 "unexpected argument" pp content put "$C2" $(for i in $(seq 0 64); do printf 'f%d.pdf ' "$i"; done)
refused 1 "no content" pp content get "$C2" fresh.pdf
# A file that fails while being read (here /proc/self/mem: EIO at offset
# 0): the files before it stay stored, each whole; the error says so.
head -c 200000 /dev/urandom >first.bin
exits 3 pp content put "$C2" first.bin /proc/self/mem -j 1
assert_contains "$(cat "$TESTDIR/.err")" "/proc/self/mem: cannot read the content" "a failed file's error"
assert_contains "$(cat "$TESTDIR/.err")" "(1 of 2 files stored, each whole)" "the count of files stored"
pp content get "$C2" first.bin -o got.bin
cmp first.bin got.bin || fail "the file stored before a failed one is not whole"
refused 1 "no content" pp content get "$C2" mem

# Refusals, each with the store unchanged.
refused 1 "cannot open" pp content put "$C" "$TESTDIR/does-not-exist.bin"
mkdir adir
refused 1 "not a file" pp content put "$C" adir
refused 1 "unknown conference" pp content put 0123456789abcdef0123456789abcdef deck.pptx
refused 1 "not a conference id" pp content put not-an-id deck.pptx
refused 1 "unknown kind" pp content put "$C" deck.pptx --kind slides
for bad in 'bad mime' text /plain 'text/' "text/$(nchars 130 x)"; do
	refused 1 "MIME" pp content put "$C" deck.pptx --mime "$bad"
done
refused 1 "no content" pp content get "$C" nothing.bin
refused 1 "no content" pp content del "$C" nothing.bin
refused 1 "unknown conference" pp content get 0123456789abcdef0123456789abcdef deck.pptx
# A failed get -o leaves neither the file nor a temporary beside it.
refused 1 "no content" pp content get "$C" nothing.bin -o out.bin
left=$(find . -maxdepth 1 -name 'out.bin*')
[ -z "$left" ] || fail "failed get -o left: $left"
# and does not clobber an existing file.
printf 'keep me' >keep.bin
refused 1 "no content" pp content get "$C" nothing.bin -o keep.bin
assert_eq "keep me" "$(cat keep.bin)" "file named by a failed get -o"

# del.
succeeds pp content del "$C" empty.txt >/dev/null
refused 1 "no content" pp content get "$C" empty.txt

# Content is sealed: a text item's words are in none of the store's files
# (database, WAL, pack files).
yes 'MARKER-q7Zk3 minutes of the board: acquire fabrikam' | head -n 3000 >minutes.txt
succeeds pp content put "$C" minutes.txt >/dev/null
[ -n "$(find "$D/chunks" -type f -size +0)" ] || fail "no pack file holds the content"
assert_eq 0 "$(find "$D" -type f -exec cat {} + | grep -a -c MARKER-q7Zk3 || true)" \
    "lines of plaintext in the store"
for f in "$D"/chunks/*; do
	assert_eq 600 "$(stat -c %a "$f")" "mode of pack file $f"
done
pp content get "$C" minutes.txt -o minutes.out
cmp minutes.txt minutes.out || fail "minutes.txt did not round-trip"

# A tampered chunk is detected: zero 16 bytes at offset 50000 of the first
# pack, which holds the chunks of the first put in order, so a chunk in the
# first 100 KB of deck.pptx, which copy.bin shares.  get -o then fails with
# exit 3 and leaves nothing behind.
pack=$(find "$D/chunks" -type f | sort | head -n 1)
dd if=/dev/zero of="$pack" bs=1 seek=50000 count=16 conv=notrunc 2>/dev/null
for item in "$C deck.pptx" "$C2 copy.bin"; do
	# shellcheck disable=SC2086
	set -- $item
	refused 3 "failed authentication" pp content get "$1" "$2" -o tampered.out
	no_sanitizer_report "$TESTDIR/.err" "get of a tampered item"
	left=$(find . -maxdepth 1 -name 'tampered.out*')
	[ -z "$left" ] || fail "a failed get -o left $left"
done
# Items that do not use that chunk are still whole.
pp content get "$C" minutes.txt -o minutes.out
cmp minutes.txt minutes.out || fail "minutes.txt damaged by tampering with another chunk"
echo "05-content: ok"
