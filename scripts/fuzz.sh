#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (ASan) into build-fuzz/ and runs each for
# FUZZ_SECONDS (default 60) from its seed corpus. New inputs go to a scratch directory, never
# into the repository. Called by .ci/run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

sotto_install_packages clang-14 libclang-rt-14-dev
SOTTO_BUILD="${SOTTO_FUZZ_BUILD:-$SOTTO_ROOT/build-fuzz}"
CC=clang-14 CXX=clang++-14 sotto_configure -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOTTO_FUZZ=ON \
  -DSOTTO_BUILD_TESTS=ON -DSOTTO_BUILD_APPS=OFF -DSOTTO_BUILD_EXAMPLES=OFF -DSOTTO_BUILD_BENCH=OFF -DSOTTO_INSTALL=OFF
cmake --build "$SOTTO_BUILD" --parallel "$(nproc)" --target keyfile_fuzz payload_fuzz bluez_properties_fuzz fetch_fuzz

seconds="${FUZZ_SECONDS:-60}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in payload_fuzz keyfile_fuzz bluez_properties_fuzz fetch_fuzz; do
  corpus="$SOTTO_ROOT/tests/fuzz/corpus/${target%_fuzz}"
  mkdir -p "$scratch/$target"
  exe="$(find "$SOTTO_BUILD" -type f -name "$target" -perm -u+x | head -n 1)"
  echo "==> fuzzing $target for ${seconds}s"
  "$exe" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    "$scratch/$target" "$corpus" 2>&1 | tail -n 12
done
