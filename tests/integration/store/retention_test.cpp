// Retention, "forget me" (erase_all, destroy) and file growth.
#include <sotto/store/encounter_store.hpp>

#include "store/database.hpp"
#include "store/store_access.hpp"
#include "store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;
using store::EncounterStore;

namespace {

// Fills `s` with 20 days of data, replaying each day with its own "now".
void fill_days(EncounterStore& s, std::uint32_t days, std::uint32_t rpis_per_day) {
    for (std::uint32_t d = 0; d < days; ++d) {
        const std::uint32_t day = kToday - d;
        const std::int64_t day_start = static_cast<std::int64_t>(day) * 86400;
        std::vector<core::Observation> obs;
        for (std::uint32_t i = 0; i < rpis_per_day; ++i)
            obs.push_back(observation(day_start + 3600 + i, -55, rpi_of(day, i)));
        auto r = s.ingest(obs, day_start + 86399 > kNow ? kNow : day_start + 86399);
        REQUIRE(r.has_value());
        REQUIRE(r->accepted == rpis_per_day);
        core::ExposureKey k;
        k.tek.expose_secret_mut()[0] = static_cast<std::uint8_t>(d + 1);
        k.rolling_start = day * 144;
        REQUIRE(s.add_own_key(k, day_start));
        const store::ExposureRecord rec{day_start, day, 1, 1, 3.0, 60};
        REQUIRE(s.add_exposure_records(std::span(&rec, 1)));
        REQUIRE(s.mark_file_processed(std::string(63, '0') + static_cast<char>('a' + d % 6),
                                      day_start, 5));
    }
}

}  // namespace

TEST_CASE("The retention cutoff keeps the day of now and the days before it",
          "[store][retention]") {
    const std::int64_t midnight = static_cast<std::int64_t>(kToday) * 86400;
    CHECK(*store::retention_cutoff(midnight, 14) == (kToday - 13) * 144);
    CHECK(*store::retention_cutoff(midnight - 1, 14) == (kToday - 14) * 144);
    CHECK(*store::retention_cutoff(kNow, 1) == kToday * 144);
    CHECK(*store::retention_cutoff(100, 14) == 0);  // no underflow near the epoch
    CHECK(store::retention_cutoff(kNow, 0).error().code == ErrorCode::kInvalidArgument);
    CHECK(store::retention_cutoff(-1, 14).error().code == ErrorCode::kOutOfRange);
}

TEST_CASE("Retention deletes old sightings, own keys, exposure records and file entries",
          "[store][retention]") {
    TempDir dir;
    const auto p = dir / "s.db";
    auto s = open_store(p);
    fill_days(s, 20, 100);
    REQUIRE(s.stats()->sightings == 2000);
    REQUIRE(s.stats()->own_keys == 20);

    auto r = s.apply_retention(kNow);
    REQUIRE(r.has_value());
    CHECK(r->cutoff == (kToday - 13) * 144);
    CHECK(r->sightings == 600);
    CHECK(r->own_keys == 6);  // keys of days today-19 .. today-14 ended at or before the cutoff
    CHECK(r->exposure_records == 6);
    auto st = s.stats();
    REQUIRE(st.has_value());
    CHECK(st->sightings == 1400);
    CHECK(st->days == 14);
    CHECK(st->own_keys == 14);
    CHECK(st->exposure_records == 14);
    CHECK(s.sightings_on_day(kToday - 14)->empty());
    CHECK(s.sightings_on_day(kToday - 13)->size() == 100);
    auto keys = s.own_keys();
    REQUIRE(keys.has_value());
    CHECK(keys->front().key.rolling_start == (kToday - 13) * 144);
    auto intervals = s.sighting_intervals();
    REQUIRE(intervals.has_value());
    CHECK(intervals->front() >= r->cutoff);

    // Nothing more to delete the same day; a day later, one more day goes.
    auto again = s.apply_retention(kNow);
    REQUIRE(again.has_value());
    CHECK(again->sightings == 0);
    auto next_day = s.apply_retention(kNow + 86400);
    REQUIRE(next_day.has_value());
    CHECK(next_day->sightings == 100);
    CHECK(next_day->own_keys == 1);
    CHECK(s.verify().has_value());
}

TEST_CASE("The retention period is configurable", "[store][retention]") {
    TempDir dir;
    store::OpenOptions o;
    o.retention_days = 3;
    auto s = open_store(dir / "s.db", 1, o);
    CHECK(s.retention_days() == 3);
    fill_days(s, 5, 10);  // ingest refuses what is already outside 3 days... for today's now only
    auto r = s.apply_retention(kNow);
    REQUIRE(r.has_value());
    CHECK(s.stats()->days == 3);
    CHECK(s.stats()->own_keys == 3);
    // Ingest refuses observations older than the window.
    const std::vector<core::Observation> old = {
        observation(static_cast<std::int64_t>(kToday - 3) * 86400 + 5, -50, rpi_of(1, 1))};
    auto ing = s.ingest(old, kNow);
    REQUIRE(ing.has_value());
    CHECK(ing->rejected.size() == 1);

    for (std::uint32_t bad : {0u, 3651u}) {
        store::OpenOptions b;
        b.retention_days = bad;
        CHECK(EncounterStore::open(dir / "t.db", raw_credential(1), b).error().code ==
              ErrorCode::kInvalidArgument);
    }
}

TEST_CASE("Deleting data gives the space back to the file system", "[store][retention][growth]") {
    TempDir dir;
    const auto p = dir / "s.db";
    auto s = open_store(p);
    fill_days(s, 14, 3000);
    REQUIRE(s.apply_retention(kNow).has_value());
    REQUIRE(store::detail::StoreAccess::database(s).exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    const auto full_size = std::filesystem::file_size(p);
    CHECK(full_size > 2'000'000);
    // Twelve days without new data: the host confirms the clock.
    auto r = s.apply_retention(kNow + 12 * 86400, {.clock_confirmed = true});
    REQUIRE(r.has_value());
    CHECK(r->sightings == 3000 * 12);
    const auto after = std::filesystem::file_size(p);
    CAPTURE(full_size, after);
    CHECK(after < full_size / 3);
    CHECK(std::filesystem::file_size(dir / "s.db-wal") == 0);
    CHECK(s.verify().has_value());
}

TEST_CASE("erase_all forgets everything and keeps the store usable", "[store][erase]") {
    TempDir dir;
    const auto p = dir / "s.db";
    auto s = open_store(p);
    fill_days(s, 3, 500);
    REQUIRE(s.erase_all());
    auto st = s.stats();
    REQUIRE(st.has_value());
    CHECK(st->sightings == 0);
    CHECK(st->own_keys == 0);
    CHECK(st->exposure_records == 0);
    CHECK(st->processed_files == 0);
    CHECK(std::filesystem::file_size(p) <= 16 * 4096);
    const std::vector<core::Observation> one = {observation(kNow - 10, -50, rpi_of(1, 1))};
    REQUIRE(s.ingest(one, kNow));
    CHECK(s.stats()->sightings == 1);
}

TEST_CASE("destroy removes the database and every side file", "[store][erase]") {
    TempDir dir;
    const auto p = dir / "s.db";
    {
        auto s = open_store(p);
        fill_days(s, 2, 100);
    }
    write_text(dir / "unrelated.txt", "keep me");
    REQUIRE(EncounterStore::destroy(p));
    for (const auto& f : EncounterStore::files(p)) CHECK_FALSE(std::filesystem::exists(f));
    CHECK(std::filesystem::exists(dir / "unrelated.txt"));
    CHECK(EncounterStore::open(p, raw_credential(1), no_create()).error().code ==
          ErrorCode::kStorageIo);
    // Destroying again, or destroying something that is not a store, is refused.
    CHECK(EncounterStore::destroy(p).error().code == ErrorCode::kStorageNotAStore);
    CHECK(EncounterStore::destroy(dir / "unrelated.txt").error().code ==
          ErrorCode::kStorageNotAStore);
    CHECK(read_text(dir / "unrelated.txt") == "keep me");
}

TEST_CASE("Retention refuses a clock far past the newest data and the last run and deletes nothing",
          "[store][retention][clock]") {
    TempDir dir;
    const auto p = dir / "s.db";
    auto s = open_store(p);
    fill_days(s, 3, 10);
    const auto before = *s.stats();
    // 2100-01-01: a board without a real-time clock, or a bad time sync.
    auto far = s.apply_retention(4102444800);
    REQUIRE_FALSE(far.has_value());
    CHECK(far.error().code == ErrorCode::kClockSuspect);
    const auto after = *s.stats();
    CHECK(after.sightings == before.sightings);
    CHECK(after.own_keys == before.own_keys);
    CHECK(after.exposure_records == before.exposure_records);
    // Just past the limit from the newest data is refused too; within it, retention runs.
    const std::int64_t newest_end =
        core::interval_start_seconds(kToday * 144 + 6) + 600;  // day_start + 3600 + i
    auto just_past = s.apply_retention(newest_end + store::kMaxClockJumpSeconds + 600);
    REQUIRE_FALSE(just_past.has_value());
    CHECK(just_past.error().code == ErrorCode::kClockSuspect);
    REQUIRE(s.apply_retention(kNow + 86400).has_value());  // tomorrow: an ordinary daily run
    // The last run is remembered: from it, the next days are ordinary again even without new data.
    REQUIRE(s.apply_retention(kNow + 86400 + store::kMaxClockJumpSeconds - 60).has_value());
    CHECK(s.stats()->sightings == after.sightings);  // nothing expired yet (14-day retention)
    // A clock the host has confirmed (e.g. synchronized by NTP) is obeyed.
    fill_days(s, 1, 5);
    store::RetentionOptions confirmed;
    confirmed.clock_confirmed = true;
    auto ok = s.apply_retention(4102444800, confirmed);
    REQUIRE(ok.has_value());
    CHECK(s.stats()->sightings == 0);
}

TEST_CASE("The last retention run survives reopening the store", "[store][retention][clock]") {
    TempDir dir;
    const auto p = dir / "s.db";
    {
        auto s = open_store(p);
        REQUIRE(s.apply_retention(kNow).has_value());  // empty store: nothing to compare with
    }
    auto s = open_store(p);
    auto far = s.apply_retention(kNow + store::kMaxClockJumpSeconds + 3600);
    REQUIRE_FALSE(far.has_value());
    CHECK(far.error().code == ErrorCode::kClockSuspect);
    CHECK(s.apply_retention(kNow + store::kMaxClockJumpSeconds - 3600).has_value());
}
