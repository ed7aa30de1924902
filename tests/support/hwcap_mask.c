/* Test support for AArch64 cross runs: preloaded (LD_PRELOAD) into a test program, it makes
 * getauxval(AT_HWCAP) report a CPU without the ARMv8 Cryptography Extension (no AES, PMULL, SHA1,
 * SHA2, SHA3, SHA512), so the program's run-time dispatch, and OpenSSL's, take their generic paths.
 * qemu 7.2 has no AArch64 CPU model without these extensions and no property to turn them off,
 * so this is how CI runs the generic paths (tests/CMakeLists.txt, arm_crypto.*). */
#define _GNU_SOURCE
#include <asm/hwcap.h>
#include <dlfcn.h>
#include <sys/auxv.h>

unsigned long getauxval(unsigned long type) {
    unsigned long (*real)(unsigned long) =
        (unsigned long (*)(unsigned long))dlsym(RTLD_NEXT, "getauxval");
    unsigned long v = real ? real(type) : 0;
    if (type == AT_HWCAP)
        v &= ~(unsigned long)(HWCAP_AES | HWCAP_PMULL | HWCAP_SHA1 | HWCAP_SHA2 | HWCAP_SHA3 |
                              HWCAP_SHA512);
    return v;
}
