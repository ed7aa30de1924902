// Device1 property decoding on plain values: no bus involved.
#include <sotto/platform/bluez_radio.hpp>

#include "bluez/device_properties.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::platform::bluez;

namespace {

const std::string kFd6f = "0000fd6f-0000-1000-8000-00805f9b34fb";
const std::string kPath = "/org/bluez/hci0/dev_4A_11_22_33_44_55";

PlainValue int16(std::int64_t v) { return PlainValue{"n", v, {}, {}, {}}; }
PlainValue text(std::string s) { return PlainValue{"s", 0, std::move(s), {}, {}}; }
PlainValue bytes(std::vector<std::uint8_t> b) { return PlainValue{"ay", 0, {}, std::move(b), {}}; }
PlainValue dict(std::vector<PlainEntry> e) { return PlainValue{"a{sv}", 0, {}, {}, std::move(e)}; }
std::vector<PlainProperty> device(PlainValue rssi, PlainValue service_data) {
    return {{"RSSI", std::move(rssi)}, {"ServiceData", std::move(service_data)}};
}

}  // namespace

TEST_CASE("A well-formed Device1 signal becomes one report per service-data entry",
          "[bluez][decode]") {
    const std::vector<std::uint8_t> payload(20, 0x5a);
    auto props = device(
        int16(-61),
        dict({{kFd6f, bytes(payload)}, {"0000feaa-0000-1000-8000-00805F9B34FB", bytes({1, 2})}}));
    const auto out = decode_device_properties(kPath, props);
    CHECK_FALSE(out.malformed);
    CHECK(out.dropped_entries == 0);
    REQUIRE(out.report.has_value());
    CHECK(out.report->rssi_dbm == -61);
    CHECK(out.report->address == ble::Address{{0x4A, 0x11, 0x22, 0x33, 0x44, 0x55}});
    REQUIRE(out.report->entries.size() == 2);
    CHECK(out.report->entries[0].uuid == 0xFD6F);
    CHECK(out.report->entries[0].data == payload);
    CHECK(out.report->entries[1].uuid == 0xFEAA);  // not GAEN: passed on, BeaconFeed decides
}

TEST_CASE("The Address property wins over the object path and must be well formed",
          "[bluez][decode]") {
    auto props = device(int16(-50), dict({{kFd6f, bytes(std::vector<std::uint8_t>(20, 1))}}));
    props.push_back({"Address", text("6b:00:00:00:00:0F")});
    auto out = decode_device_properties(kPath, props);
    REQUIRE(out.report.has_value());
    CHECK(out.report->address == ble::Address{{0x6B, 0, 0, 0, 0, 0x0F}});

    props.back().value = text("6b:00:00:00:00");  // too short
    out = decode_device_properties(kPath, props);
    CHECK(out.malformed);
    CHECK_FALSE(out.report.has_value());
    props.back().value = int16(5);  // wrong type
    CHECK(decode_device_properties(kPath, props).malformed);
    props.pop_back();  // no Address, and a path that is not a device path
    CHECK(decode_device_properties("/org/bluez/hci0", props).malformed);
    CHECK(decode_device_properties("/org/bluez/hci0/dev_4A_11_22_33_44_5G", props).malformed);
    CHECK_FALSE(decode_device_properties(kPath, props).malformed);
}

TEST_CASE("Signals with unusable RSSI or ServiceData are malformed as a whole", "[bluez][decode]") {
    const auto sd = dict({{kFd6f, bytes(std::vector<std::uint8_t>(20, 1))}});
    SECTION("missing RSSI") {
        std::vector<PlainProperty> p{{"ServiceData", sd}};
        CHECK(decode_device_properties(kPath, p).malformed);
    }
    SECTION("RSSI of another integer type") {
        auto p = device(PlainValue{"i", -40, {}, {}, {}}, sd);
        CHECK(decode_device_properties(kPath, p).malformed);
    }
    SECTION("RSSI outside int16") {
        auto p = device(int16(40000), sd);
        CHECK(decode_device_properties(kPath, p).malformed);
    }
    SECTION("ServiceData that is not a{sv}") {
        auto p = device(int16(-40), bytes(std::vector<std::uint8_t>(20, 1)));
        CHECK(decode_device_properties(kPath, p).malformed);
        p = device(int16(-40), PlainValue{"aa{sv}", 0, {}, {}, {}});  // dbusmock's AddDevice type
        CHECK(decode_device_properties(kPath, p).malformed);
    }
    SECTION("no ServiceData at all is not an advertisement, and not malformed") {
        std::vector<PlainProperty> p{{"RSSI", int16(-40)}};
        const auto out = decode_device_properties(kPath, p);
        CHECK_FALSE(out.malformed);
        CHECK_FALSE(out.report.has_value());
    }
}

TEST_CASE("Bad service-data entries are dropped one by one and counted", "[bluez][decode]") {
    const std::vector<std::uint8_t> good(20, 9);
    std::vector<PlainEntry> entries{
        {"fd6f", bytes(good)},                                  // short form: fine
        {"not-a-uuid", bytes(good)},                            // key
        {"1234fd6f-0000-1000-8000-00805f9b34fb", bytes(good)},  // 32-bit UUID
        {"0000fd6f-0000-1000-8000-00805f9b34fc", bytes(good)},  // not the base UUID
        {kFd6f, text("x")},                                     // value type
        {kFd6f, bytes(std::vector<std::uint8_t>(kMaxServiceDataBytes + 1, 1))},  // length
        {kFd6f, bytes(std::vector<std::uint8_t>(kMaxServiceDataBytes, 1))},      // longest ok
    };
    const auto props = device(int16(-70), dict(entries));
    const auto out = decode_device_properties(kPath, props);
    CHECK_FALSE(out.malformed);
    CHECK(out.dropped_entries == 5);
    REQUIRE(out.report.has_value());
    REQUIRE(out.report->entries.size() == 2);
    CHECK(out.report->entries[1].data.size() == kMaxServiceDataBytes);

    SECTION("a signal whose every entry is bad reports nothing") {
        const auto bad = device(int16(-70), dict({{"nope", bytes(good)}}));
        const auto o = decode_device_properties(kPath, bad);
        CHECK_FALSE(o.report.has_value());
        CHECK(o.dropped_entries == 1);
    }
    SECTION("entries beyond the cap are dropped") {
        std::vector<PlainEntry> many(kMaxServiceDataEntries + 3, PlainEntry{kFd6f, bytes(good)});
        const auto o = decode_device_properties(kPath, device(int16(-70), dict(many)));
        REQUIRE(o.report.has_value());
        CHECK(o.report->entries.size() == kMaxServiceDataEntries);
        CHECK(o.dropped_entries == 3);
    }
}

TEST_CASE("UUID and address strings parse strictly", "[bluez][decode]") {
    CHECK(uuid16_from_string("fd6f") == 0xFD6F);
    CHECK(uuid16_from_string("0xFD6F") == 0xFD6F);
    CHECK(uuid16_from_string("0000FD6F-0000-1000-8000-00805F9B34FB") == 0xFD6F);
    CHECK_FALSE(uuid16_from_string("fd6"));
    CHECK_FALSE(uuid16_from_string("fd6g"));
    CHECK_FALSE(uuid16_from_string("0000fd6f-0000-1000-8000-00805f9b34f"));
    CHECK_FALSE(uuid16_from_string("0000fd6f_0000-1000-8000-00805f9b34fb"));
    CHECK_FALSE(uuid16_from_string(""));
    CHECK(address_from_string("AA:bb:01:02:03:04") == ble::Address{{0xAA, 0xBB, 1, 2, 3, 4}});
    CHECK_FALSE(address_from_string("AA-bb-01-02-03-04"));
    CHECK_FALSE(address_from_string("AA:bb:01:02:03:0"));
    CHECK_FALSE(address_from_string("AA:bb:01:02:03:04:"));
    CHECK(address_from_device_path("/org/bluez/hci1/dev_00_11_22_33_44_55") ==
          ble::Address{{0, 0x11, 0x22, 0x33, 0x44, 0x55}});
    CHECK_FALSE(address_from_device_path("/org/bluez/hci1/dev_00_11_22_33_44_55/service0001"));
    CHECK_FALSE(address_from_device_path("dev_00:11:22:33:44:55"));
}
