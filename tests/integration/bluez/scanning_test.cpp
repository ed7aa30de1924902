// The scanner against a mock bluetoothd: the discovery filter, every repeat delivered with its
// RSSI, malformed D-Bus properties counted and dropped, and heard beacons reaching a real store.
#include <sotto/core/payload.hpp>
#include <sotto/platform/bluez_radio.hpp>
#include <sotto/store/encounter_store.hpp>

#include <limits>

#include "bluez_fixture.hpp"

using namespace sotto;
using namespace sotto::test;
using namespace std::chrono_literals;
namespace bz = sotto::platform::bluez;

namespace {

std::vector<std::uint8_t> payload(std::uint8_t seed) {
    std::vector<std::uint8_t> p(20);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(seed + i);
    p[16] = 0x40;  // AEM: version 1.0
    return p;
}

}  // namespace

TEST_CASE_METHOD(RadioOnBus, "Discovery is filtered on fd6f over LE with DuplicateData true",
                 "[bluez][dbus][scanning]") {
    CHECK(bus.count_calls("StartDiscovery") == 0);  // nothing before it is asked for
    REQUIRE(radio->start_scanning(rec.scan_callback()).has_value());
    CHECK(radio->status().scanning);

    const auto filter = bus.discovery_filter();
    REQUIRE(filter.size() == 3);
    CHECK(filter.at("UUIDs").get<std::vector<std::string>>() ==
          std::vector<std::string>{"0000fd6f-0000-1000-8000-00805f9b34fb"});
    CHECK(filter.at("Transport").get<std::string>() == "le");
    CHECK(filter.at("DuplicateData").get<bool>() == true);
    const auto log = bus.call_log();
    REQUIRE(log.size() == 2);
    CHECK(log[0] == "hci0 SetDiscoveryFilter");
    CHECK(log[1] == "hci0 StartDiscovery");

    // Scanning twice does not start a second session; stopping ends ours once.
    REQUIRE(radio->start_scanning(rec.scan_callback()).has_value());
    CHECK(bus.count_calls("StartDiscovery") == 1);
    REQUIRE(radio->stop_scanning().has_value());
    REQUIRE(radio->stop_scanning().has_value());
    CHECK(bus.count_calls("StopDiscovery") == 1);
    CHECK_FALSE(radio->status().scanning);
}

TEST_CASE("Injected advertisements reach the scan callback with their RSSI, repeats included",
          "[bluez][dbus][scanning]") {
    BluezBus bus;
    bus.add_adapter();
    ManualClock clock(1'700'000'000'123);
    auto radio = make_radio(clock);
    Recorder rec;
    REQUIRE(radio->start_scanning(rec.scan_callback()).has_value());

    const auto p = payload(1);
    bus.inject("4A:11:22:33:44:55", -60, p);  // InterfacesAdded
    REQUIRE(eventually([&] { return rec.heard_count() == 1; }));
    clock.advance_ms(250);
    for (int rssi : {-61, -61, -75})
        bus.inject("4A:11:22:33:44:55", static_cast<std::int16_t>(rssi), p);  // repeats
    bus.inject("6B:00:00:00:00:01", -80, payload(9));
    REQUIRE(eventually([&] { return rec.heard_count() == 5; }));

    const auto heard = rec.heard_copy();
    const std::vector<std::int16_t> rssis{-60, -61, -61, -75, -80};
    for (std::size_t i = 0; i < heard.size(); ++i) {
        CAPTURE(i);
        CHECK(heard[i].rssi == rssis[i]);
        CHECK(heard[i].uuid == 0xFD6F);
        CHECK(heard[i].data == (i < 4 ? p : payload(9)));
    }
    CHECK(heard[0].time_ms == 1'700'000'000'123);
    CHECK(heard[1].time_ms == 1'700'000'000'373);
    CHECK(heard[0].address == ble::Address{{0x4A, 0x11, 0x22, 0x33, 0x44, 0x55}});
    CHECK(heard[4].address == ble::Address{{0x6B, 0, 0, 0, 0, 1}});
    CHECK(radio->status().advertisements_heard == 5);

    // After stop_scanning nothing more is delivered.
    REQUIRE(radio->stop_scanning().has_value());
    bus.inject("4A:11:22:33:44:55", -50, p);
    std::this_thread::sleep_for(150ms);
    CHECK(rec.heard_count() == 5);
}

TEST_CASE_METHOD(RadioOnBus, "Malformed Device1 properties are counted and never delivered",
                 "[bluez][dbus][scanning]") {
    REQUIRE(radio->start_scanning(rec.scan_callback()).has_value());
    using Map = std::map<std::string, sdbus::Variant>;
    const std::string fd6f = "0000fd6f-0000-1000-8000-00805f9b34fb";
    const std::vector<std::uint8_t> good(20, 0x33);
    const std::string addr = "4A:00:00:00:00:AA";

    // Whole signals: wrong ServiceData type, missing RSSI, RSSI of the wrong type.
    bus.emit_device_properties(
        addr, {{"RSSI", sdbus::Variant(std::int16_t{-40})}, {"ServiceData", sdbus::Variant(good)}});
    bus.emit_device_properties(
        addr, {{"ServiceData", sdbus::Variant(Map{{fd6f, sdbus::Variant(good)}})}});
    bus.emit_device_properties(
        addr, {{"RSSI", sdbus::Variant(std::int32_t{-40})},
               {"ServiceData", sdbus::Variant(Map{{fd6f, sdbus::Variant(good)}})}});
    REQUIRE(eventually([&] { return radio->bluez_status().malformed_signals == 3; }));
    // Single entries: a key that is not a UUID, a value that is not bytes, absurd length.
    bus.emit_device_properties(
        addr, {{"RSSI", sdbus::Variant(std::int16_t{-40})},
               {"ServiceData",
                sdbus::Variant(
                    Map{{"not-a-uuid", sdbus::Variant(good)},
                        {"0000feaa-0000-1000-8000-00805f9b34fb", sdbus::Variant(std::string("x"))},
                        {fd6f, sdbus::Variant(std::vector<std::uint8_t>(400, 1))}})}});
    REQUIRE(eventually([&] { return radio->bluez_status().dropped_entries == 3; }));
    // An RSSI-only update is not an advertisement, and not malformed.
    bus.emit_device_properties(addr, {{"RSSI", sdbus::Variant(std::int16_t{-41})}});
    // The positive neighbour, same device: delivered.
    bus.emit_device_properties(
        addr, {{"RSSI", sdbus::Variant(std::int16_t{-42})},
               {"ServiceData", sdbus::Variant(Map{{fd6f, sdbus::Variant(good)}})}});
    REQUIRE(eventually([&] { return rec.heard_count() == 1; }));
    std::this_thread::sleep_for(100ms);
    CHECK(rec.heard_count() == 1);
    CHECK(rec.heard_copy()[0].rssi == -42);
    CHECK(rec.heard_copy()[0].data == good);
    CHECK(radio->bluez_status().malformed_signals == 3);
    CHECK(radio->bluez_status().dropped_entries == 3);
}

TEST_CASE("Heard beacons reach a real EncounterStore with their RSSI and malformed ones do not",
          "[bluez][dbus][scanning][store]") {
    BluezBus bus;
    bus.add_adapter();
    TempDir dir;
    constexpr std::int64_t kNow = 1'700'000'000;
    ManualClock clock(kNow * 1000);
    auto radio = make_radio(clock);

    // Until lib/ble's BeaconFeed is in main: callback -> core::Observation -> store batch.
    std::mutex m;
    std::vector<core::Observation> batch;
    std::size_t not_gaen = 0;
    REQUIRE(radio
                ->start_scanning([&](const ble::HeardAdvertisement& h) {
                    std::lock_guard lock(m);
                    auto beacon = core::decode_service_data(h.service_data);
                    if (h.service_uuid != core::kExposureNotificationUuid || !beacon) {
                        ++not_gaen;
                        return;
                    }
                    batch.push_back(core::Observation{
                        h.time_ms / 1000, static_cast<std::int8_t>(h.rssi_dbm), *beacon});
                })
                .has_value());

    bus.inject("4A:00:00:00:00:01", -55, payload(1));
    bus.inject("4A:00:00:00:00:01", -57, payload(1));
    bus.inject("4A:00:00:00:00:02", -70, payload(50));
    bus.inject("4A:00:00:00:00:03", -60, std::vector<std::uint8_t>(19, 7));  // truncated
    bus.inject("4A:00:00:00:00:04", -60, payload(3),
               "0000feaa-0000-1000-8000-00805f9b34fb");  // other
    REQUIRE(eventually([&] {
        std::lock_guard lock(m);
        return batch.size() + not_gaen == 5;
    }));
    REQUIRE(radio->stop_scanning().has_value());

    auto key = store::StoreKey{};
    for (std::size_t i = 0; i < key.expose_secret_mut().size(); ++i)
        key.expose_secret_mut()[i] = static_cast<std::uint8_t>(i * 3 + 1);
    auto st =
        store::EncounterStore::open(dir / "enc.db", store::Credential::raw_key(std::move(key)));
    REQUIRE(st.has_value());
    std::lock_guard lock(m);
    CHECK(not_gaen == 2);
    REQUIRE(batch.size() == 3);
    auto report = st->ingest(batch, kNow);
    REQUIRE(report.has_value());
    CHECK(report->accepted == 3);
    CHECK(report->new_rows == 2);

    auto rows = st->sightings_in_range(0, std::numeric_limits<std::uint64_t>::max());
    REQUIRE(rows.has_value());
    REQUIRE(rows->size() == 2);
    for (const auto& s : *rows) {
        const bool first = s.rpi.bytes[0] == 1;
        CAPTURE(first);
        CHECK(s.rssi_max == (first ? -55 : -70));
        CHECK(s.rssi_min == (first ? -57 : -70));
        CHECK(s.count == (first ? 2U : 1U));
        CHECK(s.first_seen == kNow);
    }
}

TEST_CASE_METHOD(RadioOnBus, "Device signals from a process other than bluetoothd are ignored",
                 "[bluez][dbus][scanning]") {
    REQUIRE(radio->start_scanning(rec.scan_callback()).has_value());
    using Map = std::map<std::string, sdbus::Variant>;
    const Map changed{{"RSSI", sdbus::Variant(std::int16_t{-30})},
                      {"ServiceData", sdbus::Variant(Map{{"0000fd6f-0000-1000-8000-00805f9b34fb",
                                                          sdbus::Variant(payload(4))}})}};
    bus.spoof_device_signal("/org/bluez/hci0/dev_4A_00_00_00_00_66", changed);
    // The same dict from bluetoothd is delivered (and, being later, proves the spoof was seen
    // and dropped rather than still in flight).
    bus.emit_device_properties("4A:00:00:00:00:77", changed);
    REQUIRE(eventually([&] { return rec.heard_count() >= 1; }));
    std::this_thread::sleep_for(100ms);
    const auto heard = rec.heard_copy();
    REQUIRE(heard.size() == 1);
    CHECK(heard[0].address == ble::Address{{0x4A, 0, 0, 0, 0, 0x77}});
}
