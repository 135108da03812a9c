#!/bin/sh
# 20-ctl: the control commands (status, sync, verify, --wait-replicated)
# without poolpaird (one clear line, exit 3), then against a stand-in that
# speaks the admin protocol (docs/protocol-admin.md) with canned answers and
# logs each request: what the CLI sends, prints and exits with.
. "$(dirname "$0")/lib.sh"

D=$TESTDIR/d
newpool "$D" pool-a.example.test
A=sip:alice@contoso.test

# --- no daemon --------------------------------------------------------------
nd="poolpaird is not running for $D (no $D/admin.sock)"
refused 3 "$nd" pp status
refused 3 "$nd" pp status --json
refused 3 "$nd" pp sync --wait
refused 3 "$nd" pp verify
exits 3 pp --wait-replicated user add "$A" --name Alice
assert_eq "$A" "$(cat "$TESTDIR/.out")" "the write's own output"
assert_eq "poolpair: committed here, but not known to be replicated: $nd" \
    "$(cat "$TESTDIR/.err")" "--wait-replicated without poolpaird"
assert_contains "$(pp user list)" "$A" "the write stays committed"
refused 2 "takes 1 to 86400 seconds" pp --wait-replicated=0 user list
refused 2 "unknown module" pp sync --module nope
refused 2 "--timeout must be 1 to" pp verify --timeout 0

# --- a stand-in poolpaird -------------------------------------------------
cat >"$TESTDIR/status.json" <<'EOF'
{"pool":"pool-a.example.test","partner":"pool-b.example.test","pair":"pair1",
 "connection":{"state":"connected","peer":"127.0.0.1:7444",
  "since":"2026-11-23T10:00:00Z","last_error":"handshake: certificate expired"},
 "certificates":{"own_days_left":364,"partner_days_left":363,
  "ca_days_left":3649,"crl_days_left":29},
 "sync_interval_s":0,
 "modules":[{"module":"userdata",
  "export":{"state":"NonSteadyState","reason":"","head":42,"acked":40,
   "pending_records":2,"pending_bytes":312,"lag_s":7.5,
   "last_export":"2026-11-23T10:00:01Z"},
  "import":{"state":"ErrorState","reason":"package refused: bad signature",
   "epoch":1,"lsn":37,"last_import":null}}]}
EOF
cat >"$TESTDIR/fake.py" <<'EOF'
import json, os, socket, sys
path, log, status, okflag = sys.argv[1:5]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(4)
while True:
    c, _ = srv.accept()
    f = c.makefile("rwb")
    for line in f:
        req = json.loads(line)
        with open(log, "a") as l:
            l.write(json.dumps(req) + "\n")
        cmd = req.get("cmd")
        if cmd == "status":
            resp = {"ok": True, "status": json.load(open(status))}
        elif cmd == "sync" and req["module"] == "config":
            resp = {"ok": True, "status": json.load(open(status))}
        elif cmd == "sync" and req["module"] == "confcontent":
            resp = {"ok": True}
        elif cmd == "sync":
            resp = {"ok": True, "state": {req["module"] or "all": "FinalState"}}
        elif cmd == "verify":
            resp = {"ok": True, "modules": [
                {"module": "userdata", "buckets": 256, "differ": [3, 17],
                 "keys": [{"key": "user/sip:bob@contoso.test",
                           "here": "ab12", "there": None}],
                 "repaired": req["repair"]},
                {"module": "config", "buckets": 256, "differ": [],
                 "keys": [], "repaired": False}]}
            if os.path.exists(okflag + ".bad"):
                resp["modules"].append(
                    {"module": "confcontent", "buckets": 256, "differ": [],
                     "keys": [], "repaired": False,
                     "error": "a bad answer from pool-b.example.test: "
                              "not 256 digests"})
        elif cmd == "wait" and os.path.exists(okflag):
            resp = {"ok": True}
        elif cmd == "wait":
            resp = {"ok": False, "error": "timeout: the partner acked "
                    "userdata up to 0 of %d" % req["heads"]["userdata"]}
        else:
            resp = {"ok": False, "error": "unknown command"}
        f.write((json.dumps(resp) + "\n").encode())
        f.flush()
    f.close()
    c.close()
EOF
LOG=$TESTDIR/requests.log
python3 "$TESTDIR/fake.py" "$D/admin.sock" "$LOG" "$TESTDIR/status.json" \
    "$TESTDIR/wait-ok" &
FAKE=$!
trap 'kill $FAKE 2>/dev/null' EXIT
i=0
while [ ! -S "$D/admin.sock" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "the stand-in did not start"
	sleep 0.1
done
last() { tail -n 1 "$LOG"; }

# status: the object as the daemon sent it, or a table.
out=$(succeeds pp status --json)
assert_eq True "$(json_eval "$out" "d == json.load(open('$TESTDIR/status.json'))")" \
    "status --json is the status object"
out=$(succeeds pp status)
assert_contains "$out" "connection    connected, peer 127.0.0.1:7444, since 2026-11-23T10:00:00Z"
assert_contains "$out" "last error    handshake: certificate expired"
assert_contains "$out" "days left: own 364, partner 363, CA 3649, CRL 29"
assert_contains "$out" "userdata     export NonSteadyState  head 42, acked 40"
assert_contains "$out" "2 rec, 312 B"
assert_contains "$out" "7.5 s"
assert_contains "$out" "userdata     import ErrorState      lsn 37, epoch 1"
assert_contains "$out" "reason: package refused: bad signature"

# sync: what it asks, what it prints.
assert_eq "userdata     FinalState" \
    "$(succeeds pp sync --module userdata --wait --timeout 5)"
assert_eq '{"cmd": "sync", "module": "userdata", "wait": true, "timeout_ms": 5000}' \
    "$(last)" "the sync request"
succeeds pp sync >/dev/null
assert_eq '{"cmd": "sync", "module": null, "wait": false, "timeout_ms": 60000}' \
    "$(last)" "the default sync request"
# Answers without "state": done, or the export states of a status object.
assert_eq done "$(succeeds pp sync --module confcontent)"
assert_eq "userdata     NonSteadyState" "$(succeeds pp sync --module config)"

# verify: differences not repaired exit 1; repaired, 0.
exits 1 pp verify
assert_contains "$(cat "$TESTDIR/.out")" "userdata     256 buckets, 2 differ: 3 17"
assert_contains "$(cat "$TESTDIR/.out")" "user/sip:bob@contoso.test	here ab12	there -"
assert_contains "$(cat "$TESTDIR/.out")" "config       256 buckets, all equal"
out=$(succeeds pp verify --repair --json)
assert_eq "True [3, 17]" "$(json_eval "$out" "'%s %s' % (d[0]['repaired'], d[0]['differ'])")"
# A module the partner could not compare (it refused, or answered badly)
# is not verified: said so, and the exit is 1 even after a repair.
touch "$TESTDIR/wait-ok.bad"
exits 1 pp verify --repair
assert_contains "$(cat "$TESTDIR/.out")" "confcontent  not verified: a bad answer from pool-b.example.test: not 256 digests"
rm "$TESTDIR/wait-ok.bad"

# --wait-replicated: asks for the journal heads after a write only.
B=sip:bob@contoso.test
exits 4 pp --wait-replicated=2 user add "$B" --name Bob
assert_eq "$B" "$(cat "$TESTDIR/.out")"
head=$(pp info --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["journal"]["userdata"]["lsn"])')
assert_eq "poolpair: committed here, but not known to be replicated: timeout: the partner acked userdata up to 0 of $head" \
    "$(cat "$TESTDIR/.err")"
assert_eq "$head 2000" "$(json_eval "$(last)" "'%d %d' % (d['heads']['userdata'], d['timeout_ms'])")"
n=$(wc -l <"$LOG")
succeeds pp --wait-replicated user list >/dev/null
assert_eq "$n" "$(wc -l <"$LOG")" "a read does not wait"
touch "$TESTDIR/wait-ok"
succeeds pp --wait-replicated setting set "$B" k v
assert_eq 30000 "$(json_eval "$(last)" "d['timeout_ms']")" "the default wait"
# It waits on the modules the command wrote, up to its own last change:
# not on others, nor on what other writers committed after it.
head=$(pp info --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["journal"]["userdata"]["lsn"])')
assert_eq "{'userdata': $head}" "$(json_eval "$(last)" "str(d['heads'])")" "the heads a setting set waits for"
C=$(succeeds pp --wait-replicated conf create "$A" --subject Waits)
assert_eq userdata "$(json_eval "$(last)" "' '.join(sorted(d['heads']))")" \
    "the module a conf create waits on (the conference directory)"
head -c 100000 /dev/urandom >w1.bin
head -c 100000 /dev/urandom >w2.bin
succeeds pp --wait-replicated content put "$C" w1.bin w2.bin >/dev/null
chead=$(pp info --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["journal"]["confcontent"]["lsn"])')
assert_eq "{'confcontent': $chead}" "$(json_eval "$(last)" "str(d['heads'])")" "the heads a two-file content put waits for"
pp setting set "$B" k2 v2 >/dev/null
succeeds pp --wait-replicated content del "$C" w1.bin >/dev/null
assert_eq "confcontent $((chead + 1))" "$(json_eval "$(last)" "' '.join('%s %d' % kv for kv in d['heads'].items())")" \
    "the heads of a content del after another writer's setting"
n=$(wc -l <"$LOG")
refused 1 "no content" pp --wait-replicated content del "$C" w1.bin
assert_eq "$n" "$(wc -l <"$LOG")" "a refused write does not wait"
