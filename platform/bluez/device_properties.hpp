#pragma once
// Decoding of org.bluez.Device1 property dictionaries into heard advertisements, on plain values:
// no sdbus-c++ here, so it is unit tested and fuzzed without a bus. device1.cpp converts the
// D-Bus variants into these plain values.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/ble/radio.hpp>

namespace sotto::platform::bluez {

struct PlainEntry;

/// One D-Bus value, reduced to what Device1 decoding reads. `signature` is the D-Bus signature
/// of the value inside the property's variant ("n", "s", "a{sv}", "ay", ...); the other members
/// hold the value only when the signature is one of those.
struct PlainValue {
    std::string signature;
    std::int64_t integer = 0;         ///< "n", "q", "i", "y" ...
    std::string text;                 ///< "s", "o"
    std::vector<std::uint8_t> bytes;  ///< "ay"
    /// "a{sv}": key and the value's plain form (one level deep: entries carry no entries).
    std::vector<PlainEntry> entries;
};

/// One entry of an "a{sv}" dictionary.
struct PlainEntry {
    std::string key;
    PlainValue value;
};

/// One property of a Device1 dictionary (InterfacesAdded, GetManagedObjects or
/// PropertiesChanged).
struct PlainProperty {
    std::string name;
    PlainValue value;
};

/// One service-data entry that passed the D-Bus-level checks.
struct ServiceDataEntry {
    std::uint16_t uuid = 0;
    std::vector<std::uint8_t> data;
};

/// What one Device1 signal said about one device.
struct DeviceReport {
    ble::Address address;
    std::int16_t rssi_dbm = 0;
    std::vector<ServiceDataEntry> entries;
};

/// The outcome of decoding one signal.
struct DecodeOutcome {
    std::optional<DeviceReport> report;  ///< set when the signal carried usable service data
    bool malformed = false;              ///< service data present but the signal was unusable
    std::uint32_t dropped_entries = 0;   ///< single entries dropped (report may still be set)
};

/// Decodes one Device1 property dictionary.
///
/// No `ServiceData` property: nothing to report (an RSSI-only or connection update), not
/// malformed. With `ServiceData`: `ServiceData` must be `a{sv}`, `RSSI` present and `n`, and the
/// address taken from `Address` (must be `s` "AA:BB:CC:DD:EE:FF") or, when absent, from the object
/// path (".../dev_AA_BB_CC_DD_EE_FF"); otherwise the whole signal is malformed. Each entry needs a
/// UUID key that has a 16-bit form ("fd6f", "0xfd6f" or "0000xxxx-0000-1000-8000-00805f9b34fb",
/// any case), a value of type `ay` of at most kMaxServiceDataBytes, and a place among the first
/// kMaxServiceDataEntries; others are dropped and counted. Never throws.
DecodeOutcome decode_device_properties(std::string_view object_path,
                                       std::span<const PlainProperty> properties) noexcept;

/// The 16-bit form of a UUID string as above, or nothing.
std::optional<std::uint16_t> uuid16_from_string(std::string_view s) noexcept;

/// "AA:BB:CC:DD:EE:FF" (hex, any case), or nothing.
std::optional<ble::Address> address_from_string(std::string_view s) noexcept;

/// The address encoded in a BlueZ device path ("/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF"), or
/// nothing.
std::optional<ble::Address> address_from_device_path(std::string_view path) noexcept;

}  // namespace sotto::platform::bluez
