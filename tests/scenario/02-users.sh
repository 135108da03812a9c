#!/bin/sh
# 02-users: users and their settings.
# Proves: user add prints the normal form of the URI (scheme, user and host
# lowercased, unreserved escapes decoded, trailing dot dropped) and later
# commands find the user under any spelling; show (text and JSON) reports
# role, home, settings, groups and contacts; list (text, JSON, empty "[]");
# del removes the user and their settings; settings set/replace/get/del/list;
# and every malformed or unknown input is refused with one line, exit 1, and
# the store unchanged.
. "$(dirname "$0")/lib.sh"

D=$TESTDIR/s
newpool "$D" pool1.contoso.test
A=sip:alice@contoso.test
B=sip:bob@contoso.test

# Empty store: list prints nothing, or "[]" as JSON.
assert_eq "" "$(succeeds pp user list)" "user list of an empty store"
assert_eq "[]" "$(succeeds pp user list --json)" "user list --json of an empty store"

# add prints the normal form.
assert_eq "$A" "$(succeeds pp user add SIP:Alice@Contoso.TEST --name 'Alice Smith')" \
    "user add of a mixed-case URI"
assert_eq "$B" "$(succeeds pp user add sip:bob@contoso.test. --name Bob)" \
    "user add with a trailing dot on the host"
assert_eq "sips:carol@fabrikam.test" \
    "$(succeeds pp user add sips:C%61rol@Fabrikam.Test --name Carol)" \
    "user add with an escaped unreserved character"
# A URI of 256 bytes (the most) is accepted, also when spelled longer with
# escapes; its normal form is what counts.
u239=$(nchars 239)
assert_eq "sip:$u239@contoso.test" "$(succeeds pp user add "sip:$u239@contoso.test" --name Long)" \
    "a 256-byte URI"
refused 1 "already exists" pp user add "sip:%41$(nchars 238)@contoso.test" --name Again
refused 1 "longer than 256" pp user add "sip:${u239}b@contoso.test" --name X
succeeds pp user del "sip:$u239@contoso.test" >/dev/null
# Other spellings of the same user are duplicates.
refused 1 "already exists" pp user add "$A" --name Again
refused 1 "already exists" pp user add sip:ALICE@contoso.test --name Again
refused 1 "already exists" pp user add sip:%41lice@CONTOSO.test --name Again

# show, text form.
out=$(succeeds pp user show sip:Alice@Contoso.Test)
assert_contains "$out" "uri:      $A" "user show uri"
assert_contains "$out" "name:     Alice Smith" "user show name"
assert_contains "$out" "role:     primary" "user show role"
assert_contains "$out" "home:     pool1.contoso.test" "user show home"

# Give alice settings, a group and a contact; show --json reports them.
succeeds pp setting set "$A" presence.note 'In a meeting' >/dev/null
succeeds pp setting set "$A" ui.theme dark >/dev/null
succeeds pp contact add "$A" "$B" --group Team --relationship workgroup --name Bobby >/dev/null
j=$(succeeds pp user show "$A" --json)
assert_eq "$A" "$(json_eval "$j" 'd["uri"]')" "show --json uri"
assert_eq "Alice Smith" "$(json_eval "$j" 'd["name"]')" "show --json name"
assert_eq primary "$(json_eval "$j" 'd["role"]')" "show --json role"
assert_eq pool1.contoso.test "$(json_eval "$j" 'd["home"]')" "show --json home"
assert_eq "{'presence.note': 'In a meeting', 'ui.theme': 'dark'}" \
    "$(json_eval "$j" 'd["settings"]')" "show --json settings"
assert_eq "[{'name': 'Team', 'contacts': 1}]" "$(json_eval "$j" 'str(d["groups"])')" \
    "show --json groups"
assert_eq "$B Bobby workgroup ['Team']" \
    "$(json_eval "$j" '" ".join(str(c[k]) for c in d["contacts"] for k in ("uri","name","relationship","groups"))')" \
    "show --json contacts"
json_eval "$j" 'd["created"]' | grep -q -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' ||
    fail "show --json created is not a UTC time"

# list, text and JSON, in URI order.
out=$(succeeds pp user list)
assert_eq "$(printf '%s\t%s\t%s\t%s\n' "$A" 'Alice Smith' primary pool1.contoso.test \
    "$B" Bob primary pool1.contoso.test \
    sips:carol@fabrikam.test Carol primary pool1.contoso.test)" "$out" "user list"
j=$(succeeds pp user list --json)
assert_eq "$A $B sips:carol@fabrikam.test" "$(json_eval "$j" '" ".join(u["uri"] for u in d)')" \
    "user list --json"
assert_eq "primary" "$(json_eval "$j" '",".join(sorted(set(u["role"] for u in d)))')" \
    "user list --json roles"

# Settings: set replaces, get returns the exact value, del, list.
succeeds pp setting set "$A" ui.theme light >/dev/null
assert_eq light "$(succeeds pp setting get "$A" ui.theme)" "setting get after replace"
long=$(nchars 4096 v)
succeeds pp setting set "$A" long-value "$long" >/dev/null
assert_eq "$long" "$(succeeds pp setting get "$A" long-value)" "4096-byte setting"
k128=$(nchars 128 k)
succeeds pp setting set "$A" "$k128" 'ünïcödé ✓' >/dev/null
assert_eq 'ünïcödé ✓' "$(succeeds pp setting get "$A" "$k128")" "UTF-8 setting"
assert_eq "$(printf '%s\t%s\n' "$k128" 'ünïcödé ✓' long-value "$long" \
    presence.note 'In a meeting' ui.theme light)" "$(succeeds pp setting list "$A")" \
    "setting list"
assert_eq "$k128 long-value presence.note ui.theme" \
    "$(json_eval "$(succeeds pp setting list "$A" --json)" '" ".join(s["key"] for s in d)')" \
    "setting list --json"
succeeds pp setting del "$A" long-value >/dev/null
refused 1 "no setting" pp setting get "$A" long-value
refused 1 "no setting" pp setting del "$A" long-value
assert_eq "[]" "$(succeeds pp setting list "$B" --json)" "settings of a user with none"

# Refused: malformed URIs.
for bad in alice@contoso.test http:alice@contoso.test tel:+15551234 sip: sip:@contoso.test \
    sip:alice@ sip:alice sip:alice:secret@contoso.test sip:alice@contoso.test:5060 \
    'sip:alice@contoso.test;transport=tcp' 'sip:alice@contoso.test?subject=x' \
    'sip:al ice@contoso.test' 'sip:alice@[2001:db8::1]' sip:alice@192.0.2.1 \
    sip:al%zzice@contoso.test sip:al%00ice@contoso.test 'sip:a;b@contoso.test' \
    "sip:$(nchars 250)@contoso.test"; do
	refused 1 "SIP URI" pp user add "$bad" --name X
done
# Refused: names, setting keys and values.
refused 1 "longer than 256" pp user add sip:long@contoso.test --name "$(nchars 257)"
assert_eq sip:max@contoso.test "$(succeeds pp user add sip:max@contoso.test --name "$(nchars 256)")" \
    "a 256-byte name is accepted"
refused 1 "empty" pp user add sip:noname@contoso.test --name ''
refused 1 "control character" pp user add sip:ctl@contoso.test --name "$(printf 'a\tb')"
refused 1 "control character" pp user add sip:ctl@contoso.test --name "$(printf 'a\nb')"
refused 2 "name" pp user add sip:noname@contoso.test
refused 1 "longer than 4096" pp setting set "$A" k "$(nchars 4097 v)"
refused 1 "empty" pp setting set "$A" k ''
refused 1 "control character" pp setting set "$A" k "$(printf 'a\tb')"
refused 1 "UTF-8" pp setting set "$A" k "$(printf '\377\376')"
refused 1 "1 to 128" pp setting set "$A" "$(nchars 129 k)" v
refused 1 "1 to 128" pp setting set "$A" '' v
for badkey in 'bad key' 'a/b' 'a=b' 'é'; do
	refused 1 "setting key" pp setting set "$A" "$badkey" v
done
# Refused: an unknown user, for every command that names one.
U=sip:nobody@contoso.test
refused 1 "unknown user" pp user show "$U"
refused 1 "unknown user" pp user show "$U" --json
refused 1 "unknown user" pp user del "$U"
refused 1 "unknown user" pp setting set "$U" k v
refused 1 "unknown user" pp setting get "$U" k
refused 1 "unknown user" pp setting del "$U" k
refused 1 "unknown user" pp setting list "$U"
refused 1 "unknown user" pp group add "$U" g
refused 1 "unknown user" pp group del "$U" g
refused 1 "unknown user" pp group list "$U"
refused 1 "unknown user" pp contact add "$U" "$A"
refused 1 "unknown user" pp contact set "$U" "$A"
refused 1 "unknown user" pp contact del "$U" "$A"
refused 1 "unknown user" pp contact list "$U"
refused 1 "unknown user" pp conf create "$U"
refused 1 "unknown user" pp conf list --organizer "$U"

# del removes the user, their settings, groups and contacts.
succeeds pp user del SIP:ALICE@contoso.test >/dev/null
refused 1 "unknown user" pp user show "$A"
assert_eq "$B sip:max@contoso.test sips:carol@fabrikam.test" \
    "$(json_eval "$(succeeds pp user list --json)" '" ".join(u["uri"] for u in d)')" \
    "users after del"
assert_eq 0 "$(json_eval "$(succeeds pp info --json)" 'd["contacts"]')" "contacts after del"
# The URI is free again: re-adding starts with nothing of the old user.
succeeds pp user add "$A" --name 'Alice Again' >/dev/null
j=$(succeeds pp user show "$A" --json)
assert_eq "Alice Again {} [] []" \
    "$(json_eval "$j" '" ".join(str(x) for x in (d["name"], d["settings"], d["groups"], d["contacts"]))')" \
    "a re-added user"
refused 1 "no setting" pp setting get "$A" ui.theme
echo "02-users: ok"
