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
  catch2 openssl python3-pytest ccache clang-format
  # openssl: the command-line tool, an independent signature checker in the keyfile tests.
  python3 systemd
  # python3: the fetch tests' HTTP key server; systemd: systemd-analyze checks sottod.service.
  # python3-pytest: the tests of bindings/python (ctest python.pytest).
  # For -DSOTTO_FUZZ=ON also: clang-14 libclang-rt-14-dev (not needed by the normal build).
  # The BlueZ radio backend (sdbus-c++) and its tests (a private dbus-daemon, a mock bluetoothd).
  libsdbus-c++-dev dbus python3-dbusmock
  # The Java binding (bindings/java: sotto.jar, libsotto_jni.so) and its JUnit 5 tests.
  openjdk-17-jdk-headless junit5
  # scripts/cross-test.sh installs what it needs itself: g++-aarch64-linux-gnu or
  # g++-arm-linux-gnueabihf, qemu-user, mmdebstrap (the target's -dev packages go into its sysroot).
  # scripts/mcu-test.sh likewise: gcc-arm-none-eabi libnewlib-arm-none-eabi
  # libstdc++-arm-none-eabi-newlib qemu-system-arm (the token firmware under QEMU).
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
  # ccache (installed above) makes the several builds of .ci/run (GCC, ASan, TSan, fuzz, aarch64)
  # and later runs cheap; paths are hashed relative to the checkout, so any clone shares the cache.
  local launcher=()
  if command -v ccache >/dev/null; then
    export CCACHE_BASEDIR="$SOTTO_ROOT" CCACHE_NOHASHDIR=1
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$SOTTO_ROOT" -B "$SOTTO_BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOTTO_WERROR=ON "${launcher[@]}" "$@"
}

sotto_build() {
  sotto_configure "$@"
  echo "==> building"
  cmake --build "$SOTTO_BUILD" --parallel "$(nproc)"
}
