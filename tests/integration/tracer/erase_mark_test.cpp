// The erase mark survives a restart: a Tracer reopened on an erased store refuses a late batch
// stamped before the erase, on every path, under the same clock rule as in flight; the mark is
// written in the erase's own transaction.
#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/core/payload.hpp>
#include <sotto/store/encounter_store.hpp>
#include <sotto/tracer.hpp>

#include "integration/tracer/tracer_test_util.hpp"
#include "support.hpp"

using namespace sotto;
using test::fake_sd;
using test::kDay0;
using test::open_at;

namespace {

core::Observation obs(std::uint32_t seed, std::int64_t time_s) {
    core::Observation o;
    o.beacon = *core::decode_service_data(fake_sd(seed));
    o.rssi = -60;
    o.time = time_s;
    return o;
}

std::optional<std::int64_t> stored_mark(const test::TempDir& dir) {
    auto s = store::EncounterStore::open(dir / "t.db", test::tracer_credential());
    REQUIRE(s);
    auto m = s->erased_at();
    REQUIRE(m);
    return *m;
}

}  // namespace

TEST_CASE("The erase mark is in the store as soon as Tracer erase_all returns",
          "[tracer][erase][restart]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000 + 250);
    const std::int64_t erased_at = clock.now_ms();
    {
        auto t = open_at(dir, clock);
        REQUIRE(t.on_advertisement(fake_sd(1), -60, clock.now_ms()));
        REQUIRE(t.flush());
        CHECK_FALSE(t.store_stats()->sightings == 0);
        REQUIRE(t.erase_all());
        // Read by a second connection while the Tracer is still open: the erase and its mark
        // were committed together.
        CHECK(stored_mark(dir) == erased_at);
        CHECK(test::stored_seeds(dir, clock).empty());
    }
    CHECK(stored_mark(dir) == erased_at);
}

TEST_CASE("After a restart a late batch stamped before the erase is dropped and counted",
          "[tracer][erase][restart]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    const std::int64_t heard_at = clock.now_ms();
    clock.advance_ms(5000);
    const std::int64_t erased_at = clock.now_ms();
    { REQUIRE(open_at(dir, clock).erase_all()); }
    clock.advance_ms(60'000);  // the app restarts a minute later
    {
        auto t = open_at(dir, clock);
        // Android's batch, delivered late: stamped before the erase and in its millisecond.
        REQUIRE(t.on_advertisement(fake_sd(1), -60, heard_at));
        REQUIRE(t.on_advertisement(fake_sd(2), -60, erased_at));
        // The neighbours: a millisecond after the erase, and now.
        REQUIRE(t.on_advertisement(fake_sd(3), -60, erased_at + 1));
        REQUIRE(t.on_advertisement(fake_sd(4), -60, clock.now_ms()));
        REQUIRE(t.flush());
        // Tracer::ingest: before the erase, in its second, and after it.
        const std::int64_t erased_s = erased_at / 1000;
        auto r = t.ingest(std::vector<core::Observation>{obs(5, erased_s - 60), obs(6, erased_s),
                                                         obs(7, erased_s + 1)});
        REQUIRE(r);
        CHECK(r->accepted == 1);
        CHECK(t.status().stored == 3);
        CHECK(t.status().discarded == 4);
    }
    CHECK(test::stored_seeds(dir, clock) == std::vector<std::uint32_t>{3, 4, 7});
}

TEST_CASE("A reopen under a clock far behind the stored erase mark does not arm it",
          "[tracer][erase][restart][clock]") {
    test::TempDir dir;
    const std::int64_t real = (kDay0 + 3600) * 1000;
    ManualClock clock(real + 30LL * 86'400'000);  // erased under a clock a month ahead
    const std::int64_t erased_at = clock.now_ms();
    { REQUIRE(open_at(dir, clock).erase_all()); }
    SECTION("set back by a month: what is heard is stored, and the stored mark stays") {
        clock.set_ms(real);
        {
            auto t = open_at(dir, clock);
            REQUIRE(t.on_advertisement(fake_sd(1), -60, clock.now_ms()));
            REQUIRE(t.flush());
            auto r = t.ingest(std::vector<core::Observation>{obs(2, clock.now_seconds())});
            REQUIRE(r);
            CHECK(r->accepted == 1);
            CHECK(t.status().discarded == 0);
        }
        CHECK(test::stored_seeds(dir, clock) == std::vector<std::uint32_t>{1, 2});
        CHECK(stored_mark(dir) == erased_at);
    }
    SECTION("set back by less than five minutes: the mark is armed") {
        clock.advance_ms(-299'000);
        auto t = open_at(dir, clock);
        REQUIRE(t.on_advertisement(fake_sd(1), -60, clock.now_ms()));
        REQUIRE(t.flush());
        CHECK(t.status().stored == 0);
        CHECK(t.status().discarded == 1);
    }
}

TEST_CASE("A store erased without a mark opens as before and keeps what it hears",
          "[tracer][erase][restart]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    const std::int64_t heard_at = clock.now_ms();
    {
        // As an older version erased: no time given, so no mark row.
        auto s = store::EncounterStore::open(dir / "t.db", test::tracer_credential());
        REQUIRE(s);
        REQUIRE(s->erase_all());
        auto m = s->erased_at();
        REQUIRE(m);
        CHECK_FALSE(m->has_value());
        REQUIRE(s->verify());
    }
    clock.advance_ms(60'000);
    {
        auto t = open_at(dir, clock);
        REQUIRE(t.on_advertisement(fake_sd(1), -60, heard_at));
        REQUIRE(t.flush());
        CHECK(t.status().stored == 1);
        CHECK(t.status().discarded == 0);
    }
    CHECK(test::stored_seeds(dir, clock) == std::vector<std::uint32_t>{1});
}

TEST_CASE("A store erase with a time replaces the mark and one without keeps it",
          "[store][erase]") {
    test::TempDir dir;
    auto s = store::EncounterStore::open(dir / "t.db", test::tracer_credential());
    REQUIRE(s);
    REQUIRE(s->erase_all(1'000'000));
    CHECK(*s->erased_at() == std::optional<std::int64_t>(1'000'000));
    REQUIRE(s->erase_all());
    CHECK(*s->erased_at() == std::optional<std::int64_t>(1'000'000));
    REQUIRE(s->erase_all(999'000));  // the latest erase's time, even when earlier
    CHECK(*s->erased_at() == std::optional<std::int64_t>(999'000));
    REQUIRE(s->verify());
    auto st = s->stats();
    REQUIRE(st);
    CHECK(st->sightings == 0);
}
