#!/usr/bin/env bash
# Sourced by demo.sh and test.sh: installs the Debian 12 packages sotto needs (skipping what is
# already installed), then configures and builds into build/.
set -euo pipefail

SOTTO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOTTO_BUILD="${SOTTO_BUILD:-$SOTTO_ROOT/build}"

SOTTO_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libsodium-dev libssl-dev libsqlcipher-dev libsqlite3-dev
  libprotobuf-dev protobuf-compiler libzip-dev zlib1g-dev
  libfmt-dev libcli11-dev nlohmann-json3-dev libcurl4-openssl-dev
  catch2 openssl
  # openssl: the command-line tool, an independent signature checker in the keyfile tests.
  python3 systemd
  # python3: the fetch tests' HTTP key server; systemd: systemd-analyze checks sottod.service.
  # For -DSOTTO_FUZZ=ON also: clang-14 libclang-rt-14-dev (not needed by the normal build).
  # The BlueZ radio backend (sdbus-c++) and its tests (a private dbus-daemon, a mock bluetoothd).
  libsdbus-c++-dev dbus python3-dbusmock
)

sotto_install_packages() {
  local missing=()
  for p in "${SOTTO_PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  echo "==> installing: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

sotto_configure() {
  echo "==> configuring $SOTTO_BUILD"
  cmake -S "$SOTTO_ROOT" -B "$SOTTO_BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOTTO_WERROR=ON "$@"
}

sotto_build() {
  sotto_configure "$@"
  echo "==> building"
  cmake --build "$SOTTO_BUILD" --parallel "$(nproc)"
}
