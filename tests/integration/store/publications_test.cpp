// The store's memory of when diagnosis keys were first published (key_publications, schema 4):
// the earliest time wins, it survives reopening, retention and "forget me" delete it, and verify
// finds a malformed row.
#include <sotto/store/encounter_store.hpp>

#include "store/database.hpp"
#include "store/store_access.hpp"
#include "store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;
using store::EncounterStore;

namespace {

core::KeyPublication publication(std::uint8_t id, core::IntervalNumber window_end,
                                 std::int64_t published_at) {
    core::KeyPublication p;
    p.tek.fill(id);
    p.window_end = window_end;
    p.published_at = published_at;
    return p;
}

}  // namespace

TEST_CASE("Key publications keep the earliest time of each key across calls and reopening",
          "[store][publication]") {
    TempDir dir;
    const auto p = dir / "s.db";
    {
        auto s = open_store(p);
        const core::KeyPublication first[] = {publication(1, 1000, 200), publication(2, 1000, 300)};
        REQUIRE(s.remember_key_publications(first));
        const core::KeyPublication again[] = {publication(1, 1001, 100), publication(2, 1002, 400)};
        REQUIRE(s.remember_key_publications(again));
        // Negative neighbour: a negative time refuses the whole batch.
        const core::KeyPublication bad[] = {publication(3, 1000, 50), publication(1, 1000, -1)};
        CHECK(s.remember_key_publications(bad).error().code == ErrorCode::kInvalidArgument);
        CHECK(s.stats()->key_publications == 2);
    }
    auto s = open_store(p);
    auto got = s.key_publications();
    REQUIRE(got);
    REQUIRE(got->size() == 2);
    CHECK((*got)[0] == publication(1, 1001, 100));  // the earlier time, with its window end
    CHECK((*got)[1] == publication(2, 1000, 300));  // a later one changes nothing
    CHECK(s.verify());
}

TEST_CASE("Retention deletes key publications a day after their window ended before the cutoff",
          "[store][publication][retention]") {
    TempDir dir;
    auto s = open_store(dir / "s.db");
    auto cutoff = store::retention_cutoff(kNow, store::kDefaultRetentionDays);
    REQUIRE(cutoff);
    const core::KeyPublication rows[] = {publication(1, *cutoff - 144, kNow - 20 * 86400),
                                         publication(2, *cutoff - 143, kNow - 20 * 86400),
                                         publication(3, kNowInterval, kNow - 60)};
    REQUIRE(s.remember_key_publications(rows));
    auto r = s.apply_retention(kNow, {.clock_confirmed = true});
    REQUIRE(r);
    CHECK(r->key_publications == 1);
    auto got = s.key_publications();
    REQUIRE(got);
    REQUIRE(got->size() == 2);
    CHECK((*got)[0] == rows[1]);  // an RPI of it can still match a kept sighting
    CHECK((*got)[1] == rows[2]);
}

TEST_CASE("Forgetting everything clears the key publications", "[store][publication]") {
    TempDir dir;
    auto s = open_store(dir / "s.db");
    const core::KeyPublication rows[] = {publication(1, kNowInterval, kNow)};
    REQUIRE(s.remember_key_publications(rows));
    REQUIRE(s.key_publications()->size() == 1);
    REQUIRE(s.erase_all());
    CHECK(s.key_publications()->empty());
    CHECK(s.stats()->key_publications == 0);
}

TEST_CASE("Verify and reading refuse a malformed key-publication row", "[store][publication]") {
    TempDir dir;
    auto s = open_store(dir / "s.db");
    auto& db = store::detail::StoreAccess::database(s);
    SECTION("a TEK stored as text") {
        REQUIRE(db.exec("INSERT INTO key_publications VALUES ('0123456789abcdef', 5, 6)"));
        CHECK(s.verify().error().code == ErrorCode::kStorageCorrupt);
    }
    SECTION("a window end beyond the interval range") {
        REQUIRE(db.exec("INSERT INTO key_publications VALUES (zeroblob(16), 4294967296, 6)"));
        CHECK(s.verify().error().code == ErrorCode::kStorageCorrupt);
        CHECK(s.key_publications().error().code == ErrorCode::kStorageCorrupt);
    }
    SECTION("negative neighbour: a well-formed row") {
        REQUIRE(db.exec("INSERT INTO key_publications VALUES (zeroblob(16), 4294967295, 6)"));
        CHECK(s.verify());
        CHECK(s.key_publications()->size() == 1);
    }
}
