// The Tracer's heard path on real SQLCipher stores: both payload forms, strict decoding, batches
// written by count, time and on close, a bounded buffer when the store is full, and an erase that
// nothing heard before it survives.
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/heard.hpp>
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

TEST_CASE("Hostile inputs from the app and the radio are checked once and stored once",
          "[tracer][heard]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    TracerOptions o;
    o.scan.continuous = true;  // the fake radio keeps scanning
    auto t = open_at(dir, clock, std::move(o));
    auto state = std::make_shared<test::FakeRadio::State>();
    REQUIRE(t.attach_radio(std::make_unique<test::FakeRadio>(state)));
    const std::int64_t now = clock.now_ms();
    const std::int64_t beyond_enin = (std::int64_t{1} << 32) * 600 * 1000;  // first ms without one
    constexpr std::uint16_t kEn = core::kExposureNotificationUuid;

    // The app's path: each boundary and one beyond.
    REQUIRE(t.on_advertisement(fake_sd(1), -127, now));
    REQUIRE(t.on_advertisement(fake_sd(2), 20, now));
    for (int rssi : {-128, 21, 127, -32768})
        CHECK(t.on_advertisement(fake_sd(90), rssi, now).error().code == ErrorCode::kOutOfRange);
    for (std::int64_t when : {std::int64_t{-1}, beyond_enin})
        CHECK(t.on_advertisement(fake_sd(91), -60, when).error().code == ErrorCode::kOutOfRange);
    const auto sd = fake_sd(92);
    const std::vector<std::uint8_t> truncated(sd.begin(), sd.end() - 1);
    CHECK(t.on_advertisement(truncated, -60, now).error().code == ErrorCode::kInvalidArgument);

    // The radio's path: the same boundaries, a wrong UUID and a short payload.
    REQUIRE(test::FakeRadio::hear(*state, fake_sd(3), kEn, -127, now));
    REQUIRE(test::FakeRadio::hear(*state, fake_sd(4), kEn, 20, now));
    for (int rssi : {-128, 21, 32767})
        REQUIRE(test::FakeRadio::hear(*state, fake_sd(93), kEn, rssi, now));
    for (std::int64_t when : {std::int64_t{-1}, beyond_enin})
        REQUIRE(test::FakeRadio::hear(*state, fake_sd(94), kEn, -60, when));
    REQUIRE(test::FakeRadio::hear(*state, fake_sd(95), 0xFD6E, -60, now));
    REQUIRE(test::FakeRadio::hear(*state, truncated, kEn, -60, now));

    // A packet checked by the host itself.
    auto checked = core::HeardBeacon::from_service_data(fake_sd(5), -33, now);
    REQUIRE(checked);
    REQUIRE(t.on_advertisement(*checked));

    auto s = t.status();
    CHECK(s.heard == 5);
    CHECK(s.malformed == 2);  // the truncated payload, once from each path
    CHECK(s.pending == 5);
    REQUIRE(t.flush());
    REQUIRE(t.flush());  // nothing twice
    s = t.status();
    CHECK(s.stored == 5);
    CHECK(s.rejected == 0);  // nothing unchecked reached the store
    CHECK(s.flushes == 1);
    REQUIRE(t.detach_radio());
    CHECK(test::stored_seeds(dir, clock) == std::vector<std::uint32_t>{1, 2, 3, 4, 5});
    auto store = store::EncounterStore::open(dir / "t.db", test::tracer_credential());
    REQUIRE(store);
    auto day = store->sightings_on_day(static_cast<std::uint32_t>(clock.now_seconds() / 86400));
    REQUIRE(day);
    REQUIRE(day->size() == 5);
    std::vector<int> rssi;
    for (const auto& x : *day) {
        CHECK(x.count == 1);
        CHECK(x.rssi_max == x.rssi_min);
        rssi.push_back(x.rssi_max);
    }
    std::sort(rssi.begin(), rssi.end());
    CHECK(rssi == std::vector<int>{-127, -127, -33, 20, 20});
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
        auto first = t.tick();
        REQUIRE(first);
        CHECK_FALSE(first->flushed);
        CHECK(first->retention == RetentionRun::kRan);  // the day's first tick
        CHECK(first->rotated);                          // the first advertisement
        CHECK(t.status().pending == 1);                 // not due yet
        clock.advance_ms(10'000);
        auto second = t.tick();
        REQUIRE(second);
        CHECK(second->flushed);
        CHECK(second->retention == RetentionRun::kNotDue);
        CHECK_FALSE(second->rotated);  // the same interval
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

namespace {}  // namespace

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
        clock.advance_ms(1);  // a packet stamped in the erase's millisecond counts as before it

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
    CHECK(test::stored_seeds(dir, clock) == want);  // and not one RPI heard before the erase
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
        clock.advance_ms(1);  // a packet stamped in the erase's millisecond counts as before it
        // The same beacon in the same second after the erase is a new observation.
        REQUIRE(t.on_advertisement(fake_sd(2), -60, clock.now_ms()));
        CHECK(t.status().pending == 1);
    }
    CHECK(test::stored_seeds(dir, clock) == std::vector<std::uint32_t>{2});
}

TEST_CASE("A sighting stamped before erase_all and delivered after it is never stored",
          "[tracer][erase]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    {
        auto t = open_at(dir, clock);
        const std::int64_t heard_at = clock.now_ms();
        clock.advance_ms(5000);
        const std::int64_t erased_at = clock.now_ms();
        REQUIRE(t.erase_all());
        clock.advance_ms(1000);
        // A host's batch delivered late: stamped 5 s before the erase, and in its millisecond.
        REQUIRE(t.on_advertisement(fake_sd(1), -60, heard_at));
        REQUIRE(t.on_advertisement(fake_sd(2), -60, erased_at));
        // The neighbours: stamped a millisecond after the erase, and now.
        REQUIRE(t.on_advertisement(fake_sd(3), -60, erased_at + 1));
        REQUIRE(t.on_advertisement(fake_sd(4), -60, clock.now_ms()));
        REQUIRE(t.flush());
        CHECK(t.status().stored == 2);
        CHECK(t.status().discarded == 2);
    }
    CHECK(test::stored_seeds(dir, clock) == std::vector<std::uint32_t>{3, 4});
}

TEST_CASE("Observations ingested after erase_all that were stamped before it are left out",
          "[tracer][erase]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000 + 500);
    auto t = open_at(dir, clock);
    const std::int64_t erased_s = clock.now_seconds();
    REQUIRE(t.erase_all());
    clock.advance_ms(10'000);
    const auto obs = [](std::uint32_t seed, std::int64_t time_s) {
        core::Observation o;
        o.beacon = *core::decode_service_data(fake_sd(seed));
        o.rssi = -60;
        o.time = time_s;
        return o;
    };
    const std::vector<core::Observation> batch = {
        obs(1, erased_s - 60),         // heard a minute before the erase
        obs(2, erased_s + 1),          // after: stored
        obs(3, erased_s + 3 * 86400),  // after, but days ahead of the clock: the store refuses it
        obs(4, erased_s),              // the erase's second: left out
        obs(5, erased_s + 2),          // after: stored
    };
    auto r = t.ingest(batch);
    REQUIRE(r);
    CHECK(r->accepted == 2);
    REQUIRE(r->rejected.size() == 1);
    CHECK(r->rejected[0].index == 2);  // the index in the batch given, not in what was kept
    CHECK(t.status().discarded == 2);
    CHECK(test::stored_seeds(dir, clock) == std::vector<std::uint32_t>{2, 5});
}

TEST_CASE("A clock set back far behind the last erase no longer refuses what it stamps",
          "[tracer][erase][clock]") {
    test::TempDir dir;
    const std::int64_t real = (kDay0 + 3600) * 1000;
    ManualClock clock(real + 30LL * 86'400'000);  // erased under a clock a month ahead
    auto t = open_at(dir, clock);
    REQUIRE(t.erase_all());
    SECTION("corrected back by a month: what is heard is kept") {
        clock.set_ms(real);
        REQUIRE(t.on_advertisement(fake_sd(1), -60, clock.now_ms()));
        REQUIRE(t.flush());
        CHECK(t.status().stored == 1);
        CHECK(t.status().discarded == 0);
        std::vector<core::Observation> batch(1);
        batch[0].beacon = *core::decode_service_data(fake_sd(2));
        batch[0].rssi = -60;
        batch[0].time = clock.now_seconds();
        auto r = t.ingest(batch);
        REQUIRE(r);
        CHECK(r->accepted == 1);
        CHECK(test::stored_seeds(dir, clock) == std::vector<std::uint32_t>{1, 2});
    }
    SECTION("set back by less than five minutes: a packet stamped before the erase is refused") {
        clock.advance_ms(-299'000);
        REQUIRE(t.on_advertisement(fake_sd(1), -60, clock.now_ms()));
        REQUIRE(t.flush());
        CHECK(t.status().stored == 0);
        CHECK(t.status().discarded == 1);
    }
}

TEST_CASE("A radio thread delivering while erase_all runs keeps only what it stamped after",
          "[tracer][erase][threads]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    constexpr std::uint32_t kBefore = 1000, kAfter = 500, kMost = 200'000;
    std::vector<std::int64_t> stamped;  // by seed; written by the radio thread only
    stamped.reserve(kMost);
    std::atomic<std::uint32_t> delivered{0}, refused{0};
    std::atomic<bool> erased{false};
    std::int64_t erase_called = 0, erase_returned = 0;
    {
        auto t = open_at(dir, clock);
        // The radio stamps a packet, sometimes yields before delivering it (preempted), then
        // moves the clock 1 ms on: every stamp is distinct and increasing. It goes on until
        // `kAfter` packets after erase_all returned, however the threads are scheduled.
        std::thread radio([&] {
            std::uint32_t after = 0;
            for (std::uint32_t i = 0; i < kMost && after < kAfter; ++i) {
                stamped.push_back(clock.now_ms());
                if (i % 5 == 0) std::this_thread::yield();
                if (!t.on_advertisement(fake_sd(i), -60, stamped[i])) refused.fetch_add(1);
                clock.advance_ms(1);
                delivered.fetch_add(1);
                if (erased.load()) ++after;
            }
        });
        while (delivered.load() < kBefore) std::this_thread::yield();
        erase_called = clock.now_ms();
        REQUIRE(t.erase_all());
        erase_returned = clock.now_ms();
        erased = true;
        radio.join();
        REQUIRE(t.flush());
    }
    CHECK(refused.load() == 0);
    const auto n = static_cast<std::uint32_t>(stamped.size());
    REQUIRE(n < kMost);
    const auto stored = test::stored_seeds(dir, clock);
    REQUIRE(stored.size() >= kAfter / 2);  // the radio counts from the flag, set after the mark
    // What is kept is exactly the packets stamped after one instant within erase_all.
    const std::uint32_t first = stored.front();
    REQUIRE(first >= kBefore);  // what was delivered before the call is gone
    CHECK(stored.size() == n - first);
    CHECK(stored.back() == n - 1);
    CAPTURE(first, n, stamped[first], erase_called, erase_returned);
    CHECK(stamped[first] >= erase_called);        // nothing stamped before the call
    CHECK(stamped[first - 1] <= erase_returned);  // nothing stamped after it returned is lost
}
