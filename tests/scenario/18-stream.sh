#!/bin/sh
# 18-stream: how poolpaird overlaps a package's transfer with its import.
# Proves: a first sync of a generated population (a userdata snapshot big
# enough to keep B's importer busy while the content package arrives, so
# its chunks are prestaged and its spool freed as the stager reads it)
# converges, byte for byte, and verify finds both pools equal, and the
# importer's deferred checkpoint runs once the packages are answered; a
# package streamed into the importer while A is
# stopped mid-transfer (SIGSTOP) is cut ("the link stalled"), rolled back
# and imported from the spool after END, with nothing lost; no spool file
# is left behind (the large ones are removed on a thread of their own).
. "$(dirname "$0")/lib.sh"

BIN=$(dirname "$POOLPAIR")
[ -x "$BIN/bench-gen" ] || fail "no $BIN/bench-gen"
daemon_pair_setup
trap 'kill -CONT $PID_A 2>/dev/null; stop_daemon a KILL; stop_daemon b KILL' EXIT
rm -rf "$TESTDIR/a.data"
"$BIN/bench-gen" --data "$TESTDIR/a.data" --pool "$PA" --users 7000 \
    --contacts-per-user 100 --settings-per-user 5 --conferences 40 \
    --content-mb 24 >/dev/null

# First sync.
start_daemon a
start_daemon b
n=0
until pa sync --wait --timeout 300 >/dev/null 2>&1; do
	n=$((n + 1)); [ $n -lt 300 ] || fail "no first sync"
	sleep 0.2
done
out=$(succeeds pa verify)
assert_contains "$out" "all equal" "verify after the first sync"
pa content list --json >"$TESTDIR/list.json"
item=$(json_eval "$(cat "$TESTDIR/list.json")" 'sorted(d, key=lambda c: -c["size"])[0]["conf"] + " " + sorted(d, key=lambda c: -c["size"])[0]["name"]')
set -- $item
pa content get "$1" "$2" -o "$TESTDIR/a.item" >/dev/null
pb content get "$1" "$2" -o "$TESTDIR/b.item" >/dev/null
cmp -s "$TESTDIR/a.item" "$TESTDIR/b.item" || fail "content differs at B"
grep -q "imported confcontent" "$TESTDIR/b.log" || fail "no content import logged"
# The prestaged content package's spool was freed behind the stager.
grep -q "prestaged confcontent: [1-9][0-9]* MiB of its spool freed" "$TESTDIR/b.log" ||
    fail "the prestaged spool was not freed: $(grep -i prestag "$TESTDIR/b.log")"
# The importer deferred its checkpoint past the answers (the WAL of the
# userdata snapshot passed STORE_CHECKPOINT_FRAMES, 64 MiB); with every
# package answered it runs: B's database file, not only its WAL, now
# holds the replica.
wait_for 30 sh -c "[ \$(stat -c %s '$TESTDIR/b.data/pool.db') -gt 33554432 ]"

# A stall in mid-transfer: A stopped while B streams its package.
CF=$(pa conf create sip:user000001@contoso.test --subject Stall)
cut=0 try=0
while [ $cut -eq 0 ] && [ $try -lt 5 ]; do
	try=$((try + 1))
	head -c 40000000 /dev/urandom >"$TESTDIR/big$try.bin"
	pa content put "$CF" "$TESTDIR/big$try.bin" --kind handout >/dev/null
	# Wait (at most 10 s) for B's spool of the package, then stop A.
	t0=$(ms)
	while ! ls "$TESTDIR/b.data"/spool-in.confcontent.*.ppkg >/dev/null 2>&1; do
		[ $(( $(ms) - t0 )) -lt 10000 ] || break
	done
	kill -STOP "$PID_A"
	sleep 0.8
	kill -CONT "$PID_A"
	wait_for 60 sh -c "'$POOLPAIR' -c '$CB_CONF' content get '$CF' big$try.bin -o '$TESTDIR/got.bin' && cmp -s '$TESTDIR/big$try.bin' '$TESTDIR/got.bin'"
	grep -q "streaming confcontent cut: the link stalled" "$TESTDIR/b.log" &&
	    cut=1
done
[ $cut -eq 1 ] || fail "no streaming import was cut in $try tries"
echo "a stalled stream was cut and imported from the spool (try $try)"
pa sync --wait --timeout 60 >/dev/null
out=$(succeeds pa verify)
assert_contains "$out" "all equal" "verify after the stall"
st=$(succeeds pb status --json)
assert_eq "NormalState" "$(json_eval "$st" '[m for m in d["modules"] if m["module"] == "confcontent"][0]["import"]["state"]')" "B's import state"
# The spools (the 40 MB ones removed off the loop, after the answer) go.
wait_for 10 sh -c "! ls '$TESTDIR/b.data'/spool-in.* >/dev/null 2>&1"
no_sanitizer_report "$TESTDIR/a.log" "poolpaird a"
no_sanitizer_report "$TESTDIR/b.log" "poolpaird b"
echo "18-stream: ok"
