// The advertiser against a mock bluetoothd on a private bus: what BlueZ reads back, rotation,
// refusals, Release and a bluetoothd that never answers.
#include <sotto/platform/bluez_radio.hpp>

#include "bluez_fixture.hpp"

using namespace sotto;
using namespace sotto::test;
using namespace std::chrono_literals;
namespace bz = sotto::platform::bluez;

namespace {

// The only registered advertisement's properties (fails the test if there is not exactly one).
std::map<std::string, sdbus::Variant> only_advertisement(BluezBus& bus) {
    auto ads = bus.advertisements();
    REQUIRE(ads.size() == 1);
    return ads.begin()->second;
}

}  // namespace

TEST_CASE(
    "The registered advertisement is a non-connectable broadcast carrying exactly the payload",
    "[bluez][dbus][advertising]") {
    BluezBus bus;
    bus.add_adapter();
    ManualClock clock(1'700'000'000'000);
    auto radio = make_radio(clock);
    CHECK(radio->status().adapter_present);

    auto adv = advertisement_filled(0);
    for (std::size_t i = 0; i < adv.service_data.size(); ++i)
        adv.service_data[i] = static_cast<std::uint8_t>(0xA0 + i);
    REQUIRE(radio->start_advertising(adv).has_value());
    CHECK(radio->status().advertising);

    const auto props = only_advertisement(bus);
    REQUIRE(props.count("Type") == 1);
    CHECK(props.at("Type").get<std::string>() == "broadcast");
    REQUIRE(props.count("ServiceUUIDs") == 1);
    CHECK(props.at("ServiceUUIDs").get<std::vector<std::string>>() ==
          std::vector<std::string>{"fd6f"});
    const auto bytes = service_data_of(props);
    REQUIRE(bytes.size() == 20);
    CHECK(std::equal(bytes.begin(), bytes.end(), adv.service_data.begin()));
    // The GAEN interval, as uint32 milliseconds (BlueZ rejects other types).
    REQUIRE(props.count("MinInterval") == 1);
    REQUIRE(props.count("MaxInterval") == 1);
    CHECK(props.at("MinInterval").peekValueType() == "u");
    CHECK(props.at("MinInterval").get<std::uint32_t>() == 200);
    CHECK(props.at("MaxInterval").get<std::uint32_t>() == 270);
    CHECK(props.size() == 5);  // Type, ServiceUUIDs, ServiceData, MinInterval, MaxInterval
    // Nothing that would make it discoverable, connectable or longer.
    CHECK(props.count("Discoverable") == 0);
    CHECK(props.count("Includes") == 0);
    CHECK(props.count("LocalName") == 0);
    CHECK(props.count("Appearance") == 0);
    CHECK(bus.count_calls("RegisterAdvertisement /org/sotto/advertisement0") == 1);

    // The negative neighbour: another payload is not what was registered.
    auto other = adv;
    other.service_data[5] ^= 0x01;
    CHECK_FALSE(std::equal(bytes.begin(), bytes.end(), other.service_data.begin()));
}

TEST_CASE_METHOD(RadioOnBus, "Rotation unregisters and registers again with the new payload",
                 "[bluez][dbus][advertising]") {
    SECTION("rotate before start_advertising is a precondition error") {
        auto r = radio->rotate(advertisement_filled(2));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::kFailedPrecondition);
        CHECK(bus.advertisements().empty());
    }
    SECTION("each rotation re-registers with the new bytes") {
        REQUIRE(radio->start_advertising(advertisement_filled(1)).has_value());
        CHECK(service_data_of(only_advertisement(bus)) == std::vector<std::uint8_t>(20, 1));
        REQUIRE(radio->rotate(advertisement_filled(2)).has_value());
        CHECK(service_data_of(only_advertisement(bus)) == std::vector<std::uint8_t>(20, 2));
        REQUIRE(radio->rotate(advertisement_filled(3)).has_value());
        CHECK(service_data_of(only_advertisement(bus)) == std::vector<std::uint8_t>(20, 3));

        const auto log = bus.call_log();
        std::vector<std::string> adv_calls;
        for (const auto& l : log)
            if (l.find("Advertisement ") != std::string::npos) adv_calls.push_back(l.substr(5, 3));
        // Register, then (Unregister, Register) per rotation: never two registrations in a row.
        CHECK(adv_calls == std::vector<std::string>{"Reg", "Unr", "Reg", "Unr", "Reg"});
        CHECK(radio->status().rotations == 2);
        CHECK(radio->bluez_status().registrations == 3);
    }
    SECTION("stop_advertising unregisters and is idempotent") {
        REQUIRE(radio->start_advertising(advertisement_filled(1)).has_value());
        REQUIRE(radio->stop_advertising().has_value());
        CHECK(bus.advertisements().empty());
        CHECK_FALSE(radio->status().advertising);
        REQUIRE(radio->stop_advertising().has_value());
        auto r = radio->rotate(advertisement_filled(4));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::kFailedPrecondition);
    }
}

TEST_CASE_METHOD(
    RadioOnBus, "An adapter that refuses the advertisement surfaces the error and scanning goes on",
    "[bluez][dbus][advertising]") {
    REQUIRE(radio->start_scanning(rec.scan_callback()).has_value());

    SECTION("InvalidLength gives kBleRefused") {
        bus.refuse_next_registration("org.bluez.Error.InvalidLength");
        auto r = radio->start_advertising(advertisement_filled(7));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::kBleRefused);
    }
    SECTION("NotPermitted (no free slot) gives kBleBusy") {
        bus.refuse_next_registration("org.bluez.Error.NotPermitted");
        auto r = radio->start_advertising(advertisement_filled(7));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::kBleBusy);
    }
    CHECK(bus.advertisements().empty());
    CHECK_FALSE(radio->status().advertising);
    CHECK(radio->status().scanning);
    bus.inject("4A:00:00:00:00:01", -60, std::vector<std::uint8_t>(20, 9));
    CHECK(eventually([&] { return rec.heard_count() == 1; }));

    // The refusal was for one registration: the next attempt goes through.
    REQUIRE(radio->start_advertising(advertisement_filled(8)).has_value());
    CHECK(service_data_of(only_advertisement(bus)) == std::vector<std::uint8_t>(20, 8));
}

TEST_CASE("A bluetoothd that never answers RegisterAdvertisement gives kBleTimeout, not a hang",
          "[bluez][dbus][advertising]") {
    BluezBus bus;
    bus.add_adapter();
    ManualClock clock;
    bz::BluezOptions o;
    o.call_timeout = 300ms;
    auto radio = make_radio(clock, o);
    bus.ignore_next_registration();
    const auto t0 = std::chrono::steady_clock::now();
    auto r = radio->start_advertising(advertisement_filled(5));
    const auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kBleTimeout);
    CHECK(took >= 250ms);
    CHECK(took < 3s);
    // The radio still works afterwards.
    REQUIRE(radio->start_advertising(advertisement_filled(6)).has_value());
    CHECK(service_data_of(only_advertisement(bus)) == std::vector<std::uint8_t>(20, 6));
}

TEST_CASE("An advertisement released by bluetoothd is registered again after the back-off",
          "[bluez][dbus][advertising]") {
    BluezBus bus;
    bus.add_adapter();
    ManualClock clock;
    bz::BluezOptions o;
    o.release_backoff = 50ms;
    auto radio = make_radio(clock, o);
    Recorder rec;
    radio->set_event_callback(rec.event_callback());
    REQUIRE(radio->start_advertising(advertisement_filled(3)).has_value());
    bus.release_advertisements();
    CHECK(
        eventually([&] { return rec.event_count(ble::RadioEventKind::kAdvertisingFailed) == 1; }));
    CHECK(eventually([&] { return bus.advertisements().size() == 1; }));
    CHECK(service_data_of(only_advertisement(bus)) == std::vector<std::uint8_t>(20, 3));
    // The mock records the registration before it replies: wait for the reply to be processed.
    REQUIRE(eventually([&] { return radio->bluez_status().registrations == 2; }));

    SECTION("but not when advertising was stopped") {
        REQUIRE(radio->stop_advertising().has_value());
        bus.release_advertisements();
        std::this_thread::sleep_for(200ms);
        CHECK(bus.advertisements().empty());
        CHECK(radio->bluez_status().registrations == 2);
    }
}

TEST_CASE_METHOD(RadioOnBus, "Radio methods called from a callback fail instead of deadlocking",
                 "[bluez][dbus][advertising]") {
    std::mutex m;
    std::optional<ErrorCode> inner;
    REQUIRE(radio
                ->start_scanning([&](const ble::HeardAdvertisement&) {
                    auto r = radio->stop_scanning();
                    std::lock_guard lock(m);
                    inner = r.has_value() ? ErrorCode::kOk : r.error().code;
                })
                .has_value());
    bus.inject("4A:00:00:00:00:02", -50, std::vector<std::uint8_t>(20, 1));
    CHECK(eventually([&] {
        std::lock_guard lock(m);
        return inner.has_value();
    }));
    std::lock_guard lock(m);
    CHECK(inner == ErrorCode::kFailedPrecondition);
}

TEST_CASE_METHOD(RadioOnBus,
                 "A registration bluetoothd already holds is replaced with the current payload",
                 "[bluez][dbus][advertising]") {
    bus.refuse_next_registration("org.bluez.Error.AlreadyExists");
    REQUIRE(radio->start_advertising(advertisement_filled(4)).has_value());
    CHECK(service_data_of(only_advertisement(bus)) == std::vector<std::uint8_t>(20, 4));
    std::vector<std::string> adv_calls;
    for (const auto& l : bus.call_log())
        if (l.find("Advertisement ") != std::string::npos) adv_calls.push_back(l.substr(5, 3));
    CHECK(adv_calls == std::vector<std::string>{"Reg", "Unr", "Reg"});
}
