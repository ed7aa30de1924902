#include <type_traits>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <sotto/core/keys.hpp>
#include <sotto/secret.hpp>

#include "support.hpp"

using sotto::SecretBytes;
using sotto::core::RollingProximityIdKey;
using sotto::core::TemporaryExposureKey;

// Secrets cannot be copied by accident or printed.
static_assert(!std::is_copy_constructible_v<TemporaryExposureKey>);
static_assert(!std::is_copy_assignable_v<TemporaryExposureKey>);
static_assert(std::is_nothrow_move_constructible_v<TemporaryExposureKey>);
static_assert(!fmt::is_formattable<TemporaryExposureKey>::value);
static_assert(!fmt::is_formattable<RollingProximityIdKey>::value);
// A TEK and an RPIK are different types even though both are 16 bytes.
static_assert(!std::is_same_v<TemporaryExposureKey, RollingProximityIdKey>);
static_assert(!std::is_convertible_v<TemporaryExposureKey, RollingProximityIdKey>);

TEST_CASE("SecretBytes decodes hex and compares in constant time", "[core][secret]") {
    auto a = TemporaryExposureKey::from_hex("75c734c6dd1a782de7a965da5eb93125");
    auto b = TemporaryExposureKey::from_hex("75C734C6DD1A782DE7A965DA5EB93125");
    auto c = TemporaryExposureKey::from_hex("75c734c6dd1a782de7a965da5eb93124");
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(c);
    CHECK(*a == *b);
    CHECK_FALSE(*a == *c);
    CHECK(a->expose_secret()[0] == 0x75);
}

TEST_CASE("SecretBytes rejects malformed hex", "[core][secret]") {
    CHECK_FALSE(TemporaryExposureKey::from_hex(""));
    CHECK_FALSE(TemporaryExposureKey::from_hex("75c734c6dd1a782de7a965da5eb9312"));    // 31 digits
    CHECK_FALSE(TemporaryExposureKey::from_hex("75c734c6dd1a782de7a965da5eb931250"));  // 33 digits
    CHECK_FALSE(TemporaryExposureKey::from_hex("75c734c6dd1a782de7a965da5eb9312g"));   // not hex
    CHECK_FALSE(TemporaryExposureKey::from_hex("75c734c6dd1a782de7a965da5eb9312 "));
}

TEST_CASE("Moving a secret wipes the source", "[core][secret]") {
    auto a = TemporaryExposureKey::from_hex("ffffffffffffffffffffffffffffffff");
    REQUIRE(a);
    TemporaryExposureKey moved = std::move(*a);
    for (auto byte : a->expose_secret()) CHECK(byte == 0);  // NOLINT(bugprone-use-after-move)
    for (auto byte : moved.expose_secret()) CHECK(byte == 0xff);

    TemporaryExposureKey assigned;
    assigned = std::move(moved);
    for (auto byte : moved.expose_secret()) CHECK(byte == 0);  // NOLINT(bugprone-use-after-move)
    CHECK(assigned.expose_secret()[15] == 0xff);
}

TEST_CASE("clone makes an equal, independent copy", "[core][secret]") {
    auto a = TemporaryExposureKey::from_hex("00112233445566778899aabbccddeeff");
    REQUIRE(a);
    TemporaryExposureKey b = a->clone();
    CHECK(b == *a);
    b.expose_secret_mut()[0] = 0x01;
    CHECK_FALSE(b == *a);
    CHECK(a->expose_secret()[0] == 0x00);
}

TEST_CASE("The destructor wipes the bytes", "[core][secret]") {
    alignas(TemporaryExposureKey) unsigned char storage[sizeof(TemporaryExposureKey)];
    auto* k = new (storage)
        TemporaryExposureKey(*TemporaryExposureKey::from_hex("ffffffffffffffffffffffffffffffff"));
    k->~TemporaryExposureKey();
    for (unsigned char byte : storage) CHECK(byte == 0);
}
