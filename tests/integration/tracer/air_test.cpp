// Tracers on simulated radios in lib/ble's simulated air: the whole device flow without a host
// feeding anything by hand. Alice and Bob sit together; Carol is far away.
#include <catch2/catch.hpp>

#include <sotto/platform/simulated/air.hpp>
#include <sotto/platform/simulated/simulated_radio.hpp>
#include <sotto/tracer.hpp>

#include "integration/tracer/tracer_test_util.hpp"
#include "support.hpp"

using namespace sotto;
namespace sim = sotto::platform::simulated;
using test::kDay0;

TEST_CASE("Tracers on simulated radios: who sat together is warned, who was far away is not",
          "[tracer][radio][air]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 8 * 3600) * 1000);
    auto air = sim::Air::create(clock, {});
    REQUIRE(air);
    auto make = [&](const char* name, sim::Point at, std::uint8_t key, bool continuous) {
        TracerOptions o;
        o.scan.continuous = continuous;
        auto t = Tracer::open(dir / name, test::tracer_credential(key), clock, std::move(o));
        REQUIRE(t);
        auto radio = (*air)->add_radio(at);
        REQUIRE(radio);
        REQUIRE(t->attach_radio(std::move(*radio)));
        return std::move(*t);
    };
    auto alice = make("alice.db", {0, 0}, 1, false);
    auto bob = make("bob.db", {1.5, 0.5}, 2, false);   // GAEN's duty cycle: 4 s every 3.5-5 min
    auto carol = make("carol.db", {900, 0}, 3, true);  // listens all the time, out of range

    // 45 minutes; every Tracer ticks once per simulated second (rotation, duty cycle, flushing).
    const std::int64_t end = clock.now_ms() + 45 * 60'000;
    while (clock.now_ms() < end) {
        REQUIRE((*air)->advance_to(clock.now_ms() + 1000));
        for (Tracer* t : {&alice, &bob, &carol}) (void)t->tick();
    }
    for (Tracer* t : {&alice, &bob, &carol}) {
        REQUIRE(t->detach_radio());
        REQUIRE(t->flush());
    }
    CHECK(bob.status().heard > 0);
    CHECK(bob.store_stats()->sightings >= 3);
    CHECK(carol.status().heard == 0);
    CHECK(carol.store_stats()->sightings == 0);
    CHECK(alice.status().rotations >= 3);  // 45 minutes of 10-20-minute RPIs

    // The next morning Alice shares her keys; Bob and Carol check.
    clock.set_ms((kDay0 + 86400 + 9 * 3600) * 1000);
    auto released = alice.release_own_keys(user_confirmed_upload_of_own_keys());
    REQUIRE(released);
    REQUIRE(released->size() == 1);
    keyfile::TrustStore trust;
    const auto zip = test::publish(*released, trust, clock.now_seconds());
    // The apps restart with the authority's key; their stores kept what they heard.
    auto reopen = [&](Tracer& t, const char* name, std::uint8_t key) {
        { Tracer closing = std::move(t); }  // closed: radio already detached, pending written
        TracerOptions o;
        o.trust = trust;
        auto r = Tracer::open(dir / name, test::tracer_credential(key), clock, std::move(o));
        REQUIRE(r);
        return std::move(*r);
    };
    bob = reopen(bob, "bob.db", 2);
    carol = reopen(carol, "carol.db", 3);
    for (Tracer* t : {&bob, &carol}) {
        auto imported = t->import_key_file(zip);
        REQUIRE(imported);
        CHECK(imported->verified());
    }
    auto b = bob.check();
    REQUIRE(b);
    CHECK(b->matches.size() >= 3);
    for (const auto& m : b->matches) CHECK(m.status == core::MatchStatus::kValid);
    REQUIRE(b->report.encounters.size() == 1);
    CHECK(b->report.encounters[0].minutes >= 30);
    auto c = carol.check();
    REQUIRE(c);
    CHECK(c->matches.empty());
    CHECK(c->report.encounters.empty());
}
