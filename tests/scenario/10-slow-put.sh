#!/bin/sh
# 10-slow-put: a content upload that arrives slowly must not stall the pool.
# Proves: while "content put" reads a slow pipe (its input stalls for 4 s),
# other processes can still read the store and can still write it without
# waiting for the upload to finish; the upload itself then completes intact.
# (Writers that wait longer than the store's 10 s busy timeout fail with
# exit 3 "store is busy", so an upload stalled that long would make every
# other write on the pool fail.)
. "$(dirname "$0")/lib.sh"

alice_pool "$TESTDIR/s" pool1.contoso.test
cd "$TESTDIR"
head -c 100000 /dev/urandom >part1
head -c 1000 /dev/urandom >part2
cat part1 part2 >whole

ms() { date +%s%3N; }

{ cat part1; sleep 4; cat part2; } |
    { rc=0; "$POOLPAIR" --data "$D" content put "$C" - --name slow.bin >put.out 2>put.err || rc=$?; echo $rc >putrc; } &
upload=$!
sleep 1
[ ! -e putrc ] || fail "the upload finished early (exit $(cat putrc): $(cat put.err))"

# A reader is not blocked.
t0=$(ms)
assert_eq "$A" "$(succeeds pp user list | cut -f 1)" "user list during the upload"
[ $(($(ms) - t0)) -lt 2000 ] || fail "user list took $(($(ms) - t0)) ms during the upload"

# A writer is not blocked either.
t0=$(ms)
rc=0
"$POOLPAIR" --data "$D" user add sip:bob@contoso.test --name Bob >/dev/null 2>add.err || rc=$?
t=$(($(ms) - t0))
still=no
[ -e putrc ] || still=yes
wait $upload
assert_eq 0 "$rc" "exit of user add during the upload (stderr: $(cat add.err))"
[ "$t" -lt 2000 ] || fail "user add waited $t ms for a content put reading a slow pipe (upload still running when it returned: $still)"

assert_eq 0 "$(cat putrc)" "exit of the slow upload (stderr: $(cat put.err))"
assert_contains "$(cat put.out)" "slow.bin: 101000 bytes" "slow upload output"
pp content get "$C" slow.bin -o got
cmp whole got || fail "the slow upload stored other bytes"
echo "10-slow-put: ok"
