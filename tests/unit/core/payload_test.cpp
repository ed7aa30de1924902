#include <vector>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rng.hpp>

#include "support.hpp"

using namespace sotto::core;
using sotto::test::hex;

namespace {
// Official vector RPI_0 / AEM_0.
Beacon official_beacon() {
    Beacon b;
    REQUIRE(sotto::from_hex_into("8be6cd371c5c891604bfbe49df845096", b.rpi.bytes));
    REQUIRE(sotto::from_hex_into("72033874", b.aem.bytes));
    return b;
}
const char* kIos = "02011a03036ffd17166ffd8be6cd371c5c891604bfbe49df84509672033874";
const char* kAndroid = "03036ffd17166ffd8be6cd371c5c891604bfbe49df84509672033874";

std::string what_of(const std::vector<std::uint8_t>& adv) {
    auto r = decode_advertising_data(adv);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == sotto::ErrorCode::kInvalidArgument);
    return r.error().what;
}
}  // namespace

TEST_CASE("Service data is RPI || AEM", "[core][payload]") {
    const Beacon b = official_beacon();
    const ServiceData s = encode_service_data(b);
    CHECK(sotto::to_hex(s) == "8be6cd371c5c891604bfbe49df84509672033874");
    auto d = decode_service_data(s);
    REQUIRE(d);
    CHECK(*d == b);
    for (std::size_t n : {0u, 16u, 19u, 21u}) {
        std::vector<std::uint8_t> wrong(n, 0x11);
        CHECK_FALSE(decode_service_data(wrong));
    }
}

TEST_CASE("Advertising data is byte-exact in both field forms", "[core][payload]") {
    const Beacon b = official_beacon();
    const auto ios = encode_advertising_data(b, AdvertisingForm::kWithFlags);
    CHECK(ios.size == 31);
    CHECK(sotto::to_hex(ios.view()) == kIos);
    const auto android = encode_advertising_data(b, AdvertisingForm::kWithoutFlags);
    CHECK(android.size == 28);
    CHECK(sotto::to_hex(android.view()) == kAndroid);
    CHECK(sotto::to_hex(encode_advertising_data(b, AdvertisingForm::kWithFlags, 0x02).view()) ==
          "020102" + std::string(kIos).substr(6));
}

TEST_CASE("Both advertising forms decode to the beacon", "[core][payload]") {
    for (const char* h : {kIos, kAndroid}) {
        auto d = decode_advertising_data(hex(h));
        REQUIRE(d);
        CHECK(*d == official_beacon());
        auto any = decode_beacon(hex(h));
        REQUIRE(any);
        CHECK(*any == official_beacon());
    }
    auto sd = decode_beacon(hex("8be6cd371c5c891604bfbe49df84509672033874"));
    REQUIRE(sd);
    CHECK(*sd == official_beacon());
}

TEST_CASE("The decoder refuses every other structure with a clear error", "[core][payload]") {
    CHECK(what_of({}) == std::string("advertising data: empty"));
    auto too_long = hex(kIos);
    too_long.push_back(0);
    CHECK(what_of(too_long) == std::string("advertising data: longer than 31 bytes"));
    // Other UUID in the list, in the service data.
    CHECK(what_of(hex("02011a03036ffe17166ffd8be6cd371c5c891604bfbe49df84509672033874")) ==
          std::string("advertising data: service UUID is not 0xFD6F"));
    CHECK(what_of(hex("02011a03036ffd17166ffe8be6cd371c5c891604bfbe49df84509672033874")) ==
          std::string("advertising data: service data UUID is not 0xFD6F"));
    // Service data of 19 and 21 bytes (length byte adjusted).
    CHECK(what_of(hex("02011a03036ffd16166ffd8be6cd371c5c891604bfbe49df845096720338")) ==
          std::string("service data: expected 20 bytes (RPI || AEM)"));
    CHECK(what_of(hex("03036ffd18166ffd8be6cd371c5c891604bfbe49df8450967203387400")) ==
          std::string("service data: expected 20 bytes (RPI || AEM)"));
    // An extra AD structure after the service data.
    CHECK(what_of(hex(std::string(kAndroid) + "020a00")) ==
          std::string("advertising data: extra AD structure"));
    // A zero-length AD structure.
    CHECK(what_of(hex(std::string("00") + kAndroid)) ==
          std::string("advertising data: zero-length AD structure"));
    // Shuffled order: service data before the UUID list.
    CHECK(what_of(hex("17166ffd8be6cd371c5c891604bfbe49df8450967203387403036ffd")) ==
          std::string("advertising data: unexpected AD structure"));
    // Flags not first.
    CHECK(what_of(hex("03036ffd02011a17166ffd8be6cd371c5c891604bfbe49df84509672033874")) ==
          std::string("advertising data: unexpected AD structure"));
    // Flags without its byte.
    CHECK(what_of(hex(std::string("0101") + kAndroid)) ==
          std::string("advertising data: Flags must be 1 byte"));
    // Incomplete UUID list (type 0x02) is not the structure GAEN sends.
    CHECK(what_of(hex("02011a03026ffd17166ffd8be6cd371c5c891604bfbe49df84509672033874")) ==
          std::string("advertising data: unexpected AD structure"));
    // Two UUIDs in the list.
    CHECK(what_of(hex("05036ffd0f1817166ffd8be6cd371c5c891604bfbe49df84509672033874")) ==
          std::string("advertising data: UUID list must hold one UUID"));
    // Only the service data.
    CHECK(what_of(hex("17166ffd8be6cd371c5c891604bfbe49df84509672033874")) ==
          std::string("advertising data: missing AD structure"));
}

TEST_CASE("Every truncation of a valid payload is refused", "[core][payload]") {
    for (const char* h : {kIos, kAndroid}) {
        const auto full = hex(h);
        for (std::size_t n = 1; n < full.size(); ++n) {
            // Copy into an exact-size heap buffer so ASan catches any over-read.
            std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
            cut.shrink_to_fit();
            CAPTURE(n);
            if (n == 20) continue;  // 20 bytes is the service-data form of decode_beacon
            CHECK_FALSE(decode_advertising_data(cut));
            CHECK_FALSE(decode_beacon(cut));
        }
    }
}

TEST_CASE("Random bytes never crash the decoder", "[core][payload]") {
    DeterministicRng rng(5);
    std::size_t accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        std::uint8_t len = 0;
        rng.fill(std::span(&len, 1));
        std::vector<std::uint8_t> buf(len % 40);
        rng.fill(buf);
        if (i % 2 == 0 && buf.size() >= 3) buf[0] = static_cast<std::uint8_t>(buf[0] % 32);
        if (decode_advertising_data(buf)) ++accepted;
    }
    CHECK(accepted == 0);  // random bytes essentially never form the exact GAEN structure
}
