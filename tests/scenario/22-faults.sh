#!/bin/sh
# 22-faults: a broken link.  A fault-injecting relay (tests/tools/relay.c)
# sits between pool A and pool B: A's [partner] address points at it and
# it forwards to B, so A's packages and B's HELLO, HAVER and ACK frames
# cross it.  For each fault — connections cut after N bytes (FIN), cut at
# random (RST), a stall, a delay, bits flipped at random — A writes users
# and multi-chunk content while the fault is on, then the fault clears.
# Proves: every cut and every flipped connection is detected (an endpoint
# closes it and logs why: TLS alert, bad record MAC, reset, EOF); nothing
# corrupted is ever imported (no refused package, verify equal, the
# replicated tables equal row for row, every acknowledged change at B and
# nothing else); stalls and delays cost time, not links; after each fault
# the link comes back and replication converges.  FAULT_ROUNDS (1) repeats
# the faults; `make soak` runs more rounds.
. "$(dirname "$0")/lib.sh"

ROUNDS=${FAULT_ROUNDS:-1}
TOOL=$(cd "$(dirname "$0")/../tools" && pwd)/crashtool.py
RELAY=${RELAY:-$(dirname "$POOLPAIR")/tests/relay}
[ -x "$RELAY" ] || fail "no relay at $RELAY (make tests builds it)"
t_start=$(ms)

daemon_pair_setup
PORT_R=$(free_port)
sed -i "s|^address = 127.0.0.1:$PORT_B|address = 127.0.0.1:$PORT_R|" "$CA_CONF"
grep -q "^address = 127.0.0.1:$PORT_R" "$CA_CONF" || fail "A's partner address is not the relay"
RPID=
trap 'stop_daemon a KILL; stop_daemon b KILL; [ -z "$RPID" ] || kill "$RPID" 2>/dev/null || true' EXIT
CTL=$TESTDIR/relay.ctl
STATS=$TESTDIR/relay.stats
echo pass >"$CTL"
"$RELAY" -l "$PORT_R" -t "127.0.0.1:$PORT_B" -c "$CTL" -s "$STATS" -T 900 \
    pass 2>"$TESTDIR/relay.log" &
RPID=$!
wait_for 5 test -s "$STATS"

# rstat KEY: the relay's counter KEY.
rstat() { tr ' ' '\n' <"$STATS" | sed -n "s/^$1=//p"; }
# relay_set WORDS...: new settings, at once.
relay_set() {
	echo "$*" >"$CTL"
	_n=$(grep -c reloaded "$TESTDIR/relay.log" || true)
	kill -HUP "$RPID"
	wait_for 5 reloaded_past "$_n"
}
reloaded_past() { [ "$(grep -c reloaded "$TESTDIR/relay.log")" -gt "$1" ]; }
# counter_at_least KEY N: the relay's counter KEY is N or more.
counter_at_least() { [ "$(rstat "$1")" -ge "$2" ]; }
# rnd N: a random number in 0..N-1.
rnd() { echo $(( $(od -An -N4 -tu4 /dev/urandom) % $1 )); }
# lines FILE: its line count.
lines() { wc -l <"$1"; }
# detections FILE FROM PATTERN: lines of FILE past line FROM that say a link
# ended for a reason matching PATTERN.
detections() {
	tail -n +"$(($2 + 1))" "$1" | grep -c -E "$3" || true
}

ACKED=$TESTDIR/a.acked
: >"$ACKED"
nw=0
# write_some: a user and a content item of 256 KiB..2 MiB at A, each
# logged once the CLI acknowledged it.
write_some() {
	nw=$((nw + 1))
	_u=sip:f$nw@contoso.test
	pa user add "$_u" --name "F$nw" >/dev/null || fail "user add at A"
	printf 'user+\t%s\t%s\n' "$_u" "F$nw" >>"$ACKED"
	head -c $(( (256 << 10) + $(rnd $((1792 << 10))) )) /dev/urandom >"$TESTDIR/blob"
	pa content put "$CONF" "$TESTDIR/blob" --name "b$nw.bin" >/dev/null || fail "content put at A"
	printf 'content+\t%s\t%s\t%s\n' "$CONF" "b$nw.bin" "$(sha256sum <"$TESTDIR/blob" | cut -d' ' -f1)" >>"$ACKED"
}

# converged WHAT: the pair converges within 60 s of the fault clearing; all
# of A's acknowledged changes are at B, the tables equal, verify clean.
conv_all=""
converged() {
	_t0=$(ms)
	pa sync --wait --timeout 60 >/dev/null ||
	    fail "$1: no convergence within 60 s: $(pa status 2>&1 | tail -n 14)"
	_c=$(( $(ms) - _t0 ))
	[ "$1" = sync-after-commit ] || conv_all="$conv_all $1=${_c}ms"
	python3 "$TOOL" expect "$ACKED" "$TESTDIR/b.data/pool.db" "$PA" >"$TESTDIR/.c" ||
	    fail "$1: $(cat "$TESTDIR/.c")"
	python3 "$TOOL" same "$TESTDIR/a.data/pool.db" "$TESTDIR/b.data/pool.db" "$PA" >"$TESTDIR/.c" ||
	    fail "$1: $(cat "$TESTDIR/.c")"
	pa verify >"$TESTDIR/.v" 2>&1 || fail "$1: verify at A: $(cat "$TESTDIR/.v")"
	pb verify >"$TESTDIR/.v" 2>&1 || fail "$1: verify at B: $(cat "$TESTDIR/.v")"
	! grep -q "import of" "$TESTDIR/b.log" ||
	    fail "$1: B refused a package: $(grep -m 2 "import of" "$TESTDIR/b.log")"
	echo "$1: converged ${_c} ms after the fault cleared"
}

# A link end's reasons: the socket, TLS alerts and MAC failures, timeouts.
ENDS="link [^ ]*: |handshake-refused|handshake-timeout|bad-frame| idle for "

# write_until STAT N SECS WHAT: A writes until the relay's counter STAT
# reaches N; fails if that takes more than SECS seconds.
write_until() {
	_end=$(($(date +%s) + $3))
	while [ "$(rstat "$1")" -lt "$2" ]; do
		[ "$(date +%s)" -lt "$_end" ] || fail "$4 not made in $3 s ($(cat "$STATS"))"
		write_some
	done
}

# cuts NAME SETTINGS: cut connections as SETTINGS say (3 of them) while A
# writes; A must log each cut of its link.
cuts() {
	_la=$(lines "$TESTDIR/a.log")
	_d0=$(rstat drops)
	relay_set "$2" faults=3
	write_until drops $((_d0 + 3)) 30 "$1: 3 cuts"
	relay_set pass
	_d=$(( $(rstat drops) - _d0 ))
	converged "$1"
	_det=$(detections "$TESTDIR/a.log" "$_la" "(link|handshake-refused from) 127.0.0.1:$PORT_R: ")
	[ "$_det" -ge "$_d" ] || fail "$1: $_d cuts, A logged $_det link ends"
	inj_drops=$((inj_drops + _d))
	det_drops=$((det_drops + _det))
	echo "$1: $_d connections cut, A logged $_det ends: $(detections "$TESTDIR/a.log" "$_la" "127.0.0.1:$PORT_R: " | head -n 1)"
}

# flips: flip bits until 4 connections carried one; each must be closed by
# an endpoint (TLS found it), which logs why.
flips() {
	_la=$(lines "$TESTDIR/a.log")
	_lb=$(lines "$TESTDIR/b.log")
	_f0=$(rstat flips) _c0=$(rstat flipped_conns) _x0=$(rstat detected)
	relay_set flip_rate=0.00001 faults=4
	write_until flips $((_f0 + 4)) 40 "flips: 4 flips"
	relay_set pass
	_fc=$(( $(rstat flipped_conns) - _c0 ))
	# An endpoint closes each such connection (at the latest with the next
	# ping, 10 s, if the flip lengthened a TLS record).
	wait_for 25 counter_at_least detected $((_x0 + _fc))
	converged flips
	_det=$(( $(detections "$TESTDIR/a.log" "$_la" "$ENDS") +
	    $(detections "$TESTDIR/b.log" "$_lb" "$ENDS") ))
	_mac=$(( $(detections "$TESTDIR/a.log" "$_la" "mac|decrypt|alert|record") +
	    $(detections "$TESTDIR/b.log" "$_lb" "mac|decrypt|alert|record") ))
	[ "$_det" -ge "$_fc" ] || fail "flips: $_fc connections flipped, $_det link ends logged"
	inj_flips=$((inj_flips + $(rstat flips) - _f0))
	inj_fconns=$((inj_fconns + _fc))
	det_flips=$((det_flips + $(rstat detected) - _x0))
	det_mac=$((det_mac + _mac))
	echo "flips: $(( $(rstat flips) - _f0 )) bits in $_fc connections, all closed by an endpoint; $_det link ends logged ($_mac TLS alerts or MAC failures): $(tail -n +"$((_lb + 1))" "$TESTDIR/b.log" | grep -m 1 -E "$ENDS")"
}

# slow NAME SETTINGS MIN: with SETTINGS on, a change reaches B after MIN ms
# or more, over the same link (no link ends).
slow() {
	_la=$(lines "$TESTDIR/a.log")
	_lb=$(lines "$TESTDIR/b.log")
	_c0=$(rstat conns)
	nw=$((nw + 1))
	_t0=$(ms)	# (before: the change comes after the fault is on)
	relay_set "$2"
	pa user add "sip:s$nw@contoso.test" --name "S$nw" >/dev/null || fail "$1: user add"
	printf 'user+\t%s\t%s\n' "sip:s$nw@contoso.test" "S$nw" >>"$ACKED"
	wait_for 20 pb user show "sip:s$nw@contoso.test"
	_lat=$(( $(ms) - _t0 ))
	[ "$_lat" -ge "$3" ] || fail "$1: a change reached B in $_lat ms, with $2"
	write_some
	relay_set pass
	converged "$1"
	assert_eq "$_c0" "$(rstat conns)" "$1: connections through the relay"
	assert_eq 0 "$(( $(detections "$TESTDIR/a.log" "$_la" "$ENDS") + $(detections "$TESTDIR/b.log" "$_lb" "$ENDS") ))" "$1: link ends"
	echo "$1: a change took $_lat ms, no link lost"
}

start_daemon a
start_daemon b
pa user add sip:alice@contoso.test --name Alice >/dev/null
printf 'user+\t%s\t%s\n' sip:alice@contoso.test Alice >>"$ACKED"
CONF=$(pa conf create sip:alice@contoso.test --subject Faults)
printf 'conf+\t%s\t%s\t%s\n' "$CONF" sip:alice@contoso.test Faults >>"$ACKED"
write_some
wait_for 20 pa status
converged start
test "$(rstat conns)" -ge 1 || fail "A's link does not go through the relay"
# Regression: `sync --wait` right after a commit ships that commit (it
# used to trust a stat fingerprint of the WAL that can miss a commit, and
# answered at once with the partner lacking the change).
i=0
while [ $i -lt 6 ]; do
	write_some
	converged "sync-after-commit"
	i=$((i + 1))
done

inj_drops=0 det_drops=0 inj_flips=0 inj_fconns=0 det_flips=0 det_mac=0
round=1
while [ "$round" -le "$ROUNDS" ]; do
	cuts "cut-after-bytes" "drop_after=$((30000 + $(rnd 400000)))"
	cuts "cut-random-rst" "drop_rate=0.02 rst=1"
	flips
	slow stall "stall=2500" 2500
	slow delay "delay=150" 150
	round=$((round + 1))
done

# FAULT_LONG=1 (make soak): a stall past the 45 s idle timeout; both ends
# must close the link as idle, and it must come back once the relay does.
if [ "${FAULT_LONG:-0}" = 1 ]; then
	_la=$(lines "$TESTDIR/a.log")
	_lb=$(lines "$TESTDIR/b.log")
	relay_set stall=55000
	write_some
	wait_for 70 sh -c "tail -n +$((_la + 1)) '$TESTDIR/a.log' | grep -q ' idle for '"
	wait_for 20 sh -c "tail -n +$((_lb + 1)) '$TESTDIR/b.log' | grep -q ' idle for '"
	relay_set pass
	converged long-stall
	echo "long-stall: both ends closed the idle link: $(tail -n +$((_la + 1)) "$TESTDIR/a.log" | grep -m 1 ' idle for ')"
fi

stop_daemon a
stop_daemon b
kill "$RPID"
wait "$RPID" || true
RPID=
no_sanitizer_report "$TESTDIR/a.log" "poolpaird a"
no_sanitizer_report "$TESTDIR/b.log" "poolpaird b"
no_sanitizer_report "$TESTDIR/relay.log" "relay"
! pb audit --limit 100000 | grep -q "package-refused" || fail "B refused a package"
pb audit --verify >/dev/null || fail "B's audit chain"
echo "relay: $(cat "$STATS")"
echo "faults-summary: rounds=$ROUNDS cuts injected=$inj_drops logged=$det_drops;" \
    "flips injected=$inj_flips in $inj_fconns connections, closed by an endpoint=$det_flips," \
    "TLS alert/MAC lines=$det_mac; stalls=$(rstat stalls) delayed pieces=$(rstat delayed);" \
    "convergence:$conv_all; $(( ($(ms) - t_start) / 1000 ))s"
echo "22-faults: ok"
