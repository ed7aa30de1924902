// ScanDutyCycle: GAEN's windows and periods, configuration, continuous mode, late and backward
// calls.
#include <set>

#include <sotto/ble/scan_duty_cycle.hpp>

#include "ble_test_util.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::test;

TEST_CASE("By default the scanner is on 4 s every 3.5 to 5 minutes", "[ble][duty]") {
    core::DeterministicRng rng(1);
    auto d = ble::ScanDutyCycle::create({}, rng);
    REQUIRE(d.has_value());
    std::int64_t t = kMidnightMs;
    std::set<std::int64_t> periods;
    std::int64_t on_ms = 0;
    for (int cycle = 0; cycle < 200; ++cycle) {
        const auto on = d->at(t);
        REQUIRE(on.scanning);
        CHECK(on.next_switch_ms == t + 4'000);
        CHECK(d->at(on.next_switch_ms - 1).scanning);  // still on just before
        const auto off = d->at(on.next_switch_ms);
        REQUIRE_FALSE(off.scanning);
        const std::int64_t period = off.next_switch_ms - t;
        CHECK(period >= 210'000);
        CHECK(period <= 300'000);
        CHECK_FALSE(d->at(off.next_switch_ms - 1).scanning);  // still off just before
        periods.insert(period);
        on_ms += 4'000;
        t = off.next_switch_ms;
    }
    CHECK(periods.size() > 150);  // randomized
    const double duty = static_cast<double>(on_ms) / static_cast<double>(t - kMidnightMs);
    CHECK(duty > 4.0 / 300);
    CHECK(duty < 4.0 / 210);
}

TEST_CASE("Window and period are configurable and a fixed period repeats exactly", "[ble][duty]") {
    core::DeterministicRng rng(2);
    ble::ScanDutyConfig c;
    c.window_ms = 10'000;
    c.min_period_ms = c.max_period_ms = 60'000;
    auto d = ble::ScanDutyCycle::create(c, rng);
    REQUIRE(d.has_value());
    for (int i = 0; i < 5; ++i) {
        const std::int64_t start = kMidnightMs + i * 60'000;
        CHECK(d->at(start).scanning);
        CHECK(d->at(start).next_switch_ms == start + 10'000);
        CHECK(d->at(start + 9'999).scanning);
        CHECK_FALSE(d->at(start + 10'000).scanning);
        CHECK(d->at(start + 59'999).next_switch_ms == start + 60'000);
    }
}

TEST_CASE("Continuous scanning never switches off", "[ble][duty]") {
    core::DeterministicRng rng(3);
    ble::ScanDutyConfig c;
    c.continuous = true;
    auto d = ble::ScanDutyCycle::create(c, rng);
    REQUIRE(d.has_value());
    for (std::int64_t t = 0; t < 86'400'000; t += 3'600'000) {
        const auto s = d->at(kMidnightMs + t);
        CHECK(s.scanning);
        CHECK(s.next_switch_ms == INT64_MAX);
    }
}

TEST_CASE("A late or backward call starts a full new window at the call's time", "[ble][duty]") {
    core::DeterministicRng rng(4);
    auto d = ble::ScanDutyCycle::create({}, rng);
    REQUIRE(d.has_value());
    const auto first = d->at(kMidnightMs);
    const std::int64_t late = kMidnightMs + 3'600'000;
    const auto s = d->at(late);
    CHECK(s.scanning);
    CHECK(s.next_switch_ms == late + 4'000);
    const auto back = d->at(kMidnightMs - 1'000);
    CHECK(back.scanning);
    CHECK(back.next_switch_ms == kMidnightMs + 3'000);
    CHECK(first.next_switch_ms == kMidnightMs + 4'000);
}

TEST_CASE("Duty cycle settings out of range are refused", "[ble][duty]") {
    core::DeterministicRng rng(5);
    auto refused = [&](ble::ScanDutyConfig c) {
        auto d = ble::ScanDutyCycle::create(c, rng);
        REQUIRE_FALSE(d.has_value());
        CHECK(d.error().code == ErrorCode::kInvalidArgument);
    };
    ble::ScanDutyConfig c;
    c.window_ms = 99;
    refused(c);
    c = {};
    c.window_ms = 300'000;
    refused(c);  // longer than the shortest period
    c = {};
    c.min_period_ms = 400'000;
    refused(c);  // min > max
    c = {};
    c.max_period_ms = 3'600'001;
    refused(c);
    CHECK(ble::ScanDutyCycle::create({}, rng).has_value());
}
