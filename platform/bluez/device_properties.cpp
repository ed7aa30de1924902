#include "device_properties.hpp"

#include <new>

#include <sotto/platform/bluez_radio.hpp>

namespace sotto::platform::bluez {
namespace {

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// `n` hex digits of `s` starting at `pos`, or -1.
long hex_value(std::string_view s, std::size_t pos, std::size_t n) noexcept {
    long v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const int d = hex_digit(s[pos + i]);
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// Six hex pairs separated by `sep`.
std::optional<ble::Address> address_with_separator(std::string_view s, char sep) noexcept {
    if (s.size() != 17) return std::nullopt;
    ble::Address a;
    for (std::size_t i = 0; i < 6; ++i) {
        if (i > 0 && s[i * 3 - 1] != sep) return std::nullopt;
        const long v = hex_value(s, i * 3, 2);
        if (v < 0) return std::nullopt;
        a.bytes[i] = static_cast<std::uint8_t>(v);
    }
    return a;
}

const PlainValue* find(std::span<const PlainProperty> props, std::string_view name) noexcept {
    for (const auto& p : props)
        if (p.name == name) return &p.value;
    return nullptr;
}

}  // namespace

std::optional<std::uint16_t> uuid16_from_string(std::string_view s) noexcept {
    if (s.size() == 6 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
    if (s.size() == 4) {
        const long v = hex_value(s, 0, 4);
        if (v < 0) return std::nullopt;
        return static_cast<std::uint16_t>(v);
    }
    // The Bluetooth base UUID 0000xxxx-0000-1000-8000-00805F9B34FB.
    if (s.size() != 36) return std::nullopt;
    if (!iequals(s.substr(0, 4), "0000") || !iequals(s.substr(8), "-0000-1000-8000-00805f9b34fb"))
        return std::nullopt;
    const long v = hex_value(s, 4, 4);
    if (v < 0) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

std::optional<ble::Address> address_from_string(std::string_view s) noexcept {
    return address_with_separator(s, ':');
}

std::optional<ble::Address> address_from_device_path(std::string_view path) noexcept {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const std::string_view leaf = path.substr(slash + 1);
    if (leaf.size() != 21 || leaf.substr(0, 4) != "dev_") return std::nullopt;
    return address_with_separator(leaf.substr(4), '_');
}

DecodeOutcome decode_device_properties(std::string_view object_path,
                                       std::span<const PlainProperty> properties) noexcept {
    DecodeOutcome out;
    const PlainValue* sd = find(properties, "ServiceData");
    if (sd == nullptr) return out;
    out.malformed = true;  // until proven otherwise
    if (sd->signature != "a{sv}") return out;
    const PlainValue* rssi = find(properties, "RSSI");
    if (rssi == nullptr || rssi->signature != "n") return out;
    if (rssi->integer < INT16_MIN || rssi->integer > INT16_MAX) return out;

    std::optional<ble::Address> address;
    if (const PlainValue* a = find(properties, "Address"); a != nullptr) {
        if (a->signature != "s") return out;
        address = address_from_string(a->text);
    } else {
        address = address_from_device_path(object_path);
    }
    if (!address) return out;
    out.malformed = false;

    try {
        DeviceReport report;
        report.address = *address;
        report.rssi_dbm = static_cast<std::int16_t>(rssi->integer);
        for (const auto& [key, value] : sd->entries) {
            if (report.entries.size() >= kMaxServiceDataEntries) {
                ++out.dropped_entries;
                continue;
            }
            const auto uuid = uuid16_from_string(key);
            if (!uuid || value.signature != "ay" || value.bytes.size() > kMaxServiceDataBytes) {
                ++out.dropped_entries;
                continue;
            }
            report.entries.push_back(ServiceDataEntry{*uuid, value.bytes});
        }
        if (!report.entries.empty()) out.report = std::move(report);
    } catch (const std::bad_alloc&) {
        out.report.reset();
        out.malformed = true;
    }
    return out;
}

}  // namespace sotto::platform::bluez
