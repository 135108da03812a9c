#!/bin/sh
# 01-init: creating a store and the command line itself.
# Proves: init makes DIR and DIR/chunks 0700, pool.db and storage.key 0600
# (a 32-byte key); a second init on the same directory, a bad FQDN and a
# missing store are refused; --pool is required; global, group and every
# leaf command's --help exit 0 with a "usage:" line (and end with a
# newline); unknown commands and options are usage errors (2) that print
# nothing on stdout; POOLPAIR_DATA stands in for --data.
. "$(dirname "$0")/lib.sh"

D=$TESTDIR/s
out=$(succeeds "$POOLPAIR" init --pool pool1.contoso.test --data "$D")
assert_contains "$out" "pool1.contoso.test" "init output"
assert_eq 700 "$(stat -c %a "$D")" "mode of the data directory"
assert_eq 600 "$(stat -c %a "$D/pool.db")" "mode of pool.db"
assert_eq 600 "$(stat -c %a "$D/storage.key")" "mode of storage.key"
assert_eq 700 "$(stat -c %a "$D/chunks")" "mode of the pack directory"
assert_eq 32 "$(stat -c %s "$D/storage.key")" "size of storage.key"
# The fresh store opens and is empty.
assert_eq "pool1.contoso.test" \
    "$(json_eval "$(succeeds pp info --json)" 'd["pool"]')" "info pool"
assert_eq "[]" "$(succeeds pp user list --json)" "users of a new store"

# A second init on the same directory keeps the first store and its key.
cp "$D/storage.key" "$TESTDIR/key.before"
refused 1 "already" "$POOLPAIR" init --pool pool1.contoso.test --data "$D"
refused 1 "already" "$POOLPAIR" init --pool other.contoso.test --data "$D"
cmp -s "$D/storage.key" "$TESTDIR/key.before" || fail "second init changed the key"
assert_eq "pool1.contoso.test" \
    "$(json_eval "$(succeeds pp info --json)" 'd["pool"]')" "pool after a refused init"

# Bad FQDNs are refused and leave no directory behind.
for bad in 'bad fqdn' 'nodots' '-lead.contoso.test' 'a..b.test' \
    "$(nchars 64).contoso.test"; do
	refused 1 "domain name" "$POOLPAIR" init --pool "$bad" --data "$TESTDIR/bad"
	[ ! -e "$TESTDIR/bad" ] || fail "init --pool '$bad' left $TESTDIR/bad"
done

# --pool is required: a usage error, nothing created.
refused 2 "pool" "$POOLPAIR" init --data "$TESTDIR/nopool"
[ ! -e "$TESTDIR/nopool" ] || fail "init without --pool created a directory"
# Neither --data nor POOLPAIR_DATA: a usage error too.
refused 2 "data" env -u POOLPAIR_DATA "$POOLPAIR" init --pool p.contoso.test

# Help: global, per group and per leaf command.
out=$(succeeds "$POOLPAIR" --help)
assert_contains "$out" "usage: poolpair" "poolpair --help"
for g in init info compact user setting group contact conf content config journal; do
	assert_contains "$out" "  $g " "poolpair --help lists $g"
done
out=$(succeeds "$POOLPAIR" user --help)
assert_contains "$out" "usage: poolpair [--data DIR] user COMMAND" "user --help"
for c in add del show list; do
	assert_contains "$out" "user $c " "user --help lists $c"
done
for cmd in init info compact journal \
    "user add" "user del" "user show" "user list" \
    "setting set" "setting get" "setting del" "setting list" \
    "group add" "group del" "group list" \
    "contact add" "contact set" "contact del" "contact list" \
    "conf create" "conf show" "conf list" "conf del" \
    "content put" "content get" "content list" "content del" \
    "config set" "config get" "config list"; do
	# shellcheck disable=SC2086 # split "user add" into two words
	exits 0 "$POOLPAIR" $cmd --help
	first=$(head -n 1 "$TESTDIR/.out")
	assert_contains "$first" "usage: poolpair [--data DIR] $cmd" "'$cmd --help' first line"
	[ ! -s "$TESTDIR/.err" ] || fail "'$cmd --help' wrote to stderr"
	# Help is text: it must end with a newline (else the shell prompt is
	# glued to the last line); checked at the end.
	[ "$(tail -c 1 "$TESTDIR/.out" | od -An -c | tr -d ' ')" = '\n' ] ||
	    nonl="${nonl:-}'$cmd --help' "
done

# Unknown commands and options: exit 2, nothing on stdout, one stderr line.
refused 2 "unknown command" pp bogus
refused 2 "unknown command" pp user bogus
refused 2 "unknown option" pp --bogus user list
refused 2 "unknown option" pp user list --bogus
refused 2 "unknown option" pp conf create sip:a@contoso.test --colour red
refused 2 "unexpected argument" pp user list extra
refused 2 "missing argument" pp user show
refused 2 "needs a value" pp conf list --organizer
exits 2 "$POOLPAIR"
[ ! -s "$TESTDIR/.out" ] || fail "'poolpair' (exit 2) printed on stdout"
grep -q "^usage: poolpair" "$TESTDIR/.err" || fail "'poolpair' printed no usage on stderr"

# POOLPAIR_DATA names the store when --data is not given; --data wins.
POOLPAIR_DATA=$D "$POOLPAIR" user add sip:env@contoso.test --name Env >/dev/null
assert_eq "sip:env@contoso.test" \
    "$(POOLPAIR_DATA=$D "$POOLPAIR" user list | cut -f 1)" "user list via POOLPAIR_DATA"
newpool "$TESTDIR/other" pool2.contoso.test
assert_eq "" "$(POOLPAIR_DATA=$D "$POOLPAIR" --data "$TESTDIR/other" user list)" \
    "--data overrides POOLPAIR_DATA"
POOLPAIR_DATA=$TESTDIR/envpool "$POOLPAIR" init --pool pool3.contoso.test >/dev/null
[ -f "$TESTDIR/envpool/pool.db" ] || fail "init did not use POOLPAIR_DATA"

# Neither --data nor POOLPAIR_DATA (nor an empty one): refused, exit 1.
refused 1 "no store named" env -u POOLPAIR_DATA "$POOLPAIR" user list
refused 1 "no store named" env POOLPAIR_DATA= "$POOLPAIR" user list

# Last, the help text details (so that the checks above run either way).
[ -z "${nonl:-}" ] || fail "help output does not end with a newline: $nonl"
# The journal's synopsis names every option the command accepts.
exits 0 "$POOLPAIR" journal --help
for o in --module --since --limit --json; do
	grep -q -- "$o" "$TESTDIR/.out" || fail "'journal --help' does not mention $o"
done
# A group with no command is a usage error: like 'poolpair' alone, it
# prints on stderr, nothing on stdout.
exits 2 "$POOLPAIR" user
[ ! -s "$TESTDIR/.out" ] || fail "'poolpair user' (exit 2) printed its help on stdout"
grep -q "^usage: poolpair" "$TESTDIR/.err" || fail "'poolpair user' printed no usage on stderr"
echo "01-init: ok"
