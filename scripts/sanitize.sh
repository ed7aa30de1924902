#!/usr/bin/env bash
# Builds with clang-14 under AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/ and runs
# the test suite there. Called by .ci/run after scripts/test.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

sotto_install_packages clang-14 libclang-rt-14-dev
SOTTO_BUILD="${SOTTO_ASAN_BUILD:-$SOTTO_ROOT/build-asan}"
CC=clang-14 CXX=clang++-14 sotto_build -DCMAKE_BUILD_TYPE=Debug -DSOTTO_SANITIZE=address,undefined \
  -DSOTTO_BUILD_TESTS=ON -DSOTTO_BUILD_EXAMPLES=ON -DSOTTO_BUILD_BENCH=OFF -DSOTTO_INSTALL=OFF

echo "==> running tests under ASan + UBSan"
cd "$SOTTO_BUILD"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --output-on-failure --parallel "$(nproc)" --timeout 900 -LE slow

# ThreadSanitizer over the threaded parts only (a quick, meaningful subset): the store's
# concurrency tests (Catch tag [threads]: readers beside a writer, one store shared by threads,
# two writers) and the matching engine on all cores ([engine], and the end-to-end check, which
# runs the engine's worker threads), the Tracer, lib/ble's feed and the simulated radios. Its own
# build dir; only these test programs are built.
SOTTO_BUILD="${SOTTO_TSAN_BUILD:-$SOTTO_ROOT/build-tsan}"
CC=clang-14 CXX=clang++-14 sotto_configure -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOTTO_SANITIZE=thread \
  -DSOTTO_BUILD_TESTS=ON -DSOTTO_BUILD_EXAMPLES=ON -DSOTTO_BUILD_BENCH=OFF -DSOTTO_INSTALL=OFF
cmake --build "$SOTTO_BUILD" --parallel "$(nproc)" \
  --target sotto_store_tests sotto_match_tests sotto_tracer_integration_tests sotto_ble_tests sotto_air_tests
echo "==> running the threaded tests under TSan"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
"$SOTTO_BUILD/tests/sotto_store_tests" "[threads]"
"$SOTTO_BUILD/tests/sotto_match_tests" "[engine]"
# The Tracer: two threads feeding while a third imports and checks; its radio link; the whole
# check (the engine's worker threads) on real data.
"$SOTTO_BUILD/tests/sotto_tracer_integration_tests" "[threads],[radio],[data]"
# lib/ble's feed (radio threads feeding at once) and the simulated radios driven from other threads.
"$SOTTO_BUILD/tests/sotto_ble_tests" "[feed]"
"$SOTTO_BUILD/tests/sotto_air_tests" "[radio]"
