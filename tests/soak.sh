#!/bin/sh
# soak.sh BUILD: the long runs of the reliability scenarios (make soak),
# each in its own temp dir as tests/run.sh runs them: 21-crash with
# $SOAK_TRIALS (200) SIGKILL trials, 22-faults with $SOAK_ROUNDS (5) rounds
# of every fault plus a stall past the idle timeout.  Prints each
# scenario's summary line and time; exit 0 if both pass.
set -u
. "$(dirname "$0")/env.sh"
export CRASH_TRIALS=${SOAK_TRIALS:-200} CRASH_CHECK_EVERY=${SOAK_CHECK_EVERY:-10}
export FAULT_ROUNDS=${SOAK_ROUNDS:-5} FAULT_LONG=1
LIMIT=${SOAK_TIMEOUT:-3600}
log=$(mktemp -d "${TMPDIR:-/tmp}/pp-soak.XXXXXX")
fail=0
for name in 21-crash 22-faults; do
	dir=$(mktemp -d "$log/$name.XXXXXX")
	start=$(date +%s)
	( cd "$dir" && TESTDIR="$dir" timeout "$LIMIT" sh "$top/tests/scenario/$name.sh" ) \
	    >"$log/$name.out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	grep -E '^(crash|faults)-summary' "$log/$name.out"
	if [ $rc -eq 0 ]; then
		echo "ok   soak $name (${secs}s)"
		rm -rf "$dir"
	else
		fail=1
		echo "FAIL soak $name (exit $rc, ${secs}s)"; tail -n 40 "$log/$name.out"
	fi
done
[ $fail -eq 0 ] && echo "logs in $log"
exit $fail
