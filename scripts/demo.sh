#!/usr/bin/env bash
# Installs what is needed, builds, and runs the simulated end-to-end demo.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

sotto_install_packages
sotto_build -DSOTTO_BUILD_EXAMPLES=ON
echo "==> running the demo"
"$SOTTO_BUILD/apps/sotto/sotto" demo "$@"
