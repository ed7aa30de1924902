// See arm_crypto.hpp: which ARMv8 crypto instructions this CPU has, as the kernel reports them.
#include "arm_crypto.hpp"
#include "cpu_cap.hpp"

#if SOTTO_HAVE_ARM_CRYPTO
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace sotto::core::detail {

#if SOTTO_HAVE_ARM_CRYPTO
namespace {
unsigned long hwcap() noexcept {
    static const unsigned long v = getauxval(AT_HWCAP);
    return v;
}
}  // namespace

bool arm_has_aes() noexcept {
    return (hwcap() & HWCAP_AES) != 0 && crypto_isa_allows(CryptoIsa::kAesNi);
}
bool arm_has_sha256() noexcept {
    return (hwcap() & HWCAP_SHA2) != 0 && crypto_isa_allows(CryptoIsa::kAesNi);
}
#endif

}  // namespace sotto::core::detail
