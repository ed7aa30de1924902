# Shared part of the Linux cross toolchain files (toolchain-aarch64-linux-gnu.cmake,
# toolchain-arm-linux-gnueabihf.cmake). The including file sets SOTTO_CROSS_TRIPLE (GNU triple of
# Debian's cross compiler), SOTTO_CROSS_PROCESSOR and SOTTO_CROSS_QEMU (qemu-user binary).
#
# The sysroot is a Debian 12 tree of the target architecture holding the project's -dev packages
# (scripts/cross-test.sh makes one with `mmdebstrap --variant=extract`). Its path comes from
# -DSOTTO_SYSROOT=<dir> or the environment variable SOTTO_SYSROOT.
#
# Tests run under qemu-user: CMAKE_CROSSCOMPILING_EMULATOR makes ctest, catch_discover_tests and
# add_test(... COMMAND <target>) prefix it. Test code that executes a built program itself (the CLI
# tests, the crash tests) gets its path from sotto_exec_path() in cmake/SottoExecPath.cmake, which
# then points at a launcher script that runs the program through the same emulator.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${SOTTO_CROSS_PROCESSOR})

if(NOT SOTTO_SYSROOT AND DEFINED ENV{SOTTO_SYSROOT})
  set(SOTTO_SYSROOT "$ENV{SOTTO_SYSROOT}")
endif()
if(NOT SOTTO_SYSROOT OR NOT EXISTS "${SOTTO_SYSROOT}/usr/include")
  message(FATAL_ERROR "Cross build for ${SOTTO_CROSS_TRIPLE}: set SOTTO_SYSROOT to a Debian 12 "
                      "${SOTTO_CROSS_PROCESSOR} sysroot (scripts/cross-test.sh makes one)")
endif()
# try_compile() projects re-read this file: hand them the sysroot.
set(ENV{SOTTO_SYSROOT} "${SOTTO_SYSROOT}")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SOTTO_SYSROOT)

set(CMAKE_C_COMPILER ${SOTTO_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${SOTTO_CROSS_TRIPLE}-g++)
set(CMAKE_SYSROOT "${SOTTO_SYSROOT}")
set(CMAKE_LIBRARY_ARCHITECTURE ${SOTTO_CROSS_TRIPLE})

# Libraries, headers and CMake packages from the sysroot; programs (protoc) from the host.
set(CMAKE_FIND_ROOT_PATH "${SOTTO_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads the target's .pc files and prefixes their paths with the sysroot.
set(ENV{PKG_CONFIG_DIR} "")
set(ENV{PKG_CONFIG_LIBDIR}
    "${SOTTO_SYSROOT}/usr/lib/${SOTTO_CROSS_TRIPLE}/pkgconfig:${SOTTO_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${SOTTO_SYSROOT}")

# -L: qemu-user loads the dynamic loader and every shared library from the sysroot.
find_program(SOTTO_QEMU ${SOTTO_CROSS_QEMU} REQUIRED NO_CMAKE_FIND_ROOT_PATH)
set(CMAKE_CROSSCOMPILING_EMULATOR "${SOTTO_QEMU};-L;${SOTTO_SYSROOT}")
