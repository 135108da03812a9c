#!/bin/sh
# 17-handover: a failover of a pool that answers, and failback, under a
# steady write load, five times.  Proves: 'failover pool-a' at B asks A to
# go read-only for its users and ship everything, then takes them (no
# orphans: nothing lost); writes at A are refused while B owns them and
# accepted again after failback; across 5 failover/failback cycles with a
# writer acknowledging each write with --wait-replicated at whichever pool
# owns the users, every acknowledged write is at both pools in the end,
# and verify is clean both ways; nothing was left behind, so B never sends
# A's users whole (a disaster failover does: 16-failover).
. "$(dirname "$0")/lib.sh"

daemon_pair_setup
trap 'stop_daemon a KILL; stop_daemon b KILL; kill $WPID 2>/dev/null || true' EXIT
AL=sip:alice@contoso.test
pa user add "$AL" --name Alice >/dev/null
start_daemon a
start_daemon b
wait_for 10 pb user show "$AL"

# The writer: settings w1, w2, ... at the pool that takes them; a write
# counts as acknowledged only once the partner acked it.
: >"$TESTDIR/acked"
(
	i=0
	while [ $i -lt 400 ] && [ ! -f "$TESTDIR/stop" ]; do
		i=$((i + 1))
		for p in a b; do
			if "$POOLPAIR" -c "$TESTDIR/$p.conf" --wait-replicated=10 \
			    setting set "$AL" "w$i" "v$i" >/dev/null 2>&1; then
				echo "w$i" >>"$TESTDIR/acked"
				break
			fi
		done
		sleep 0.02
	done
) &
WPID=$!

for cycle in 1 2 3 4 5; do
	sleep 1
	out=$(succeeds pb failover pool-a.example.test)
	assert_contains "$out" "nothing lost" "failover $cycle"
	assert_eq 0 "$(json_eval "$(succeeds pa orphans list --json)" 'len(d)')" "orphans after failover $cycle"
	wait_for 10 sh -c "'$POOLPAIR' -c '$CA_CONF' owners | grep -q 'users of pool-a.example.test *owner pool-b'"
	exits 1 pa setting set "$AL" probe x
	assert_contains "$(cat "$TESTDIR/.err")" "fenced" "A fenced in cycle $cycle"
	sleep 1
	succeeds pb failback pool-a.example.test --timeout 60 >/dev/null
done
touch "$TESTDIR/stop"
wait $WPID
n=$(wc -l <"$TESTDIR/acked")
echo "acknowledged writes: $n over 5 cycles"
[ "$n" -ge 20 ] || fail "only $n writes were acknowledged"
succeeds pa sync --wait >/dev/null
succeeds pb sync --wait >/dev/null
# Every acknowledged write is at both pools.
for p in a b; do
	"$POOLPAIR" -c "$TESTDIR/$p.conf" setting list "$AL" --json |
	    python3 -c 'import json,sys; print("\n".join(s["key"] for s in json.load(sys.stdin)))' |
	    sort >"$TESTDIR/have.$p"
	missing=$(sort "$TESTDIR/acked" | comm -23 - "$TESTDIR/have.$p" | wc -l)
	assert_eq 0 "$missing" "acknowledged writes missing at pool $p"
done
wait_for 10 pa verify
wait_for 10 pb verify
# Handed over, A's users left nothing behind: B never sent them whole
# (only its first sync was a snapshot of its own userdata).
assert_eq 0 "$(grep -c 'failover: sending' "$TESTDIR/b.log" || true)" \
    "B fencing A with a package before a snapshot, after handovers"
snaps=$(awk '/failover: asking/ { on = 1 } on && /sent userdata snapshot/ { n++ } END { print n + 0 }' "$TESTDIR/b.log")
assert_eq 0 "$snaps" "userdata snapshots B sent after the first handover"
stop_daemon a
stop_daemon b
no_sanitizer_report "$TESTDIR/a.log" "poolpaird a"
no_sanitizer_report "$TESTDIR/b.log" "poolpaird b"
echo "17-handover: ok"
