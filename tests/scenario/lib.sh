# lib.sh: helpers for the numbered scenario tests.  Source it first.
# Each scenario runs in its own empty directory ($TESTDIR) with $POOLPAIR
# naming the poolpair binary under test.  A failed check exits non-zero with
# a line saying what was expected.
set -eu
: "${POOLPAIR:?POOLPAIR must name the poolpair binary}"
: "${TESTDIR:=$(pwd)}"

# fail MSG: stop the scenario.
fail() { echo "FAIL: $*" >&2; exit 1; }

# pp ARGS: poolpair on store $D (set D first).
pp() { "$POOLPAIR" --data "$D" "$@"; }

# newpool DIR FQDN: create a store.
newpool() { "$POOLPAIR" init --pool "$2" --data "$1" >/dev/null; }

# alice_pool DIR FQDN: a new store with user Alice ($A) and a conference
# of hers ($C); sets D to DIR.
alice_pool() {
	D=$1
	newpool "$D" "$2"
	A=sip:alice@contoso.test
	pp user add "$A" --name Alice >/dev/null
	C=$(pp conf create "$A")
}

# assert_eq WANT GOT [WHAT]
assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
	case "$1" in *"$2"*) ;; *) fail "${3:-output}: '$2' not in '$1'" ;; esac
}

# dump_store DIR: a canonical text dump of the store's database, then the
# name and SHA-256 of each file under DIR/chunks (the pack files).
dump_store() {
	sqlite3 "$1/pool.db" .dump
	if [ -d "$1/chunks" ]; then
		(cd "$1/chunks" && find . -type f | sort | xargs -r sha256sum)
	fi
}

# refused CODE PATTERN CMD...: CMD must exit CODE, print nothing on stdout,
# exactly one line on stderr matching the grep pattern PATTERN, and leave
# store $D unchanged (when $D exists).
refused() {
	_code=$1; _pat=$2; shift 2
	_before=""
	[ -f "${D:-/nonexistent}/pool.db" ] && _before=$(dump_store "$D" 2>/dev/null || true)
	set +e
	"$@" >"$TESTDIR/.out" 2>"$TESTDIR/.err"
	_rc=$?
	set -e
	[ "$_rc" -eq "$_code" ] || fail "'$*': exit $_rc, expected $_code (stderr: $(cat "$TESTDIR/.err"))"
	[ ! -s "$TESTDIR/.out" ] || fail "'$*': printed on stdout: $(head -c 200 "$TESTDIR/.out")"
	_lines=$(wc -l <"$TESTDIR/.err")
	[ "$_lines" -eq 1 ] || fail "'$*': $_lines lines on stderr, expected 1: $(cat "$TESTDIR/.err")"
	grep -q -- "$_pat" "$TESTDIR/.err" || fail "'$*': stderr '$(cat "$TESTDIR/.err")' does not match '$_pat'"
	if [ -n "$_before" ]; then
		_after=$(dump_store "$D" 2>/dev/null || true)
		[ "$_before" = "$_after" ] || fail "'$*': the store changed"
	fi
}

# --- helpers added for scenarios 01-08 -----------------------------------

# json_eval JSON EXPR: print the Python expression EXPR evaluated with the
# parsed JSON document bound to d (lists print one element a line).
json_eval() {
	printf '%s' "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
if isinstance(v, list):
    for x in v:
        print(x)
else:
    print(v)' "$2" || fail "cannot evaluate '$2' on JSON: $(printf '%s' "$1" | head -c 300)"
}

# exits CODE CMD...: CMD must exit CODE; its stdout is left in $TESTDIR/.out
# and its stderr in $TESTDIR/.err (no other checks).
exits() {
	_code=$1; shift
	set +e
	"$@" >"$TESTDIR/.out" 2>"$TESTDIR/.err"
	_rc=$?
	set -e
	[ "$_rc" -eq "$_code" ] || fail "'$*': exit $_rc, expected $_code (stderr: $(head -c 500 "$TESTDIR/.err"))"
}

# succeeds CMD...: CMD must exit 0 with nothing on stderr; prints its stdout.
succeeds() {
	exits 0 "$@"
	[ ! -s "$TESTDIR/.err" ] || fail "'$*': succeeded but wrote to stderr: $(head -c 300 "$TESTDIR/.err")"
	cat "$TESTDIR/.out"
}

# no_sanitizer_report FILE [WHAT]: FILE holds no ASan/UBSan/LeakSanitizer report.
no_sanitizer_report() {
	! grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: .*Sanitizer' "$1" ||
	    fail "${2:-command}: sanitizer report: $(grep -m 3 -E 'Sanitizer|runtime error' "$1")"
}

# nchars N [CHAR]: N copies of CHAR (default 'a'), no newline.
nchars() { head -c "$1" /dev/zero | tr '\0' "${2:-a}"; }

# pair_setup: in $TESTDIR, the pair CA (ca/), pools $PA and $PB with their
# identities (a/, b/), config files $CA_CONF and $CB_CONF (0600), and their
# stores (a.data, b.data; $PA is the config master).  pa ARGS and pb ARGS
# run poolpair with each pool's config.
pair_setup() {
	PA=pool-a.example.test
	PB=pool-b.example.test
	"$POOLPAIR" pki init --pair pair1 --out "$TESTDIR/ca" >/dev/null
	for _x in a b; do
		_me=pool-$_x.example.test
		_other=pool-$([ $_x = a ] && echo b || echo a)
		"$POOLPAIR" pki issue --ca "$TESTDIR/ca" --pool "$_me" \
		    --out "$TESTDIR/$_x" |
		    sed -e "s|^data = .*|data = $TESTDIR/$_x.data|" \
		    -e "s|^# fqdn = .*|fqdn = $_other.example.test|" \
		    -e "s|^# cert = .*|cert = $TESTDIR/${_other#pool-}/identity.crt|" \
		    >"$TESTDIR/$_x.conf"
		chmod 600 "$TESTDIR/$_x.conf"
	done
	CA_CONF=$TESTDIR/a.conf
	CB_CONF=$TESTDIR/b.conf
	"$POOLPAIR" init --pool "$PA" --data "$TESTDIR/a.data" >/dev/null
	"$POOLPAIR" init --pool "$PB" --data "$TESTDIR/b.data" \
	    --config-master "$PA" >/dev/null
}
pa() { "$POOLPAIR" -c "$CA_CONF" "$@"; }
pb() { "$POOLPAIR" -c "$CB_CONF" "$@"; }

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# daemon_pair_setup: pair_setup, plus [pool] listen and [partner] address
# on free loopback ports ($PORT_A, $PORT_B) in both config files.
daemon_pair_setup() {
	pair_setup
	PORT_A=$(free_port)
	PORT_B=$(free_port)
	for _x in a b; do
		if [ $_x = a ]; then _l=$PORT_A _r=$PORT_B; else _l=$PORT_B _r=$PORT_A; fi
		sed -i -e "s|^data = .*|&\nlisten = 127.0.0.1:$_l|" \
		    -e "/^\[partner\]/a address = 127.0.0.1:$_r" "$TESTDIR/$_x.conf"
	done
}

# start_daemon a|b: start poolpaird for pool a or b (log in $TESTDIR/X.log);
# its pid in $PID_A or $PID_B.
start_daemon() {
	"${POOLPAIRD:-$(dirname "$POOLPAIR")/poolpaird}" -c "$TESTDIR/$1.conf" \
	    2>>"$TESTDIR/$1.log" &
	eval "PID_$(echo "$1" | tr ab AB)=$!"
}

# stop_daemon a|b [SIGNAL]: stop it (default TERM) and wait for it.
stop_daemon() {
	_pid=$(eval echo "\$PID_$(echo "$1" | tr ab AB)")
	[ -n "$_pid" ] || return 0
	kill -"${2:-TERM}" "$_pid" 2>/dev/null || true
	wait "$_pid" 2>/dev/null || true
	eval "PID_$(echo "$1" | tr ab AB)="
}

# wait_for SECONDS CMD...: run CMD every 50 ms until it succeeds (quietly);
# fail after SECONDS.
wait_for() {
	_limit=$1; shift
	_end=$(($(date +%s) + _limit))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || fail "not within ${_limit}s: $*"
		sleep 0.05
	done
}

# ms: milliseconds since the epoch.
ms() { date +%s%3N; }
