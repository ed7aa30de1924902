// Two devices with real encrypted stores meet in the simulated air: each store holds the other's
// RPIs for exactly the intervals they were in range, and nothing else.
#include <set>
#include <utility>

#include <sotto/core/payload.hpp>

#include "air_test_util.hpp"
#include "store/store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

using Row = std::pair<core::RollingProximityId, core::IntervalNumber>;

// (RPI, receiver ENIN) rows `sender` must leave in a receiver that heard it during [from, to).
std::set<Row> expected_rows(const Device& sender, std::int64_t from, std::int64_t to) {
    std::set<Row> rows;
    for (std::size_t i = 0; i < sender.broadcasts.size(); ++i) {
        const auto& b = sender.broadcasts[i];
        const std::int64_t end = b.next_change_ms;
        const std::int64_t lo = std::max(from, b.started_ms), hi = std::min(to, end);
        if (lo >= hi) continue;
        const auto rpi = core::decode_service_data(b.advertisement.service_data)->rpi;
        for (std::int64_t iv = lo / 600'000; iv * 600'000 < hi; ++iv)
            rows.insert({rpi, static_cast<core::IntervalNumber>(iv)});
    }
    return rows;
}

std::set<Row> stored_rows(store::EncounterStore& s, std::int64_t& first_seen,
                          std::int64_t& last_seen) {
    auto all = s.sightings_in_range(0, 0xFFFFFFFFu);
    REQUIRE(all.has_value());
    std::set<Row> rows;
    first_seen = INT64_MAX;
    last_seen = INT64_MIN;
    for (const auto& x : *all) {
        rows.insert({x.rpi, x.interval});
        first_seen = std::min(first_seen, x.first_seen);
        last_seen = std::max(last_seen, x.last_seen);
    }
    return rows;
}

}  // namespace

TEST_CASE(
    "Two devices that meet store each other's RPIs for exactly the intervals they were in range",
    "[air][store]") {
    TempDir dir;
    const std::int64_t t0 = kNow * 1000;  // the store tests' fixed now, in ms
    ManualClock clock(t0 - 2 * 3'600'000);
    const std::int64_t start = clock.now_ms();
    const std::int64_t meet = start + 33 * 60'000, part = start + 78 * 60'000,
                       end = start + 2 * 3'600'000;

    auto air = sim::Air::create(clock, {});
    REQUIRE(air.has_value());
    auto store_a = open_store(dir / "a.db", 1), store_b = open_store(dir / "b.db", 2);
    StoreSink sink_a(store_a, clock), sink_b(store_b, clock);
    const auto continuous = continuous_scan();
    Device a = make_device(**air, {0, 0}, 1, sink_a, continuous);
    Device b = make_device(**air, {800, 0}, 2, sink_b, continuous);

    run(**air, clock, {&a, &b}, meet);
    REQUIRE((*air)->set_position(b.radio->id(), {3, 1}).has_value());
    run(**air, clock, {&a, &b}, part);
    REQUIRE((*air)->set_position(b.radio->id(), {800, 0}).has_value());
    run(**air, clock, {&a, &b}, end);
    REQUIRE(a.feed->stop().has_value());
    REQUIRE(b.feed->stop().has_value());

    for (auto [store, other, self] : {std::tuple{&store_a, &b, &a}, std::tuple{&store_b, &a, &b}}) {
        std::int64_t first = 0, last = 0;
        const auto rows = stored_rows(*store, first, last);
        const auto expected = expected_rows(*other, meet, part);
        CHECK(expected.size() >= 5);
        CHECK(rows == expected);
        CHECK(first >= meet / 1000);
        CHECK(last < part / 1000);
        // Negative neighbours: nothing of its own, nothing of the other outside the meeting.
        const auto own = expected_rows(*self, start, end);
        for (const auto& r : rows) CHECK_FALSE(own.count(r));
        const auto before = expected_rows(*other, start, meet),
                   after = expected_rows(*other, part, end);
        for (const auto& r : rows) {
            if (!expected.count(r)) {
                CHECK_FALSE(before.count(r));
                CHECK_FALSE(after.count(r));
            }
        }
        CHECK(a.feed->counters().dropped_bad_length == 0);
    }
    // The packets the feed folded away never reached the store, and the counts add up.
    const auto ca = a.feed->counters();
    CHECK(ca.flushed == ca.accepted);
    CHECK(ca.deduplicated > 0);
    CHECK(ca.heard == ca.accepted + ca.deduplicated);
}

TEST_CASE(
    "With GAEN's duty cycle every stored sighting lies inside one of the receiver's scan windows",
    "[air][store]") {
    TempDir dir;
    ManualClock clock(kNow * 1000 - 3'600'000);
    const std::int64_t start = clock.now_ms();
    auto air = sim::Air::create(clock, {});
    REQUIRE(air.has_value());
    auto store_a = open_store(dir / "a.db", 1), store_b = open_store(dir / "b.db", 2);
    StoreSink sink_a(store_a, clock), sink_b(store_b, clock);
    Device a = make_device(**air, {0, 0}, 3, sink_a);
    Device b = make_device(**air, {5, 0}, 4, sink_b);

    // Record A's scan windows as the device switches its scanner.
    std::vector<std::pair<std::int64_t, std::int64_t>> windows;
    a.update(start);
    b.update(start);
    bool on = a.scanning;
    std::int64_t since = start;
    while (clock.now_ms() < start + 3'600'000) {
        REQUIRE((*air)->advance_to(std::min(a.next_event(), b.next_event())).has_value());
        a.update(clock.now_ms());
        b.update(clock.now_ms());
        if (a.scanning != on) {
            if (on) windows.emplace_back(since, clock.now_ms());
            on = a.scanning;
            since = clock.now_ms();
        }
    }
    REQUIRE(a.feed->stop().has_value());
    REQUIRE(windows.size() >= 11);  // 60 min / 3.5-5 min
    for (const auto& [from, to] : windows) CHECK(to - from == 4'000);
    auto all = store_a.sightings_in_range(0, 0xFFFFFFFFu);
    REQUIRE(all.has_value());
    REQUIRE_FALSE(all->empty());
    std::size_t scans = 0;
    for (const auto& s : *all)
        for (const auto& scan : s.scans) {
            ++scans;
            const bool inside = std::any_of(windows.begin(), windows.end(), [&](const auto& w) {
                return scan.time >= w.first / 1000 && scan.time < (w.second + 999) / 1000;
            });
            CHECK(inside);
        }
    CHECK(scans >= windows.size());  // every window heard B at least once
}

TEST_CASE("A hostile radio's malformed and foreign advertisements never reach the store",
          "[air][store]") {
    TempDir dir;
    ManualClock clock(kNow * 1000 - 3'600'000);
    const std::int64_t start = clock.now_ms();
    auto air = sim::Air::create(clock, {});
    REQUIRE(air.has_value());
    auto store_a = open_store(dir / "a.db", 1), store_b = open_store(dir / "b.db", 2);
    StoreSink sink_a(store_a, clock), sink_b(store_b, clock);
    const auto continuous = continuous_scan();
    Device a = make_device(**air, {0, 0}, 5, sink_a, continuous);
    Device b = make_device(**air, {4, 0}, 6, sink_b, continuous);

    // Four hostile transmitters next to A: too short, too long, another UUID, empty.
    std::vector<std::unique_ptr<sim::SimulatedRadio>> hostile;
    const std::vector<std::uint8_t> bytes(27, 0xAB);
    const std::tuple<std::uint16_t, std::size_t> kinds[] = {
        {0xFD6F, 19}, {0xFD6F, 21}, {0x180F, 20}, {0xFD6F, 0}};
    std::uint8_t n = 1;
    for (const auto& [uuid, size] : kinds) {
        auto r = (*air)->add_radio({1, static_cast<double>(n)});
        REQUIRE(r.has_value());
        REQUIRE(
            (*r)->start_advertising_raw(uuid, std::span(bytes).first(size), {{0x21, n, 0, 0, 0, 1}})
                .has_value());
        hostile.push_back(std::move(*r));
        ++n;
    }
    auto too_long = hostile[0]->start_advertising_raw(0xFD6F, std::vector<std::uint8_t>(28, 1),
                                                      {{0x21, 9, 0, 0, 0, 1}});
    CHECK(too_long.error().code == ErrorCode::kInvalidArgument);

    run(**air, clock, {&a, &b}, start + 20 * 60'000);
    REQUIRE(a.feed->stop().has_value());
    std::int64_t first = 0, last = 0;
    const auto rows = stored_rows(store_a, first, last);
    CHECK(rows == expected_rows(b, start, start + 20 * 60'000));
    const auto c = a.feed->counters();
    CHECK(c.dropped_bad_length > 100);  // 19, 21 and 0 bytes
    CHECK(c.dropped_wrong_uuid > 50);
    CHECK(c.heard == c.accepted + c.deduplicated + c.dropped_bad_length + c.dropped_wrong_uuid);
}

TEST_CASE("A relayed device lands in a far store only through the relay and only later",
          "[air][store][relay]") {
    TempDir dir;
    ManualClock clock(kNow * 1000 - 3'600'000);
    const std::int64_t start = clock.now_ms(), end = start + 40 * 60'000;
    constexpr std::int64_t kDelay = 3 * 60'000;
    auto air = sim::Air::create(clock, {});
    REQUIRE(air.has_value());
    auto store_o = open_store(dir / "o.db", 1), store_v = open_store(dir / "v.db", 2);
    StoreSink sink_o(store_o, clock), sink_v(store_v, clock);
    const auto continuous = continuous_scan();
    Device origin = make_device(**air, {0, 0}, 7, sink_o, continuous);
    Device victim = make_device(**air, {3'000, 0}, 8, sink_v, continuous);
    SECTION("without a relay the far device hears nothing") {
        run(**air, clock, {&origin, &victim}, end);
        REQUIRE(victim.feed->stop().has_value());
        std::int64_t first = 0, last = 0;
        CHECK(stored_rows(store_v, first, last).empty());
    }
    SECTION("with a relay it holds the origin's RPIs, each seen only after the relay's delay") {
        REQUIRE((*air)->add_relay({{1, 0}, {3'001, 0}, kDelay, 0}).has_value());
        run(**air, clock, {&origin, &victim}, end);
        REQUIRE(victim.feed->stop().has_value());
        auto all = store_v.sightings_in_range(0, 0xFFFFFFFFu);
        REQUIRE(all.has_value());
        REQUIRE_FALSE(all->empty());
        for (const auto& s : *all) {
            const auto it = std::find_if(
                origin.broadcasts.begin(), origin.broadcasts.end(), [&](const auto& b) {
                    return core::decode_service_data(b.advertisement.service_data)->rpi == s.rpi;
                });
            REQUIRE(it != origin.broadcasts.end());                   // only the origin's RPIs
            CHECK(s.first_seen >= (it->started_ms + kDelay) / 1000);  // seconds, floored
            CHECK(s.last_seen <= (it->next_change_ms + kDelay - 1) / 1000);
        }
        // Nothing of the victim's own, and the origin's whole first broadcast arrived.
        const auto first_rpi =
            core::decode_service_data(origin.broadcasts[0].advertisement.service_data)->rpi;
        CHECK(std::any_of(all->begin(), all->end(),
                          [&](const auto& s) { return s.rpi == first_rpi; }));
    }
}
