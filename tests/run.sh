#!/usr/bin/env bash
# Installs missing Debian packages, configures and builds everything (tests included) in ./build,
# and runs the whole test suite with ctest. Exits with ctest's status.
#
#   ./tests/run.sh                 all tests
#   ./tests/run.sh -L unit         extra arguments go to ctest (here: only tests labelled "unit")
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

./deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_WERROR=ON
ln -sf build/compile_commands.json compile_commands.json  # for clangd and clang-tidy
cmake --build build -j2

status=0
(cd build && ctest --output-on-failure -j2 "$@") || status=$?
exit "$status"
