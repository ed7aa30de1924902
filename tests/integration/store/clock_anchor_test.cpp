// The clock anchor: the newest time the store trusted, set at a writable open from the data
// already stored, moved forward by retention only; data written later never vouches for a clock.
#include <string>

#include <sotto/store/encounter_store.hpp>

#include "store/database.hpp"
#include "store/store_access.hpp"
#include "store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;
using store::EncounterStore;

namespace {

constexpr std::int64_t kYear2100 = 4102444800;

// `days` days of sightings (10 per day) and one own key per day, ending today (kNow).
void fill(EncounterStore& s, std::uint32_t days) {
    for (std::uint32_t d = 0; d < days; ++d) {
        const std::uint32_t day = kToday - d;
        const std::int64_t start = static_cast<std::int64_t>(day) * 86400;
        std::vector<core::Observation> obs;
        for (std::uint32_t i = 0; i < 10; ++i)
            obs.push_back(observation(start + 60 + i, -60, rpi_of(day, i)));
        REQUIRE(s.ingest(obs, kNow)->accepted == 10);
        core::ExposureKey k;
        k.tek.expose_secret_mut()[0] = static_cast<std::uint8_t>(d + 1);
        k.rolling_start = day * 144;
        REQUIRE(s.add_own_key(k, start));
    }
}

// The end of the newest sighting's interval written by `fill`: today at 00:01, interval 0.
constexpr std::int64_t kNewestEnd = static_cast<std::int64_t>(kToday) * 86400 + 600;

store::OpenOptions read_only() {
    store::OpenOptions o;
    o.read_only = true;
    return o;
}

}  // namespace

TEST_CASE("A writable open anchors the clock at the newest data already stored",
          "[store][retention][clock]") {
    TempDir dir;
    const auto p = dir / "s.db";
    {
        auto s = open_store(p);
        CHECK_FALSE(s.clock_anchor()->has_value());  // a new, empty store has none
        fill(s, 3);
        // Written by this process: no anchor yet.
        CHECK_FALSE(s.clock_anchor()->has_value());
    }
    {
        auto ro = EncounterStore::open(p, raw_credential(1), read_only());
        REQUIRE(ro);
        CHECK_FALSE(ro->clock_anchor()->has_value());  // reading writes nothing
    }
    auto s = open_store(p);
    auto anchor = s.clock_anchor();
    REQUIRE(anchor);
    REQUIRE(anchor->has_value());
    CHECK(**anchor == kNewestEnd);
}

TEST_CASE("An empty store gets no anchor when opened", "[store][retention][clock]") {
    TempDir dir;
    const auto p = dir / "s.db";
    { auto s = open_store(p); }
    auto s = open_store(p);
    CHECK_FALSE(s.clock_anchor()->has_value());
    // Nothing to lose: any clock is accepted, and becomes the anchor.
    REQUIRE(s.apply_retention(kYear2100));
    CHECK(**s.clock_anchor() == kYear2100);
}

TEST_CASE("Data written under a clock far ahead does not vouch for it",
          "[store][retention][clock]") {
    TempDir dir;
    const auto p = dir / "s.db";
    {
        auto s = open_store(p);
        fill(s, 3);
    }
    auto s = open_store(p);
    REQUIRE(**s.clock_anchor() == kNewestEnd);
    const auto before = *s.stats();

    // Under the wrong clock: a new own key and sightings stamped by it, as a Tracer would write.
    core::ExposureKey k;
    k.tek.expose_secret_mut()[0] = 0xEE;
    k.rolling_start = static_cast<core::IntervalNumber>(kYear2100 / 600);
    REQUIRE(s.add_own_key(k, kYear2100));
    const std::vector<core::Observation> heard = {observation(kYear2100 - 5, -50, rpi_of(9, 9))};
    REQUIRE(s.ingest(heard, kYear2100)->accepted == 1);

    auto far = s.apply_retention(kYear2100 + 60);
    REQUIRE_FALSE(far);
    CHECK(far.error().code == ErrorCode::kClockSuspect);
    CHECK(s.stats()->sightings == before.sightings + 1);
    CHECK(s.stats()->own_keys == before.own_keys + 1);
    CHECK(**s.clock_anchor() == kNewestEnd);  // a refused run moves nothing

    // Reopening does not launder the new data into the anchor either.
    s = open_store(p);
    CHECK(**s.clock_anchor() == kNewestEnd);
    CHECK(s.apply_retention(kYear2100 + 120).error().code == ErrorCode::kClockSuspect);

    // Thirty days ahead is refused the same way; three days minus a minute is an ordinary run.
    CHECK(s.apply_retention(kNewestEnd + 30 * 86400).error().code == ErrorCode::kClockSuspect);
    CHECK(s.apply_retention(kNewestEnd + store::kMaxClockJumpSeconds + 1).error().code ==
          ErrorCode::kClockSuspect);
    REQUIRE(s.apply_retention(kNewestEnd + store::kMaxClockJumpSeconds - 60));
    CHECK(**s.clock_anchor() == kNewestEnd + store::kMaxClockJumpSeconds - 60);
    CHECK(s.stats()->sightings == before.sightings + 1);  // nothing old enough yet

    // The host vouches for the far clock: then it is obeyed.
    auto confirmed = s.apply_retention(kYear2100 + 180, {.clock_confirmed = true});
    REQUIRE(confirmed);
    CHECK(confirmed->sightings == before.sightings);  // all but the one heard in 2100
    CHECK(s.stats()->sightings == 1);
    CHECK(**s.clock_anchor() == kYear2100 + 180);
}

TEST_CASE("A store of an older version is anchored at its last retention run",
          "[store][retention][clock]") {
    TempDir dir;
    const auto p = dir / "s.db";
    const std::int64_t last_run = kNewestEnd + 2 * 86400;
    {
        auto s = open_store(p);
        fill(s, 2);
        REQUIRE(s.apply_retention(last_run));
        // As written before the anchor existed: only `last_retention`.
        auto& db = store::detail::StoreAccess::database(s);
        REQUIRE(db.exec("DELETE FROM store_meta WHERE name = 'clock_anchor'"));
        CHECK_FALSE(s.clock_anchor()->has_value());
    }
    auto s = open_store(p);
    CHECK(**s.clock_anchor() == last_run);
    CHECK(s.apply_retention(last_run + store::kMaxClockJumpSeconds + 1).error().code ==
          ErrorCode::kClockSuspect);
    CHECK(s.apply_retention(last_run + store::kMaxClockJumpSeconds));
}

TEST_CASE("A clock set back deletes nothing newer and never moves the anchor back",
          "[store][retention][clock]") {
    TempDir dir;
    const auto p = dir / "s.db";
    {
        auto s = open_store(p);
        fill(s, 5);
    }
    auto s = open_store(p);
    REQUIRE(s.apply_retention(kNow));
    const std::int64_t anchor = **s.clock_anchor();
    const auto before = *s.stats();
    // Two days back (within the 3 days): an ordinary run; everything stored lies in its window
    // or its future.
    auto back = s.apply_retention(kNow - 2 * 86400);
    REQUIRE(back);
    CHECK(back->sightings == 0);
    CHECK(back->own_keys == 0);
    CHECK(s.stats()->sightings == before.sightings);
    CHECK(**s.clock_anchor() == anchor);  // never pulled back by an unconfirmed run
    // A year back (a lost real-time clock battery): as suspect as a year ahead.
    auto year = s.apply_retention(kNow - 365 * 86400);
    REQUIRE_FALSE(year);
    CHECK(year.error().code == ErrorCode::kClockSuspect);
    CHECK(s.stats()->sightings == before.sightings);
    CHECK(s.stats()->own_keys == before.own_keys);
    CHECK(**s.clock_anchor() == anchor);
    // Corrected again: an ordinary run, judged against the same anchor.
    REQUIRE(s.apply_retention(kNow + 3600));
    CHECK(**s.clock_anchor() == kNow + 3600);
}

TEST_CASE("An anchor set by a wrong clock pauses retention until a confirmed run replaces it",
          "[store][retention][clock]") {
    TempDir dir;
    const auto p = dir / "s.db";
    auto s = open_store(p);
    // A fresh store's first run under a clock 400 days ahead: nothing to lose, so accepted.
    const std::int64_t wrong = kNow + 400 * 86400;
    REQUIRE(s.apply_retention(wrong));
    CHECK(**s.clock_anchor() == wrong);
    fill(s, 5);  // then the clock is corrected and the store fills at the true time
    const auto before = *s.stats();
    // The true time is far behind the anchor: suspect, nothing deleted, the anchor stays.
    CHECK(s.apply_retention(kNow).error().code == ErrorCode::kClockSuspect);
    // A later wrong jump that stays below the bad anchor is refused as well.
    CHECK(s.apply_retention(kNow + 210 * 86400).error().code == ErrorCode::kClockSuspect);
    CHECK(s.stats()->sightings == before.sightings);
    CHECK(s.stats()->own_keys == before.own_keys);
    CHECK(**s.clock_anchor() == wrong);
    // The host confirms the true time: the anchor is set to it exactly (not max(anchor, now)).
    auto confirmed = s.apply_retention(kNow, {.clock_confirmed = true});
    REQUIRE(confirmed);
    CHECK(confirmed->sightings == 0);  // all five days are inside the window
    CHECK(**s.clock_anchor() == kNow);
    // And the guard holds again from there.
    CHECK(s.apply_retention(kNow + 210 * 86400).error().code == ErrorCode::kClockSuspect);
    CHECK(s.stats()->sightings == before.sightings);
    REQUIRE(s.apply_retention(kNow + 3600));
    CHECK(**s.clock_anchor() == kNow + 3600);
}

TEST_CASE("erase_all keeps the clock anchor and nothing else", "[store][retention][clock][erase]") {
    TempDir dir;
    const auto p = dir / "s.db";
    {
        auto s = open_store(p);
        fill(s, 3);
    }
    auto s = open_store(p);
    REQUIRE(s.apply_retention(kNow));
    REQUIRE(s.erase_all());
    auto& db = store::detail::StoreAccess::database(s);
    CHECK(*db.query_int("SELECT count(*) FROM store_meta") == 1);
    CHECK(**s.clock_anchor() == kNow);
    CHECK(s.stats()->sightings == 0);
    // Heard after the erase; then the clock jumps: the new sightings survive.
    const std::vector<core::Observation> heard = {observation(kNow + 60, -50, rpi_of(1, 2))};
    REQUIRE(s.ingest(heard, kNow + 120)->accepted == 1);
    CHECK(s.apply_retention(kYear2100).error().code == ErrorCode::kClockSuspect);
    CHECK(s.stats()->sightings == 1);
}

TEST_CASE("A store too full to take the anchor row still opens, and judges by its newest data",
          "[store][retention][clock]") {
    TempDir dir;
    const auto p = dir / "s.db";
    store::OpenOptions o;
    o.max_bytes = 96 * 1024;
    {
        auto s = open_store(p, 1, o);
        fill(s, 2);
        // Two days of sightings in several pages: what retention can free later.
        for (std::uint32_t d = 0; d < 2; ++d) {
            std::vector<core::Observation> obs;
            for (std::uint32_t i = 10; i < 250; ++i)
                obs.push_back(
                    observation((kToday - d) * 86400LL + 60 + i, -60, rpi_of(kToday - d, i)));
            REQUIRE(s.ingest(obs, kNow)->accepted == obs.size());
        }
        // Fill every page the cap allows with rows that sort after the anchor's name and are much
        // smaller than its row: first in ascending order until a new page is refused, then into
        // the gaps between them (B-tree splits leave pages part empty) until no page takes one.
        // Then the anchor row would need a page the cap does not allow.
        auto& db = store::detail::StoreAccess::database(s);
        auto insert = [&](const std::string& name) {
            const std::string sql =
                "INSERT INTO store_meta (name, value) VALUES ('" + name + "', 0)";
            auto r = db.exec(sql.c_str());
            if (!r) REQUIRE(r.error().code == ErrorCode::kStorageFull);
            return r.has_value();
        };
        std::vector<std::string> names;
        for (int n = 0; n < 26 * 26 * 26; ++n) {
            const std::string name = {'d', static_cast<char>('a' + n / 676),
                                      static_cast<char>('a' + n / 26 % 26),
                                      static_cast<char>('a' + n % 26)};
            if (!insert(name)) break;
            names.push_back(name);
        }
        bool progress = true;
        for (char round = 'a'; progress; ++round) {
            REQUIRE(round <= 'z');
            progress = false;
            for (const auto& name : names) progress = insert(name + round) || progress;
        }
        CHECK_FALSE(insert("a"));  // not even a row smaller than the anchor's fits
        CHECK_FALSE(s.clock_anchor()->has_value());
    }
    const auto before = [&] {
        auto ro = EncounterStore::open(p, raw_credential(1), read_only());
        REQUIRE(ro);
        return *ro->stats();
    }();
    auto s = open_store(p, 1, o);  // the anchor row does not fit: opens without one
    CHECK_FALSE(s.clock_anchor()->has_value());
    // Without an anchor the newest stored data stands in: a month ahead is refused.
    CHECK(s.apply_retention(kNewestEnd + 30 * 86400).error().code == ErrorCode::kClockSuspect);
    CHECK(s.stats()->sightings == before.sightings);
    // Confirmed, retention frees the old rows, and the anchor fits in the space they leave.
    auto r = s.apply_retention(kNewestEnd + 30 * 86400, {.clock_confirmed = true});
    INFO((r ? "ok" : r.error().what));
    REQUIRE(r);
    CHECK(r->sightings == before.sightings);
    CHECK(**s.clock_anchor() == kNewestEnd + 30 * 86400);
}
