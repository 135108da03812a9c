#!/bin/sh
# 12-packages: offline export and import between two paired pools, from
# the command line.  Proves: a full export of pool A (three packages) is
# imported by B, whose replica then shows A's users, contacts, settings,
# conference, content (byte for byte) and config, each as a replica homed
# at A, read-only at B; 'package inspect' shows the header without keys;
# importing twice does nothing; an incremental export carries only the
# changes; a package refused (tampered, for another pool, stale) exits 1
# with one line, changes nothing and is recorded in the audit log.
. "$(dirname "$0")/lib.sh"

pair_setup
AL=sip:alice@contoso.test
BO=sip:bob@contoso.test
pa user add "$AL" --name Alice >/dev/null
pa user add "$BO" --name Bob >/dev/null
pa setting set "$AL" lang en >/dev/null
pa contact add "$AL" "$BO" --name Bobby --relationship friends --group Team >/dev/null
CF=$(pa conf create "$AL" --subject Kickoff)
head -c 2000000 /dev/urandom >"$TESTDIR/deck.pptx"
pa content put "$CF" "$TESTDIR/deck.pptx" --kind presentation >/dev/null
printf 'block=spam\n' >"$TESTDIR/imfilter"
pa config set imfilter "$TESTDIR/imfilter" >/dev/null

# A full export: one package per module, whole files only.
out=$(succeeds pa export -o "$TESTDIR/full")
assert_contains "$out" "userdata snapshot" "export output"
for m in userdata confcontent config; do
	[ -f "$TESTDIR/full/$m.ppkg" ] || fail "no $m.ppkg"
done
assert_eq 0 "$(find "$TESTDIR/full" -name '*.ppkg.*' | wc -l)" "temporary files left"
# The body is sealed: no plaintext of the content or the names in it.
! grep -q -a "alice@contoso" "$TESTDIR/full/userdata.ppkg" ||
    fail "a user's URI is readable in the package"
! grep -q -a "block=spam" "$TESTDIR/full/config.ppkg" ||
    fail "a config document is readable in the package"

# inspect needs no key and no store.
j=$(succeeds "$POOLPAIR" package inspect "$TESTDIR/full/confcontent.ppkg" --json)
assert_eq "pool-a.example.test pool-b.example.test confcontent snapshot pair1" \
    "$(json_eval "$j" '" ".join([d["source"], d["target"], d["module"], d["kind"], d["pair"]])')" \
    "inspect header"
refused 1 "not a poolpair package" "$POOLPAIR" package inspect "$TESTDIR/imfilter"

# B imports; the replica is readable and says what it is.
D=$TESTDIR/b.data
out=$(succeeds pb import "$TESTDIR/full/userdata.ppkg" \
    "$TESTDIR/full/confcontent.ppkg" "$TESTDIR/full/config.ppkg")
assert_eq 3 "$(printf '%s\n' "$out" | grep -c imported)" "import output"
u=$(succeeds pb user show "$AL" --json)
assert_eq "Alice replica pool-a.example.test" \
    "$(json_eval "$u" '" ".join([d["name"], d["role"], d["home"]])')" "replica user"
assert_contains "$(succeeds pb user show "$AL")" "lang = en" "replica setting"
assert_contains "$(succeeds pb contact list "$AL")" "Bobby" "replica contact"
assert_contains "$(succeeds pb conf show "$CF")" "role:      replica" "replica conf"
out=$(succeeds pb content get "$CF" deck.pptx -o "$TESTDIR/got.pptx")
assert_contains "$out" "replica, home pool pool-a.example.test" "content get"
cmp -s "$TESTDIR/deck.pptx" "$TESTDIR/got.pptx" || fail "content differs at B"
assert_eq "replica" "$(json_eval "$(succeeds pb content list --json)" 'd[0]["role"]')" "content list role"
assert_eq "block=spam" "$(succeeds pb config get imfilter)" "replica config"
refused 1 "read-only replica" pb setting set "$AL" lang fr
refused 1 "read-only" pb config set imfilter "$TESTDIR/imfilter"
j=$(succeeds pb replica --json)
assert_eq 3 "$(json_eval "$j" 'len(d)')" "replica states"

# Twice: nothing happens.
out=$(succeeds pb import "$TESTDIR/full/userdata.ppkg")
assert_contains "$out" "already imported" "second import"

# An incremental export from what B has.
lsn=$(json_eval "$j" '[r["lsn"] for r in d if r["module"] == "userdata"][0]')
pa setting set "$AL" lang de >/dev/null
pa user del "$BO" >/dev/null
out=$(succeeds pa export --module userdata --since "$lsn" -o "$TESTDIR/inc.ppkg" --json)
assert_eq "changes 2" "$(json_eval "$out" 'd["kind"] + " " + str(d["records"])')" "incremental export"
succeeds pb import "$TESTDIR/inc.ppkg" >/dev/null
assert_contains "$(succeeds pb user show "$AL")" "lang = de" "changed setting"
refused 1 "unknown user" pb user show "$BO"

# Refusals: one line, nothing changed, recorded.
cp "$TESTDIR/full/confcontent.ppkg" "$TESTDIR/bad.ppkg"
printf 'X' | dd of="$TESTDIR/bad.ppkg" bs=1 seek=5000 conv=notrunc 2>/dev/null
pa content put "$CF" "$TESTDIR/deck.pptx" --name deck2.pptx >/dev/null
pa export --module confcontent --since 0 -o "$TESTDIR/cc.ppkg" >/dev/null
head -c 100000 "$TESTDIR/cc.ppkg" >"$TESTDIR/short.ppkg"
refused 1 "truncated" pb import "$TESTDIR/short.ppkg"
cp "$TESTDIR/cc.ppkg" "$TESTDIR/flip.ppkg"
printf 'X' | dd of="$TESTDIR/flip.ppkg" bs=1 seek=5000 conv=notrunc 2>/dev/null
refused 1 "fails authentication" pb import "$TESTDIR/flip.ppkg"
refused 1 "older than what was imported" pb import "$TESTDIR/full/userdata.ppkg"
refused 1 "addressed to pool-b.example.test" pa import "$TESTDIR/inc.ppkg"
# Each refusal is a record of the pool's audit log (docs/audit.md).
j=$(succeeds pb audit --json)
assert_eq "1 package-refused short.ppkg|2 package-refused flip.ppkg|3 package-refused userdata.ppkg" \
    "$(json_eval "$j" '"|".join("%d %s %s" % (r["seq"], r["kind"], r["actor"]) for r in d)')" \
    "refusals recorded at B"
assert_contains "$(json_eval "$j" 'd[0]["detail"]')" "truncated" "refusal 1"
assert_contains "$(json_eval "$j" 'd[1]["detail"]')" "fails authentication" "refusal 2"
assert_contains "$(json_eval "$j" 'd[2]["detail"]')" "older than what was imported" "refusal 3"
assert_eq "package-refused inc.ppkg" \
    "$(json_eval "$(succeeds pa audit --json)" '" ".join(r["kind"] + " " + r["actor"] for r in d)')" \
    "refusal recorded at A"
assert_eq "audit log: 3 records, chain intact" \
    "$(succeeds pb audit --verify | head -n 1)" "B's audit log verifies"
assert_eq 600 "$(stat -c %a "$TESTDIR/b.data/audit.log")" "audit.log mode"
[ ! -e "$TESTDIR/b.data/refusals.log" ] || fail "refusals.log is still written"
# Export needs the config (keys), import too.
refused 1 "no config file" "$POOLPAIR" --data "$TESTDIR/a.data" export -o "$TESTDIR/x.ppkg"
refused 2 "exclude each other" pa export --since 1 --full -o "$TESTDIR/x.ppkg"
# And the good package still goes in after all that.
succeeds pb import "$TESTDIR/cc.ppkg" >/dev/null
succeeds pb content get "$CF" deck2.pptx -o "$TESTDIR/got2.pptx" >/dev/null
cmp -s "$TESTDIR/deck.pptx" "$TESTDIR/got2.pptx" || fail "deck2 differs at B"
echo "12-packages: ok"
