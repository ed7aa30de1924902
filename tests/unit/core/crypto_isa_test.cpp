// SOTTO_CRYPTO_ISA (lib/core/cpu_cap.hpp): the ceiling on sotto's CPU-specific crypto paths. ctest
// runs this file's cases once without the variable and once per value (tests/CMakeLists.txt), and
// the crypto and matcher tests once more under "aesni" and "none", so every path this CPU can take
// is checked against OpenSSL, the spec vectors and the matcher tests.
#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/core/rolling_id.hpp>

#include "core/aes128.hpp"
#include "core/matcher_filter.hpp"
#include "core/matcher_kernel.hpp"
#include "core/sha256_x2.hpp"

using namespace sotto::core;
using detail::AesBackend;

namespace {
#if defined(__x86_64__)
bool cpu_has(const char* what) {
    const std::string w = what;
    return w == "aes" && __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
}
#endif
}  // namespace

TEST_CASE("The path taken follows SOTTO_CRYPTO_ISA", "[core][isa]") {
    const char* env = std::getenv("SOTTO_CRYPTO_ISA");
    const std::string cap = env == nullptr ? "" : env;
    auto deriver = RpiDeriver::create();
    REQUIRE(deriver);
    const std::string aes = deriver->aes_implementation();
    const std::string kernel = detail::rpi_kernel_name();
    const std::string sha = detail::sha256_backend_name();
    CAPTURE(cap, aes, kernel, sha);
    // The matcher's kernel runs the AES instructions RpiDeriver runs.
    CHECK(kernel == (aes == "openssl" ? std::string("none") : aes));

    if (cap.empty() || cap == "auto") {  // no ceiling: the widest path this CPU supports
        if (detail::aes_backend_supported(AesBackend::kVaes512))
            CHECK(aes == "vaes512");
        else if (detail::aes_backend_supported(AesBackend::kVaes256))
            CHECK(aes == "vaes256");
        else if (detail::aes_backend_supported(AesBackend::kAesNi))
            CHECK(aes == "aesni");
#if defined(__x86_64__)
        if (cpu_has("aes")) CHECK(aes != "openssl");
#endif
        return;
    }
    if (cap == "vaes256") {
        CHECK_FALSE(detail::aes_backend_supported(AesBackend::kVaes512));
        CHECK(aes != "vaes512");
        return;
    }
    if (cap == "aesni") {  // the AVX2/AES-NI path: no VAES at any width
        CHECK_FALSE(detail::aes_backend_supported(AesBackend::kVaes512));
        CHECK_FALSE(detail::aes_backend_supported(AesBackend::kVaes256));
#if defined(__x86_64__)
        if (cpu_has("aes")) {
            CHECK(aes == "aesni");
            CHECK(kernel == "aesni");
        }
#endif
        return;
    }
    // "none", and any value sotto does not know (read as "none"): OpenSSL everywhere.
    CHECK(aes == "openssl");
    CHECK(kernel == "none");
    CHECK(sha == "openssl");
    CHECK_FALSE(detail::aes_backend_supported(AesBackend::kAesNi));
    CHECK_FALSE(detail::aes_backend_supported(AesBackend::kArmv8));
    CHECK(detail::aes_backend_supported(AesBackend::kOpenSsl));
}
