// Ingest and queries: aggregation through core::Sighting, exact round trips, rejections, indexes.
#include <algorithm>
#include <random>

#include <sotto/core/heard.hpp>
#include <sotto/core/sighting.hpp>
#include <sotto/store/encounter_store.hpp>

#include "store/database.hpp"
#include "store/row_codec.hpp"
#include "store/store_access.hpp"
#include "store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;
using store::EncounterStore;

namespace {

// What core's aggregation gives for `obs` (all of one RPI and interval), in time order.
core::Sighting aggregate(std::vector<core::Observation> obs) {
    std::stable_sort(obs.begin(), obs.end(),
                     [](const auto& a, const auto& b) { return a.time < b.time; });
    core::Sighting s = core::make_sighting(obs.front());
    for (std::size_t i = 1; i < obs.size(); ++i) core::add_observation(s, obs[i]);
    return s;
}

}  // namespace

TEST_CASE("A sighting round-trips through the store exactly", "[store][ingest]") {
    TempDir dir;
    auto s = open_store(dir / "s.db");
    const core::IntervalNumber iv = kNowInterval - 10;
    const std::int64_t t0 = core::interval_start_seconds(iv) + 13;
    std::vector<core::Observation> obs;
    // Three scans (more than 25 s apart), varied RSSI, out-of-order input.
    for (int k : {0, 1, 2, 40, 41, 90, 5, 300, 599 - 13})
        obs.push_back(observation(t0 + k, -40 - k % 50, rpi_of(1, 1), 1));
    obs.push_back(observation(t0 + 3, -127, rpi_of(1, 1)));
    obs.push_back(observation(t0 + 4, 20, rpi_of(1, 1)));
    auto r = s.ingest(obs, kNow);
    REQUIRE(r.has_value());
    CHECK(r->accepted == obs.size());
    CHECK(r->rejected.empty());
    CHECK(r->new_rows == 1);
    CHECK(r->updated_rows == 0);

    auto got = s.sightings_in_range(iv, iv + 1);
    REQUIRE(got.has_value());
    REQUIRE(got->size() == 1);
    const core::Sighting expected = aggregate(obs);
    CHECK_FALSE(expected.aem_conflict);
    CHECK(expected.scans.size() >= 3);
    CHECK((*got)[0] == expected);
    // Neighbouring ranges are empty.
    CHECK(s.sightings_in_range(iv + 1, iv + 2)->empty());
    CHECK(s.sightings_in_range(iv - 1, iv)->empty());
    CHECK(s.sightings_in_range(iv, iv)->empty());
}

TEST_CASE("The row codec refuses malformed rows and round-trips extreme values", "[store][codec]") {
    core::Sighting s;
    s.interval = 4'000'000'000u;
    s.first_seen = core::interval_start_seconds(s.interval) + 599;
    s.last_seen = s.first_seen;
    s.count = 0xffffffffu;
    s.rssi_max = 20;
    s.rssi_min = -127;
    s.scans = {{s.first_seen, 20, -127, 65535, -65535 * 127}};
    auto row = store::detail::encode_sighting(s);
    REQUIRE(row.has_value());
    store::detail::RawRow raw;
    raw.interval = s.interval;
    raw.rpi = s.rpi.bytes;
    raw.data = row->blob();
    auto back = store::detail::decode_sighting(raw);
    REQUIRE(back.has_value());
    CHECK(*back == s);

    // Each damaged field is refused.
    auto damaged = [&](std::size_t at, std::uint8_t value) {
        std::vector<std::uint8_t> d(raw.data.begin(), raw.data.end());
        d[at] = value;
        auto bad = raw;
        bad.data = d;
        return store::detail::decode_sighting(bad).error().code;
    };
    CHECK(damaged(4, 2) == ErrorCode::kStorageCorrupt);        // flags
    CHECK(damaged(6, 0x03) == ErrorCode::kStorageCorrupt);     // first offset 0x3xx >= 600
    CHECK(damaged(13, 21) == ErrorCode::kStorageCorrupt);      // rssi_max above +20 dBm
    CHECK(damaged(14, 0x80) == ErrorCode::kStorageCorrupt);    // rssi_min -128
    CHECK(damaged(15 + 2, 21) == ErrorCode::kStorageCorrupt);  // a scan's rssi_max
    auto bad = raw;
    bad.data = raw.data.first(14);
    CHECK(store::detail::decode_sighting(bad).error().code == ErrorCode::kStorageCorrupt);
    bad.data = raw.data.first(20);
    CHECK(store::detail::decode_sighting(bad).error().code == ErrorCode::kStorageCorrupt);
    bad = raw;
    bad.rpi = raw.rpi.first(15);
    CHECK(store::detail::decode_sighting(bad).error().code == ErrorCode::kStorageCorrupt);
    {
        std::vector<std::uint8_t> d(raw.data.begin(), raw.data.end());
        d[9] = d[10] = d[11] = d[12] = 0;  // count 0
        bad = raw;
        bad.data = d;
        CHECK(store::detail::decode_sighting(bad).error().code == ErrorCode::kStorageCorrupt);
    }

    // A sighting whose first_seen lies outside its interval is never written.
    core::Sighting wrong = s;
    wrong.first_seen += 1;
    CHECK(store::detail::encode_sighting(wrong).error().code == ErrorCode::kInternal);
}

TEST_CASE("Ingest across batches merges into one row per RPI and interval", "[store][ingest]") {
    TempDir dir;
    auto s = open_store(dir / "s.db");
    const std::int64_t t0 = core::interval_start_seconds(kNowInterval - 20);
    // The same beacon heard every 4 seconds for the whole interval, delivered in 10 batches.
    std::vector<core::Observation> all;
    for (int k = 0; k < 150; ++k) all.push_back(observation(t0 + 4 * k, -60 + k % 7, rpi_of(2, 2)));
    std::size_t new_rows = 0, updated = 0;
    for (std::size_t b = 0; b < 10; ++b) {
        std::vector<core::Observation> batch(
            all.begin() + static_cast<std::ptrdiff_t>(b * 15),
            all.begin() + static_cast<std::ptrdiff_t>(b * 15 + 15));
        auto r = s.ingest(batch, kNow);
        REQUIRE(r.has_value());
        new_rows += r->new_rows;
        updated += r->updated_rows;
    }
    CHECK(new_rows == 1);
    CHECK(updated == 9);
    auto st = s.stats();
    REQUIRE(st.has_value());
    CHECK(st->sightings == 1);
    auto got = s.sightings_on_day(kToday);
    REQUIRE(got.has_value());
    REQUIRE(got->size() == 1);
    // Batch-wise merging gives what core's merge gives for the same batches.
    core::Sighting expected = aggregate({all.begin(), all.begin() + 15});
    for (std::size_t b = 1; b < 10; ++b)
        core::merge_sightings(expected,
                              aggregate({all.begin() + static_cast<std::ptrdiff_t>(b * 15),
                                         all.begin() + static_cast<std::ptrdiff_t>(b * 15 + 15)}));
    CHECK((*got)[0] == expected);
    CHECK((*got)[0].count == 150);
    CHECK((*got)[0].scans.size() <= core::kMaxScansPerSighting);
    // Repeating the beacon all day long does not grow the store beyond one row per interval.
    const auto size_before = std::filesystem::file_size(dir / "s.db");
    for (int round = 0; round < 20; ++round) REQUIRE(s.ingest(all, kNow).has_value());
    CHECK(s.stats()->sightings == 1);
    CHECK(std::filesystem::file_size(dir / "s.db") <= size_before + 8192);
}

TEST_CASE("Invalid observations are reported, never stored, and never stop the valid ones",
          "[store][ingest]") {
    TempDir dir;
    auto s = open_store(dir / "s.db");
    std::vector<core::Observation> obs = {
        observation(kNow - 100, -60, rpi_of(3, 0)),                               // ok
        observation(kNow - 100, -128, rpi_of(3, 1)),                              // RSSI too low
        observation(kNow - 100, 21, rpi_of(3, 2)),                                // RSSI too high
        observation(-5, -60, rpi_of(3, 3)),                                       // negative time
        observation(kNow + store::kMaxFutureSkewSeconds + 1, -60, rpi_of(3, 4)),  // future
        observation(kNow + store::kMaxFutureSkewSeconds, -60, rpi_of(3, 5)),      // ok: tolerated
        observation(kNow - 14 * 86400, -60, rpi_of(3, 6)),      // older than retention
        observation(kNow - 13 * 86400, -60, rpi_of(3, 7)),      // ok: 13 days back
        observation(std::int64_t{1} << 42, -60, rpi_of(3, 8)),  // beyond the ENIN range
    };
    auto r = s.ingest(obs, kNow);
    REQUIRE(r.has_value());
    CHECK(r->accepted == 3);
    CHECK(r->new_rows == 3);
    REQUIRE(r->rejected.size() == 6);
    std::vector<std::size_t> idx;
    for (const auto& rej : r->rejected) {
        idx.push_back(rej.index);
        CHECK(rej.error.code == ErrorCode::kOutOfRange);
        CHECK(std::string(rej.error.what).find("observation") == 0);
    }
    CHECK(idx == std::vector<std::size_t>{1, 2, 3, 4, 6, 8});
    CHECK(s.stats()->sightings == 3);
    // A batch of nothing but invalid observations writes nothing.
    auto none = s.ingest(std::span(obs).subspan(1, 2), kNow);
    REQUIRE(none.has_value());
    CHECK(none->accepted == 0);
    CHECK(s.stats()->sightings == 3);
    // An impossible "now" is an error for the whole call.
    CHECK(s.ingest(obs, -1).error().code == ErrorCode::kOutOfRange);
}

TEST_CASE("Checked packets are stored as they are, judged only by retention and the future",
          "[store][ingest]") {
    TempDir dir;
    auto s = open_store(dir / "s.db");
    std::vector<core::HeardBeacon> heard;
    for (const auto& o :
         {observation(kNow - 100, -127, rpi_of(4, 0)), observation(kNow - 99, 20, rpi_of(4, 0)),
          observation(kNow + store::kMaxFutureSkewSeconds + 1, -60, rpi_of(4, 1)),
          observation(kNow - 14 * 86400, -60, rpi_of(4, 2))}) {
        auto h = core::HeardBeacon::from_observation(o);
        REQUIRE(h.has_value());
        heard.push_back(*h);
    }
    auto r = s.ingest(std::span<const core::HeardBeacon>(heard), kNow);
    REQUIRE(r.has_value());
    CHECK(r->accepted == 2);
    CHECK(r->new_rows == 1);
    REQUIRE(r->rejected.size() == 2);
    CHECK(r->rejected[0].index == 2);  // in the future
    CHECK(r->rejected[1].index == 3);  // older than retention
    auto day = s.sightings_on_day(static_cast<std::uint32_t>(kNow / 86400));
    REQUIRE(day.has_value());
    REQUIRE(day->size() == 1);
    CHECK((*day)[0].count == 2);
    CHECK((*day)[0].rssi_max == 20);
    CHECK((*day)[0].rssi_min == -127);
}

TEST_CASE("Day and range queries use the primary key and return exactly their rows",
          "[store][query]") {
    TempDir dir;
    auto s = open_store(dir / "s.db");
    // Sightings over 5 days, 7 intervals a day, 3 RPIs each.
    std::vector<core::Observation> obs;
    std::vector<core::IntervalNumber> intervals;
    for (std::uint32_t d = 0; d < 5; ++d)
        for (std::uint32_t k = 0; k < 7; ++k) {
            const core::IntervalNumber iv = (kToday - d) * 144 + k * 20 + d;
            if (iv > kNowInterval) continue;
            intervals.push_back(iv);
            for (std::uint32_t r = 0; r < 3; ++r)
                obs.push_back(
                    observation(core::interval_start_seconds(iv) + 30 * r, -50, rpi_of(iv, r)));
        }
    std::sort(intervals.begin(), intervals.end());
    std::mt19937 rng(7);
    std::shuffle(obs.begin(), obs.end(), rng);
    auto r = s.ingest(obs, kNow);
    REQUIRE(r.has_value());
    REQUIRE(r->accepted == obs.size());

    for (std::uint32_t d = 0; d < 5; ++d) {
        auto day = s.sightings_on_day(kToday - d);
        REQUIRE(day.has_value());
        const auto expected = static_cast<std::size_t>(
            3 * std::count_if(intervals.begin(), intervals.end(),
                              [&](auto iv) { return iv / 144 == kToday - d; }));
        CHECK(day->size() == expected);
        for (std::size_t i = 0; i < day->size(); ++i) {
            CHECK((*day)[i].interval / 144 == kToday - d);
            if (i > 0) {
                const auto& a = (*day)[i - 1];
                const auto& b = (*day)[i];
                CHECK((a.interval < b.interval || (a.interval == b.interval && a.rpi < b.rpi)));
            }
        }
    }
    CHECK(s.sightings_on_day(kToday - 5)->empty());
    CHECK(s.sightings_on_day(kToday + 1)->empty());
    CHECK(s.sightings_on_day(0xffffffffu).error().code == ErrorCode::kOutOfRange);

    auto ivs = s.sighting_intervals();
    REQUIRE(ivs.has_value());
    CHECK(*ivs == intervals);

    const core::IntervalNumber a = intervals[3], b = intervals[9];
    auto range = s.sightings_in_range(a, b);
    REQUIRE(range.has_value());
    CHECK(range->size() == 3 * 6);
    CHECK(range->front().interval == a);
    CHECK(range->back().interval == intervals[8]);

    std::size_t seen = 0;
    REQUIRE(s.for_each_sighting([&](const core::Sighting&) { return ++seen < 10; }));
    CHECK(seen == 10);
    seen = 0;
    REQUIRE(s.for_each_sighting([&](const core::Sighting&) { return ++seen, true; }));
    CHECK(seen == obs.size());

    auto st = s.stats();
    REQUIRE(st.has_value());
    CHECK(st->sightings == obs.size());
    CHECK(st->rpis == obs.size());
    CHECK(st->days == 5);

    // The query plans are index range scans, not full scans.
    auto& db = store::detail::StoreAccess::database(s);
    auto plan = store::detail::Statement::prepare(
        db, "EXPLAIN QUERY PLAN SELECT * FROM sightings WHERE interval >= 1 AND interval < 2");
    REQUIRE(plan.has_value());
    REQUIRE(*plan->step());
    const std::string detail(plan->column_text(3));
    CAPTURE(detail);
    CHECK(detail.find("SEARCH") != std::string::npos);
    CHECK(detail.find("PRIMARY KEY") != std::string::npos);
}

TEST_CASE("A failing batch is rolled back completely", "[store][ingest]") {
    TempDir dir;
    auto s = open_store(dir / "s.db");
    std::vector<core::Observation> first;
    for (std::uint32_t i = 0; i < 50; ++i)
        first.push_back(observation(kNow - 60, -60, rpi_of(4, i)));
    REQUIRE(s.ingest(first, kNow).has_value());
    // Bound the file to its current size: the next (large) batch cannot fit.
    auto& db = store::detail::StoreAccess::database(s);
    auto pages = db.query_int("PRAGMA page_count");
    REQUIRE(pages.has_value());
    const std::string bound = "PRAGMA max_page_count = " + std::to_string(*pages);
    REQUIRE(db.exec(bound.c_str()).has_value());
    std::vector<core::Observation> big;
    for (std::uint32_t i = 0; i < 5000; ++i)
        big.push_back(observation(kNow - 30, -60, rpi_of(5, i)));
    for (std::uint32_t i = 0; i < 50; ++i) big.push_back(observation(kNow - 30, -60, rpi_of(4, i)));
    auto r = s.ingest(big, kNow);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kStorageFull);
    auto st = s.stats();
    REQUIRE(st.has_value());
    CHECK(st->sightings == 50);
    // The rows of the first batch were not touched by the failed merge.
    auto day = s.sightings_on_day(kToday);
    REQUIRE(day.has_value());
    for (const auto& x : *day) CHECK(x.count == 1);
    CHECK(s.verify().has_value());
}

TEST_CASE(
    "Copies of an RPI with other AEMs are kept apart, a bounded number of them, the rest counted",
    "[store][ingest][aem]") {
    TempDir dir;
    auto s = open_store(dir / "s.db");
    const core::IntervalNumber iv = kNowInterval - 3;
    const std::int64_t t0 = core::interval_start_seconds(iv) + 10;
    std::vector<core::Observation> genuine = {observation(t0, -60, rpi_of(2, 2), 1),
                                              observation(t0 + 5, -61, rpi_of(2, 2), 1)};
    REQUIRE(s.ingest(genuine, kNow)->new_rows == 1);
    // A garbled copy, then (in a second batch) as many forged AEMs as an attacker likes.
    std::vector<core::Observation> forged = {observation(t0 + 7, -40, rpi_of(2, 2), 2)};
    auto r1 = s.ingest(forged, kNow);
    REQUIRE(r1.has_value());
    CHECK(r1->new_rows == 1);
    std::vector<core::Observation> flood;
    for (std::uint8_t a = 3; a < 40; ++a)
        flood.push_back(observation(t0 + 8 + a, -30, rpi_of(2, 2), a));
    auto r2 = s.ingest(flood, kNow);
    REQUIRE(r2.has_value());
    CHECK(r2->new_rows == core::kMaxAemsPerRpi - 2);
    CHECK(r2->aems_dropped == flood.size() - (core::kMaxAemsPerRpi - 2));
    CHECK(r2->accepted == core::kMaxAemsPerRpi - 2);
    // More packets of the genuine AEM still join its row.
    auto r3 =
        s.ingest(std::vector<core::Observation>{observation(t0 + 100, -62, rpi_of(2, 2), 1)}, kNow);
    REQUIRE(r3.has_value());
    CHECK(r3->updated_rows == 1);
    CHECK(r3->aems_dropped == 0);

    auto got = s.sightings_in_range(iv, iv + 1);
    REQUIRE(got.has_value());
    REQUIRE(got->size() == core::kMaxAemsPerRpi);
    bool found_genuine = false;
    for (const auto& x : *got) {
        CHECK(x.aem_conflict);  // every kept row knows that AEMs were dropped
        if (x.aem == genuine[0].beacon.aem) {
            found_genuine = true;
            CHECK(x.count == 3);
            CHECK(x.rssi_max == -60);  // the forged packets' RSSI is not mixed in
        } else {
            CHECK(x.count == 1);
        }
    }
    CHECK(found_genuine);
    CHECK(s.verify().has_value());
    CHECK(s.stats()->sightings == core::kMaxAemsPerRpi);
    CHECK(s.stats()->rpis == 1);

    // Negative neighbour: another RPI in the same interval is unaffected.
    auto other =
        s.ingest(std::vector<core::Observation>{observation(t0, -60, rpi_of(3, 3), 1)}, kNow);
    REQUIRE(other.has_value());
    CHECK(other->new_rows == 1);
    auto o = s.sightings_in_range(iv, iv + 1);
    REQUIRE(o.has_value());
    for (const auto& x : *o)
        if (x.rpi == rpi_of(3, 3)) CHECK_FALSE(x.aem_conflict);
}
