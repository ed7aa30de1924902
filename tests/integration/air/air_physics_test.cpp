// The simulated air's physics: path loss, walls, per-pair attenuation, range, loss and noise,
// determinism per seed whatever the chunking, and relays.
#include <cmath>
#include <map>
#include <tuple>
#include <vector>

#include "air_test_util.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

constexpr std::int64_t kStart = 1'700'000'000'000;

struct Rx {
    std::int64_t time_ms;
    int rssi;
    core::ServiceData data;
    ble::Address address;
    bool operator==(const Rx&) const = default;
};

struct Listener {
    std::unique_ptr<sim::SimulatedRadio> radio;
    std::shared_ptr<std::vector<Rx>> got = std::make_shared<std::vector<Rx>>();
};

Listener listener(sim::Air& air, sim::Point at) {
    Listener l;
    auto r = air.add_radio(at);
    REQUIRE(r.has_value());
    l.radio = std::move(*r);
    REQUIRE(l.radio
                ->start_scanning([got = l.got](const ble::HeardAdvertisement& h) {
                    Rx x{h.time_ms, h.rssi_dbm, {}, h.address};
                    REQUIRE(h.service_data.size() == x.data.size());
                    std::copy(h.service_data.begin(), h.service_data.end(), x.data.begin());
                    got->push_back(x);
                })
                .has_value());
    return l;
}

ble::Advertisement advert(std::uint8_t id) {
    ble::Advertisement a;
    for (std::size_t i = 0; i < a.service_data.size(); ++i)
        a.service_data[i] = static_cast<std::uint8_t>(id + i);
    a.address.bytes = {0x12, id, 3, 4, 5, 6};
    return a;
}

std::unique_ptr<sim::SimulatedRadio> sender(sim::Air& air, sim::Point at, std::uint8_t id) {
    auto r = air.add_radio(at);
    REQUIRE(r.has_value());
    REQUIRE((*r)->start_advertising(advert(id)).has_value());
    return std::move(*r);
}

std::unique_ptr<sim::Air> make_air(ManualClock& clock, sim::AirConfig c = {}) {
    auto a = sim::Air::create(clock, c);
    REQUIRE(a.has_value());
    return std::move(*a);
}

double mean_rssi(const std::vector<Rx>& v) {
    double s = 0;
    for (const auto& x : v) s += x.rssi;
    return v.empty() ? NAN : s / static_cast<double>(v.size());
}

}  // namespace

TEST_CASE("RSSI follows log-distance path loss and a wall makes it weaker", "[air][physics]") {
    ManualClock clock(kStart);
    auto air = make_air(clock);
    auto s = sender(*air, {0, 0}, 1);
    auto open = listener(*air, {10, 0});
    auto walled = listener(*air, {-10, 0});
    auto far = listener(*air, {0, 10});
    REQUIRE(air->add_wall({{-5, -5}, {-5, 5}, 12}).has_value());
    REQUIRE(air->set_pair_attenuation(s->id(), far.radio->id(), 5).has_value());
    REQUIRE(air->advance_to(kStart + 10'000).has_value());
    // 10 s at 200-270 ms: 37 to 50 packets each.
    for (auto* l : {&open, &walled, &far}) {
        CHECK(l->got->size() >= 37);
        CHECK(l->got->size() <= 50);
    }
    for (const auto& x : *open.got) CHECK(x.rssi == -79);    // -59 - 20 log10(10)
    for (const auto& x : *walled.got) CHECK(x.rssi == -91);  // and 12 dB of wall
    for (const auto& x : *far.got) CHECK(x.rssi == -84);     // and 5 dB between this pair
    CHECK(*open.got->front().data.begin() == 1);
    CHECK(open.radio->status().advertisements_heard == open.got->size());
}

TEST_CASE("Packets beyond the range or below the sensitivity are not received", "[air][physics]") {
    ManualClock clock(kStart);
    sim::AirConfig c;
    c.max_range_m = 50;
    c.sensitivity_dbm = -90;
    auto air = make_air(clock, c);
    auto s = sender(*air, {0, 0}, 1);
    auto in_range = listener(*air, {30, 0});  // -88.5 dBm: heard
    auto too_weak = listener(*air, {0, 40});  // -91 dBm: below sensitivity
    auto too_far = listener(*air, {0, -60});  // beyond 50 m
    auto not_scanning = air->add_radio({1, 1});
    REQUIRE(not_scanning.has_value());
    REQUIRE(air->advance_to(kStart + 5'000).has_value());
    CHECK_FALSE(in_range.got->empty());
    CHECK(too_weak.got->empty());
    CHECK(too_far.got->empty());
    CHECK((*not_scanning)->status().advertisements_heard == 0);
    CHECK(air->counters().packets_too_weak > 0);
}

TEST_CASE("Packet loss and noise are deterministic per seed whatever the chunking",
          "[air][physics]") {
    auto simulate = [](std::uint64_t seed, std::vector<std::int64_t> chunks) {
        ManualClock clock(kStart);
        sim::AirConfig c;
        c.seed = seed;
        c.noise_sigma_db = 4;
        c.packet_loss = 0.25;
        auto air = make_air(clock, c);
        auto s1 = sender(*air, {0, 0}, 1);
        auto s2 = sender(*air, {4, 0}, 2);
        auto l1 = listener(*air, {2, 3});
        auto l2 = listener(*air, {-6, 1});
        REQUIRE(
            air->set_path(s2->id(), {{kStart, {4, 0}}, {kStart + 60'000, {40, 0}}}).has_value());
        std::int64_t t = kStart;
        std::size_t i = 0;
        while (t < kStart + 60'000) {
            t = std::min(kStart + 60'000, t + chunks[i++ % chunks.size()]);
            REQUIRE(air->advance_to(t).has_value());
        }
        return std::tuple{*l1.got, *l2.got, air->counters()};
    };
    const auto [a1, a2, ac] = simulate(7, {1'000});
    const auto [b1, b2, bc] = simulate(7, {137, 2'300, 1, 999, 5'000});
    CHECK(a1 == b1);
    CHECK(a2 == b2);
    CHECK(ac.packets_delivered == bc.packets_delivered);
    const auto [c1, c2, cc] = simulate(8, {1'000});
    CHECK_FALSE(a1 == c1);

    // Loss: about a quarter of the packets considered; noise: about 4 dB around the mean.
    const double lost =
        static_cast<double>(ac.packets_lost) / static_cast<double>(ac.packets_considered);
    CHECK(lost > 0.21);
    CHECK(lost < 0.29);
    // s1 -> l1 stands still 3.6 m apart: mean -70.1 dBm.
    std::vector<Rx> from_s1;
    for (const auto& x : a1)
        if (x.data[0] == 1) from_s1.push_back(x);
    REQUIRE(from_s1.size() > 150);
    const double m = mean_rssi(from_s1);
    double var = 0;
    for (const auto& x : from_s1) var += (x.rssi - m) * (x.rssi - m);
    const double sd = std::sqrt(var / static_cast<double>(from_s1.size()));
    CHECK(std::abs(m - (-59 - 20 * std::log10(std::hypot(2.0, 3.0)))) < 1.0);
    CHECK(sd > 3.3);
    CHECK(sd < 4.7);
}

TEST_CASE("A relay's copies are heard where the original was not, later and with the same bytes",
          "[air][relay]") {
    ManualClock clock(kStart);
    auto air = make_air(clock);
    auto origin = sender(*air, {0, 0}, 9);
    auto near = listener(*air, {2, 0});        // where the relay listens: hears the original
    auto victim = listener(*air, {5'002, 0});  // 5 km away: only the relay can reach it
    REQUIRE(air->add_relay({{2, 0}, {5'000, 0}, 30'000, 0}).has_value());
    REQUIRE(air->advance_to(kStart + 90'000).has_value());

    REQUIRE_FALSE(victim.got->empty());
    std::vector<std::int64_t> expected;
    for (const auto& x : *near.got)
        if (x.time_ms + 30'000 < kStart + 90'000) expected.push_back(x.time_ms + 30'000);
    std::vector<std::int64_t> got;
    for (const auto& x : *victim.got) {
        CHECK(x.data == advert(9).service_data);  // the exact bytes
        CHECK(x.address == advert(9).address);
        CHECK(x.time_ms >= kStart + 30'000);  // never before the delay
        got.push_back(x.time_ms);
    }
    CHECK(got == expected);
    CHECK(air->counters().packets_relayed == near.got->size());

    // Negative neighbour: the same place without a relay hears nothing.
    ManualClock clock2(kStart);
    auto quiet = make_air(clock2);
    auto origin2 = sender(*quiet, {0, 0}, 9);
    auto victim2 = listener(*quiet, {5'002, 0});
    REQUIRE(quiet->advance_to(kStart + 90'000).has_value());
    CHECK(victim2.got->empty());
}

TEST_CASE("A waypoint path moves a device into range and out again", "[air][physics]") {
    ManualClock clock(kStart);
    auto air = make_air(clock);
    auto s = sender(*air, {0, 0}, 1);
    auto walker = listener(*air, {500, 0});
    REQUIRE(air->set_path(walker.radio->id(), {{kStart + 10'000, {500, 0}},
                                               {kStart + 20'000, {5, 0}},
                                               {kStart + 30'000, {5, 0}},
                                               {kStart + 40'000, {500, 0}}})
                .has_value());
    auto p = air->position(walker.radio->id(), kStart + 15'000);
    REQUIRE(p.has_value());
    CHECK(p->x_m == Approx(252.5));
    REQUIRE(air->advance_to(kStart + 60'000).has_value());
    REQUIRE_FALSE(walker.got->empty());
    // In range (100 m) from about t = 18.4 s to 31.6 s only.
    CHECK(walker.got->front().time_ms >= kStart + 18'000);
    CHECK(walker.got->back().time_ms < kStart + 32'000);
}
