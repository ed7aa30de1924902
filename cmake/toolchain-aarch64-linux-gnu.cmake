# Cross build for 64-bit ARM Linux (aarch64) with Debian's g++-aarch64-linux-gnu, tests under
# qemu-aarch64 (its default CPU, "max", has the ARMv8 AES and SHA-256 extensions).
#   cmake -S . -B build-aarch64 -G Ninja -DSOTTO_SYSROOT=<arm64 sysroot> \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake
# See docs/building.md "Cross builds"; scripts/cross-test.sh aarch64 does all of it.
set(SOTTO_CROSS_TRIPLE aarch64-linux-gnu)
set(SOTTO_CROSS_PROCESSOR aarch64)
set(SOTTO_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/SottoCrossLinux.cmake)
