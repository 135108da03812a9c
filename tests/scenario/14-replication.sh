#!/bin/sh
# 14-replication: two poolpaird on loopback replicate both ways.
# Proves: every module reaches the partner (users, settings, contacts,
# conferences, content byte for byte, config from the master), each
# change well within a second; deletions too; a re-uploaded deck with one
# changed slide costs the partner a few new chunks, not the file, and
# travels as a delta of a few hundred bytes; a pool
# killed with SIGKILL and restarted gets what changed meanwhile (resume
# from the acked LSN); the journal is pruned only up to what the partner
# acked; a client with a certificate of another CA is refused at the
# handshake and changes nothing.
. "$(dirname "$0")/lib.sh"

daemon_pair_setup
trap 'stop_daemon a KILL; stop_daemon b KILL' EXIT
AL=sip:alice@contoso.test
CA_=sip:carol@fabrikam.test
pa user add "$AL" --name Alice >/dev/null
start_daemon a
start_daemon b

# What A had before B came up, and then each change.
wait_for 10 pb user show "$AL"
assert_contains "$(succeeds pb user show "$AL")" "role:     replica" "replica user"
pa setting set "$AL" lang en >/dev/null
t0=$(ms)
pa contact add "$AL" sip:bob@contoso.test --relationship friends --group Team >/dev/null
wait_for 5 sh -c "'$POOLPAIR' -c '$CB_CONF' contact list '$AL' | grep -q bob"
lat=$(( $(ms) - t0 ))
echo "contact add reached B after ${lat} ms"
[ "$lat" -lt 2000 ] || fail "a change took ${lat} ms to replicate"
assert_contains "$(succeeds pb user show "$AL")" "lang = en" "replicated setting"

# Content and its conference; the config document from the master.
CF=$(pa conf create "$AL" --subject Kickoff)
head -c 3000000 /dev/urandom >"$TESTDIR/deck.pptx"
pa content put "$CF" "$TESTDIR/deck.pptx" --kind presentation >/dev/null
printf 'block=spam\n' >"$TESTDIR/imf"
pa config set imfilter "$TESTDIR/imf" >/dev/null
wait_for 10 pb content get "$CF" deck.pptx -o "$TESTDIR/got.pptx"
cmp -s "$TESTDIR/deck.pptx" "$TESTDIR/got.pptx" || fail "content differs at B"
wait_for 5 pb config get imfilter
assert_eq "block=spam" "$(succeeds pb config get imfilter)" "config at B"

# One changed slide: a few chunks, not the deck.
before=$(json_eval "$(succeeds pb info --json)" 'd["chunks"]')
printf 'SLIDE 7 EDITED' | dd of="$TESTDIR/deck.pptx" bs=1 seek=1500000 conv=notrunc 2>/dev/null
pa content put "$CF" "$TESTDIR/deck.pptx" --kind presentation >/dev/null
wait_for 10 sh -c "'$POOLPAIR' -c '$CB_CONF' content get '$CF' deck.pptx -o '$TESTDIR/got2.pptx' && cmp -s '$TESTDIR/deck.pptx' '$TESTDIR/got2.pptx'"
after=$(json_eval "$(succeeds pb info --json)" 'd["chunks"]')
[ $((after - before)) -le 3 ] || fail "one slide cost $((after - before)) new chunks at B"
# ... and went as a delta of its bytes, its list as an edit: not as
# those chunks (16 KiB each) and the deck's whole list (5 KiB).
pkgb=$(json_eval "$(succeeds pa status --json)" '[m["export"]["last_package_bytes"] for m in d["modules"] if m["module"] == "confcontent"][0]')
echo "one changed slide: a package of $pkgb bytes"
[ "$pkgb" -gt 0 ] && [ "$pkgb" -lt 4096 ] || fail "one changed slide cost a package of $pkgb bytes"
# A keeps the chunks the edit replaced until B acknowledges it, then
# frees them: both then hold the same chunks.
wait_for 5 sh -c "[ \"\$('$POOLPAIR' -c '$CA_CONF' info --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"chunks\"])')\" = $after ]"

# The other way: B's own user reaches A.
pb user add "$CA_" --name Carol >/dev/null
wait_for 5 pa user show "$CA_"

# Deletions.
pa user del "$AL" >/dev/null
wait_for 5 sh -c "! '$POOLPAIR' -c '$CB_CONF' user show '$AL'"
refused 1 "unknown conference" pb conf show "$CF"

# B dies hard; A goes on; B comes back and catches up.
stop_daemon b KILL
for i in 1 2 3; do pa user add "sip:u$i@contoso.test" --name "U$i" >/dev/null; done
start_daemon b
wait_for 10 pb user show sip:u3@contoso.test
succeeds pb user show sip:u1@contoso.test >/dev/null

# A's journal holds nothing B acked (pruned), B's replica is at A's head.
wait_for 5 sh -c "[ \"\$('$POOLPAIR' -c '$CA_CONF' journal --module userdata | wc -l)\" -eq 0 ]"
head=$(json_eval "$(succeeds pa info --json)" 'd["journal"]["userdata"]["lsn"]')
rep=$(json_eval "$(succeeds pb replica --json)" '[r["lsn"] for r in d if r["module"] == "userdata"][0]')
assert_eq "$head" "$rep" "B's replica LSN against A's journal head"

# A stranger with a certificate of another CA is refused at the handshake.
"$POOLPAIR" pki init --pair evil --out "$TESTDIR/evil" >/dev/null
"$POOLPAIR" pki issue --ca "$TESTDIR/evil" --pool pool-a.example.test --out "$TESTDIR/mallory" >/dev/null
echo x | timeout 5 openssl s_client -connect 127.0.0.1:"$PORT_B" -tls1_3 \
    -cert "$TESTDIR/mallory/identity.crt" -key "$TESTDIR/mallory/identity.key" \
    -quiet >/dev/null 2>&1 || true
grep -q "handshake-refused" "$TESTDIR/b.log" || fail "no refused handshake in B's log"
# And replication still works afterwards.
pa user add sip:after@contoso.test --name After >/dev/null
wait_for 5 pb user show sip:after@contoso.test
stop_daemon a
stop_daemon b
no_sanitizer_report "$TESTDIR/a.log" "poolpaird a"
no_sanitizer_report "$TESTDIR/b.log" "poolpaird b"
echo "14-replication: ok"
