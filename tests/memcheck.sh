#!/bin/sh
# memcheck.sh BUILD TEST...: run unit tests BUILD/tests/TEST (a release
# build: valgrind and ASan do not mix) and the fuzz replays BUILD/replay/NAME
# over their committed corpus and crashers under valgrind's memcheck: any
# invalid read or write, use of uninitialised memory, bad free, or a
# definitely or indirectly lost block fails the test (exit 99).  Ends with
# "N passed, N failed"; exits 1 if any failed.  Used by `make memcheck`.
set -u
BUILD=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$top/$BUILD" ;; esac
LIMIT=${TEST_TIMEOUT:-600}
VG="valgrind -q --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite,indirect \
--show-leak-kinds=definite,indirect --track-origins=yes"
command -v valgrind >/dev/null 2>&1 || { echo "memcheck: no valgrind"; exit 1; }
pass=0
fail=0
log=$(mktemp -d "${TMPDIR:-/tmp}/pp-memcheck.XXXXXX")

run() {	# run NAME CMD...: one test under valgrind, in $log
	name=$1
	shift
	start=$(date +%s)
	( cd "$log" && timeout "$LIMIT" $VG "$@" ) >"$log/$name.out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok   memcheck $name (${secs}s)"
	else
		fail=$((fail + 1))
		echo "FAIL memcheck $name (exit $rc)"; tail -n 40 "$log/$name.out"
	fi
}

for t in "$@"; do
	case "$t" in
	fuzz_*)
		set -- "$top/tests/fuzz/corpus/$t"
		[ -d "$top/tests/fuzz/crashers/$t" ] &&
		    set -- "$@" "$top/tests/fuzz/crashers/$t"
		run "$t" "$BUILD/replay/$t" "$@" ;;
	*)	run "$t" "$BUILD/tests/$t" ;;
	esac
done
[ $fail -eq 0 ] && rm -rf "$log" || echo "logs in $log"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
