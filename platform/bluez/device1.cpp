#include "device1.hpp"

#include <sotto/platform/bluez_radio.hpp>

namespace sotto::platform::bluez {
namespace {

PlainValue plain_scalar(const sdbus::Variant& v) {
    PlainValue out;
    out.signature = v.peekValueType();
    if (out.signature == "n") out.integer = v.get<std::int16_t>();
    if (out.signature == "s") out.text = v.get<std::string>();
    if (out.signature == "ay") {
        auto bytes = v.get<std::vector<std::uint8_t>>();
        // Keep the oversize mark without keeping the bytes: decoding drops it by length.
        if (bytes.size() > kMaxServiceDataBytes) bytes.resize(kMaxServiceDataBytes + 1);
        out.bytes = std::move(bytes);
    }
    return out;
}

}  // namespace

std::vector<PlainProperty> to_plain(const PropertyMap& properties) noexcept {
    std::vector<PlainProperty> out;
    try {
        for (const auto& [name, value] : properties) {
            if (name != "RSSI" && name != "Address" && name != "ServiceData") continue;
            PlainProperty p;
            p.name = name;
            try {
                if (name == "ServiceData") {
                    p.value.signature = value.peekValueType();
                    if (p.value.signature == "a{sv}") {
                        const auto dict = value.get<PropertyMap>();
                        std::size_t n = 0;
                        for (const auto& [key, inner] : dict) {
                            // Entries past the cap are kept as empty markers, so they are counted.
                            PlainValue pv;
                            if (n++ <= kMaxServiceDataEntries) pv = plain_scalar(inner);
                            p.value.entries.push_back(PlainEntry{key, std::move(pv)});
                        }
                    }
                } else {
                    p.value = plain_scalar(value);
                }
            } catch (const std::bad_alloc&) {
                throw;
            } catch (...) {
                p.value = PlainValue{};  // unreadable: no signature, so "wrong type"
            }
            out.push_back(std::move(p));
        }
    } catch (...) {
        out.clear();
    }
    return out;
}

}  // namespace sotto::platform::bluez
