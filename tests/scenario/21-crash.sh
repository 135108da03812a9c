#!/bin/sh
# 21-crash: crash consistency.  Two poolpaird replicate both ways while a
# writer at each pool keeps changing its own users (users, settings,
# contacts, conferences, content puts of 16 KiB..3 MiB, deletions); each
# trial kills one daemon, chosen at random, with SIGKILL at a random moment
# (a random delay, or just after a content put returned, so the kill lands
# in the export, the transfer or the import of a large package) and
# restarts it.  Proves, after each kill and at checkpoints every
# $CRASH_CHECK_EVERY trials and at the end:
#  - the killed pool's replica is a prefix of its partner's acknowledged
#    changes, per module (no package applied by half, twice or out of
#    order), and its replica LSN never goes back;
#  - after convergence (sync --wait both ways) every acknowledged change is
#    at both pools and nothing else, verify finds the digests equal, the
#    replicated tables are equal row for row, the replica LSN is the
#    source's journal head, and no package was refused (log, audit, status).
# CRASH_TRIALS (20), CRASH_CHECK_EVERY (5); `make soak` runs 200 and more.
. "$(dirname "$0")/lib.sh"

TRIALS=${CRASH_TRIALS:-20}
EVERY=${CRASH_CHECK_EVERY:-5}
TOOL="$(dirname "$0")/../tools/crashtool.py"
TOOL=$(cd "$(dirname "$TOOL")" && pwd)/crashtool.py
t_start=$(ms)

daemon_pair_setup
mkdir -p "$TESTDIR/wa" "$TESTDIR/wb" "$TESTDIR/snaps"
WPID_A= WPID_B=
cleanup() {
	touch "$TESTDIR/wa/stop" "$TESTDIR/wb/stop"
	[ -z "$WPID_A" ] || wait "$WPID_A" 2>/dev/null || true
	[ -z "$WPID_B" ] || wait "$WPID_B" 2>/dev/null || true
	stop_daemon a KILL
	stop_daemon b KILL
}
trap cleanup EXIT

# rnd N: a random number in 0..N-1.
rnd() { echo $(( $(od -An -N4 -tu4 /dev/urandom) % $1 )); }
# msleep MS
msleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
# start X: start daemon X, marking when (spool files older are stale).
start() { touch "$TESTDIR/$1.started"; start_daemon "$1"; }
other() { [ "$1" = a ] && echo b || echo a; }
home() { [ "$1" = a ] && echo "$PA" || echo "$PB"; }
# fresh_spool X: X is receiving a package (spooled since X last started).
fresh_spool() {
	[ -n "$(find "$TESTDIR/$1.data" -maxdepth 1 -name 'spool-in.*.ppkg' \
	    -newer "$TESTDIR/$1.started" 2>/dev/null)" ]
}
# spool_size X: the size of X's newest spool file.
spool_size() {
	ls -t "$TESTDIR/$1.data"/spool-in.*.ppkg 2>/dev/null | head -n 1 |
	    xargs -r stat -c %s
}
# lsn_of X SOURCE MODULE: the replica LSN in X's store (0 if none).
# sq X SQL: a query on X's store, read only, waiting out a writer's lock.
sq() { sqlite3 -cmd ".timeout 20000" "file:$TESTDIR/$1.data/pool.db?mode=ro" "$2"; }
lsn_of() {
	_v=$(sq "$1" "SELECT lsn FROM
	    replicas WHERE source = '$2' AND module = $3") || fail "cannot read $1's replicas"
	echo "${_v:-0}"
}

start a
start b
wait_for 20 pa status
wait_for 20 pb status
python3 "$TOOL" writer "$POOLPAIR" "$CA_CONF" wa "$TESTDIR/a.acked" \
    "$TESTDIR/wa" "$(rnd 100000)" 1800 &
WPID_A=$!
python3 "$TOOL" writer "$POOLPAIR" "$CB_CONF" wb "$TESTDIR/b.acked" \
    "$TESTDIR/wb" "$(rnd 100000)" 1800 &
WPID_B=$!
touch "$TESTDIR/a.acked" "$TESTDIR/b.acked"

# The last replica LSN seen at X of its partner's module M (0 userdata, 1
# confcontent): it must never go back.
LAST_a_0=0 LAST_a_1=0 LAST_b_0=0 LAST_b_1=0
lsn_monotonic() {
	for _m in 0 1; do
		_l=$(lsn_of "$1" "$(home "$(other "$1")")" $_m)
		_p=$(eval echo "\$LAST_$1_$_m")
		[ "$_l" -ge "$_p" ] || fail "$1's replica of module $_m went back from LSN $_p to $_l"
		eval "LAST_$1_$_m=$_l"
	done
}

# checkpoint: pause the writers, let the pair converge, check everything.
nck=0 conv_total=0 conv_max=0
checkpoint() {
	touch "$TESTDIR/wa/pause" "$TESTDIR/wb/pause"
	wait_for 60 test -e "$TESTDIR/wa/paused" -a -e "$TESTDIR/wb/paused"
	_t0=$(ms)
	pa sync --wait --timeout 120 >/dev/null ||
	    fail "checkpoint $nck: A did not converge: $(pa status 2>&1 | tail -n 12)"
	pb sync --wait --timeout 120 >/dev/null ||
	    fail "checkpoint $nck: B did not converge: $(pb status 2>&1 | tail -n 12)"
	_c=$(( $(ms) - _t0 ))
	conv_total=$((conv_total + _c))
	[ "$_c" -le "$conv_max" ] || conv_max=$_c
	pa verify >"$TESTDIR/.v" 2>&1 || fail "verify at A: $(cat "$TESTDIR/.v")"
	pb verify >"$TESTDIR/.v" 2>&1 || fail "verify at B: $(cat "$TESTDIR/.v")"
	for _x in a b; do
		_y=$(other $_x)
		_h=$(home $_x)
		python3 "$TOOL" expect "$TESTDIR/$_x.acked" "$TESTDIR/$_x.data/pool.db" "$_h" >"$TESTDIR/.c" ||
		    fail "checkpoint $nck, $_x's own data: $(cat "$TESTDIR/.c")"
		python3 "$TOOL" expect "$TESTDIR/$_x.acked" "$TESTDIR/$_y.data/pool.db" "$_h" >"$TESTDIR/.c" ||
		    fail "checkpoint $nck, $_x's data at $_y: $(cat "$TESTDIR/.c")"
		python3 "$TOOL" same "$TESTDIR/$_x.data/pool.db" "$TESTDIR/$_y.data/pool.db" "$_h" >"$TESTDIR/.c" ||
		    fail "checkpoint $nck: $(cat "$TESTDIR/.c")"
		# Replica LSN = the source's journal head (nothing lost, nothing extra).
		for _m in 0 1; do
			_name=$([ $_m = 0 ] && echo userdata || echo confcontent)
			_head=$(sq $_x "SELECT next_lsn - 1 FROM modstate WHERE module = $_m")
			assert_eq "$_head" "$(lsn_of "$_y" "$_h" $_m)" \
			    "checkpoint $nck: $_y's replica LSN of $_x's $_name"
		done
		lsn_monotonic $_x
		# Every snapshot taken after a kill is a prefix of the changes.
		for _s in "$TESTDIR"/snaps/*.$_y.json; do
			[ -f "$_s" ] || continue
			python3 "$TOOL" prefix "$TESTDIR/$_x.acked" "$_s" >"$TESTDIR/.c" ||
			    fail "$(cat "$TESTDIR/.c")"
			echo "  $(basename "$_s"): $(cat "$TESTDIR/.c")"
			mv "$_s" "$_s.ok"
		done
	done
	status_clean a
	status_clean b
	echo "checkpoint $nck: converged in ${_c} ms; A acked $(wc -l <"$TESTDIR/a.acked"), B acked $(wc -l <"$TESTDIR/b.acked")"
	nck=$((nck + 1))
	rm -f "$TESTDIR/wa/pause" "$TESTDIR/wb/pause"
}

# status_clean X: every module of X in FinalState/NormalState.
status_clean() {
	p$1 status --json >"$TESTDIR/.s" || fail "status at $1"
	python3 - "$TESTDIR/.s" "$1" <<'EOF' || fail "status at $1: $(cat "$TESTDIR/.s")"
import json, sys
d = json.load(open(sys.argv[1]))
bad = [(m["module"], m["export"]["state"], m["import"]["state"])
       for m in d["modules"]
       if m["export"]["state"] == "ErrorState" or
       m["import"]["state"] != "NormalState"]
sys.exit(1 if bad else 0)
EOF
}

# --- the trials ------------------------------------------------------------
kills_a=0 kills_b=0 by_delay=0 by_put=0
ph_send=0 ph_xfer=0 ph_import=0 ph_idle=0
trial=1
while [ "$trial" -le "$TRIALS" ]; do
	X=$([ "$(rnd 2)" = 0 ] && echo a || echo b)
	Y=$(other $X)
	if [ "$(rnd 2)" = 0 ]; then
		# Just after a content put of the writer returned: its package
		# is being exported, sent or imported.
		how=put
		_n=$(grep -c '^content+' "$TESTDIR/a.acked" || true)
		_end=$(($(date +%s) + 20))
		while [ "$(grep -c '^content+' "$TESTDIR/a.acked" || true)" -eq "$_n" ]; do
			[ "$(date +%s)" -lt "$_end" ] || fail "the writer at A put no content for 20 s"
			sleep 0.02
		done
		delay=$(rnd 250)
		by_put=$((by_put + 1))
	else
		how=delay
		delay=$(rnd 1000)
		by_delay=$((by_delay + 1))
	fi
	msleep "$delay"
	sending=0
	fresh_spool $Y && sending=1
	stop_daemon $X KILL
	eval "kills_$X=\$((kills_$X + 1))"
	# Where did it land?
	phase=idle
	if fresh_spool $X; then
		_sz=$(spool_size $X); _sz=${_sz:-0}
		_want=$(p$Y status --json | python3 -c 'import json,sys
print(max([m["export"]["pending_bytes"] for m in json.load(sys.stdin)["modules"]] + [0]))')
		if [ "$_want" -gt 0 ] && [ "$_sz" -ge "$_want" ]; then
			phase=import ph_import=$((ph_import + 1))
		else
			phase=transfer-in ph_xfer=$((ph_xfer + 1))
		fi
	elif [ $sending = 1 ]; then
		phase=export/transfer-out ph_send=$((ph_send + 1))
	else
		ph_idle=$((ph_idle + 1))
	fi
	echo "trial $trial: SIGKILL $X after $how+${delay}ms: $phase"
	# The dead pool's replica, as the crash left it.
	python3 "$TOOL" dump "$TESTDIR/$X.data/pool.db" "$(home $Y)" \
	    >"$TESTDIR/snaps/$trial.$X.json" || fail "cannot read $X's store after the kill"
	lsn_monotonic $X
	msleep "$(rnd 400)"
	start $X
	wait_for 20 p$X status
	[ $((trial % EVERY)) -ne 0 ] || checkpoint
	trial=$((trial + 1))
done
[ $((TRIALS % EVERY)) -eq 0 ] || checkpoint

touch "$TESTDIR/wa/stop" "$TESTDIR/wb/stop"
wait "$WPID_A" "$WPID_B"
WPID_A= WPID_B=
[ ! -s "$TESTDIR/a.acked.fail" ] || fail "writes refused at A: $(head -n 3 "$TESTDIR/a.acked.fail")"
[ ! -s "$TESTDIR/b.acked.fail" ] || fail "writes refused at B: $(head -n 3 "$TESTDIR/b.acked.fail")"
# Content bytes: the last few items of each pool, read back at the other.
for x in a b; do
	y=$(other $x)
	grep '^content+' "$TESTDIR/$x.acked" | tail -n 3 | while IFS='	' read -r _op cid name sha; do
		if grep -q "^content-	$cid	$name\$" "$TESTDIR/$x.acked"; then continue; fi
		p$y content get "$cid" "$name" -o "$TESTDIR/got.bin" >/dev/null ||
		    fail "content $name not readable at $y"
		assert_eq "$sha" "$(sha256sum <"$TESTDIR/got.bin" | cut -d' ' -f1)" "content $name at $y"
	done
done
stop_daemon a
stop_daemon b
for x in a b; do
	no_sanitizer_report "$TESTDIR/$x.log" "poolpaird $x"
	! grep -q "import of" "$TESTDIR/$x.log" ||
	    fail "$x refused a package: $(grep -m 3 "import of" "$TESTDIR/$x.log")"
	! p$x audit --limit 100000 | grep -q "package-refused" ||
	    fail "$x audited a refused package"
	p$x audit --verify >/dev/null || fail "$x's audit chain"
done
secs=$(( ($(ms) - t_start) / 1000 ))
echo "crash-summary: trials=$TRIALS kills a=$kills_a b=$kills_b; by delay=$by_delay after-put=$by_put;" \
    "phase export/transfer-out=$ph_send transfer-in=$ph_xfer import=$ph_import idle=$ph_idle;" \
    "checkpoints=$nck converge avg=$((conv_total / nck)) ms max=$conv_max ms;" \
    "acked a=$(wc -l <"$TESTDIR/a.acked") b=$(wc -l <"$TESTDIR/b.acked"); ${secs}s"
echo "21-crash: ok"
