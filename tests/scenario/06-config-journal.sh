#!/bin/sh
# 06-config-journal: configuration documents and the change journal.
# Proves: config set from a file and from standard input makes versions 1, 2,
# ...; get returns the exact bytes (binary too); list (text, JSON); a pool
# that is not the config master refuses config set and names the master;
# the journal holds one record per committed change, per module, in LSN
# order, with --module, --since, --limit and --json; a refused command adds
# no record; an unreadable document is refused with a message naming it.
. "$(dirname "$0")/lib.sh"

D=$TESTDIR/s
newpool "$D" pool1.contoso.test
cd "$TESTDIR"

# Versions: file, then stdin, then '-'.
printf 'block=*.exe\nblock=*.scr\n' >imfilter.v1
assert_eq "imfilter: version 1, 24 bytes" "$(succeeds pp config set imfilter imfilter.v1)" \
    "config set from a file"
printf 'v2\000with a NUL\377' >imfilter.v2
assert_eq "imfilter: version 2, 14 bytes" "$(succeeds pp config set imfilter <imfilter.v2)" \
    "config set from stdin"
exits 0 pp config get imfilter
cmp imfilter.v2 "$TESTDIR/.out" || fail "config get did not return the exact bytes"
printf 'nightly\n' | succeeds pp config set backup - >/dev/null
assert_eq nightly "$(succeeds pp config get backup)" "config get backup"
# An empty document and a 1 MiB one are accepted; 1 MiB + 1 is refused.
succeeds pp config set empty </dev/null >/dev/null
assert_eq 0 "$(succeeds pp config get empty | wc -c)" "an empty document"
head -c 1048576 /dev/urandom >big
assert_eq "big: version 1, 1048576 bytes" "$(succeeds pp config set big big)" "a 1 MiB document"
head -c 1048577 /dev/urandom >toobig
refused 1 "larger than" pp config set big toobig
refused 1 "larger than" sh -c 'cat toobig | "$1" --data "$2" config set big' sh "$POOLPAIR" "$D"
exits 0 pp config get big
cmp big "$TESTDIR/.out" || fail "the 1 MiB document changed"

# list.
assert_eq "$(printf '%s\n' '# config master: pool1.contoso.test' 'backup 1 8' 'big 1 1048576' \
    'empty 1 0' 'imfilter 2 14')" \
    "$(succeeds pp config list | cut -f 1-3 | tr '\t' ' ')" "config list"
assert_eq "backup:1 big:1 empty:1 imfilter:2" \
    "$(json_eval "$(succeeds pp config list --json)" '" ".join("%s:%d" % (c["name"], c["version"]) for c in d)')" \
    "config list --json"
refused 1 "no config document" pp config get nope
refused 1 "cannot open" pp config set x does-not-exist
for bad in 'bad name' 'a/b' "$(nchars 65 n)"; do
	refused 1 "config document name" pp config set "$bad" imfilter.v1
done

# A pool whose config master is another pool refuses config set.
D=$TESTDIR/replica
"$POOLPAIR" init --pool pool2.contoso.test --config-master pool1.contoso.test --data "$D" >/dev/null
refused 1 "config master is pool1.contoso.test" pp config set imfilter imfilter.v1
refused 1 "config master is pool1.contoso.test" sh -c 'printf x | "$1" --data "$2" config set imfilter' sh "$POOLPAIR" "$D"
assert_eq "# config master: pool1.contoso.test" "$(succeeds pp config list)" "config list of pool2"
assert_eq "pool1.contoso.test" "$(json_eval "$(succeeds pp info --json)" 'd["config_master"]')" \
    "info config_master of pool2"
assert_eq "[]" "$(succeeds pp journal --module config --json)" "pool2's config journal"
D=$TESTDIR/s

# The journal.  Config so far: imfilter, imfilter, backup, empty, big.
j=$(succeeds pp journal --module config --json)
assert_eq "1:imfilter 2:imfilter 3:backup 4:empty 5:big" \
    "$(json_eval "$j" '" ".join("%d:%s" % (r["lsn"], r["key"]) for r in d)')" "config journal"
assert_eq "config put" "$(json_eval "$j" '" ".join(sorted(set(r["module"] + " " + r["op"] for r in d)))')" \
    "config journal module and op"
A=sip:alice@contoso.test
B=sip:bob@contoso.test
pp user add "$A" --name Alice >/dev/null
pp user add "$B" --name Bob >/dev/null
pp setting set "$A" ui.theme dark >/dev/null
pp contact add "$A" "$B" --group Team >/dev/null
conf=$(pp conf create "$A")
printf 'slides' >s.txt
pp content put "$conf" s.txt >/dev/null
pp setting del "$A" ui.theme >/dev/null
pp content del "$conf" s.txt >/dev/null
want="1 put user $A
2 put user $B
3 put setting $A ui.theme"
got=$(succeeds pp journal --module userdata | head -n 3 | cut -f 2,5- | tr '\t' ' ')
assert_eq "$want" "$got" "first userdata records"
j=$(succeeds pp journal --module userdata --json)
lsns=$(json_eval "$j" '" ".join(str(r["lsn"]) for r in d)')
n=$(json_eval "$j" 'len(d)')
assert_eq "$(seq -s ' ' 1 "$n")" "$lsns" "userdata LSNs"
assert_eq "del setting $A ui.theme" \
    "$(json_eval "$j" '" ".join((d[-1]["op"], d[-1]["entity"], d[-1]["key"], d[-1]["key2"]))')" \
    "last userdata record"
json_eval "$j" '[r["entity"] for r in d]' | grep -q -x conf || fail "no conf record in the journal"
assert_eq "1 put content $conf s.txt|2 del content $conf s.txt" \
    "$(json_eval "$(succeeds pp journal --module confcontent --json)" '"|".join("%d %s %s %s %s" % (r["lsn"], r["op"], r["entity"], r["key"], r["key2"]) for r in d)')" \
    "confcontent journal"
# All modules: userdata, then confcontent, then config, each in LSN order.
assert_eq "userdata confcontent config" \
    "$(succeeds pp journal | cut -f 1 | uniq | tr '\n' ' ' | sed 's/ $//')" "module order of the whole journal"
assert_eq "$((n + 2 + 5))" "$(succeeds pp journal | wc -l)" "records in the whole journal"
# --since and --limit.
assert_eq "$(seq -s ' ' 3 "$n")" \
    "$(json_eval "$(succeeds pp journal --module userdata --since 2 --json)" '" ".join(str(r["lsn"]) for r in d)')" \
    "--since 2"
assert_eq "3 4" \
    "$(json_eval "$(succeeds pp journal --module userdata --since 2 --limit 2 --json)" '" ".join(str(r["lsn"]) for r in d)')" \
    "--since 2 --limit 2"
assert_eq "[]" "$(succeeds pp journal --module userdata --since "$n" --json)" "--since the last LSN"
assert_eq 1 "$(succeeds pp journal --limit 1 | wc -l)" "--limit 1 over all modules"
refused 2 "unknown module" pp journal --module bogus
refused 2 "non-negative" pp journal --since -1
refused 2 "non-negative" pp journal --limit x
refused 2 "non-negative" pp journal --since ''

# Refused commands add no journal record (refused also checks the store).
before=$(succeeds pp journal)
refused 1 "already exists" pp user add "$A" --name Again
refused 1 "already a contact" pp contact add "$A" "$B"
refused 1 "unknown user" pp setting set sip:nobody@contoso.test k v
refused 1 "no setting" pp setting del "$A" ui.theme
refused 1 "unknown conference" pp content put 0123456789abcdef0123456789abcdef s.txt
refused 1 "config document name" pp config set 'bad name' s.txt
assert_eq "$before" "$(succeeds pp journal)" "journal after refused commands"

# Last: a document that cannot be read (a directory, as a file or as
# standard input) is refused with a message that says so.
mkdir adir
refused 1 "cannot read adir" pp config set x adir
refused 1 "cannot read standard input" sh -c '"$1" --data "$2" config set x <adir' sh "$POOLPAIR" "$D"
echo "06-config-journal: ok"
