#!/bin/sh
# 25-slow-dns: the partner's address is a name, and looking it up is slow
# (a resolver whose servers cannot be reached, as in a disaster) or fails.
# Proves: poolpaird looks the name up off its event loop, so it answers
# status at once while the lookup waits (it used to block, at start-up and
# at every reconnect, for the whole lookup); the link comes up, and A's
# changes reach B, once the name resolves; a lookup that fails is retried
# with back-off, its error shown in status; a daemon stopped during a
# lookup stops at once, cleanly.  tests/tools/slowdns.c, preloaded into A's
# poolpaird, makes names under .slow.test take SLOWDNS_MS milliseconds and
# then resolve to 127.0.0.1 (or fail, for names starting with "fail.").
. "$(dirname "$0")/lib.sh"

SHIM=${SLOWDNS:-$(dirname "$POOLPAIR")/tests/slowdns.so}
[ -f "$SHIM" ] || fail "no resolver shim at $SHIM (make tests builds it)"
daemon_pair_setup
trap 'stop_daemon a KILL; stop_daemon b KILL' EXIT
AL=sip:alice@contoso.test
LOOKUPS=$TESTDIR/lookups
pa user add "$AL" --name Alice >/dev/null

# start_slow_a NAME MS: A's poolpaird with its partner at NAME:$PORT_B and
# the shim preloaded (ASan, whose runtime wants to load first, is told not
# to check that).
start_slow_a() {
	sed -i "s|^address = .*|address = $1:$PORT_B|" "$CA_CONF"
	LD_PRELOAD=$SHIM SLOWDNS_MS=$2 SLOWDNS_LOG=$LOOKUPS \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "${POOLPAIRD:-$(dirname "$POOLPAIR")/poolpaird}" -c "$CA_CONF" \
	    2>>"$TESTDIR/a.log" &
	PID_A=$!
}

# link_field FIELD: A's own link to B, as status shows it.
link_field() { json_eval "$(succeeds pa status --json)" "d[\"links\"][\"out\"][\"$1\"]"; }

# --- a lookup that takes 4 s: status answers meanwhile -------------------
start_daemon b
t0=$(ms)
start_slow_a pool-b.slow.test 4000
wait_for 3 pa status
n=0
while [ $(($(ms) - t0)) -lt 3000 ]; do
	t=$(ms)
	state=$(link_field state)
	took=$(($(ms) - t))
	[ "$took" -lt 1000 ] || fail "status took $took ms while the lookup waited"
	assert_eq connecting "$state" "A's link while its partner's name is looked up"
	n=$((n + 1))
	sleep 0.2
done
[ "$n" -ge 3 ] || fail "status answered only $n times in the lookup's first 3 s"
assert_eq pool-b.slow.test "$(head -n 1 "$LOOKUPS")" "the name looked up"
# The answer comes: the link comes up and A's data reaches B.
wait_for 15 sh -c "[ \"\$('$POOLPAIR' -c '$CA_CONF' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"links\"][\"out\"][\"state\"])')\" = connected ]"
wait_for 15 pb user show "$AL"
assert_eq 1 "$(wc -l <"$LOOKUPS")" "lookups for one connection"
no_sanitizer_report "$TESTDIR/a.log" "A (slow lookup)"
stop_daemon a

# --- a lookup that fails: the error is shown, and it is tried again ------
: >"$LOOKUPS"
start_slow_a fail.slow.test 300
wait_for 10 sh -c "'$POOLPAIR' -c '$CA_CONF' status --json | grep -q 'cannot resolve fail.slow.test'"
# Back-off: 0.5 s, 1 s, 2 s ... between the 0.3 s lookups.
wait_for 10 sh -c "[ \$(wc -l <'$LOOKUPS') -ge 3 ]"
assert_eq connecting "$(link_field state)" "A's link between failed lookups"
no_sanitizer_report "$TESTDIR/a.log" "A (failed lookups)"
stop_daemon a

# --- stopped during a lookup: at once, and cleanly -----------------------
: >"$LOOKUPS"
start_slow_a pool-b.slow.test 8000
wait_for 3 pa status
wait_for 3 test -s "$LOOKUPS"
t=$(ms)
kill -TERM "$PID_A"
set +e
wait "$PID_A"
rc=$?
set -e
PID_A=
took=$(($(ms) - t))
assert_eq 0 "$rc" "A's exit status, stopped during a lookup"
[ "$took" -lt 3000 ] || fail "A took $took ms to stop during a lookup"
no_sanitizer_report "$TESTDIR/a.log" "A (stopped during a lookup)"
echo "25-slow-dns: ok"
