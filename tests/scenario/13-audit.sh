#!/bin/sh
# 13-audit: the pool's audit log from the command line.  Proves: refused
# imports appear in 'poolpair audit' (text, --json, --limit), reached with
# -c FILE or --data DIR and without the store's key; the file is the chain
# docs/audit.md describes (checked here by another implementation);
# 'audit --verify' says it is intact and exits 0; a byte flipped with dd
# makes it exit 1 naming the file, line and seq; a torn last line is
# reported, then closed by the next record; bad options are usage errors.
. "$(dirname "$0")/lib.sh"

# check_chain FILE: python's reading of docs/audit.md's format and chain.
check_chain() {
	python3 - "$1" <<'EOF' || fail "$1 is not the chain docs/audit.md describes"
import hashlib, json, sys
prev = "0" * 64
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"", "no newline at the end"
for n, line in enumerate(lines[:-1], 1):
    assert len(line) <= 2048 and line.isascii(), n
    r = json.loads(line)
    assert list(r) == ["seq", "time", "kind", "actor", "detail", "prev",
                       "hash"], n
    assert r["seq"] == n and r["prev"] == prev, n
    cut = line.rindex(b',"hash":"')
    assert hashlib.sha256(line[:cut] + b"}").hexdigest() == r["hash"], n
    prev = hashlib.sha256(line).hexdigest()
EOF
}

pair_setup
pa user add sip:alice@contoso.test --name Alice >/dev/null
pa export --module userdata -o "$TESTDIR/u.ppkg" >/dev/null
pb export --module userdata -o "$TESTDIR/b.ppkg" >/dev/null
D=$TESTDIR/b.data
LOG=$D/audit.log

# No log yet.
assert_eq "no audit records yet" "$(succeeds pb audit)" "empty log"
assert_eq "[]" "$(succeeds pb audit --json)" "empty log, JSON"
assert_eq "audit log: 0 records, chain intact" \
    "$(succeeds pb audit --verify)" "empty log verified"

# Four refused imports: one addressed to A, three altered.
refused 1 "addressed to pool-a.example.test" pb import "$TESTDIR/b.ppkg"
for n in 1 2 3; do
	cp "$TESTDIR/u.ppkg" "$TESTDIR/bad$n.ppkg"
	printf 'X' | dd of="$TESTDIR/bad$n.ppkg" bs=1 seek=$((1000 + n)) \
	    conv=notrunc 2>/dev/null
	refused 1 "package refused" pb import "$TESTDIR/bad$n.ppkg"
done
j=$(succeeds pb audit --json)
assert_eq "1 b.ppkg|2 bad1.ppkg|3 bad2.ppkg|4 bad3.ppkg" \
    "$(json_eval "$j" '"|".join("%d %s" % (r["seq"], r["actor"]) for r in d)')" \
    "records"
assert_eq "package-refused" \
    "$(json_eval "$j" '" ".join(sorted(set(r["kind"] for r in d)))')" "kinds"
assert_contains "$(json_eval "$j" 'd[0]["detail"]')" \
    "package refused: it is addressed to pool-a.example.test" "detail"
assert_eq 4 "$(wc -l <"$LOG")" "lines"
assert_eq 600 "$(stat -c %a "$LOG")" "audit.log mode"
check_chain "$LOG"
# Text, the last N, and --data DIR instead of -c FILE.
out=$(succeeds pb audit)
assert_eq 4 "$(printf '%s\n' "$out" | wc -l)" "text lines"
assert_contains "$(printf '%s\n' "$out" | sed -n 2p)" \
    "	package-refused	bad1.ppkg	package refused:" "text line"
assert_eq "3 4" "$(json_eval "$(succeeds pb audit --limit 2 --json)" \
    '" ".join(str(r["seq"]) for r in d)')" "--limit 2"
assert_eq "$j" "$(succeeds "$POOLPAIR" --data "$D" audit --json)" "--data"
# Neither the store nor its key is needed to read the log.
mv "$D/storage.key" "$TESTDIR/key.away"
assert_eq "audit log: 4 records, chain intact" \
    "$(succeeds pb audit --verify | head -n 1)" "verified without the key"
mv "$TESTDIR/key.away" "$D/storage.key"

# One byte of line 3 changed: verify names line 3 and exits 1.
cp "$LOG" "$TESTDIR/audit.good"
off=$(($(head -n 2 "$LOG" | wc -c) + 30))
printf 'X' | dd of="$LOG" bs=1 seek="$off" conv=notrunc 2>/dev/null
refused 1 "bad hash at audit.log line 3 (seq 3)" pb audit --verify
exits 1 pb audit --verify --json
assert_eq "False 3 3 bad hash audit.log" \
    "$(json_eval "$(cat "$TESTDIR/.out")" '"%s %d %d %s %s" % (d["intact"], d["line"], d["seq"], d["fault"], d["file"])')" \
    "verify --json"
cp "$TESTDIR/audit.good" "$LOG"
succeeds pb audit --verify >/dev/null

# A torn last line (a crash mid-write): reported, then closed.
truncate -s -10 "$LOG"
refused 1 "torn tail at audit.log line 4 (seq 4)" pb audit --verify
refused 1 "package refused" pb import "$TESTDIR/bad1.ppkg"
out=$(succeeds pb audit --verify)
assert_contains "$out" "audit log: 5 records, chain intact" "after the tear"
assert_contains "$out" "1 torn line(s)" "after the tear"
j=$(succeeds pb audit --json --limit 2)
assert_eq "4 audit-torn audit|5 package-refused bad1.ppkg" \
    "$(json_eval "$j" '"|".join("%d %s %s" % (r["seq"], r["kind"], r["actor"]) for r in d)')" \
    "torn record"

# Usage.
refused 2 "limit" pb audit --limit 0
refused 2 "limit" pb audit --limit x
refused 2 "no --limit" pb audit --verify --limit 3
refused 2 "unknown option" pb audit --all
refused 3 "no pool data directory" "$POOLPAIR" --data "$TESTDIR/none" audit
(unset POOLPAIR_DATA POOLPAIR_CONFIG
    refused 1 "no pool named" "$POOLPAIR" audit)
echo "13-audit: ok"
