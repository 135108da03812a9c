#!/bin/sh
# 04-conferences: the conference directory.
# Proves: conf create prints a fresh 32-hex-digit id; show and list (all, by
# organizer, JSON) report what was given, with the defaults (start now, one
# hour, invited); times and access are parsed strictly; conf del removes the
# conference and its content; unknown ids are refused; user del removes the
# conferences the user organizes (and their content), not others'.
. "$(dirname "$0")/lib.sh"

D=$TESTDIR/s
newpool "$D" pool1.contoso.test
A=sip:alice@contoso.test
B=sip:bob@contoso.test
pp user add "$A" --name Alice >/dev/null
pp user add "$B" --name Bob >/dev/null

is_id() { printf '%s' "$1" | grep -q -x -E '[0-9a-f]{32}' || fail "'$1' is not a conference id"; }

c1=$(succeeds pp conf create "$A" --subject 'Weekly sync' --start 2026-11-23T10:00:00Z \
    --end 2026-11-23T11:30:00Z --access open)
c2=$(succeeds pp conf create "$A")
is_id "$c1"
is_id "$c2"
[ "$c1" != "$c2" ] || fail "two conferences got the same id $c1"

# show, text.
out=$(succeeds pp conf show "$c1")
assert_eq "$(printf '%s\n' "id:        $c1" "organizer: $A" "subject:   Weekly sync" \
    "start:     2026-11-23T10:00:00Z" "end:       2026-11-23T11:30:00Z" \
    "access:    open" "role:      primary" "home:      pool1.contoso.test")" "$out" "conf show"
# show --json, with the defaults: starts now, lasts an hour, invited.
before=$(date -u +%s)
c3=$(succeeds pp conf create "$B" --subject 'Default times')
after=$(date -u +%s)
j=$(succeeds pp conf show "$c3" --json)
assert_eq "$c3|$B|Default times|invited|primary|pool1.contoso.test" \
    "$(json_eval "$j" '"|".join(d[k] for k in ("id","organizer","subject","access","role","home"))')" \
    "conf show --json"
start=$(date -u -d "$(json_eval "$j" 'd["start"]')" +%s)
end=$(date -u -d "$(json_eval "$j" 'd["end"]')" +%s)
[ "$start" -ge "$before" ] && [ "$start" -le "$after" ] ||
    fail "default start $start is not between $before and $after"
assert_eq 3600 "$((end - start))" "default duration"

# list: all, by organizer (any spelling), JSON.
assert_eq 3 "$(succeeds pp conf list | wc -l)" "conf list lines"
assert_eq "$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$c1" 2026-11-23T10:00:00Z "$A" open primary pool1.contoso.test 'Weekly sync')" \
    "$(succeeds pp conf list | grep "^$c1")" "conf list line of c1"
assert_eq "$(printf '%s\n' "$c1" "$c2" | sort)" \
    "$(json_eval "$(succeeds pp conf list --organizer sip:ALICE@contoso.test --json)" 'sorted(c["id"] for c in d)')" \
    "conf list --organizer alice"
assert_eq "$c3" "$(succeeds pp conf list --organizer "$B" | cut -f 1)" "conf list --organizer bob"
succeeds pp user add sip:carol@contoso.test --name Carol >/dev/null
assert_eq "[]" "$(succeeds pp conf list --organizer sip:carol@contoso.test --json)" \
    "conf list of an organizer with none"

# Times and access: what parses, and what is refused.
c4=$(succeeds pp conf create "$A" --start 2027-01-31T23:59:59Z --end 2028-01-31T23:59:59Z --access closed)
assert_eq "2027-01-31T23:59:59Z 2028-01-31T23:59:59Z closed" \
    "$(json_eval "$(succeeds pp conf show "$c4" --json)" '" ".join((d["start"], d["end"], d["access"]))')" \
    "a conference of one year"
for bad in 2026-13-01T00:00:00Z 2026-02-30T10:00:00Z 2026-11-23T24:00:00Z \
    2026-11-23T10:00:00 '2026-11-23 10:00:00Z' 2026-11-23 tomorrow '' \
    2026-11-23T10:00:00+01:00 2026-11-23T10:00:00Zjunk; do
	refused 1 "is not a UTC time" pp conf create "$A" --start "$bad"
	refused 1 "is not a UTC time" pp conf create "$A" --start 2026-11-23T10:00:00Z --end "$bad"
done
refused 1 "end after it starts" pp conf create "$A" --start 2026-11-23T10:00:00Z --end 2026-11-23T09:59:59Z
refused 1 "end after it starts" pp conf create "$A" --start 2026-11-23T10:00:00Z --end 2026-11-23T10:00:00Z
refused 1 "within a year" pp conf create "$A" --start 2026-11-23T10:00:00Z --end 2028-11-23T10:00:00Z
for bad in public OPEN '' invite; do
	refused 1 "unknown access" pp conf create "$A" --access "$bad"
done
refused 1 "longer than 256" pp conf create "$A" --subject "$(nchars 257 s)"
c5=$(succeeds pp conf create "$A" --subject "$(nchars 256 s)")
assert_eq 256 "$(json_eval "$(succeeds pp conf show "$c5" --json)" 'len(d["subject"])')" \
    "a 256-byte subject"
refused 1 "control character" pp conf create "$A" --subject "$(printf 'two\nlines')"
refused 1 "SIP URI" pp conf create not-a-uri

# Unknown and malformed ids.
refused 1 "unknown conference" pp conf show 0123456789abcdef0123456789abcdef
refused 1 "unknown conference" pp conf del 0123456789abcdef0123456789abcdef
refused 1 "not a conference id" pp conf show nothex
refused 1 "not a conference id" pp conf show "$(printf '%s' "$c1" | tr a-f A-F)x"

# conf del removes the conference and its content.
printf 'agenda\n' >"$TESTDIR/agenda.txt"
succeeds pp content put "$c2" "$TESTDIR/agenda.txt" >/dev/null
succeeds pp conf del "$c2" >/dev/null
refused 1 "unknown conference" pp conf show "$c2"
refused 1 "unknown conference" pp conf del "$c2"
refused 1 "unknown conference" pp content list "$c2"
refused 1 "unknown conference" pp content get "$c2" agenda.txt
assert_eq "0 0" "$(json_eval "$(succeeds pp info --json)" '"%d %d" % (d["content_items"], d["chunks"])')" \
    "content and chunks after conf del"

# user del removes alice's conferences (and their content), not bob's.
succeeds pp content put "$c1" "$TESTDIR/agenda.txt" >/dev/null
succeeds pp user del "$A" >/dev/null
for c in "$c1" "$c4" "$c5"; do
	refused 1 "unknown conference" pp conf show "$c"
done
assert_eq "$c3" "$(succeeds pp conf list | cut -f 1)" "conferences left after user del"
assert_eq "1 0 0" \
    "$(json_eval "$(succeeds pp info --json)" '"%d %d %d" % (d["conferences"], d["content_items"], d["chunks"])')" \
    "conferences, content and chunks after user del"

# Last, two checks that both report before the script fails.
bad=""
# conf create accepts any spelling of the organizer that the other commands
# accept: here 100 escaped letters (317 bytes, 117 once normalized).
e=$(i=0; while [ $i -lt 100 ]; do printf '%%61'; i=$((i + 1)); done)
u=sip:$(nchars 100)@contoso.test
assert_eq "$u" "$(succeeds pp user add "sip:$e@contoso.test" --name Escaped)" "user add of an escaped URI"
succeeds pp setting set "sip:$e@contoso.test" k v >/dev/null
rc=0
c8=$("$POOLPAIR" --data "$D" conf create "sip:$e@contoso.test" 2>"$TESTDIR/c8.err") || rc=$?
if [ "$rc" -ne 0 ]; then
	bad="$bad
conf create with an escaped organizer URI that user add accepted: exit $rc: $(cat "$TESTDIR/c8.err")"
else
	assert_eq "$u" "$(json_eval "$(succeeds pp conf show "$c8" --json)" 'd["organizer"]')" \
	    "organizer given with escapes"
fi

# Every time the CLI prints can be given back to it.  A conference starting
# at the end of year 9999 with the default hour would end in year 10000,
# which no --start or --end accepts: it must be refused (or its end printed
# in a form the parser takes).
rc=0
c6=$("$POOLPAIR" --data "$D" conf create "$B" --start 9999-12-31T23:30:00Z 2>"$TESTDIR/c6.err") || rc=$?
if [ "$rc" -eq 0 ]; then
	end=$(json_eval "$(succeeds pp conf show "$c6" --json)" 'd["end"]')
	rc=0
	"$POOLPAIR" --data "$D" conf create "$B" --start "$end" >/dev/null 2>"$TESTDIR/c7.err" || rc=$?
	[ "$rc" -eq 0 ] || bad="$bad
conf create --start 9999-12-31T23:30:00Z was accepted but its end '$end' is refused by --start: $(cat "$TESTDIR/c7.err")"
else
	assert_eq 1 "$rc" "exit of conf create --start 9999-12-31T23:30:00Z"
fi
[ -z "$bad" ] || fail "$bad"
echo "04-conferences: ok"
