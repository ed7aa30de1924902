// core::HeardBeacon: the one check of a heard packet (payload, RSSI, time), at its boundaries.
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/core/heard.hpp>
#include <sotto/core/payload.hpp>

using namespace sotto;
using namespace sotto::core;

namespace {

constexpr std::int64_t kT = 1'795'305'600'123;  // Unix ms (2026-11-22 00:00:00.123 UTC)

Beacon beacon() {
    Beacon b;
    for (std::size_t i = 0; i < b.rpi.bytes.size(); ++i)
        b.rpi.bytes[i] = static_cast<std::uint8_t>(i);
    b.aem.bytes = {0x40, 0xF1, 0, 0};
    return b;
}

// The largest Unix ms whose second still has an ENIN (a uint32 of 10-minute intervals).
constexpr std::int64_t kLastMs =
    (static_cast<std::int64_t>(std::numeric_limits<std::uint32_t>::max()) + 1) * 600 * 1000 - 1;

}  // namespace

TEST_CASE("HeardBeacon takes RSSI -127..20 dBm and refuses one beyond", "[core][heard]") {
    for (int rssi : {-127, -60, 0, 20}) {
        auto h = HeardBeacon::make(beacon(), rssi, kT);
        REQUIRE(h.has_value());
        CHECK(h->rssi() == rssi);
    }
    for (int rssi : {-128, 21, -1000, 1000, std::numeric_limits<int>::min()}) {
        auto h = HeardBeacon::make(beacon(), rssi, kT);
        REQUIRE_FALSE(h.has_value());
        CHECK(h.error().code == ErrorCode::kOutOfRange);
        CHECK(h.error().what == kHeardRssiOutOfRange);
    }
}

TEST_CASE("HeardBeacon takes times from 1970 to the end of the ENIN range", "[core][heard]") {
    for (std::int64_t t : {std::int64_t{0}, kT, kLastMs}) {
        auto h = HeardBeacon::make(beacon(), -60, t);
        REQUIRE(h.has_value());
        CHECK(h->time_ms() == t);
        CHECK(h->observation().time == t / 1000);
    }
    for (std::int64_t t : {std::int64_t{-1}, kLastMs + 1, std::numeric_limits<std::int64_t>::min(),
                           std::numeric_limits<std::int64_t>::max()}) {
        auto h = HeardBeacon::make(beacon(), -60, t);
        REQUIRE_FALSE(h.has_value());
        CHECK(h.error().code == ErrorCode::kOutOfRange);
        CHECK(h.error().what == kHeardTimeOutOfRange);
    }
}

TEST_CASE("HeardBeacon decodes both payload forms once and refuses malformed bytes",
          "[core][heard]") {
    const Beacon b = beacon();
    const ServiceData sd = encode_service_data(b);
    const AdvertisingData with_flags = encode_advertising_data(b, AdvertisingForm::kWithFlags);
    const AdvertisingData without = encode_advertising_data(b, AdvertisingForm::kWithoutFlags);
    for (std::span<const std::uint8_t> bytes :
         {std::span<const std::uint8_t>(sd), with_flags.view(), without.view()}) {
        auto h = HeardBeacon::decode(bytes, -60, kT);
        REQUIRE(h.has_value());
        CHECK(h->beacon() == b);
        CHECK(h->observation().beacon == b);
        CHECK(h->observation().rssi == -60);
    }
    // Malformed: too short, one byte too long, a wrong service UUID, nothing at all.
    std::vector<std::uint8_t> shorter(sd.begin(), sd.end() - 1);
    std::vector<std::uint8_t> longer(sd.begin(), sd.end());
    longer.push_back(0);
    std::vector<std::uint8_t> wrong_uuid(with_flags.view().begin(), with_flags.view().end());
    bool flipped = false;
    for (std::size_t i = 0; i + 1 < wrong_uuid.size(); ++i)
        if (wrong_uuid[i] == 0x6F && wrong_uuid[i + 1] == 0xFD) {
            wrong_uuid[i] = 0x70;
            flipped = true;
            break;
        }
    REQUIRE(flipped);
    for (const auto& bad : {shorter, longer, wrong_uuid, std::vector<std::uint8_t>{}}) {
        auto h = HeardBeacon::decode(bad, -60, kT);
        REQUIRE_FALSE(h.has_value());
        CHECK(h.error().code == ErrorCode::kInvalidArgument);
        CHECK(h.error().what == kHeardMalformed);
    }
    // Service data only: exactly 20 bytes (full advertising data is not service data).
    CHECK(HeardBeacon::from_service_data(sd, -60, kT).has_value());
    CHECK_FALSE(HeardBeacon::from_service_data(with_flags.view(), -60, kT).has_value());
    CHECK_FALSE(HeardBeacon::from_service_data(shorter, -60, kT).has_value());
    // A malformed payload is reported as such even with a bad RSSI and time too.
    CHECK(HeardBeacon::decode(shorter, 99, -5).error().what == kHeardMalformed);
}

TEST_CASE("HeardBeacon from an observation in seconds has the same bounds", "[core][heard]") {
    Observation o;
    o.beacon = beacon();
    o.time = kT / 1000;
    o.rssi = -127;
    REQUIRE(HeardBeacon::from_observation(o).has_value());
    CHECK(HeardBeacon::from_observation(o)->time_ms() == o.time * 1000);
    o.rssi = 20;
    CHECK(HeardBeacon::from_observation(o).has_value());
    o.rssi = 21;
    CHECK(HeardBeacon::from_observation(o).error().what == kHeardRssiOutOfRange);
    o.rssi = -128;
    CHECK(HeardBeacon::from_observation(o).error().what == kHeardRssiOutOfRange);
    o.rssi = -60;
    o.time = -1;
    CHECK(HeardBeacon::from_observation(o).error().what == kHeardTimeOutOfRange);
    o.time = kLastMs / 1000;
    CHECK(HeardBeacon::from_observation(o).has_value());
    o.time = kLastMs / 1000 + 1;
    CHECK(HeardBeacon::from_observation(o).error().what == kHeardTimeOutOfRange);
    o.time = std::numeric_limits<std::int64_t>::max();  // ms would overflow
    CHECK(HeardBeacon::from_observation(o).error().what == kHeardTimeOutOfRange);
}

TEST_CASE("HeardBeacon keeps beacon and time when it takes another packet's RSSI",
          "[core][heard]") {
    auto a = HeardBeacon::make(beacon(), -60, kT);
    auto b = HeardBeacon::make(beacon(), -40, kT + 500);
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    a->set_rssi_of(*b);
    CHECK(a->rssi() == -40);
    CHECK(a->time_ms() == kT);
    CHECK(a->beacon() == beacon());
}
