#include <catch2/catch.hpp>

#include <sotto/core/sighting.hpp>

#include "support.hpp"

using namespace sotto::core;

namespace {
Observation obs(std::int64_t t, int rssi, std::uint8_t aem0 = 0xaa) {
    Observation o;
    o.time = t;
    o.rssi = static_cast<std::int8_t>(rssi);
    o.beacon.rpi.bytes.fill(0x11);
    o.beacon.aem.bytes = {aem0, 0x01, 0x02, 0x03};
    return o;
}
constexpr std::int64_t kT = 1614002100;  // inside one interval (ENIN 2690003 starts at 1614001800)
}  // namespace

TEST_CASE("Packets of one scan collapse into one scan record", "[core][sighting]") {
    Sighting s = make_sighting(obs(kT, -60));
    for (int i = 1; i <= 16; ++i) add_observation(s, obs(kT + i / 4, -60 - i % 3));
    CHECK(s.count == 17);
    REQUIRE(s.scans.size() == 1);
    CHECK(s.scans[0].packets == 17);
    CHECK(s.scans[0].rssi_max == -60);
    CHECK(s.scans[0].rssi_min == -62);
    CHECK(s.scans[0].rssi_mean() == -61);
    CHECK(s.first_seen == kT);
    CHECK(s.last_seen == kT + 4);
    CHECK(s.interval == 2690003u);
    CHECK_FALSE(s.aem_conflict);
}

TEST_CASE("A packet more than 25 s after a scan's start opens a new scan", "[core][sighting]") {
    Sighting s = make_sighting(obs(kT, -70));
    add_observation(s, obs(kT + 25, -71));  // same scan (boundary)
    add_observation(s, obs(kT + 26, -50));  // new scan
    add_observation(s, obs(kT + 200, -80));
    REQUIRE(s.scans.size() == 3);
    CHECK(s.scans[0].packets == 2);
    CHECK(s.scans[1].time == kT + 26);
    CHECK(s.scans[2].time == kT + 200);
    CHECK(s.rssi_max == -50);
    CHECK(s.rssi_min == -80);
}

TEST_CASE("Out-of-order packets land in the right scan", "[core][sighting]") {
    Sighting a = make_sighting(obs(kT + 200, -70));
    add_observation(a, obs(kT, -60));
    add_observation(a, obs(kT + 10, -62));
    add_observation(a, obs(kT + 190, -72));  // starts the later scan earlier
    REQUIRE(a.scans.size() == 2);
    CHECK(a.scans[0].time == kT);
    CHECK(a.scans[0].packets == 2);
    CHECK(a.scans[1].time == kT + 190);
    CHECK(a.scans[1].packets == 2);
    CHECK(a.first_seen == kT);
    CHECK(a.last_seen == kT + 200);
}

TEST_CASE("A different AEM for the same RPI is flagged", "[core][sighting]") {
    Sighting s = make_sighting(obs(kT, -60, 0xaa));
    add_observation(s, obs(kT + 1, -60, 0xaa));
    CHECK_FALSE(s.aem_conflict);
    add_observation(s, obs(kT + 2, -60, 0xab));
    CHECK(s.aem_conflict);
}

TEST_CASE("Merging sightings equals adding their packets", "[core][sighting]") {
    Sighting whole = make_sighting(obs(kT, -60));
    Sighting first = make_sighting(obs(kT, -60));
    Sighting second = make_sighting(obs(kT + 100, -65));
    add_observation(whole, obs(kT + 100, -65));
    for (int i = 1; i < 5; ++i) {
        add_observation(whole, obs(kT + i, -61));
        add_observation(first, obs(kT + i, -61));
        add_observation(whole, obs(kT + 100 + i, -66));
        add_observation(second, obs(kT + 100 + i, -66));
    }
    Sighting merged = second;
    merge_sightings(merged, first);
    CHECK(merged == whole);
    // Negative neighbour: a conflicting AEM in the merged part is flagged.
    Sighting other = make_sighting(obs(kT + 300, -60, 0x01));
    merge_sightings(merged, other);
    CHECK(merged.aem_conflict);
}

TEST_CASE("Scan records are capped while the totals keep counting", "[core][sighting]") {
    Sighting s = make_sighting(obs(kT, -60));
    for (int i = 1; i < 100; ++i) add_observation(s, obs(kT + 30 * i, -60));
    CHECK(s.scans.size() == kMaxScansPerSighting);
    CHECK(s.count == 100);
    CHECK(s.last_seen == kT + 30 * 99);
}
