// SimulatedRadio honours the ble::Radio contract: call order, addresses, callback threads and
// stop_scanning's guarantee, and an air that is gone.
#include <atomic>
#include <chrono>
#include <thread>

#include "air_test_util.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

constexpr std::int64_t kStart = 1'700'000'000'000;

ble::Advertisement advert(std::uint8_t top, std::uint8_t id) {
    ble::Advertisement a;
    a.service_data.fill(id);
    a.address.bytes = {top, id, 1, 2, 3, 4};
    return a;
}

}  // namespace

TEST_CASE("A simulated radio refuses wrong call orders and addresses", "[air][radio]") {
    ManualClock clock(kStart);
    auto air = sim::Air::create(clock, {});
    REQUIRE(air.has_value());
    auto r = (*air)->add_radio({0, 0});
    REQUIRE(r.has_value());
    auto& radio = **r;
    auto rot = radio.rotate(advert(0x12, 1));
    REQUIRE_FALSE(rot.has_value());
    CHECK(rot.error().code == ErrorCode::kFailedPrecondition);
    // Resolvable (01), static (11) and all-zero addresses are refused.
    for (std::uint8_t top : {std::uint8_t{0x40}, std::uint8_t{0xC0}}) {
        auto bad = radio.start_advertising(advert(top, 1));
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error().code == ErrorCode::kInvalidArgument);
    }
    ble::Advertisement zero;
    CHECK(radio.start_advertising(zero).error().code == ErrorCode::kInvalidArgument);
    REQUIRE(radio.start_advertising(advert(0x12, 1)).has_value());
    CHECK(radio.status().advertising);
    // The payload never changes without the address.
    auto same_address = advert(0x12, 1);
    same_address.service_data.fill(2);
    CHECK(radio.rotate(same_address).error().code == ErrorCode::kInvalidArgument);
    REQUIRE(radio.rotate(advert(0x12, 2)).has_value());
    CHECK(radio.status().rotations == 1);
    REQUIRE(radio.stop_advertising().has_value());
    REQUIRE(radio.stop_advertising().has_value());  // idempotent
    CHECK_FALSE(radio.status().advertising);
    CHECK(radio.start_scanning({}).error().code == ErrorCode::kInvalidArgument);
    REQUIRE(radio.stop_scanning().has_value());
    // Time moves forward only.
    REQUIRE((*air)->advance_to(kStart + 1'000).has_value());
    CHECK((*air)->advance_to(kStart).error().code == ErrorCode::kInvalidArgument);
    CHECK((*air)->advance_to(INT64_MAX).error().code == ErrorCode::kInvalidArgument);
    CHECK(clock.now_ms() == kStart + 1'000);
}

TEST_CASE("Scan callbacks run on the advancing thread and may not advance the air",
          "[air][radio]") {
    ManualClock clock(kStart);
    auto air = sim::Air::create(clock, {});
    REQUIRE(air.has_value());
    auto tx = (*air)->add_radio({0, 0});
    auto rx = (*air)->add_radio({1, 0});
    REQUIRE((*tx)->start_advertising(advert(0x12, 1)).has_value());
    std::thread::id seen;
    std::int64_t latest = 0;
    Error nested{ErrorCode::kOk, ""};
    bool time_ok = true;
    REQUIRE((*rx)
                ->start_scanning([&](const ble::HeardAdvertisement& h) {
                    seen = std::this_thread::get_id();
                    time_ok = time_ok && h.time_ms <= clock.now_ms() && h.time_ms >= latest;
                    latest = h.time_ms;
                    if (nested.code == ErrorCode::kOk) {
                        auto r = (*air)->advance_to(clock.now_ms() + 1'000);
                        nested = r ? Error{ErrorCode::kOk, ""} : r.error();
                    }
                })
                .has_value());
    REQUIRE((*air)->advance_to(kStart + 3'000).has_value());
    CHECK(seen == std::this_thread::get_id());
    CHECK(nested.code == ErrorCode::kFailedPrecondition);
    CHECK(time_ok);
    // A callback may stop its own radio's scanning without deadlock; nothing more is delivered.
    int after_stop = 0;
    bool stopped = false;
    REQUIRE((*rx)
                ->start_scanning([&](const ble::HeardAdvertisement&) {
                    if (stopped) ++after_stop;
                    stopped = true;
                    REQUIRE((*rx)->stop_scanning().has_value());
                })
                .has_value());
    REQUIRE((*air)->advance_to(kStart + 6'000).has_value());
    CHECK(stopped);
    CHECK(after_stop == 0);
}

TEST_CASE("After stop_scanning returns on another thread no scan callback runs", "[air][radio]") {
    ManualClock clock(kStart);
    auto air = sim::Air::create(clock, {});
    REQUIRE(air.has_value());
    auto tx = (*air)->add_radio({0, 0});
    auto rx = (*air)->add_radio({1, 0});
    REQUIRE((*tx)->start_advertising(advert(0x12, 1)).has_value());
    std::atomic<bool> in_callback{false}, stopping{false}, returned{false};
    std::atomic<int> calls{0}, late{0};
    REQUIRE((*rx)
                ->start_scanning([&](const ble::HeardAdvertisement&) {
                    in_callback = true;
                    if (returned) ++late;
                    if (++calls == 20) {
                        // Hold the 20th callback until the other thread is stopping, then a little
                        // longer: stop_scanning must wait for it.
                        while (!stopping) std::this_thread::yield();
                        std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    }
                    in_callback = false;
                })
                .has_value());
    std::atomic<bool> advanced{false};  // Catch2 assertions are not thread-safe: check after join
    std::thread advancer([&] { advanced = (*air)->advance_to(kStart + 600'000).has_value(); });
    while (calls < 20) std::this_thread::yield();
    stopping = true;
    REQUIRE((*rx)->stop_scanning().has_value());
    CHECK_FALSE(in_callback.load());
    returned = true;
    const int at_return = calls;
    advancer.join();
    CHECK(advanced);
    CHECK(late == 0);
    CHECK(at_return == 20);  // the rest of the 10 minutes was never delivered
    CHECK(calls == at_return);
}

TEST_CASE("A radio outliving its air reports the adapter unavailable", "[air][radio]") {
    ManualClock clock(kStart);
    std::unique_ptr<sim::SimulatedRadio> radio;
    {
        auto air = sim::Air::create(clock, {});
        REQUIRE(air.has_value());
        auto r = (*air)->add_radio({0, 0});
        REQUIRE(r.has_value());
        radio = std::move(*r);
        CHECK(radio->status().adapter_present);
    }
    CHECK(radio->start_advertising(advert(0x12, 1)).error().code == ErrorCode::kBleUnavailable);
    CHECK(radio->start_scanning([](const ble::HeardAdvertisement&) {}).error().code ==
          ErrorCode::kBleUnavailable);
    CHECK_FALSE(radio->status().adapter_present);
    REQUIRE(radio->stop_scanning().has_value());
}

TEST_CASE("Air settings out of range are refused", "[air][radio]") {
    ManualClock clock(kStart);
    auto refused = [&](sim::AirConfig c) {
        auto a = sim::Air::create(clock, c);
        REQUIRE_FALSE(a.has_value());
        CHECK(a.error().code == ErrorCode::kInvalidArgument);
    };
    sim::AirConfig c;
    c.packet_loss = 1.5;
    refused(c);
    c = {};
    c.noise_sigma_db = NAN;
    refused(c);
    c = {};
    c.min_adv_interval_ms = 300;
    refused(c);
    c = {};
    c.step_ms = 0;
    refused(c);
    c = {};
    c.max_range_m = 0;
    refused(c);
    auto air = sim::Air::create(clock, {});
    REQUIRE(air.has_value());
    CHECK((*air)->add_radio({NAN, 0}).error().code == ErrorCode::kInvalidArgument);
    CHECK((*air)->set_position(99, {0, 0}).error().code == ErrorCode::kInvalidArgument);
    auto r = (*air)->add_radio({0, 0});
    CHECK((*air)->set_path((*r)->id(), {}).error().code == ErrorCode::kInvalidArgument);
    CHECK((*air)->set_path((*r)->id(), {{5, {0, 0}}, {5, {1, 1}}}).error().code ==
          ErrorCode::kInvalidArgument);
    CHECK((*air)->add_relay({{0, 0}, {1, 1}, -1, 0}).error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("An adapter that goes away keeps the radio's wishes and resumes them when it is back",
          "[air][radio]") {
    ManualClock clock(kStart);
    auto air = sim::Air::create(clock, {});
    REQUIRE(air.has_value());
    auto tx = (*air)->add_radio({0, 0});
    auto rx = (*air)->add_radio({1, 0});
    REQUIRE(tx.has_value());
    REQUIRE(rx.has_value());
    std::vector<ble::RadioEventKind> events;
    std::thread::id event_thread;
    (*tx)->set_event_callback([&](const ble::RadioEvent& e) {
        events.push_back(e.kind);
        event_thread = std::this_thread::get_id();
        if (e.kind == ble::RadioEventKind::kAdapterUnavailable)
            CHECK(e.error.code == ErrorCode::kBleUnavailable);
    });
    std::vector<std::int64_t> heard;
    REQUIRE(
        (*rx)
            ->start_scanning([&](const ble::HeardAdvertisement& h) { heard.push_back(h.time_ms); })
            .has_value());

    REQUIRE((*air)->set_adapter_present((*tx)->id(), false).has_value());
    CHECK(events.empty());  // delivered on the advancing thread, not here
    auto r = (*tx)->start_advertising(advert(0x12, 1));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kBleUnavailable);
    CHECK_FALSE((*tx)->status().adapter_present);
    CHECK_FALSE((*tx)->status().advertising);
    REQUIRE((*air)->advance_to(kStart + 10'000).has_value());
    CHECK(heard.empty());  // nothing is sent without an adapter
    REQUIRE(events.size() == 1);
    CHECK(events[0] == ble::RadioEventKind::kAdapterUnavailable);
    CHECK(event_thread == std::this_thread::get_id());

    REQUIRE((*air)->set_adapter_present((*tx)->id(), true).has_value());
    REQUIRE((*air)->advance_to(kStart + 20'000).has_value());
    REQUIRE(events.size() == 2);
    CHECK(events[1] == ble::RadioEventKind::kAdapterAvailable);
    CHECK((*tx)->status().advertising);  // the kept wish, without a new call
    REQUIRE_FALSE(heard.empty());
    CHECK(heard.front() >= kStart + 10'000);

    // The receiver's adapter goes too: it hears nothing, then resumes its scan as asked.
    REQUIRE((*air)->set_adapter_present((*rx)->id(), false).has_value());
    const auto before = heard.size();
    REQUIRE((*air)->advance_to(kStart + 30'000).has_value());
    CHECK(heard.size() == before);
    CHECK_FALSE((*rx)->status().scanning);
    REQUIRE((*air)->set_adapter_present((*rx)->id(), true).has_value());
    REQUIRE((*air)->advance_to(kStart + 40'000).has_value());
    CHECK(heard.size() > before);
    CHECK(heard[before] >= kStart + 30'000);

    // With the event callback removed, nothing more is delivered to it.
    (*tx)->set_event_callback({});
    REQUIRE((*air)->set_adapter_present((*tx)->id(), false).has_value());
    REQUIRE((*air)->advance_to(kStart + 41'000).has_value());
    CHECK(events.size() == 2);
    CHECK((*air)->set_adapter_present(99, false).error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("Radios may be driven from other threads while the air advances", "[air][radio]") {
    ManualClock clock(kStart);
    auto air = sim::Air::create(clock, {});
    REQUIRE(air.has_value());
    std::vector<std::unique_ptr<sim::SimulatedRadio>> radios;
    for (int i = 0; i < 6; ++i) {
        auto r = (*air)->add_radio({static_cast<double>(i), 0});
        REQUIRE(r.has_value());
        REQUIRE(
            (*r)->start_advertising(advert(0x12, static_cast<std::uint8_t>(i + 1))).has_value());
        radios.push_back(std::move(*r));
    }
    std::atomic<std::uint64_t> heard{0};
    auto count = [&heard](const ble::HeardAdvertisement&) { heard.fetch_add(1); };
    REQUIRE(radios[0]->start_scanning(count).has_value());
    std::atomic<bool> done{false}, advanced{true};
    std::atomic<int> ops{0};
    // The air runs at least 20 minutes, and on until the other thread has done 20 rounds (up to
    // a simulated day), so the two really overlap however the threads are scheduled.
    std::thread advancer([&] {
        for (std::int64_t t = kStart + 250;
             (t <= kStart + 1'200'000 || ops.load() < 20) && t <= kStart + 86'400'000; t += 250)
            if (!(*air)->advance_to(t).has_value()) advanced = false;
        done = true;
    });
    std::uint8_t id = 100;
    while (!done) {
        auto& r = *radios[1 + static_cast<std::size_t>(ops % 5)];
        bool fine = r.rotate(advert(0x12, ++id)).has_value();
        fine = fine && (*air)->set_position(r.id(), {static_cast<double>(ops % 50), 1}).has_value();
        fine = fine && r.start_scanning(count).has_value();
        fine = fine && r.stop_scanning().has_value();
        (void)r.status();
        (void)(*air)->counters();
        if (!fine) break;
        ++ops;
    }
    advancer.join();
    CHECK(advanced);
    CHECK(done);
    CHECK(ops >= 20);
    CHECK(heard.load() > 0);
    CHECK(heard.load() == radios[0]->status().advertisements_heard + [&] {
        std::uint64_t others = 0;
        for (std::size_t i = 1; i < radios.size(); ++i)
            others += radios[i]->status().advertisements_heard;
        return others;
    }());
}
