// The Tracer on real SQLCipher stores in temp dirs: own keys, advertisements, release with
// consent, two phones, erase, options.
#include <set>
#include <type_traits>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/tracer.hpp>

#include "integration/tracer/tracer_test_util.hpp"
#include "support.hpp"

using namespace sotto;
using test::kDay0;

using test::fake_sd;
using test::open_at;

static_assert(!std::is_default_constructible_v<PublishConsent>,
              "consent comes only from user_confirmed_upload_of_own_keys()");

TEST_CASE("The first advertisement creates today's key and a restart resumes it", "[tracer]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 5 * 3600) * 1000);
    {
        auto t = open_at(dir, clock);
        CHECK(*t.own_key_count() == 0);  // opening alone creates nothing
        auto adv = t.current_advertisement();
        REQUIRE(adv);
        CHECK(adv->active);
        CHECK(*t.own_key_count() == 1);
        CHECK(t.status().own_keys_created == 1);
        auto again = t.current_advertisement();
        REQUIRE(again);
        CHECK(again->service_data == adv->service_data);
        CHECK(again->address == adv->address);
    }
    auto t = open_at(dir, clock);
    // Within the interval the process before may have broadcast in: nothing, until the next one.
    auto paused = t.current_advertisement();
    REQUIRE(paused);
    CHECK_FALSE(paused->active);
    CHECK(paused->valid_until_ms == (kDay0 + 5 * 3600 + 600) * 1000);
    clock.set_ms(paused->valid_until_ms);
    auto resumed = t.current_advertisement();
    REQUIRE(resumed);
    REQUIRE(resumed->active);
    CHECK(*t.own_key_count() == 1);
    CHECK(t.status().own_keys_created == 0);
    // The resumed RPI comes from the stored key (the one released below).
    auto keys = t.release_own_keys(user_confirmed_upload_of_own_keys());
    REQUIRE(keys);
    REQUIRE(keys->size() == 1);
    auto rpi = core::derive_rpi(core::derive_rpik((*keys)[0].key.tek), resumed->interval);
    REQUIRE(rpi);
    CHECK(std::equal(rpi->bytes.begin(), rpi->bytes.end(), resumed->service_data.begin()));

    // Negative neighbour: the next UTC day rolls to a new key.
    clock.set_ms((kDay0 + 86400 + 5 * 3600) * 1000);
    auto next_day = t.current_advertisement();
    REQUIRE(next_day);
    CHECK(next_day->active);
    CHECK(*t.own_key_count() == 2);
    CHECK(t.status().own_keys_created == 1);
}

TEST_CASE("RPI and address change together every 10 to 20 minutes and at midnight", "[tracer]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 21 * 3600) * 1000 + 123);
    auto t = open_at(dir, clock);
    auto a = t.current_advertisement();
    REQUIRE(a);
    REQUIRE(a->active);
    CHECK(a->interval == *core::interval_number(clock.now_seconds()));
    CHECK(a->address.is_non_resolvable_private());
    // The full advertising data carries the same beacon.
    CHECK(a->advertising_data.size == 31);
    auto from_adv = core::decode_advertising_data(a->advertising_data.view());
    REQUIRE(from_adv);
    CHECK(core::encode_service_data(*from_adv) == a->service_data);

    // Five hours in steps of 20 s, across midnight.
    OwnAdvertisement cur = *a;
    std::int64_t started = clock.now_ms();
    int changes = 0;
    bool changed_at_midnight = false;
    std::set<core::ServiceData> seen{cur.service_data};
    for (int step = 0; step < 5 * 180; ++step) {
        clock.advance_ms(20'000);
        auto n = t.current_advertisement();
        REQUIRE(n);
        REQUIRE(n->active);
        if (n->service_data == cur.service_data) {
            CHECK(n->address == cur.address);  // never one without the other
            CHECK(clock.now_ms() < cur.valid_until_ms);
            continue;
        }
        ++changes;
        CHECK(n->address != cur.address);
        CHECK(clock.now_ms() >= cur.valid_until_ms);  // never before it was due
        const std::int64_t lasted = clock.now_ms() - started;
        const bool midnight = clock.now_ms() % 86'400'000 < 20'000;
        changed_at_midnight = changed_at_midnight || midnight;
        if (!midnight) {
            CHECK(lasted >= 10 * 60'000);
            CHECK(lasted <= 20 * 60'000 + 20'000);
        }
        CHECK(seen.insert(n->service_data).second);  // never an RPI twice
        cur = *n;
        started = clock.now_ms();
    }
    CHECK(changes >= 15);
    CHECK(changes <= 31);
    CHECK(changed_at_midnight);
    CHECK(*t.own_key_count() == 2);  // the next day's key
    CHECK(t.status().rotations == static_cast<std::uint64_t>(changes) + 1);

    // The Android form without Flags.
    test::TempDir dir2;
    TracerOptions o;
    o.advertising_form = core::AdvertisingForm::kWithoutFlags;
    auto t2 = open_at(dir2, clock, std::move(o));
    CHECK(t2.current_advertisement()->advertising_data.size == 28);
    // Rotation bounds out of range are refused at the first advertisement.
    test::TempDir dir3;
    TracerOptions bad;
    bad.min_rotation_ms = 1000;
    auto t3 = open_at(dir3, clock, std::move(bad));
    CHECK(t3.current_advertisement().error().code == ErrorCode::kInvalidArgument);
    CHECK(*t3.own_key_count() == 0);
}

TEST_CASE("Own keys are released only with consent and a released key is never broadcast again",
          "[tracer]") {
    test::TempDir dir;
    const std::int64_t now = kDay0 + 86400 + 5 * 3600 + 30;  // day 1, 05:00:30
    ManualClock clock((kDay0 + 5 * 3600) * 1000);
    auto t = open_at(dir, clock);
    REQUIRE(t.current_advertisement());  // day 0's key
    clock.set_ms(now * 1000);
    auto before = t.current_advertisement();  // day 1's key
    REQUIRE(before);
    REQUIRE(before->active);

    auto released = t.release_own_keys(user_confirmed_upload_of_own_keys());
    REQUIRE(released);
    REQUIRE(released->size() == 2);
    const auto cur = *core::interval_number(now);
    const auto& yesterday = (*released)[0].key;
    const auto& today = (*released)[1].key;
    CHECK(yesterday.rolling_start == core::day_start_interval(cur) - 144);
    CHECK(yesterday.rolling_period == 144);
    CHECK(today.rolling_start == core::day_start_interval(cur));
    CHECK(today.rolling_period == cur - today.rolling_start + 1);  // cut at the current interval
    CHECK_FALSE((*released)[0].released_before);

    // The released key made the advertisement heard before the release.
    const auto rpik = core::derive_rpik(today.tek);
    auto rpi_before = core::derive_rpi(rpik, before->interval);
    REQUIRE(rpi_before);
    CHECK(std::equal(rpi_before->bytes.begin(), rpi_before->bytes.end(),
                     before->service_data.begin()));
    // From now on: nothing in this interval, then a new key.
    auto paused = t.current_advertisement();
    REQUIRE(paused);
    CHECK_FALSE(paused->active);
    clock.set_ms(paused->valid_until_ms);
    auto after = t.current_advertisement();
    REQUIRE(after);
    REQUIRE(after->active);
    CHECK(after->address != before->address);
    auto rpi_after = core::derive_rpi(rpik, after->interval);
    REQUIRE(rpi_after);
    CHECK_FALSE(
        std::equal(rpi_after->bytes.begin(), rpi_after->bytes.end(), after->service_data.begin()));
    CHECK(*t.own_key_count() == 3);
    // All day long, never the released key.
    for (int h = 0; h < 18; ++h) {
        clock.advance_ms(3600 * 1000);
        auto later = t.current_advertisement();
        REQUIRE(later);
        if (!later->active || later->interval >= core::day_start_interval(cur) + 144) continue;
        auto rpi_later = core::derive_rpi(rpik, later->interval);
        REQUIRE(rpi_later);
        CHECK_FALSE(std::equal(rpi_later->bytes.begin(), rpi_later->bytes.end(),
                               later->service_data.begin()));
    }

    // A second release (a retry) says which keys went out before.
    clock.set_ms((now + 3600) * 1000);
    auto again = t.release_own_keys(user_confirmed_upload_of_own_keys());
    REQUIRE(again);
    REQUIRE(again->size() >= 3);
    CHECK((*again)[0].released_before);
    CHECK((*again)[1].released_before);
    CHECK_FALSE((*again)[2].released_before);
}

TEST_CASE("Two phones: Bob hears Alice, Alice publishes, Bob's check finds the exposure",
          "[tracer]") {
    ManualClock clock((kDay0 + 9 * 3600) * 1000);
    test::TempDir alice_dir, bob_dir, carol_dir;
    auto alice = open_at(alice_dir, clock);
    auto carol = open_at(carol_dir, clock);  // never near Bob
    keyfile::TrustStore trust;
    // 30 minutes on a bus: Bob hears Alice every 10 seconds at -55 dBm.
    test::Air air;
    for (int s = 0; s < 30 * 60; s += 10) {
        auto a = alice.current_advertisement();
        REQUIRE(a);
        REQUIRE(a->active);
        REQUIRE(carol.current_advertisement());
        air.emplace_back(a->service_data, clock.now_ms());
        clock.advance_ms(10'000);
    }
    const std::size_t rpis = test::distinct_rpis(air);
    CHECK(rpis >= 2);
    CHECK(rpis <= 4);
    clock.set_ms((kDay0 + 10 * 3600) * 1000);
    auto released = alice.release_own_keys(user_confirmed_upload_of_own_keys());
    REQUIRE(released);
    REQUIRE(released->size() == 1);
    auto carol_keys = carol.release_own_keys(user_confirmed_upload_of_own_keys());
    REQUIRE(carol_keys);
    const auto stranger_zip = test::publish(*carol_keys, trust, kDay0 + 10 * 3600);
    const auto zip = test::publish(*released, trust, kDay0 + 10 * 3600);

    clock.set_ms((kDay0 + 12 * 3600) * 1000);
    TracerOptions bo;
    bo.trust = trust;
    auto bob = open_at(bob_dir, clock, std::move(bo));
    for (const auto& [sd, t_ms] : air) REQUIRE(bob.on_advertisement(sd, -55, t_ms));

    auto only_stranger = bob.import_key_file(stranger_zip);
    REQUIRE(only_stranger);
    CHECK(only_stranger->verified());
    auto none = bob.check();
    REQUIRE(none);
    CHECK(none->matches.empty());
    CHECK(none->sightings == test::distinct_rows(air));
    CHECK(none->report.risk.total_risk_level == core::CwaRiskLevel::kLow);

    auto imported = bob.import_key_file(zip);
    REQUIRE(imported);
    CHECK(imported->verified());
    auto r = bob.check();
    REQUIRE(r);
    CHECK(r->matches.size() == rpis);
    CHECK(r->files[0].matched_rpis == rpis);
    for (const auto& m : r->matches) {
        CAPTURE(m.reason);
        CHECK(m.status == core::MatchStatus::kValid);
    }
    REQUIRE(r->report.encounters.size() == 1);
    CHECK(r->report.encounters[0].minutes >= 29);
    CHECK(r->report.risk.total_risk_level == core::CwaRiskLevel::kHigh);
    CHECK(r->recorded);
}

TEST_CASE("Erasing forgets everything and leaves a usable store", "[tracer]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    auto t = open_at(dir, clock);
    auto before = t.current_advertisement();
    REQUIRE(before);
    REQUIRE(t.on_advertisement(fake_sd(1), -60, clock.now_ms()));
    REQUIRE(t.flush());
    REQUIRE(t.on_advertisement(fake_sd(2), -60, clock.now_ms()));  // pending: erased too
    REQUIRE(t.erase_all());
    auto stats = t.store_stats();
    REQUIRE(stats);
    CHECK(stats->sightings == 0);
    CHECK(stats->own_keys == 0);
    CHECK(t.status().pending == 0);
    auto paused = t.current_advertisement();  // the erased key is not broadcast any more
    REQUIRE(paused);
    CHECK_FALSE(paused->active);
    clock.set_ms(paused->valid_until_ms);
    auto after = t.current_advertisement();
    REQUIRE(after);
    REQUIRE(after->active);
    CHECK(after->service_data != before->service_data);  // a new TEK
    REQUIRE(t.on_advertisement(fake_sd(3), -60, clock.now_ms()));
    REQUIRE(t.flush());
    CHECK(t.store_stats()->sightings == 1);
    CHECK(t.store_stats()->own_keys == 1);
}

TEST_CASE("Bad options, a wrong key and an impossible clock are refused", "[tracer]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    TracerOptions zero;
    zero.flush_count = 0;
    CHECK(Tracer::open(dir / "t.db", test::tracer_credential(), clock, std::move(zero))
              .error()
              .code == ErrorCode::kInvalidArgument);
    TracerOptions small;
    small.flush_count = 100;
    small.max_pending = 99;
    CHECK(Tracer::open(dir / "t.db", test::tracer_credential(), clock, std::move(small))
              .error()
              .code == ErrorCode::kInvalidArgument);
    TracerOptions huge;
    huge.max_pending = 10'000'001;
    CHECK(Tracer::open(dir / "t.db", test::tracer_credential(), clock, std::move(huge))
              .error()
              .code == ErrorCode::kInvalidArgument);
    { auto t = open_at(dir, clock); }
    CHECK(Tracer::open(dir / "t.db", test::tracer_credential(8), clock).error().code ==
          ErrorCode::kStorageWrongKey);
    ManualClock before_1970(-5000);
    auto t = open_at(dir, before_1970);
    CHECK(t.current_advertisement().error().code == ErrorCode::kOutOfRange);
    CHECK(*t.own_key_count() == 0);
}
