# env.sh: what tests/run.sh and tests/soak.sh share.  Source it with the
# build directory as $1 (default build/asan): sets BUILD (absolute), top
# (the source tree), POOLPAIR and the sanitizers' options.
BUILD=${1:-build/asan}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$top/$BUILD" ;; esac
export POOLPAIR="$BUILD/poolpair"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
