// The ARMv8 crypto paths and their run-time choice. The bit-exactness of each path against
// OpenSSL is in aes128_test.cpp, sha256_x2_test.cpp and the vector tests; this file checks that
// the path the library takes is the one the CPU allows. In AArch64 cross runs the environment
// variable SOTTO_EXPECT_ARM_CRYPTO (set by tests/CMakeLists.txt) says whether the CPU reports the
// extensions (qemu -cpu max) or not (getauxval masked by hwcap_mask.c).
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <catch2/catch.hpp>

#include <sotto/core/keys.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/core/rolling_id.hpp>

#include "core/aes128.hpp"
#include "core/hkdf.hpp"
#include "core/sha256_x2.hpp"
#include "support.hpp"

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

using namespace sotto::core;
using detail::AesBackend;

namespace {

// Whether the ARM paths must run here: from SOTTO_EXPECT_ARM_CRYPTO when set, else from what the
// kernel reports (AArch64 Linux) or false (any other target).
bool expect_arm_crypto() {
    if (const char* e = std::getenv("SOTTO_EXPECT_ARM_CRYPTO")) return std::string_view(e) == "1";
#if defined(__aarch64__) && defined(__linux__)
    return (getauxval(AT_HWCAP) & (HWCAP_AES | HWCAP_SHA2)) == (HWCAP_AES | HWCAP_SHA2);
#else
    return false;
#endif
}

}  // namespace

TEST_CASE("The ARM crypto paths run exactly where the CPU has the extensions", "[core][arm]") {
    const bool arm = expect_arm_crypto();
    CAPTURE(arm);
    CHECK(detail::aes_backend_supported(AesBackend::kArmv8) == arm);
    CHECK(detail::sha256_arm_supported() == arm);
    auto aes = detail::Aes128Batch::create();
    REQUIRE(aes);
    if (arm) {
        CHECK(aes->backend() == AesBackend::kArmv8);
        CHECK(std::string_view(detail::sha256_backend_name()) == "armv8-sha2");
        CHECK(std::string_view(RpiDeriver::create()->aes_implementation()) == "armv8-aes");
    } else {
        CHECK(aes->backend() != AesBackend::kArmv8);
        CHECK(std::string_view(detail::sha256_backend_name()) != "armv8-sha2");
        // Negative neighbour: asking for the missing path is refused, not run.
        CHECK(detail::Aes128Batch::create(AesBackend::kArmv8).error().code ==
              sotto::ErrorCode::kInvalidArgument);
    }
}

TEST_CASE("Paired GAEN HKDF equals OpenSSL HKDF on random keys", "[core][hkdf][arm]") {
    DeterministicRng rng(11);
    for (int i = 0; i < 2000; ++i) {
        std::uint8_t a[16], b[16];
        rng.fill(a);
        rng.fill(b);
        if (i % 7 == 0) std::memcpy(b, a, 16);  // equal lanes must not disturb each other
        for (auto info : {std::span<const std::uint8_t, 7>(detail::kInfoRpik),
                          std::span<const std::uint8_t, 7>(detail::kInfoAemk)}) {
            std::uint8_t fa[16], fb[16], ra[16], rb[16];
            detail::gaen_hkdf16_x2(a, b, info, fa, fb);
            REQUIRE(detail::hkdf_sha256(a, {}, info, ra));
            REQUIRE(detail::hkdf_sha256(b, {}, info, rb));
            REQUIRE(std::memcmp(fa, ra, 16) == 0);
            REQUIRE(std::memcmp(fb, rb, 16) == 0);
        }
        // Negative neighbour: one flipped key bit changes that lane's output only.
        std::uint8_t fa[16], fb[16], ra[16];
        std::uint8_t a2[16];
        std::memcpy(a2, a, 16);
        a2[i % 16] ^= static_cast<std::uint8_t>(1u << (i % 8));
        detail::gaen_hkdf16_x2(a2, b, detail::kInfoRpik, fa, fb);
        REQUIRE(detail::hkdf_sha256(a, {}, detail::kInfoRpik, ra));
        REQUIRE(std::memcmp(fa, ra, 16) != 0);
    }
}
