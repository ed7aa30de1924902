// Two threads feeding heard advertisements while a third imports key files and checks.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include <sotto/tracer.hpp>

#include "integration/tracer/tracer_test_util.hpp"
#include "support.hpp"

using namespace sotto;
using test::kDay0;

TEST_CASE("Two threads feed while a third imports and checks, and nothing heard is lost",
          "[tracer][threads]") {
    test::TempDir dir, alice_dir;
    ManualClock clock((kDay0 + 9 * 3600) * 1000);
    // Alice's broadcasts of 09:00-09:30, and her released keys in a signed file.
    auto alice_t = Tracer::open(alice_dir / "a.db", test::tracer_credential(3), clock);
    REQUIRE(alice_t);
    test::Air alice_air;
    for (int s = 0; s < 1800; s += 60) {
        auto a = alice_t->current_advertisement();
        REQUIRE(a);
        REQUIRE(a->active);
        alice_air.emplace_back(a->service_data, clock.now_ms());
        clock.advance_ms(60'000);
    }
    const std::size_t alice_rpis = test::distinct_rpis(alice_air);
    clock.set_ms((kDay0 + 10 * 3600) * 1000);
    auto released = alice_t->release_own_keys(user_confirmed_upload_of_own_keys());
    REQUIRE(released);
    keyfile::TrustStore trust;
    const auto zip = test::publish(*released, trust, kDay0 + 10 * 3600, 2000);

    // Checked at noon: Alice's released key ended at 10:10, so it can be judged (not embargoed).
    clock.set_ms((kDay0 + 12 * 3600) * 1000);
    TracerOptions o;
    o.trust = trust;
    o.flush_count = 256;
    o.engine.threads = 1;
    auto t = Tracer::open(dir / "b.db", test::tracer_credential(), clock, std::move(o));
    REQUIRE(t);
    // Alice was heard before the checks start.
    for (const auto& [sd, when] : alice_air) REQUIRE(t->on_advertisement(sd, -55, when));

    constexpr std::uint32_t kPerThread = 20'000;
    std::atomic<std::uint32_t> failures{0};
    std::atomic<bool> feeding{true};
    auto feeder = [&](std::uint32_t base) {
        for (std::uint32_t i = 0; i < kPerThread; ++i) {
            core::ServiceData sd{};
            const std::uint32_t id = base + i;
            for (std::size_t b = 0; b < 4; ++b) sd[b] = static_cast<std::uint8_t>(id >> (8 * b));
            sd[10] = 0x77;
            // Spread over the last hour, so every packet is a distinct (RPI, interval) row.
            const std::int64_t when = (kDay0 + 9 * 3600) * 1000 + (i % 3600) * 1000;
            if (!t->on_advertisement(sd, -70, when)) ++failures;
        }
    };
    std::uint32_t checks = 0;
    std::uint32_t bad_checks = 0;
    std::thread a(feeder, 0);
    std::thread b(feeder, 1u << 24);
    std::thread checker([&] {
        while (feeding.load()) {
            auto imp = t->import_key_file(zip, {.rematch = true});
            auto r = t->check();
            ++checks;
            if (!imp || !r || r->matches.size() != alice_rpis) ++bad_checks;
        }
    });
    a.join();
    b.join();
    feeding = false;
    checker.join();
    REQUIRE(t->flush());

    CHECK(failures == 0);
    CHECK(checks > 0);
    CHECK(bad_checks == 0);
    const auto s = t->status();
    CHECK(s.heard == 2 * kPerThread + alice_air.size());
    CHECK(s.stored == s.heard);
    CHECK(s.pending == 0);
    CHECK(s.dropped_overflow == 0);
    const auto stats = t->store_stats();
    REQUIRE(stats);
    CHECK(stats->sightings ==
          2 * kPerThread + test::distinct_rows(alice_air));  // every fake RPI once
}
