// RFC 5869 Appendix A.1-A.3 (HKDF-SHA256 test cases), and the GAEN fast path against the
// generic implementation.
#include <tuple>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/rng.hpp>

#include "core/hkdf.hpp"
#include "support.hpp"

using sotto::test::hex;
namespace d = sotto::core::detail;

TEST_CASE("HKDF-SHA256 reproduces RFC 5869 A.1-A.3", "[core][hkdf][vectors]") {
    auto [name, ikm, salt, info,
          okm] = GENERATE(table<const char*, const char*, const char*, const char*, const char*>({
        {"A.1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
         "f0f1f2f3f4f5f6f7f8f9",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
        {"A.2",
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2"
         "c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
         "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8"
         "c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
         "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbd"
         "cdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65"
         "e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"},
        {"A.3", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
    }));
    CAPTURE(name);
    const auto expected = hex(okm);
    std::vector<std::uint8_t> out(expected.size());
    REQUIRE(d::hkdf_sha256(hex(ikm), hex(salt), hex(info), out));
    CHECK(sotto::to_hex(out) == okm);

    // Negative neighbour: one bit of the IKM changed.
    auto ikm2 = hex(ikm);
    ikm2[0] ^= 1;
    REQUIRE(d::hkdf_sha256(ikm2, hex(salt), hex(info), out));
    CHECK(sotto::to_hex(out) != okm);
}

TEST_CASE("HKDF-SHA256 refuses impossible output lengths", "[core][hkdf]") {
    std::vector<std::uint8_t> none;
    CHECK(d::hkdf_sha256(hex("00"), {}, {}, none).error().code ==
          sotto::ErrorCode::kInvalidArgument);
    std::vector<std::uint8_t> too_long(255 * 32 + 1);
    CHECK_FALSE(d::hkdf_sha256(hex("00"), {}, {}, too_long));
}

TEST_CASE("The GAEN HKDF fast path equals generic HKDF", "[core][hkdf]") {
    sotto::core::DeterministicRng rng(3);
    for (int i = 0; i < 2000; ++i) {
        std::uint8_t ikm[16];
        rng.fill(ikm);
        for (auto info : {std::span<const std::uint8_t, 7>(d::kInfoRpik),
                          std::span<const std::uint8_t, 7>(d::kInfoAemk)}) {
            std::uint8_t fast[16], slow[16];
            d::gaen_hkdf16(ikm, info, fast);
            REQUIRE(d::hkdf_sha256(ikm, {}, info, slow));
            REQUIRE(std::equal(fast, fast + 16, slow));
        }
    }
}

TEST_CASE("The four-key GAEN HKDF equals generic HKDF in every lane", "[core][hkdf]") {
    sotto::core::DeterministicRng rng(4);
    for (int i = 0; i < 1000; ++i) {
        std::uint8_t ikm[4][16];
        for (auto& k : ikm) rng.fill(k);
        if (i % 7 == 0) std::copy(ikm[0], ikm[0] + 16, ikm[3]);  // equal keys in two lanes
        const std::uint8_t* lanes[4] = {ikm[0], ikm[1], ikm[2], ikm[3]};
        for (auto info : {std::span<const std::uint8_t, 7>(d::kInfoRpik),
                          std::span<const std::uint8_t, 7>(d::kInfoAemk)}) {
            std::uint8_t fast[4][16];
            d::gaen_hkdf16_x4(lanes, info, fast);
            for (int k = 0; k < 4; ++k) {
                std::uint8_t slow[16];
                REQUIRE(d::hkdf_sha256(std::span<const std::uint8_t>(ikm[k], 16), {}, info, slow));
                REQUIRE(std::equal(slow, slow + 16, fast[k]));
            }
            // Negative neighbour: lanes with different keys give different keys.
            CHECK_FALSE(std::equal(fast[1], fast[1] + 16, fast[2]));
        }
    }
}
