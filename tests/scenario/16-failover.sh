#!/bin/sh
# 16-failover: a disaster failover and a failback, end to end.
# Proves: with pool A's daemon killed (SIGKILL) while it streams a deck,
# and a change committed at A that never left it, 'failover pool-a --disaster' at B takes A's users
# under epoch 2 and prints the window; B then writes them; A, restarted,
# learns the higher epoch and fences itself (its writes to its users are
# refused, naming the owner), from a package of the changes it lacked that
# B sends before A's users whole; its unshipped change is listed and exported
# as an orphan, never merged; B's writes reach A; 'failback pool-a' hands
# the users back under epoch 3; A writes again, B receives it, and verify
# is clean both ways; the config master went to B and came back.
. "$(dirname "$0")/lib.sh"

daemon_pair_setup
trap 'stop_daemon a KILL; stop_daemon b KILL' EXIT
AL=sip:alice@contoso.test
pa user add "$AL" --name Alice >/dev/null
pa setting set "$AL" lang en >/dev/null
start_daemon a
start_daemon b
wait_for 10 pb user show "$AL"
succeeds pa sync --wait >/dev/null

# Disaster: A dies by SIGKILL while it streams a deck to B; a change
# committed at A after that never leaves it.
CF=$(pa conf create "$AL" --subject Kickoff)
succeeds pa sync --wait >/dev/null
head -c 4000000 /dev/urandom >"$TESTDIR/deck.pptx"
pa content put "$CF" "$TESTDIR/deck.pptx" --kind presentation >/dev/null
sleep 0.05
stop_daemon a KILL
pa setting set "$AL" lang pt >/dev/null
refused 1 "does not answer" pb failover pool-a.example.test
out=$(succeeds pb failover pool-a.example.test --disaster)
assert_contains "$out" "epoch 2" "failover output"
assert_contains "$out" "userdata    LSN" "the window"
assert_contains "$(succeeds pb owners)" "owner pool-b.example.test" "owners at B"
refused 1 "already" pb failover pool-a.example.test --disaster
assert_eq "pool-b.example.test" "$(json_eval "$(succeeds pb info --json)" 'd["config_master"]')" "config master at B"
# B writes A's users now.
succeeds pb setting set "$AL" lang de >/dev/null
succeeds pb setting set "$AL" tz UTC >/dev/null

# A comes back: fenced, orphans kept, B's writes arrive.
start_daemon a
wait_for 10 sh -c "'$POOLPAIR' -c '$CA_CONF' setting get '$AL' tz"
assert_eq "de" "$(succeeds pa setting get "$AL" lang)" "B's write at A"
refused 1 "fenced" pa setting set "$AL" lang fr
refused 1 "fenced" pa user add sip:zed@contoso.test --name Zed
# The setting is an orphan; the deck too if it had not reached B.
o=$(succeeds pa orphans list --json)
assert_eq "setting lang put pt" "$(json_eval "$o" '[" ".join([r["entity"], r["key2"], r["op"], r["state"]["value"]]) for r in d if r["entity"] == "setting"][0]')" "the orphan"
n=$(json_eval "$o" 'len(d)')
cc=$(json_eval "$(succeeds pb replica --json)" '[r["lsn"] for r in d if r["module"] == "confcontent"][0]')
if [ "$cc" -eq 0 ]; then
	assert_eq 2 "$n" "orphans: the setting and the deck B never had"
	lsn=$(json_eval "$o" '[r["lsn"] for r in d if r["entity"] == "content"][0]')
	succeeds pa orphans get "$lsn" -o "$TESTDIR/orphan.pptx" >/dev/null
	cmp -s "$TESTDIR/deck.pptx" "$TESTDIR/orphan.pptx" || fail "the orphaned deck's bytes differ"
else
	assert_eq 1 "$n" "orphans: the setting (B had the deck)"
	succeeds pb content get "$CF" deck.pptx -o "$TESTDIR/got.pptx" >/dev/null
	cmp -s "$TESTDIR/deck.pptx" "$TESTDIR/got.pptx" || fail "B's copy of the deck differs"
fi
succeeds pa orphans export -o "$TESTDIR/orphans.jsonl" >/dev/null
assert_eq "$n" "$(wc -l <"$TESTDIR/orphans.jsonl")" "orphans exported"
s=$(succeeds pa status --json)
assert_eq "True" "$(json_eval "$s" 'd["fenced"]')" "A's status says fenced"
# B fenced A with the changes A lacked (the owner record among them) in a
# package of their own, before sending A's users whole: A is fenced
# within a round trip, not after a whole snapshot's import.
fl=$(grep -n "failover: sending pool-a.example.test the changes it lacks first" "$TESTDIR/b.log" | head -n 1 | cut -d: -f1)
[ -n "$fl" ] || fail "B did not fence A first: $(grep -c 'sent userdata' "$TESTDIR/b.log") userdata packages logged"
wait_for 10 sh -c "sed -n '$((fl + 1)),\$p' '$TESTDIR/b.log' | grep -q 'sent userdata snapshot'"

# Failback: the users go home under epoch 3.
out=$(succeeds pb failback pool-a.example.test --timeout 60)
assert_contains "$out" "epoch 3" "failback output"
wait_for 10 sh -c "'$POOLPAIR' -c '$CA_CONF' owners | grep -q 'owner pool-a.example.test *epoch 3'"
assert_eq "pool-a.example.test" "$(json_eval "$(succeeds pa info --json)" 'd["config_master"]')" "config master back at A"
refused 1 "replica" pb setting set "$AL" lang es
succeeds pa --wait-replicated setting set "$AL" lang fr >/dev/null
assert_eq "fr" "$(succeeds pb setting get "$AL" lang)" "A writes again, B has it"
wait_for 10 pa verify
wait_for 10 pb verify
# An orphan is not merged: the deck B never had is not live anywhere.
if [ "$cc" -eq 0 ]; then
	refused 1 "no content" pa content get "$CF" deck.pptx -o "$TESTDIR/x"
	refused 1 "no content" pb content get "$CF" deck.pptx -o "$TESTDIR/x"
	# ... but its bytes are kept with the orphan, after all that.
	succeeds pa orphans get "$lsn" -o "$TESTDIR/orphan2.pptx" >/dev/null
	cmp -s "$TESTDIR/deck.pptx" "$TESTDIR/orphan2.pptx" || fail "the orphaned deck was lost"
fi
# The orphans are still there for an operator: never dropped.
assert_eq "$n" "$(json_eval "$(succeeds pa orphans list --json)" 'len(d)')" "orphans kept"
stop_daemon a
stop_daemon b
no_sanitizer_report "$TESTDIR/a.log" "poolpaird a"
no_sanitizer_report "$TESTDIR/b.log" "poolpaird b"
echo "16-failover: ok"
