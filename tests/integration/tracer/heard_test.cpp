// The Tracer's heard path on real SQLCipher stores: both payload forms, strict decoding, batches
// written by count, time and on close, a bounded buffer when the store is full, and an erase that
// nothing heard before it survives.
#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/store/encounter_store.hpp>
#include <sotto/tracer.hpp>

#include "integration/tracer/tracer_test_util.hpp"
#include "support.hpp"

using namespace sotto;
using test::kDay0;

using test::fake_sd;
using test::open_at;

namespace {

/// A Tracer whose store may hold 200 KiB, fed 20,000 distinct beacons (seeds 0..19,999) at
/// `clock`'s now: more than fit, so flushes fail and at most 1,000 observations stay pending
/// (the rest is dropped and counted).
Tracer open_overfilled(const test::TempDir& dir, const Clock& clock) {
    TracerOptions o;
    o.flush_count = 500;
    o.max_pending = 1000;
    o.store.max_bytes = 200 * 1024;
    auto t = open_at(dir, clock, std::move(o));
    for (std::uint32_t i = 0; i < 20'000; ++i)
        REQUIRE(t.on_advertisement(fake_sd(i), -60, clock.now_ms()));
    return t;
}

}  // namespace

TEST_CASE("Heard advertisements in both forms are stored and malformed ones are counted",
          "[tracer]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    auto t = open_at(dir, clock);
    const std::int64_t now_ms = clock.now_ms();
    const auto sd = fake_sd(1);
    REQUIRE(t.on_advertisement(sd, -60, now_ms));
    auto beacon = core::decode_service_data(fake_sd(2));
    REQUIRE(beacon);
    const auto adv = core::encode_advertising_data(*beacon, core::AdvertisingForm::kWithFlags);
    REQUIRE(t.on_advertisement(adv.view(), -70, now_ms));
    const auto adv28 = core::encode_advertising_data(*beacon, core::AdvertisingForm::kWithoutFlags);
    REQUIRE(t.on_advertisement(adv28.view(), -71, now_ms + 1000));

    // Negative neighbours: truncated, tampered structure, wrong UUID, impossible RSSI.
    std::vector<std::uint8_t> short_sd(sd.begin(), sd.end() - 1);
    CHECK(t.on_advertisement(short_sd, -60, now_ms).error().code == ErrorCode::kInvalidArgument);
    auto bad_uuid = std::vector<std::uint8_t>(adv.view().begin(), adv.view().end());
    bad_uuid[5] ^= 0x01;  // 03 03 6f fd -> UUID 0xFD6E
    CHECK(t.on_advertisement(bad_uuid, -60, now_ms).error().code == ErrorCode::kInvalidArgument);
    CHECK(t.on_advertisement({}, -60, now_ms).error().code == ErrorCode::kInvalidArgument);
    CHECK(t.on_advertisement(sd, 21, now_ms).error().code == ErrorCode::kOutOfRange);
    CHECK(t.on_advertisement(sd, -60, -1).error().code == ErrorCode::kOutOfRange);

    auto s = t.status();
    CHECK(s.heard == 3);
    CHECK(s.malformed == 3);
    CHECK(s.pending == 3);
    REQUIRE(t.flush());
    s = t.status();
    CHECK(s.pending == 0);
    CHECK(s.stored == 3);
    CHECK(t.store_stats()->sightings == 2);  // two RPIs in one interval
}

TEST_CASE("Pending observations are written by count, by time and on close", "[tracer]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    {
        TracerOptions o;
        o.flush_count = 3;
        o.flush_interval_ms = 10'000;
        auto t = open_at(dir, clock, std::move(o));
        REQUIRE(t.on_advertisement(fake_sd(1), -60, clock.now_ms()));
        REQUIRE(t.on_advertisement(fake_sd(2), -60, clock.now_ms()));
        CHECK(t.status().stored == 0);
        REQUIRE(t.on_advertisement(fake_sd(3), -60, clock.now_ms()));  // the third writes the batch
        CHECK(t.status().stored == 3);
        CHECK(t.status().flushes == 1);

        REQUIRE(t.on_advertisement(fake_sd(4), -60, clock.now_ms()));
        REQUIRE(t.tick());
        CHECK(t.status().pending == 1);  // not due yet
        clock.advance_ms(10'000);
        REQUIRE(t.tick());
        CHECK(t.status().pending == 0);
        CHECK(t.status().stored == 4);

        REQUIRE(t.on_advertisement(fake_sd(5), -60, clock.now_ms()));
        CHECK(t.status().pending == 1);
    }  // closed with one pending: written by the destructor
    auto t = open_at(dir, clock);
    CHECK(t.store_stats()->sightings == 5);
}

TEST_CASE("The pending buffer stays bounded when the store is full and nothing stored is lost",
          "[tracer]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    auto t = open_overfilled(dir, clock);
    auto s = t.status();
    CHECK(s.flush_failures > 0);
    CHECK(s.pending <= 1000);
    CHECK(s.dropped_overflow > 0);
    CHECK(s.heard == 20'000);
    CHECK(s.stored > 0);
    const auto stored = t.store_stats()->sightings;
    CHECK(stored == s.stored);  // every accepted batch is in the store
}

namespace {

/// The seeds (`fake_sd`) of every RPI stored on the day of `clock`, read from the store file.
std::vector<std::uint32_t> stored_seeds(const test::TempDir& dir, const Clock& clock) {
    auto s = store::EncounterStore::open(dir / "t.db", test::tracer_credential());
    REQUIRE(s);
    auto day = s->sightings_on_day(static_cast<std::uint32_t>(clock.now_seconds() / 86400));
    REQUIRE(day);
    std::vector<std::uint32_t> seeds;
    for (const auto& x : *day) {
        std::uint32_t seed = 0;
        for (std::size_t i = 0; i < 4; ++i)
            seed |= static_cast<std::uint32_t>(x.rpi.bytes[i]) << (8 * i);
        seeds.push_back(seed);
    }
    std::sort(seeds.begin(), seeds.end());
    return seeds;
}

}  // namespace

TEST_CASE("Erasing while the store is full drops what was heard before and keeps what comes after",
          "[tracer][erase]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    constexpr std::uint32_t kAfter = 1'000'000;  // seeds of RPIs heard after the erase
    {
        auto t = open_overfilled(dir, clock);
        // The store is full: what waits now cannot be written.
        REQUIRE_FALSE(t.flush());
        const auto before = t.status();
        REQUIRE(before.pending > 0);
        REQUIRE(before.flush_failures > 0);

        REQUIRE(t.erase_all());
        auto s = t.status();
        CHECK(s.pending == 0);
        CHECK(s.discarded == before.pending);
        CHECK(t.store_stats()->sightings == 0);

        // The neighbour: what is heard after the erase is stored (by a flush, a tick, a close).
        for (std::uint32_t i = 0; i < 5; ++i)
            REQUIRE(t.on_advertisement(fake_sd(kAfter + i), -60, clock.now_ms()));
        REQUIRE(t.flush());
        for (std::uint32_t i = 5; i < 10; ++i)
            REQUIRE(t.on_advertisement(fake_sd(kAfter + i), -60, clock.now_ms()));
        clock.advance_ms(120'000);
        REQUIRE(t.tick());
        REQUIRE(t.on_advertisement(fake_sd(kAfter + 10), -60, clock.now_ms()));
        CHECK(t.status().discarded == before.pending);  // nothing after the erase was dropped
    }  // closed: the last one is written by the destructor
    std::vector<std::uint32_t> want;
    for (std::uint32_t i = 0; i <= 10; ++i) want.push_back(kAfter + i);
    CHECK(stored_seeds(dir, clock) == want);  // and not one RPI heard before the erase
}

TEST_CASE("Erasing drops what is pending even when the store takes writes", "[tracer][erase]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    {
        auto t = open_at(dir, clock);
        REQUIRE(t.on_advertisement(fake_sd(1), -60, clock.now_ms()));
        REQUIRE(t.flush());
        REQUIRE(t.on_advertisement(fake_sd(2), -60, clock.now_ms()));
        REQUIRE(t.on_advertisement(fake_sd(3), -60, clock.now_ms()));
        REQUIRE(t.erase_all());
        CHECK(t.status().discarded == 2);
        CHECK(t.status().stored == 1);  // written once before the erase, never again
        // The same beacon in the same second after the erase is a new observation.
        REQUIRE(t.on_advertisement(fake_sd(2), -60, clock.now_ms()));
        CHECK(t.status().pending == 1);
    }
    CHECK(stored_seeds(dir, clock) == std::vector<std::uint32_t>{2});
}
