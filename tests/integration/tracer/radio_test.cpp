// The Tracer with an attached radio (a fake that records calls and delivers heard packets).
#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/tracer.hpp>

#include "integration/tracer/tracer_test_util.hpp"
#include "support.hpp"

using namespace sotto;
using test::kDay0;

using test::fake_sd;
using test::open_at;

TEST_CASE("An attached radio advertises, rotates, feeds what it hears and stops when detached",
          "[tracer][radio]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    auto t = open_at(dir, clock);
    CHECK(t.attach_radio(nullptr).error().code == ErrorCode::kInvalidArgument);

    auto refusing = std::make_shared<test::FakeRadio::State>();
    refusing->fail_start = static_cast<int>(ErrorCode::kBleRefused);
    CHECK(t.attach_radio(std::make_unique<test::FakeRadio>(refusing)).error().code ==
          ErrorCode::kBleRefused);
    CHECK_FALSE(t.status().radio_attached);

    auto state = std::make_shared<test::FakeRadio::State>();
    REQUIRE(t.attach_radio(std::make_unique<test::FakeRadio>(state)));
    CHECK(t.status().radio_attached);
    const auto adv = t.current_advertisement();
    REQUIRE(adv);
    {
        std::lock_guard l(state->mu);
        REQUIRE(state->sent.size() == 1);
        CHECK(state->sent[0].service_data == adv->service_data);
        CHECK(state->sent[0].address == adv->address);
        CHECK(state->scanning);
    }
    const auto heard = fake_sd(42);
    REQUIRE(
        test::FakeRadio::hear(*state, heard, core::kExposureNotificationUuid, -50, clock.now_ms()));
    REQUIRE(
        test::FakeRadio::hear(*state, heard, 0x180F, -50, clock.now_ms()));  // not GAEN: ignored
    CHECK(t.status().heard == 1);
    CHECK(t.status().malformed == 0);

    REQUIRE(t.tick());
    CHECK(state->sent.size() == 1);  // not due: nothing to rotate
    // The scanner follows the duty cycle: 4 s on, then off until the next cycle.
    clock.advance_ms(5'000);
    REQUIRE(t.tick());
    CHECK_FALSE(state->scanning);
    CHECK_FALSE(
        test::FakeRadio::hear(*state, heard, core::kExposureNotificationUuid, -50, clock.now_ms()));
    clock.set_ms(adv->valid_until_ms);
    REQUIRE(t.tick());
    {
        std::lock_guard l(state->mu);
        REQUIRE(state->sent.size() == 2);
        CHECK(state->sent[1].service_data != state->sent[0].service_data);
        CHECK(state->sent[1].address != state->sent[0].address);
    }
    clock.advance_ms(300'000);  // a cycle (3.5-5 min) later the scanner is on again
    REQUIRE(t.tick());
    CHECK(state->scanning);
    // Releasing keys stops the released key at once, and a new one starts with the next interval.
    REQUIRE(t.release_own_keys(user_confirmed_upload_of_own_keys()));
    CHECK_FALSE(state->advertising);
    CHECK(state->sent.size() == 2);
    const auto paused = t.current_advertisement();
    REQUIRE(paused);
    CHECK_FALSE(paused->active);
    clock.set_ms(paused->valid_until_ms);
    REQUIRE(t.tick());
    {
        std::lock_guard l(state->mu);
        CHECK(state->advertising);
        REQUIRE(state->sent.size() == 3);
        CHECK(state->sent[2].service_data != state->sent[1].service_data);
    }

    REQUIRE(t.detach_radio());
    CHECK_FALSE(t.status().radio_attached);
    CHECK_FALSE(state->scanning);
    CHECK_FALSE(state->advertising);
    CHECK_FALSE(
        test::FakeRadio::hear(*state, heard, core::kExposureNotificationUuid, -50, clock.now_ms()));

    // The destructor stops an attached radio too, and what it heard is stored.
    auto second = std::make_shared<test::FakeRadio::State>();
    {
        auto t2 = open_at(dir, clock);
        REQUIRE(t2.attach_radio(std::make_unique<test::FakeRadio>(second)));
        REQUIRE(test::FakeRadio::hear(*second, fake_sd(43), core::kExposureNotificationUuid, -50,
                                      clock.now_ms()));
    }
    CHECK_FALSE(second->scanning);
}
