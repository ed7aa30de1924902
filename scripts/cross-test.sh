#!/usr/bin/env bash
# Cross build for ARM Linux and the test suite under qemu-user:
#   scripts/cross-test.sh [aarch64|armhf]      (default aarch64)
# Installs the cross compiler, qemu-user and mmdebstrap, makes a Debian 12 sysroot of the target
# architecture with the project's -dev packages (cached in build-<arch>/sysroot and remade only
# when the package list changes), builds with cmake/toolchain-<triple>.cmake and runs ctest. ctest
# prefixes every test with qemu (CMAKE_CROSSCOMPILING_EMULATOR); tests that execute a built
# program themselves get a launcher that does the same (cmake/SottoExecPath.cmake), so nothing
# needs binfmt_misc. Exits non-zero on any failure.
#
# aarch64: everything the native build has (libraries, apps, examples, bench, all tests), plus the
#   crypto tests with the ARMv8 crypto extensions reported and masked (arm_crypto.*).
# armhf:   the libraries and their tests (core, store, keyfile, match); the apps, examples and
#   bench are not built (ARMv7 boards run the library inside an app; the CLI tests already run on
#   aarch64). Generic crypto only: the ARMv8 fast paths are AArch64 code.
#
# Environment: SOTTO_CROSS_BUILD (build folder, default build-<arch>), SOTTO_CROSS_MIRROR (Debian
# mirror, default http://deb.debian.org/debian), SOTTO_CROSS_EXCLUDE (ctest -E regex of tests to
# leave out; empty by default: the whole suite runs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

arch="${1:-aarch64}"
case "$arch" in
  aarch64) triple=aarch64-linux-gnu; debarch=arm64; qemu_pkg=qemu-user
           cmake_args=(-DSOTTO_BUILD_EXAMPLES=ON -DSOTTO_BUILD_BENCH=ON) ;;
  armhf)   triple=arm-linux-gnueabihf; debarch=armhf; qemu_pkg=qemu-user
           cmake_args=(-DSOTTO_BUILD_APPS=OFF -DSOTTO_BUILD_EXAMPLES=OFF -DSOTTO_BUILD_BENCH=OFF) ;;
  *) echo "usage: $0 [aarch64|armhf]" >&2; exit 2 ;;
esac
build="${SOTTO_CROSS_BUILD:-$SOTTO_ROOT/build-$arch}"
sysroot="$build/sysroot"
mirror="${SOTTO_CROSS_MIRROR:-http://deb.debian.org/debian}"
start=$SECONDS

sotto_install_packages "g++-$triple" "$qemu_pkg" mmdebstrap

# The target's -dev packages: what SOTTO_PACKAGES in setup.sh gives the native build, plus the C
# and C++ runtimes. Architecture-independent ones (catch2, CLI11, nlohmann-json) come along so
# that find_package() finds them inside the sysroot.
sysroot_packages=(
  libc6-dev libstdc++-12-dev
  libsodium-dev libssl-dev libsqlcipher-dev libsqlite3-dev
  libprotobuf-dev libzip-dev zlib1g-dev
  libfmt-dev libcli11-dev nlohmann-json3-dev libcurl4-openssl-dev
  libsdbus-c++-dev libsystemd-dev
  catch2
)
want="$debarch ${sysroot_packages[*]}"
if [ ! -f "$sysroot/.sotto-sysroot" ] || [ "$(cat "$sysroot/.sotto-sysroot")" != "$want" ]; then
  echo "==> making the $debarch sysroot in $sysroot"
  rm -rf "$sysroot" "$sysroot.tmp"
  mkdir -p "$build"
  # extract: unpack the packages and their dependencies, run nothing (no emulation needed).
  make_sysroot() {
    rm -rf "$sysroot.tmp"
    mmdebstrap --quiet --variant=extract --architectures="$debarch" --format=directory \
      --include="$(IFS=,; echo "${sysroot_packages[*]}")" bookworm "$sysroot.tmp" "$@" </dev/null
  }
  if ! make_sysroot "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
                    "deb ${mirror%/debian}/debian-security bookworm-security main"; then
    # A mirror caught mid-sync serves index files that fail their hash check; the point
    # releases alone give the same headers and ABI, which is all a build sysroot needs.
    echo "WARNING: the sysroot with bookworm-security failed; retrying with bookworm and bookworm-updates only" >&2
    make_sysroot "deb $mirror bookworm main" "deb $mirror bookworm-updates main"
  fi
  echo "$want" > "$sysroot.tmp/.sotto-sysroot"
  mv "$sysroot.tmp" "$sysroot"
else
  echo "==> reusing the $debarch sysroot in $sysroot"
fi
echo "==> sysroot ready after $((SECONDS - start)) s"

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
SOTTO_BUILD="$build" sotto_configure \
  -DCMAKE_TOOLCHAIN_FILE="$SOTTO_ROOT/cmake/toolchain-$triple.cmake" -DSOTTO_SYSROOT="$sysroot" \
  -DSOTTO_BUILD_TESTS=ON "${cmake_args[@]}" "${launcher[@]}"
echo "==> building for $arch"
cmake --build "$build" --parallel "$(nproc)"
echo "==> built after $((SECONDS - start)) s"

data_dir="$(sed -n 's/^SOTTO_GAEN_DATA_DIR:PATH=//p' "$build/CMakeCache.txt")"
if [ ! -d "$data_dir" ]; then
  echo "WARNING: GAEN test data not found at $data_dir: tests that need it are skipped" >&2
fi

echo "==> running the tests under $(basename "$(sed -n 's/^SOTTO_QEMU:FILEPATH=//p' "$build/CMakeCache.txt")")"
exclude=()
if [ -n "${SOTTO_CROSS_EXCLUDE:-}" ]; then
  echo "NOTE: leaving out tests matching: $SOTTO_CROSS_EXCLUDE" >&2
  exclude=(-E "$SOTTO_CROSS_EXCLUDE")
fi
cd "$build"
# qemu-user is 5-20x slower than native: a longer per-test timeout than scripts/test.sh.
ctest --output-on-failure --parallel "$(nproc)" --timeout 1200 "${exclude[@]}"
echo "==> $arch cross build and tests passed in $((SECONDS - start)) s"
