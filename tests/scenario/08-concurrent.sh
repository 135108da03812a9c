#!/bin/sh
# 08-concurrent: two writer processes on one store at the same time.
# Proves: two loops, each adding 150 distinct users and a contact for every
# other one, running side by side on the same store, all succeed (writers
# take turns, none sees "busy" or a failed commit); afterwards the store holds exactly
# the 300 users and 150 contacts, the userdata journal has LSNs exactly
# 1..N with no gap or duplicate and one record per change, and SQLite's
# integrity check passes.
. "$(dirname "$0")/lib.sh"

D=$TESTDIR/s
newpool "$D" pool1.contoso.test

# writer TAG: add users sip:TAG-i@contoso.test (i = 1..150), those with an
# odd i with one contact; log every failure to $TESTDIR/TAG.fail.
writer() {
	i=1
	while [ $i -le 150 ]; do
		u=sip:$1-$i@contoso.test
		"$POOLPAIR" --data "$D" user add "$u" --name "$1 $i" >/dev/null \
		    2>>"$TESTDIR/$1.err" || echo "user add $u: exit $?" >>"$TESTDIR/$1.fail"
		[ $((i % 2)) -eq 0 ] ||
		    "$POOLPAIR" --data "$D" contact add "$u" "sip:buddy-$1-$i@fabrikam.test" \
		    --relationship friends >/dev/null 2>>"$TESTDIR/$1.err" ||
		    echo "contact add $u: exit $?" >>"$TESTDIR/$1.fail"
		i=$((i + 1))
	done
}

writer red &
p1=$!
writer blue &
p2=$!
wait $p1
wait $p2

for tag in red blue; do
	[ ! -s "$TESTDIR/$tag.fail" ] ||
	    fail "writer $tag: $(wc -l <"$TESTDIR/$tag.fail") commands failed, first: $(head -n 1 "$TESTDIR/$tag.fail"): $(head -n 1 "$TESTDIR/$tag.err")"
	[ ! -s "$TESTDIR/$tag.err" ] || fail "writer $tag wrote to stderr: $(head -n 3 "$TESTDIR/$tag.err")"
done

# Every user and contact is there.
j=$(succeeds pp user list --json)
assert_eq 300 "$(json_eval "$j" 'len(d)')" "users"
assert_eq 300 "$(json_eval "$j" 'len(set(u["uri"] for u in d))')" "distinct users"
assert_eq "150 150" "$(json_eval "$j" '"%d %d" % (sum(u["uri"].startswith("sip:red-") for u in d), sum(u["uri"].startswith("sip:blue-") for u in d))')" \
    "users of each writer"
assert_eq 150 "$(json_eval "$(succeeds pp info --json)" 'd["contacts"]')" "contacts"
assert_eq "$(printf 'sip:buddy-blue-77@fabrikam.test\t\tfriends\t')" \
    "$(succeeds pp contact list sip:blue-77@contoso.test)" "a contact of blue-77"
assert_eq "[]" "$(succeeds pp contact list sip:red-78@contoso.test --json)" "contacts of red-78"

# The journal: one record per change, LSNs exactly 1..N.
j=$(succeeds pp journal --module userdata --json)
assert_eq 450 "$(json_eval "$j" 'len(d)')" "userdata journal records"
assert_eq True "$(json_eval "$j" '[r["lsn"] for r in d] == list(range(1, len(d) + 1))')" \
    "userdata LSNs are 1..N in order"
assert_eq "300 150" "$(json_eval "$j" '"%d %d" % (sum(r["entity"] == "user" for r in d), sum(r["entity"] == "contact" for r in d))')" \
    "user and contact records"
# The writers really ran side by side: their records interleave.
sw=$(json_eval "$j" 'sum(1 for a, b in zip(d, d[1:]) if a["key"][4:7] != b["key"][4:7])')
[ "$sw" -ge 20 ] || fail "the two writers' records interleave only $sw times"
# Each user's record comes before its contact's.
assert_eq True "$(json_eval "$j" 'all(min(r["lsn"] for r in d if r["entity"] == "user" and r["key"] == u) < min(r["lsn"] for r in d if r["entity"] == "contact" and r["key"] == u) for u in set(r["key"] for r in d if r["entity"] == "contact"))')" \
    "user records precede their contact records"
assert_eq 450 "$(json_eval "$(succeeds pp info --json)" 'd["journal"]["userdata"]["lsn"]')" \
    "last userdata LSN in info"

assert_eq ok "$(sqlite3 "$D/pool.db" 'PRAGMA integrity_check')" "integrity check"
echo "08-concurrent: ok"
