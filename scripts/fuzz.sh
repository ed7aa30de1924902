#!/usr/bin/env bash
# Builds every libFuzzer target with clang-14 (ASan) into build-fuzz/ and runs each for
# FUZZ_SECONDS (default 20) from its seed corpus. The targets are the ones tests/fuzz registers
# with sotto_add_fuzzer (listed in build-fuzz/fuzz_targets.txt). New inputs go to a scratch
# directory, never into the repository. Called by .ci/run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

sotto_install_packages clang-14 libclang-rt-14-dev
SOTTO_BUILD="${SOTTO_FUZZ_BUILD:-$SOTTO_ROOT/build-fuzz}"
CC=clang-14 CXX=clang++-14 sotto_configure -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOTTO_FUZZ=ON \
  -DSOTTO_BUILD_TESTS=ON -DSOTTO_BUILD_APPS=OFF -DSOTTO_BUILD_EXAMPLES=OFF -DSOTTO_BUILD_BENCH=OFF -DSOTTO_INSTALL=OFF

mapfile -t entries < "$SOTTO_BUILD/fuzz_targets.txt"
targets=()
for e in "${entries[@]}"; do targets+=("${e%% *}"); done
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz targets registered" >&2; exit 1; }
cmake --build "$SOTTO_BUILD" --parallel "$(nproc)" --target "${targets[@]}"

seconds="${FUZZ_SECONDS:-20}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for e in "${entries[@]}"; do
  target="${e%% *}"
  corpus="${e#* }"
  mkdir -p "$scratch/$target"
  exe="$(find "$SOTTO_BUILD" -type f -name "$target" -perm -u+x | head -n 1)"
  echo "==> fuzzing $target for ${seconds}s"
  "$exe" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    "$scratch/$target" "$corpus" 2>&1 | tail -n 12
done
