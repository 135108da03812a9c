#!/bin/sh
# 15-control: poolpair status, sync, verify and --wait-replicated against two
# running poolpaird.  Proves: status reports the link, certificate days
# and, per module and direction, the operators' states (FinalState once
# everything is acked, NormalState) with LSNs; the admin socket is 0600;
# with a sync_interval the daemon holds changes back (NonSteady/SteadyState
# with pending records) until 'sync --wait' ships them; --wait-replicated
# returns only once the partner has the write; verify finds a replica
# changed behind the daemons' back, names the keys, and --repair makes it
# equal again; admin actions are in the audit log; without a daemon the
# control commands fail with one line (exit 3).
. "$(dirname "$0")/lib.sh"

daemon_pair_setup
# Pool A holds changes back up to 10 minutes (the replaced system's 2
# minutes, longer): only sync ships them.
printf '[backup]\nsync_interval = 600\n' >>"$TESTDIR/a.conf"
trap 'stop_daemon a KILL; stop_daemon b KILL' EXIT
AL=sip:alice@contoso.test
refused 3 "not running" pa status
pa user add "$AL" --name Alice >/dev/null
start_daemon a
start_daemon b
wait_for 10 sh -c "'$POOLPAIR' -c '$CA_CONF' status --json | grep -q '\"connected\"'"
assert_eq 600 "$(stat -c %a "$TESTDIR/a.data/admin.sock")" "admin socket mode"

# The first sync of A's userdata is a snapshot: due at once.
wait_for 10 pb user show "$AL"
s=$(succeeds pa status --json)
# (A certificate issued for 397 days has 396 or 397 left, by the clock.)
assert_eq "connected True 600" "$(json_eval "$s" '" ".join(str(x) for x in [d["connection"]["state"], d["certificates"]["own_days_left"] in (396, 397), d["sync_interval_s"]])')" "status header"
wait_for 10 sh -c "'$POOLPAIR' -c '$CA_CONF' status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d[\"modules\"][0][\"export\"][\"state\"] == \"FinalState\" else 1)'"

# Held back: pending at A, not at B, until sync --wait.
pa setting set "$AL" lang en >/dev/null
# The daemon sees it pending (within its next looks at the journal) ...
wait_for 10 sh -c "'$POOLPAIR' -c '$CA_CONF' status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); m=[m for m in d[\"modules\"] if m[\"module\"] == \"userdata\"][0][\"export\"]; sys.exit(0 if (m[\"state\"], m[\"pending_records\"]) == (\"SteadyState\", 1) else 1)'"
# ... and holds it back.
sleep 1
s=$(succeeds pa status --json)
assert_eq "SteadyState 1" "$(json_eval "$s" '[m["export"]["state"] + " " + str(m["export"]["pending_records"]) for m in d["modules"] if m["module"] == "userdata"][0]')" "held back"
! pb setting get "$AL" lang >/dev/null 2>&1 || fail "B had the setting before the sync"
succeeds pa sync --wait >/dev/null
assert_eq "en" "$(succeeds pb setting get "$AL" lang)" "after sync --wait"
s=$(succeeds pa status --json)
assert_eq "FinalState NormalState" "$(json_eval "$s" '[m["export"]["state"] + " " + m["import"]["state"] for m in d["modules"] if m["module"] == "userdata"][0]')" "states after sync"
assert_contains "$(succeeds pa status)" "userdata" "status text"

# --wait-replicated: B's write is at A when the command returns (B has no
# sync_interval; A has one, so this is B's direction).
succeeds pb --wait-replicated user add sip:carol@contoso.test --name Carol >/dev/null
succeeds pa user show sip:carol@contoso.test >/dev/null

# verify: equal, then B's replica changed behind the daemons' back.
out=$(succeeds pa verify)
assert_contains "$out" "all equal" "verify clean"
sqlite3 "$TESTDIR/b.data/pool.db" "UPDATE users SET name = 'Mallory' WHERE uri = '$AL'"
exits 1 pa verify
assert_contains "$(cat "$TESTDIR/.out")" "user $AL" "verify names the key"
succeeds pa verify --repair >/dev/null
wait_for 10 sh -c "'$POOLPAIR' -c '$CA_CONF' verify"
assert_contains "$(succeeds pb user show "$AL")" "name:     Alice" "repaired"

# The admin actions are audited (and the chain holds).
a=$(succeeds pa audit --json)
assert_contains "$a" "admin-sync" "audit of sync"
assert_contains "$a" "admin-verify" "audit of verify"
succeeds pa audit --verify >/dev/null
stop_daemon a
stop_daemon b
no_sanitizer_report "$TESTDIR/a.log" "poolpaird a"
no_sanitizer_report "$TESTDIR/b.log" "poolpaird b"
echo "15-control: ok"
