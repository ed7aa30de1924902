// See cpu_cap.hpp. Reading one environment variable is a query of the process, like getauxval:
// no I/O, so lib/core stays pure.
#include "cpu_cap.hpp"

#include <cstdlib>
#include <cstring>

namespace sotto::core::detail {
namespace {

CryptoIsa read_cap() noexcept {
    const char* v = std::getenv("SOTTO_CRYPTO_ISA");
    if (v == nullptr || *v == '\0' || std::strcmp(v, "auto") == 0) return CryptoIsa::kAll;
    if (std::strcmp(v, "vaes256") == 0) return CryptoIsa::kVaes256;
    if (std::strcmp(v, "aesni") == 0) return CryptoIsa::kAesNi;
    return CryptoIsa::kNone;
}

}  // namespace

CryptoIsa crypto_isa_cap() noexcept {
    static const CryptoIsa v = read_cap();
    return v;
}

}  // namespace sotto::core::detail
