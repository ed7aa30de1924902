// Surviving the world: no adapter at start, power cycles, bluetoothd restarting, the adapter
// becoming discoverable behind our back, the bus itself going away.
#include <algorithm>
#include <atomic>
#include <thread>

#include <sotto/platform/bluez_radio.hpp>

#include "bluez_fixture.hpp"

using namespace sotto;
using namespace sotto::test;
using namespace std::chrono_literals;
namespace bz = sotto::platform::bluez;

namespace {

bool registered_with(BluezBus& bus, std::uint8_t fill) {
    auto ads = bus.advertisements();
    return ads.size() == 1 &&
           service_data_of(ads.begin()->second) == std::vector<std::uint8_t>(20, fill);
}

}  // namespace

TEST_CASE("Without an adapter the wish is kept and fulfilled when the adapter appears",
          "[bluez][dbus][recovery]") {
    BluezBus bus;  // bluetoothd runs, no adapter yet
    ManualClock clock;
    auto radio = make_radio(clock);
    Recorder rec;
    radio->set_event_callback(rec.event_callback());
    CHECK_FALSE(radio->status().adapter_present);

    auto a = radio->start_advertising(advertisement_filled(4));
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().code == ErrorCode::kBleUnavailable);
    auto s = radio->start_scanning(rec.scan_callback());
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == ErrorCode::kBleUnavailable);
    CHECK(bus.call_log().empty());

    bus.add_adapter();
    REQUIRE(eventually([&] { return radio->status().advertising && radio->status().scanning; }));
    CHECK(registered_with(bus, 4));
    CHECK(bus.count_calls("StartDiscovery") == 1);
    CHECK(eventually([&] { return rec.event_count(ble::RadioEventKind::kAdapterAvailable) == 1; }));
    bus.inject("4A:00:00:00:00:01", -66, std::vector<std::uint8_t>(20, 1));
    CHECK(eventually([&] { return rec.heard_count() == 1; }));
    {
        // Both callbacks run on the radio's D-Bus loop thread (radio.hpp), not the caller's.
        std::lock_guard lock(rec.mutex);
        CHECK(rec.scan_thread == rec.event_thread);
        CHECK(rec.scan_thread != std::this_thread::get_id());
        CHECK(rec.scan_thread != std::thread::id{});
    }

    SECTION("a wrong adapter name never matches another adapter") {
        bz::BluezOptions o;
        o.adapter = "hci1";
        auto other = bz::create(clock, o);
        REQUIRE(other.has_value());
        CHECK_FALSE((*other)->status().adapter_present);
        auto r = (*other)->start_advertising(advertisement_filled(5));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::kBleUnavailable);
    }
    SECTION("removing the adapter is reported and adding it back restores everything") {
        bus.remove_adapter();
        REQUIRE(eventually([&] { return !radio->status().adapter_present; }));
        CHECK(eventually(
            [&] { return rec.event_count(ble::RadioEventKind::kAdapterUnavailable) == 1; }));
        bus.add_adapter();
        REQUIRE(
            eventually([&] { return radio->status().advertising && radio->status().scanning; }));
        CHECK(registered_with(bus, 4));
        CHECK(bus.count_calls("StartDiscovery") == 2);
    }
}

TEST_CASE_METHOD(RadioOnBus,
                 "A power cycle stops everything and then re-registers and restarts discovery",
                 "[bluez][dbus][recovery]") {
    radio->set_event_callback(rec.event_callback());
    REQUIRE(radio->start_advertising(advertisement_filled(1)).has_value());
    REQUIRE(radio->start_scanning(rec.scan_callback()).has_value());

    bus.set_powered(false);
    REQUIRE(eventually([&] { return !radio->status().adapter_present; }));
    CHECK_FALSE(radio->status().advertising);
    CHECK_FALSE(radio->status().scanning);
    CHECK(bus.advertisements().empty());
    CHECK(
        eventually([&] { return rec.event_count(ble::RadioEventKind::kAdapterUnavailable) == 1; }));
    // A rotation while off is kept for later.
    auto r = radio->rotate(advertisement_filled(2));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kBleUnavailable);

    bus.set_powered(true);
    REQUIRE(eventually([&] { return radio->status().advertising && radio->status().scanning; }));
    CHECK(registered_with(bus, 2));  // the payload wanted now, not the one from before
    CHECK(bus.count_calls("StartDiscovery") == 2);
    CHECK(bus.count_calls("SetDiscoveryFilter") == 2);
    CHECK(eventually([&] { return rec.event_count(ble::RadioEventKind::kAdapterAvailable) == 1; }));
}

TEST_CASE_METHOD(RadioOnBus, "A bluetoothd restart re-registers everything",
                 "[bluez][dbus][recovery]") {
    radio->set_event_callback(rec.event_callback());
    REQUIRE(radio->start_advertising(advertisement_filled(6)).has_value());
    REQUIRE(radio->start_scanning(rec.scan_callback()).has_value());

    bus.kill_mock();
    REQUIRE(eventually([&] { return !radio->status().adapter_present; }));
    bus.start_mock();  // a fresh bluetoothd knows nothing about us
    CHECK(bus.call_log().empty());
    bus.add_adapter();
    REQUIRE(eventually([&] { return radio->status().advertising && radio->status().scanning; }));
    CHECK(registered_with(bus, 6));
    CHECK(bus.discovery_filter().count("DuplicateData") == 1);
    CHECK(bus.count_calls("StartDiscovery") == 1);
    CHECK(eventually([&] { return rec.event_count(ble::RadioEventKind::kServiceRestarted) == 1; }));
    CHECK(radio->bluez_status().service_restarts == 1);
    bus.inject("4A:00:00:00:00:09", -71, std::vector<std::uint8_t>(20, 2));
    CHECK(eventually([&] { return rec.heard_count() == 1; }));
}

TEST_CASE_METHOD(RadioOnBus, "A discoverable adapter is reported and never changed",
                 "[bluez][dbus][recovery]") {
    REQUIRE(radio->start_advertising(advertisement_filled(1)).has_value());
    CHECK_FALSE(radio->bluez_status().adapter_discoverable);
    bus.set_discoverable(true);
    CHECK(eventually([&] { return radio->bluez_status().adapter_discoverable; }));
    bus.set_discoverable(false);
    CHECK(eventually([&] { return !radio->bluez_status().adapter_discoverable; }));
    // The backend never wrote an adapter property (the mock logs every Properties.Set) ...
    CHECK(bus.mock_log().find("Set /org/bluez") == std::string::npos);
    // ... and the check would see one: the test's own write shows up.
    bus.set_adapter_property("Pairable", sdbus::Variant(false));
    CHECK(bus.mock_log().find("Set /org/bluez/hci0 org.bluez.Adapter1.Pairable") !=
          std::string::npos);
}

TEST_CASE_METHOD(RadioOnBus, "Losing the bus itself neither crashes nor hangs the radio",
                 "[bluez][dbus][recovery]") {
    radio->set_event_callback(rec.event_callback());
    REQUIRE(radio->start_advertising(advertisement_filled(1)).has_value());
    REQUIRE(radio->start_scanning(rec.scan_callback()).has_value());
    bus.kill_bus();
    REQUIRE(eventually([&] { return !radio->status().adapter_present; }));
    CHECK(
        eventually([&] { return rec.event_count(ble::RadioEventKind::kAdapterUnavailable) == 1; }));
    const auto t0 = std::chrono::steady_clock::now();
    auto r = radio->rotate(advertisement_filled(2));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kBleUnavailable);
    radio.reset();  // the destructor returns promptly
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
}

TEST_CASE("Creating a radio without any system bus fails cleanly", "[bluez][dbus][recovery]") {
    BluezBus bus(false);
    bus.kill_bus();
    ManualClock clock;
    auto r = bz::create(clock);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kBleUnavailable);

    SECTION("and bad options are refused before any connection") {
        bz::BluezOptions o;
        o.adapter = "../hci0";
        auto bad = bz::create(clock, o);
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error().code == ErrorCode::kInvalidArgument);
        o.adapter = "hci0";
        o.call_timeout = 0ms;
        bad = bz::create(clock, o);
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error().code == ErrorCode::kInvalidArgument);
    }
}

TEST_CASE_METHOD(
    RadioOnBus,
    "Discovery that cannot be restarted after a power cycle is reported and retried later",
    "[bluez][dbus][recovery]") {
    radio->set_event_callback(rec.event_callback());

    bus.refuse_next_discovery("org.bluez.Error.Failed");
    auto s = radio->start_scanning(rec.scan_callback());
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == ErrorCode::kBleRefused);
    CHECK_FALSE(radio->status().scanning);

    bus.set_powered(false);
    REQUIRE(eventually([&] { return !radio->status().adapter_present; }));
    bus.refuse_next_discovery("org.bluez.Error.Failed");
    bus.set_powered(true);
    CHECK(eventually([&] { return rec.event_count(ble::RadioEventKind::kScanningFailed) == 1; }));
    CHECK_FALSE(radio->status().scanning);
    // The wish is still there: the next power-on starts it.
    bus.set_powered(false);
    REQUIRE(eventually([&] { return !radio->status().adapter_present; }));
    bus.set_powered(true);
    CHECK(eventually([&] { return radio->status().scanning; }));
    CHECK(rec.event_count(ble::RadioEventKind::kScanningFailed) == 1);
}

TEST_CASE("Radio methods called from the event callback fail instead of deadlocking",
          "[bluez][dbus][recovery]") {
    BluezBus bus;
    ManualClock clock;
    auto radio = make_radio(clock);
    std::mutex m;
    std::vector<ErrorCode> inner;
    radio->set_event_callback([&](const ble::RadioEvent&) {
        auto r = radio->start_advertising(advertisement_filled(1));
        std::lock_guard lock(m);
        inner.push_back(r.has_value() ? ErrorCode::kOk : r.error().code);
    });
    bus.add_adapter();
    REQUIRE(eventually([&] {
        std::lock_guard lock(m);
        return !inner.empty();
    }));
    std::lock_guard lock(m);
    CHECK(inner.front() == ErrorCode::kFailedPrecondition);
    CHECK(bus.advertisements().empty());
}

TEST_CASE_METHOD(RadioOnBus,
                 "Overlapping calls from several threads leave one consistent registration",
                 "[bluez][dbus][recovery]") {
    REQUIRE(radio->start_advertising(advertisement_filled(0)).has_value());
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                const auto fill = static_cast<std::uint8_t>(t * 50 + i + 1);
                if (!radio->rotate(advertisement_filled(fill))) failures.fetch_add(1);
                (void)radio->status();
                if (t == 3 && i % 5 == 0) {
                    if (!radio->start_scanning([](const ble::HeardAdvertisement&) {}))
                        failures.fetch_add(1);
                    if (!radio->stop_scanning()) failures.fetch_add(1);
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(failures.load() == 0);
    CHECK(radio->status().rotations == 100);
    // Exactly one advertisement, carrying one of the rotations' payloads whole (never mixed).
    auto ads = bus.advertisements();
    REQUIRE(ads.size() == 1);
    const auto bytes = service_data_of(ads.begin()->second);
    REQUIRE(bytes.size() == 20);
    CHECK(std::all_of(bytes.begin(), bytes.end(), [&](std::uint8_t b) { return b == bytes[0]; }));
    CHECK(bytes[0] != 0);
    CHECK(bus.count_calls("RegisterAdvertisement") == 101);
    CHECK(bus.count_calls("UnregisterAdvertisement") == 100);
}

TEST_CASE("A radio created before bluetoothd runs starts once it appears",
          "[bluez][dbus][recovery]") {
    BluezBus bus(false);  // the bus, but no bluetoothd
    ManualClock clock;
    auto radio = make_radio(clock);
    Recorder rec;
    radio->set_event_callback(rec.event_callback());
    CHECK_FALSE(radio->status().adapter_present);
    auto r = radio->start_advertising(advertisement_filled(9));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kBleUnavailable);

    bus.start_mock();
    bus.add_adapter();
    REQUIRE(eventually([&] { return radio->status().advertising; }));
    CHECK(registered_with(bus, 9));
    CHECK(eventually([&] { return rec.event_count(ble::RadioEventKind::kAdapterAvailable) == 1; }));
    // Appearing for the first time is not a restart (it would be reported right after).
    std::this_thread::sleep_for(200ms);
    CHECK(rec.event_count(ble::RadioEventKind::kServiceRestarted) == 0);
    CHECK(radio->bluez_status().service_restarts == 0);
}
