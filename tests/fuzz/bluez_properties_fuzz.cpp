// Fuzz target: Device1 property decoding (platform/bluez/device_properties.hpp) on property
// dictionaries built from the input. Invariants: never crash; a report is never malformed and
// holds 1..kMaxServiceDataEntries entries of at most kMaxServiceDataBytes each; nothing is both
// delivered and dropped beyond the number of entries given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <sotto/platform/bluez_radio.hpp>

#include "bluez/device_properties.hpp"

namespace {

using namespace sotto::platform::bluez;

struct Reader {
    const std::uint8_t* p;
    std::size_t n;
    std::uint8_t byte() {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    std::string str() {
        std::size_t len = byte() % 40;
        std::string s;
        while (len-- > 0 && n > 0) s.push_back(static_cast<char>(byte()));
        return s;
    }
};

const char* const kSignatures[] = {"n", "s", "ay", "a{sv}", "i", "", "aa{sv}", "b"};
const char* const kNames[] = {"RSSI", "ServiceData", "Address", "TxPower", "UUIDs"};
const char* const kKeys[] = {"0000fd6f-0000-1000-8000-00805f9b34fb", "fd6f", "0xfeaa", ""};

PlainValue value(Reader& r, bool nested) {
    PlainValue v;
    v.signature = kSignatures[r.byte() % 8];
    v.integer = static_cast<std::int16_t>(r.byte() << 8 | r.byte()) * ((r.byte() & 1) ? 3 : 1);
    v.text = (r.byte() & 1) ? std::string("4A:11:22:33:44:55") : r.str();
    v.bytes.resize(r.byte() % 2 == 0 ? r.byte() : r.byte() * 2u);
    if (!nested) {
        const std::size_t entries = r.byte() % 24;
        for (std::size_t i = 0; i < entries && r.n > 0; ++i) {
            std::string key = (r.byte() & 1) ? kKeys[r.byte() % 4] : r.str();
            v.entries.push_back(PlainEntry{std::move(key), value(r, true)});
        }
    }
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Reader r{data, size};
    std::vector<PlainProperty> props;
    const std::size_t count = r.byte() % 6;
    std::size_t given = 0;
    for (std::size_t i = 0; i < count; ++i) {
        PlainProperty p{kNames[r.byte() % 5], value(r, false)};
        if (p.name == "ServiceData") given += p.value.entries.size();
        props.push_back(std::move(p));
    }
    const std::string path = (r.byte() & 1) ? "/org/bluez/hci0/dev_4A_11_22_33_44_55" : r.str();
    const auto out = decode_device_properties(path, props);
    if (out.report) {
        if (out.malformed) std::abort();
        if (out.report->entries.empty() || out.report->entries.size() > kMaxServiceDataEntries)
            std::abort();
        for (const auto& e : out.report->entries)
            if (e.data.size() > kMaxServiceDataBytes) std::abort();
        if (out.report->entries.size() + out.dropped_entries > given) std::abort();
    }
    return 0;
}
