#!/bin/sh
# 23-full-disk: a pool's data directory on a small filesystem that fills up.
# Proves, with two poolpaird on loopback:
# - importer full (B): a package from A cannot be spooled or imported; B's
#   status shows import ErrorState with the reason (no space), its log says
#   so, B's store is exactly as before (nothing partial), A shows export
#   ErrorState and keeps its journal; once the filler is removed, the
#   sender's retry goes in by itself and both sides converge;
# - the CLI on a full disk: one line on stderr, exit 3, the store unchanged
#   and usable once space returns;
# - exporter full (A): what A committed before still reaches B (an export
#   only reads); A's failed journal prune and audit writes do not stop it;
#   A's own spool (B's package to A) fails and resumes like B's did.
# The filesystem is a tmpfs in a private mount namespace (root, or a user
# namespace); where neither can be had, the scenario prints SKIP and exits
# 77, which tests/run.sh reports as skipped.
if [ -z "${PP_FULLDISK_NS:-}" ]; then
	export PP_FULLDISK_NS=1
	if unshare -m --propagation private true 2>/dev/null; then
		exec unshare -m --propagation private sh "$0" "$@"
	elif unshare -rm --propagation private true 2>/dev/null; then
		exec unshare -rm --propagation private sh "$0" "$@"
	fi
	echo "SKIP: 23-full-disk needs a mount namespace (root or unshare -rm)"
	exit 77
fi
. "$(dirname "$0")/lib.sh"

FS_SIZE=${FS_SIZE:-16m}
# on_tmpfs X: move X.data onto a fresh tmpfs of $FS_SIZE.
on_tmpfs() {
	mv "$TESTDIR/$1.data" "$TESTDIR/$1.init"
	mkdir -m 700 "$TESTDIR/$1.data"
	if ! mount -t tmpfs -o "size=$FS_SIZE,mode=0700" tmpfs \
	    "$TESTDIR/$1.data" 2>"$TESTDIR/.mnt"; then
		echo "SKIP: 23-full-disk cannot mount a tmpfs: $(cat "$TESTDIR/.mnt")"
		exit 77
	fi
	cp -a "$TESTDIR/$1.init/." "$TESTDIR/$1.data/"
	rm -rf "$TESTDIR/$1.init"
}
# fill X: fill X.data's filesystem to the last byte (filler file).
fill() {
	dd if=/dev/zero of="$TESTDIR/$1.data/filler" bs=64k 2>/dev/null || true
	dd if=/dev/zero of="$TESTDIR/$1.data/filler2" bs=1k 2>/dev/null || true
	avail=$(df -k --output=avail "$TESTDIR/$1.data" | tail -n 1)
	[ "$avail" -eq 0 ] || fail "$1.data still has ${avail} KiB free"
}
unfill() { rm -f "$TESTDIR/$1.data/filler" "$TESTDIR/$1.data/filler2"; }

# mstate X MODULE DIR: "STATE|REASON" of MODULE's DIR (export, import) at X.
mstate() {
	"$POOLPAIR" -c "$TESTDIR/$1.conf" status --json 2>/dev/null |
	    python3 -c 'import json, sys
d = json.load(sys.stdin)
m = [m for m in d["modules"] if m["module"] == sys.argv[1]][0][sys.argv[2]]
print(m["state"] + "|" + m["reason"])' "$2" "$3"
}
# put_refused BYTES NAME MODULE PATTERN: A puts NAME ($BYTES random bytes)
# in conference $CF; B's import of MODULE must go to ErrorState with a
# reason matching PATTERN (grep -i -E), left in $st.
put_refused() {
	head -c "$1" /dev/urandom >"$TESTDIR/$2"
	pa content put "$CF" "$TESTDIR/$2" --kind presentation >/dev/null
	wait_for 15 has_state b "$3" import ErrorState
	st=$(mstate b "$3" import)
	echo "B import: $st"
	echo "$st" | grep -q -i -E "$4" || fail "B's reason: $st"
}

# has_state X MODULE DIR STATE: succeeds if it is.
has_state() { mstate "$1" "$2" "$3" | grep -q "^$4|"; }

daemon_pair_setup
on_tmpfs b
on_tmpfs a
trap 'stop_daemon a KILL; stop_daemon b KILL' EXIT
AL=sip:alice@contoso.test
pa user add "$AL" --name Alice >/dev/null
CF=$(pa conf create "$AL" --subject Kickoff)
DV=sip:dave@fabrikam.test
pb user add "$DV" --name Dave >/dev/null
CFB=$(pb conf create "$DV" --subject Standup)
start_daemon a
start_daemon b
wait_for 15 pb conf show "$CF"
wait_for 10 has_state a userdata export FinalState

# --- the importer's disk is full ------------------------------------------
before=$(dump_store "$TESTDIR/b.data")
fill b
echo "b.data: $FS_SIZE tmpfs, filled (0 KiB free)"
pa user add sip:bob@contoso.test --name Bob >/dev/null
put_refused 2000000 deck.pptx userdata "no space|disk full|would leave less"
wait_for 10 has_state a userdata export ErrorState
st=$(mstate a userdata export)
echo "A export: $st"
echo "$st" | grep -q -i -E "^ErrorState.the partner: .*(no space|disk full|would leave less)" || fail "A's reason: $st"
grep -q -i -E "import of userdata: .*(no space|disk full|would leave less)" "$TESTDIR/b.log" ||
    fail "no import failure in B's log"
assert_contains "$(succeeds pb status)" "ErrorState" "status text"
# Nothing partial at B; everything still in A's journal.
[ "$before" = "$(dump_store "$TESTDIR/b.data")" ] || fail "B's store changed"
! pb user show sip:bob@contoso.test >/dev/null 2>&1 || fail "Bob at B"
pa journal --module userdata | grep -q bob || fail "A's journal lost Bob"
pa journal --module confcontent | grep -q deck || fail "A's journal lost the deck"

# The CLI at B on the full disk: one line, exit 3, nothing changed.
D=$TESTDIR/b.data
refused 3 "space\|full" pb user add sip:carol@contoso.test --name Carol
refused 3 "space\|full" pb setting set "$DV" x y
head -c 300000 /dev/urandom >"$TESTDIR/notes.txt"
refused 3 "space\|full" pb content put "$CFB" "$TESTDIR/notes.txt" --kind handout
refused 3 "space\|full" pb conf create "$DV" --subject Retro

# Space returns: the sender's retry goes in, both sides converge.
sleep 3		# (a few failed retries, backing off)
t0=$(ms)
unfill b
wait_for 60 pb content get "$CF" deck.pptx -o "$TESTDIR/got.pptx"
echo "B resumed $(( $(ms) - t0 )) ms after space returned"
cmp -s "$TESTDIR/deck.pptx" "$TESTDIR/got.pptx" || fail "deck differs at B"
succeeds pb user show sip:bob@contoso.test >/dev/null
wait_for 10 has_state b userdata import NormalState
wait_for 10 has_state a userdata export FinalState
wait_for 10 has_state a confcontent export FinalState
succeeds pb user add sip:carol@contoso.test --name Carol >/dev/null
wait_for 10 pa user show sip:carol@contoso.test

# --- the spool fits, the store does not: nothing partial -----------------
# 3 MiB free: a 1.6 MB package of random content spools (leaving more than
# the spool's reserve, even beside the streaming import's first MiB of
# stage), but its chunks cannot all be written to B's stage as well.
wait_for 10 has_state b userdata export FinalState
before=$(dump_store "$TESTDIR/b.data")
fill b
truncate -s -3M "$TESTDIR/b.data/filler"
echo "b.data: $(df -k --output=avail "$TESTDIR/b.data" | tail -n 1) KiB free"
put_refused 1600000 deck2.pptx confcontent "no space|disk full"
echo "$st" | grep -q -v "spool" || fail "B failed at the spool, not the store: $st"
[ "$before" = "$(dump_store "$TESTDIR/b.data")" ] || fail "B's store changed"
pa journal --module confcontent | grep -q deck2 || fail "A's journal lost deck2"
t0=$(ms)
unfill b
wait_for 60 pb content get "$CF" deck2.pptx -o "$TESTDIR/got2.pptx"
echo "B resumed $(( $(ms) - t0 )) ms after space returned"
cmp -s "$TESTDIR/deck2.pptx" "$TESTDIR/got2.pptx" || fail "deck2 differs at B"
wait_for 10 has_state b confcontent import NormalState

# --- the spool's reserve: a package stops short of the last 1% ------------
# 1 MiB free of 16 MiB: a 3 MB package would eat the reserve (1%, 163 KiB)
# that B's own store needs; the spool stops before the disk is full (or,
# as the streaming import fills its stage a MiB at a time, the store's
# write fails first: either way nothing is kept and the space comes back).
before=$(dump_store "$TESTDIR/b.data")
fill b
truncate -s -1M "$TESTDIR/b.data/filler"
put_refused 3000000 deck4.pptx confcontent \
    "would leave less than 163 KiB free|no space"
[ "$before" = "$(dump_store "$TESTDIR/b.data")" ] || fail "B's store changed"
[ "$(df -k --output=avail "$TESTDIR/b.data" | tail -n 1)" -ge 900 ] ||
    fail "the refused spool's space was not given back"
succeeds pb user add sip:dave@contoso.test --name Dave >/dev/null
unfill b
wait_for 60 pb content get "$CF" deck4.pptx -o "$TESTDIR/got4.pptx"
cmp -s "$TESTDIR/deck4.pptx" "$TESTDIR/got4.pptx" || fail "deck4 differs at B"
wait_for 10 has_state b confcontent import NormalState

# --- the exporter's disk is full ------------------------------------------
# A commits while B is down, then A's disk fills: exporting only reads,
# so B still gets it all; A's failed journal prune is retried at the next
# acknowledgement.  B's own changes cannot be spooled at A meanwhile.
stop_daemon b
pa user add sip:erin@contoso.test --name Erin >/dev/null
head -c 1000000 /dev/urandom >"$TESTDIR/deck3.pptx"
pa content put "$CF" "$TESTDIR/deck3.pptx" --kind presentation >/dev/null
fill a
D=$TESTDIR/a.data
refused 3 "space\|full" pa user add sip:frank@contoso.test --name Frank
start_daemon b
wait_for 15 pb content get "$CF" deck3.pptx -o "$TESTDIR/got3.pptx"
cmp -s "$TESTDIR/deck3.pptx" "$TESTDIR/got3.pptx" || fail "deck3 differs at B"
succeeds pb user show sip:erin@contoso.test >/dev/null
wait_for 10 has_state a userdata export FinalState
pa journal --module userdata | grep -q erin || fail "A pruned on a full disk?"
grep -q "journal prune: .*\(space\|full\)" "$TESTDIR/a.log" ||
    fail "no failed prune in A's log"
pb user add sip:gina@fabrikam.test --name Gina >/dev/null
wait_for 15 has_state a userdata import ErrorState
st=$(mstate a userdata import)
echo "A import: $st"
echo "$st" | grep -q -i -E "^ErrorState.(no space|cannot spool|disk full)" || fail "A's reason: $st"
t0=$(ms)
unfill a
wait_for 60 pa user show sip:gina@fabrikam.test
echo "A resumed $(( $(ms) - t0 )) ms after space returned"
wait_for 10 has_state a userdata import NormalState
succeeds pa user add sip:frank@contoso.test --name Frank >/dev/null
wait_for 10 pb user show sip:frank@contoso.test
# Acked, hence pruned now.
wait_for 10 sh -c "! '$POOLPAIR' -c '$CA_CONF' journal --module userdata | grep -q erin"
succeeds pa audit --verify >/dev/null
succeeds pb audit --verify >/dev/null

stop_daemon a
stop_daemon b
no_sanitizer_report "$TESTDIR/a.log" "poolpaird a"
no_sanitizer_report "$TESTDIR/b.log" "poolpaird b"
echo "23-full-disk: ok"
