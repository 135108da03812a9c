#!/bin/sh
# run.sh BUILD: run every test against the binaries in BUILD (normally the
# ASan+UBSan build): the cmocka unit tests (BUILD/tests/test_*), the fuzz
# harnesses replayed over their corpus and crashers (BUILD/replay/NAME on
# tests/fuzz/corpus/NAME and tests/fuzz/crashers/NAME), then the numbered
# scenario scripts (tests/scenario/NN-*.sh), each in its own temp dir.
# Ends with one line "N passed, N failed" counting unit cases, harnesses and
# scenarios (", N skipped" added when a scenario exited 77: it cannot run
# on this machine, and printed a line "SKIP: why").
set -u
. "$(dirname "$0")/env.sh"
LIMIT=${TEST_TIMEOUT:-300}	# seconds: a hung test fails, CI goes on
pass=0
fail=0
skip=0
failed=""
log=$(mktemp -d "${TMPDIR:-/tmp}/pp-tests.XXXXXX")

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	( cd "$log" && timeout "$LIMIT" "$t" ) >"$log/$name.out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out")
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out")
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ $rc -ne 0 ] || [ -z "$p" ]; then
		[ -z "$f" ] && fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL unit $name"; cat "$log/$name.out"
	else
		echo "ok   unit $name ($p cases)"
	fi
done

for t in "$BUILD"/replay/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	set -- "$top/tests/fuzz/corpus/$name"
	[ -d "$top/tests/fuzz/crashers/$name" ] &&
	    set -- "$@" "$top/tests/fuzz/crashers/$name"
	( cd "$log" && timeout "$LIMIT" "$t" "$@" ) >"$log/$name.out" 2>&1
	if [ $? -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok   fuzz $name ($(tail -n 1 "$log/$name.out"))"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL fuzz $name"; tail -n 40 "$log/$name.out"
	fi
done

for s in "$top"/tests/scenario/[0-9]*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	dir=$(mktemp -d "$log/$name.XXXXXX")
	start=$(date +%s)
	( cd "$dir" && TESTDIR="$dir" timeout "$LIMIT" sh "$s" ) \
	    >"$log/$name.out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok   scenario $name (${secs}s)"
	elif [ $rc -eq 77 ]; then	# it cannot run here: says why
		skip=$((skip + 1))
		echo "SKIP scenario $name: $(sed -n 's/^SKIP: //p' "$log/$name.out" | head -n 1)"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL scenario $name (exit $rc)"; tail -n 40 "$log/$name.out"
	fi
done

if [ $fail -eq 0 ]; then rm -rf "$log"; else echo "failed:$failed (logs in $log)"; fi
echo "$pass passed, $fail failed$([ $skip -eq 0 ] || echo ", $skip skipped")"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
