#!/usr/bin/env bash
# Installs missing Debian packages, configures and builds everything (tests included), and runs the
# test suite with ctest. Exits with ctest's status.
#
#   ./tests/run.sh                 all tests (Release build in ./build, the build users make, with
#                                  warnings as errors)
#   ./tests/run.sh -L unit         extra arguments go to ctest (here: only tests labelled "unit")
#   ./tests/run.sh --sanitize      clang with AddressSanitizer and UndefinedBehaviorSanitizer, every
#                                  report fatal (./build-sanitize): all tests, plus the libFuzzer
#                                  targets of fuzz/ on their seed corpora (ctest label "fuzz")
#   ./tests/run.sh --sanitize --fuzz-runs 1000000
#                                  the same, each fuzz target running that many inputs
#   ./tests/run.sh --tsan          clang with ThreadSanitizer (./build-tsan): the unit tests, which
#                                  hold the node's concurrency tests (sequencer, replication wait,
#                                  storage readers and writer)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=default
fuzz_runs=""
ctest_args=()
while (($#)); do
  case "$1" in
    --sanitize) mode=sanitize ;;
    --tsan) mode=tsan ;;
    --fuzz-runs)
      fuzz_runs="${2:?--fuzz-runs needs a number}"
      shift
      ;;
    *) ctest_args+=("$1") ;;
  esac
  shift
done

if [[ $mode == default ]]; then
  ./deploy/install-deps.sh
else
  ./deploy/install-deps.sh clang libclang-rt-14-dev
fi
# Debian's ccache keeps compiled objects between runs and clones (paths below the checkout are
# hashed relative to it): recompiling an unchanged file is a copy.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
case "$mode" in
  default)
    build=build
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCAIRN_WERROR=ON ${launcher[@]+"${launcher[@]}"}
    ln -sf build/compile_commands.json compile_commands.json  # for clangd and clang-tidy
    ;;
  sanitize)
    build=build-sanitize
    # -O1 and line tables only: the sanitizers' usual trade of build time against speed (the
    # CLI's, tools' and tests' own code at -O0: CAIRN_COLD_CODE_OPTIONS in CMakeLists.txt).
    CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
      -DCAIRN_WERROR=ON -DCAIRN_SANITIZE=address -DCAIRN_FUZZ=ON ${launcher[@]+"${launcher[@]}"} \
      ${fuzz_runs:+-DCAIRN_FUZZ_RUNS="$fuzz_runs"}
    # Every report ends the process with a failure; leaks are reports too.
    export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    export LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0"
    ;;
  tsan)
    build=build-tsan
    CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
      -DCAIRN_WERROR=ON -DCAIRN_SANITIZE=thread ${launcher[@]+"${launcher[@]}"}
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
    ;;
esac
if [[ $mode == tsan ]]; then
  cmake --build "$build" -j2 --target cairn_unit_tests
  ctest_args=(-L unit "${ctest_args[@]}")
else
  cmake --build "$build" -j2
fi

status=0
(cd "$build" && ctest --output-on-failure -j2 "${ctest_args[@]}") || status=$?
exit "$status"
