#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite. Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

sotto_install_packages
sotto_build -DSOTTO_BUILD_TESTS=ON -DSOTTO_BUILD_EXAMPLES=ON -DSOTTO_BUILD_BENCH=ON

data_dir="$(sed -n 's/^SOTTO_GAEN_DATA_DIR:PATH=//p' "$SOTTO_BUILD/CMakeCache.txt")"
if [ ! -d "$data_dir" ]; then
  echo "WARNING: GAEN test data not found at $data_dir: tests that need it are skipped" >&2
fi

echo "==> running tests"
cd "$SOTTO_BUILD"
ctest --output-on-failure --parallel "$(nproc)" --timeout 600
