#!/bin/sh
# 03-contacts: contact groups and contacts.
# Proves: the issue's example works and creates its group; several --group
# options file one contact in several groups; contact set replaces a contact
# whole (name, relationship, groups); contact del; group add/del/list, where
# deleting a group keeps its contacts but drops their membership; the five
# relationships are accepted and others refused; duplicates, self-contacts,
# bad URIs and the 65th group are refused with the store unchanged.
. "$(dirname "$0")/lib.sh"

D=$TESTDIR/s
newpool "$D" pool1.contoso.test
A=sip:alice@contoso.test
B=sip:bob@contoso.test
C=sip:carol@fabrikam.test
pp user add "$A" --name Alice >/dev/null
pp user add "$B" --name Bob >/dev/null

# The issue's example: the group Team is created on the way.
assert_eq "" "$(succeeds pp group list "$A")" "groups before the first contact"
succeeds pp contact add sip:alice@contoso.test sip:bob@contoso.test --group Team \
    --relationship colleague >/dev/null
assert_eq "$(printf 'Team\t1')" "$(succeeds pp group list "$A")" "group auto-created"
assert_eq "$(printf '%s\t\tcolleague\tTeam' "$B")" "$(succeeds pp contact list "$A")" \
    "contact list after the example"
# The owner's contacts are the owner's only.
assert_eq "[]" "$(succeeds pp contact list "$B" --json)" "bob's contacts"

# Several groups; a contact need not be a user of this pool; its URI is
# normalized.
succeeds pp contact add "$A" SIP:Carol@Fabrikam.Test --name 'Carol C' --group Partners \
    --group Team --group 'Board members' --relationship friends >/dev/null
j=$(succeeds pp contact list "$A" --json)
assert_eq "$B $C" "$(json_eval "$j" '" ".join(c["uri"] for c in d)')" "contact URIs"
assert_eq "Carol C|friends|['Board members', 'Partners', 'Team']" \
    "$(json_eval "$j" '"|".join(str(x) for x in (d[1]["name"], d[1]["relationship"], sorted(d[1]["groups"])))')" \
    "carol as a contact"
assert_eq "Board members:1 Partners:1 Team:2" \
    "$(json_eval "$(succeeds pp group list "$A" --json)" '" ".join("%s:%d" % (g["name"], g["contacts"]) for g in d)')" \
    "group counts"

# Duplicates (under any spelling) and self-contacts are refused.
refused 1 "already a contact" pp contact add "$A" "$B"
refused 1 "already a contact" pp contact add "$A" sip:BOB@contoso.test --group Other
refused 1 "own contact" pp contact add "$A" "$A"
refused 1 "own contact" pp contact add "$A" sip:Alice@CONTOSO.test
refused 1 "SIP URI" pp contact add "$A" bob@contoso.test
refused 1 "control character" pp contact add "$A" sip:dave@contoso.test --name "$(printf 'x\ty')"
refused 1 "control character" pp contact add "$A" sip:dave@contoso.test --group "$(printf 'g\nh')"
refused 1 "control character" pp group add "$A" "$(printf 'g\th')"
refused 1 "SIP URI" pp contact add "$A" sip:bob@contoso.test:5060
# Relationships: five accepted, others refused.
refused 1 "unknown relationship" pp contact add "$A" sip:dave@contoso.test --relationship enemies
refused 1 "unknown relationship" pp contact add "$A" sip:dave@contoso.test --relationship ''
for rel in blocked external colleague workgroup friends; do
	succeeds pp contact add "$A" "sip:$rel@contoso.test" --relationship "$rel" >/dev/null
	assert_eq "$rel" "$(succeeds pp contact list "$A" | awk -F '\t' -v u="sip:$rel@contoso.test" '$1 == u { print $3 }')" \
	    "relationship $rel"
done
# The default relationship is colleague.
succeeds pp contact add "$A" sip:default@contoso.test >/dev/null
assert_eq colleague "$(succeeds pp contact list "$A" | awk -F '\t' '$1 == "sip:default@contoso.test" { print $3 }')" \
    "default relationship"

# contact set replaces the whole contact: name and groups not given are gone.
succeeds pp contact set "$A" "$C" --relationship blocked --group Partners >/dev/null
assert_eq "$(printf '%s\t\tblocked\tPartners' "$C")" \
    "$(succeeds pp contact list "$A" | grep -F "$C")" "contact after set"
assert_eq "Board members:0 Partners:1 Team:1" \
    "$(json_eval "$(succeeds pp group list "$A" --json)" '" ".join("%s:%d" % (g["name"], g["contacts"]) for g in d)')" \
    "group counts after set"
# contact set also adds a contact that is not there yet.
succeeds pp contact set "$A" sip:erin@contoso.test --name Erin >/dev/null
assert_eq "$(printf 'sip:erin@contoso.test\tErin\tcolleague\t')" \
    "$(succeeds pp contact list "$A" | grep -F sip:erin@)" "contact set of a new contact"

# contact del.
succeeds pp contact del "$A" sip:erin@contoso.test >/dev/null
succeeds pp contact list "$A" | grep -q -F sip:erin@ && fail "contact del left the contact"
refused 1 "not a contact" pp contact del "$A" sip:erin@contoso.test

# Groups: add, duplicate, del keeps the contacts, del of an unknown group.
succeeds pp group add "$A" Family >/dev/null
refused 1 "already has group" pp group add "$A" Family
succeeds pp group del "$A" Team >/dev/null
refused 1 "no group" pp group del "$A" Team
assert_eq "$(printf '%s\t\tcolleague\t' "$B")" \
    "$(succeeds pp contact list "$A" | grep -F "$B")" "bob after his group was deleted"
assert_eq "Board members Family Partners" \
    "$(json_eval "$(succeeds pp group list "$A" --json)" '" ".join(g["name"] for g in d)')" \
    "groups after del"
# A new group of the same name starts empty: the old memberships are gone.
succeeds pp group add "$A" Team >/dev/null
assert_eq "$(printf 'Team\t0')" "$(succeeds pp group list "$A" | grep '^Team')" \
    "a re-created group"
assert_eq "$(printf '%s\t\tcolleague\t' "$B")" \
    "$(succeeds pp contact list "$A" | grep -F "$B")" "bob after his group was re-created"
succeeds pp group del "$A" Team >/dev/null
refused 1 "128" pp group add "$A" "$(nchars 129 g)"
succeeds pp group add "$A" "$(nchars 128 g)" >/dev/null

# At most 64 groups: fill up to 64, then the 65th is refused, whether made
# with group add or by contact add --group.
n=$(succeeds pp group list "$A" | wc -l)
while [ "$n" -lt 64 ]; do
	succeeds pp group add "$A" "g$n" >/dev/null
	n=$((n + 1))
done
assert_eq 64 "$(succeeds pp group list "$A" | wc -l)" "groups after filling"
refused 1 "64" pp group add "$A" one-too-many
refused 1 "64" pp contact add "$A" sip:frank@contoso.test --group one-too-many
# An existing group is still usable.
succeeds pp contact add "$A" sip:frank@contoso.test --group Family >/dev/null
# 65 --group options on one command line: a usage error.
set --
i=0
while [ $i -lt 65 ]; do set -- "$@" --group "x$i"; i=$((i + 1)); done
refused 2 "more than 64" pp contact add "$B" "$A" "$@"

# contact list --json of the final state is a list of whole contacts.
j=$(succeeds pp contact list "$A" --json)
assert_eq 9 "$(json_eval "$j" 'len(d)')" "number of contacts"
assert_eq "groups name relationship uri" \
    "$(json_eval "$j" '" ".join(sorted(set(k for c in d for k in c)))')" "contact JSON fields"
echo "03-contacts: ok"
