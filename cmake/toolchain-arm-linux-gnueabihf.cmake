# Cross build for 32-bit ARM Linux (armhf: ARMv7-A, VFPv3-D16, Thumb-2) with Debian's
# g++-arm-linux-gnueabihf, tests under qemu-arm.
#   cmake -S . -B build-armhf -G Ninja -DSOTTO_SYSROOT=<armhf sysroot> \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm-linux-gnueabihf.cmake
# See docs/building.md "Cross builds"; scripts/cross-test.sh armhf does all of it.
set(SOTTO_CROSS_TRIPLE arm-linux-gnueabihf)
set(SOTTO_CROSS_PROCESSOR armv7l)
set(SOTTO_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/SottoCrossLinux.cmake)
