// Own TEKs, exposure records and processed key files.
#include <sotto/store/encounter_store.hpp>

#include "store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

core::ExposureKey key_for_day(std::uint32_t day, std::uint8_t fill, std::uint32_t period = 144) {
    core::ExposureKey k;
    for (auto& b : k.tek.expose_secret_mut()) b = fill;
    k.rolling_start = day * 144;
    k.rolling_period = period;
    return k;
}

}  // namespace

TEST_CASE("Own keys are stored, listed in rolling-start order and marked published",
          "[store][keys]") {
    TempDir dir;
    const auto p = dir / "s.db";
    {
        auto s = open_store(p);
        REQUIRE(s.add_own_key(key_for_day(kToday, 3), kNow));
        REQUIRE(s.add_own_key(key_for_day(kToday - 2, 1), kNow - 2 * 86400));
        REQUIRE(s.add_own_key(key_for_day(kToday - 1, 2, 100), kNow - 86400));
        // The same key again is a no-op; with other validity it is refused.
        REQUIRE(s.add_own_key(key_for_day(kToday, 3), kNow));
        auto clash = key_for_day(kToday, 3);
        clash.rolling_start += 1;
        CHECK(s.add_own_key(clash, kNow).error().code == ErrorCode::kInvalidArgument);
        CHECK(s.add_own_key(key_for_day(kToday, 9, 0), kNow).error().code ==
              ErrorCode::kInvalidArgument);
        CHECK(s.add_own_key(key_for_day(kToday, 9, 145), kNow).error().code ==
              ErrorCode::kInvalidArgument);
        REQUIRE(s.mark_published(key_for_day(kToday - 2, 1).tek));
        CHECK(s.mark_published(key_for_day(kToday - 2, 7).tek).error().code ==
              ErrorCode::kInvalidArgument);
    }
    auto s = open_store(p);
    auto keys = s.own_keys();
    REQUIRE(keys.has_value());
    REQUIRE(keys->size() == 3);
    CHECK((*keys)[0].key.tek == key_for_day(kToday - 2, 1).tek);
    CHECK((*keys)[0].key.rolling_start == (kToday - 2) * 144);
    CHECK((*keys)[0].created == kNow - 2 * 86400);
    CHECK((*keys)[0].published);
    CHECK((*keys)[1].key.rolling_period == 100);
    CHECK_FALSE((*keys)[1].published);
    CHECK((*keys)[2].key.tek == key_for_day(kToday, 3).tek);
    CHECK_FALSE((*keys)[2].published);
    CHECK(s.stats()->own_keys == 3);
}

TEST_CASE("Exposure records and processed files round-trip", "[store][exposure]") {
    TempDir dir;
    const auto p = dir / "s.db";
    const std::vector<store::ExposureRecord> recs = {
        {kNow, kToday - 3, 2, 4, 37.5, 52},
        {kNow - 10, kToday - 5, 1, 1, 5.25, 71},
        {kNow, kToday - 5, 0, 0, 0.0, 0},
    };
    {
        auto s = open_store(p);
        REQUIRE(s.add_exposure_records(recs));
        REQUIRE(s.add_exposure_records({}));
        const store::ExposureRecord bad{kNow, kToday, 3, 0, 0, 0};
        CHECK(s.add_exposure_records(std::span(&bad, 1)).error().code ==
              ErrorCode::kInvalidArgument);
        const std::string sha(64, 'A');
        REQUIRE(s.mark_file_processed(sha, kNow, 1234));
        CHECK(s.mark_file_processed("abc", kNow, 1).error().code == ErrorCode::kInvalidArgument);
        CHECK(s.mark_file_processed(std::string(64, 'g'), kNow, 1).error().code ==
              ErrorCode::kInvalidArgument);
    }
    auto s = open_store(p);
    auto got = s.exposure_records();
    REQUIRE(got.has_value());
    REQUIRE(got->size() == 3);
    CHECK((*got)[0] == recs[1]);  // ordered by (day, computed_at)
    CHECK((*got)[1] == recs[2]);
    CHECK((*got)[2] == recs[0]);
    CHECK(*s.file_processed(std::string(64, 'a')));  // case-insensitive
    CHECK_FALSE(*s.file_processed(std::string(64, 'b')));
    CHECK(s.file_processed("zz").error().code == ErrorCode::kInvalidArgument);
    CHECK(s.stats()->exposure_records == 3);
    CHECK(s.stats()->processed_files == 1);
}
